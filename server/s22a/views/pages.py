"""Pages for people: the home page, lists of agreements, forces, capabilities and regions, search.

Lists are paged (never more than `listing.PAGE_SIZE` rows, `?page=`, `?size=`) and sorted
(`?sort=`); every page has validators and answers HEAD and conditional GET.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template, request

from s22a.read import describe, listing, pictures
from s22a.read import void as dataset
from s22a.store import get_store
from s22a.web import http

bp = Blueprint("pages", __name__)


def _html(body: str) -> Response:
    return Response(body, content_type="text/html; charset=utf-8")


@bp.get("/")
def home() -> Response:
    """The home page: what the register is, its figures, newest agreements, forces, pictures."""

    def build() -> Response:
        store = get_store()
        registers = dataset.registers(store)
        timeline = pictures.timeline(listing.timeline(store, titled=pictures.TABLE_ROWS))
        timeline["undated"] = listing.undated(store)
        return _html(
            render_template(
                "pages/home.html",
                counts=listing.counts(store),
                newest=listing.agreements(store, 1, 6, "newest").rows,
                registers=registers,
                labels=describe.labels(store, [r["force"] for r in registers if r["force"]]),
                network=pictures.network(store),
                timeline=timeline,
            )
        )

    return http.cached(http.variant_key(), build)


def _list(
    template: str, fetch: listing.Fetch, sorts: dict[str, tuple[str, str]], **context: object
) -> Response:
    page, size, sort = listing.page_args(
        request.args.get("page"), request.args.get("size"), request.args.get("sort"), sorts
    )

    def build() -> Response:
        result = fetch(get_store(), page, size, sort)
        return _html(render_template(template, page=result, **context))

    return http.cached(http.variant_key(), build)


@bp.get("/agreements")
def agreements() -> Response:
    """Every agreement, a page at a time, sorted by title, date or how many registers list it."""
    return _list("pages/agreements.html", listing.agreements, listing.AGREEMENT_SORTS)


@bp.get("/forces")
def forces() -> Response:
    """Every police force, with its region, register and how many agreements name it."""
    return _list("pages/forces.html", listing.forces, listing.FORCE_SORTS)


@bp.get("/capabilities")
def capabilities() -> Response:
    """The capabilities collaborations provide, with how many agreements provide each."""
    return _list("pages/capabilities.html", listing.capabilities, listing.CAPABILITY_SORTS)


@bp.get("/regions")
def regions() -> Response:
    """The policing regions."""
    return http.cached(
        http.variant_key(),
        lambda: _html(render_template("pages/regions.html", regions=listing.regions(get_store()))),
    )


@bp.get("/search")
def search() -> Response:
    """Search titles, other names, labels and purposes; every word must match."""
    query = request.args.get("q", "")[: listing.MAX_QUERY]
    page, size, _ = listing.page_args(
        request.args.get("page"), request.args.get("size"), None, {"relevance": ("", "")}
    )

    def build() -> Response:
        result = listing.search(get_store(), query, page, size)
        return _html(
            render_template(
                "pages/search.html", query=query, page=result, words=listing.search_words(query)
            )
        )

    return http.cached(http.variant_key(), build)
