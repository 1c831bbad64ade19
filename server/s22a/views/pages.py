"""The home page. (The lists and search are in `s22a.views.lists`.)

Every page has validators and answers HEAD and conditional GET.
"""

from __future__ import annotations

from flask import Blueprint, Response, render_template

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
