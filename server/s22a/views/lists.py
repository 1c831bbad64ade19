"""Listings that answer questions: agreements, forces, capabilities, regions and search, each
filtered (force, capability with narrower ones, region, scope, years, confirmation: combined,
with counts beside each value), paged and sorted, as a page, as CSV and as JSON
(`/agreements.csv`, `/agreements.json`, or by Accept), with the next page in a Link header.

Forms are GET forms: no JavaScript. A value that cannot be used (an unknown scope, a year that
is not one) is said on the page and ignored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from flask import Blueprint, Response, render_template, request, url_for

from s22a.namespaces import CAPABILITY, FORCE, REGION, S22A
from s22a.read import describe, listing, tables
from s22a.read.tables import Filters
from s22a.store import get_store
from s22a.web import http
from s22a.web.conneg import CSV, HTML, JSON, TABLE_FORMATS, Format, negotiate

bp = Blueprint("lists", __name__)
MAX_DATA_ROWS = 1000  # a page of CSV or JSON may be this long (`size`); HTML pages 50


def _format(ext: str | None) -> Format | None:
    return negotiate(
        extension=ext,
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=TABLE_FORMATS,
    )


def _page_args(fmt: Format, sorts: dict[str, str]) -> tuple[int, int, str]:
    """(page, size, sort) from the query; data formats may have longer pages."""
    page, size, sort = listing.page_args(
        request.args.get("page"),
        request.args.get("size"),
        request.args.get("sort"),
        {k: ("", v) for k, v in sorts.items()},
    )
    if fmt is not HTML:
        try:
            size = min(MAX_DATA_ROWS, max(1, int(request.args.get("size") or MAX_DATA_ROWS)))
        except ValueError:
            size = MAX_DATA_ROWS
    return page, size, sort


def _link(endpoint: str, page: listing.Page, fmt: Format) -> str:
    """The Link header: the next and previous pages of this listing (RFC 8288)."""
    args: dict[str, Any] = request.args.to_dict(flat=False)
    links = []
    for rel, number in (("prev", page.number - 1), ("next", page.number + 1)):
        if 1 <= number <= page.pages and page.total:
            args["page"] = [str(number)]
            ext: dict[str, Any] = {} if fmt is HTML else {"ext": fmt.key}
            url = url_for(endpoint, **ext, **args)
            links.append(f'<{url}>; rel="{rel}"; type="{fmt.media_type}"')
    return ", ".join(links)


def _answer(
    endpoint: str,
    fmt: Format,
    page: listing.Page,
    table: Callable[[], list[dict[str, Any]]],
    columns: Sequence[str],
    html: Callable[[], str],
) -> Response:
    if fmt is CSV:
        response = Response(tables.to_csv(table(), columns), content_type=CSV.content_type)
        response.headers["Content-Disposition"] = (
            f'inline; filename="{endpoint.split(".")[-1]}.csv"'
        )
    elif fmt is JSON:
        body = {
            "total": page.total,
            "page": page.number,
            "size": page.size,
            "columns": list(columns),
            "rows": table(),
        }
        response = Response(
            json.dumps(body, indent=2, ensure_ascii=False), content_type=JSON.content_type
        )
    else:
        response = Response(html(), content_type=HTML.content_type)
    if fmt is not HTML:
        response.access_control_allow_origin = "*"
    link = _link(endpoint, page, fmt)
    if link:
        response.headers["Link"] = link
    return response


def _filters() -> tuple[Filters, list[tuple[str, str]]]:
    return Filters.from_args(request.args)


def _choices(store: Any, filters: Filters, within: set[str] | None = None) -> dict[str, Any]:
    """What the filter form offers, each value with its count, and the names to show."""
    counts = tables.facets(store, filters, within)
    names = describe.labels(
        store, [v for key in ("force", "capability", "region") for v, _ in counts[key]]
    )
    scope_names = {str(S22A[s]): n for s, n in zip(tables.SCOPES, (
        "National", "Part-national", "Regional", "Sub-regional", "Cross-regional", "Bilateral"
    ), strict=True)}  # fmt: skip
    names.update(scope_names)
    return {"facets": counts, "names": names, "confirmations": tables.CONFIRMATIONS}


def _chosen(filters: Filters) -> dict[str, Any]:
    """The filters as the form's values (slugs and numbers)."""
    return {
        "force": [f[len(str(FORCE)) :] for f in filters.forces],
        "capability": (filters.capability or "")[len(str(CAPABILITY)) :],
        "region": (filters.region or "")[len(str(REGION)) :],
        "scope": (filters.scope or "")[len(str(S22A)) :],
        "from": filters.year_from or "",
        "to": filters.year_to or "",
        "confirmation": filters.confirmation or "",
    }


def _paged(
    items: list[Any], page: int, size: int, sort: str, sorts: dict[str, str]
) -> listing.Page:
    start = (page - 1) * size
    return listing.Page(items[start : start + size], page, size, len(items), sort, sorts)


def _listing(endpoint: str, ext: str | None, make: Callable[[Format], Response]) -> Response:
    # A listing reads what it can of its query and ignores the rest: with no extension, a
    # `_format` or `Accept` it cannot meet gets the HTML page (an extension it lacks: 406).
    fmt = _format(ext) or (HTML if ext is None else None)
    if fmt is None:
        return http.problem(406, "No format you accept", "Available as HTML, CSV or JSON.")
    response = http.cached(http.variant_key(fmt), lambda: make(fmt))
    if fmt is not HTML or ext:
        args: dict[str, Any] = request.args.to_dict(flat=False)
        response.headers["Content-Location"] = url_for(endpoint, ext=fmt.key, **args)
    return response


@bp.get("/agreements")
@bp.get("/agreements.<ext>")
def agreements(ext: str | None = None) -> Response:
    """Every agreement, filtered, sorted and paged, with its parties; HTML, CSV or JSON."""

    def make(fmt: Format) -> Response:
        store = get_store()
        filters, errors = _filters()
        page, size, sort = _page_args(fmt, tables.SORTS)
        chosen = tables.select(store, filters, sort)
        result = _paged(chosen, page, size, sort, tables.SORTS)
        iris = {
            i for r in result.rows for i in (*r.roles, *r.groups, *r.capabilities, *r.registers)
        }

        def table() -> list[dict[str, Any]]:
            return tables.records(result.rows, describe.labels(store, iris))

        def html() -> str:
            choices = _choices(store, filters)
            choices["names"].update(describe.labels(store, iris))
            return render_template(
                "pages/agreements.html",
                page=result,
                errors=errors,
                chosen=_chosen(filters),
                filtered=filters.active(),
                **choices,
            )

        return _answer("lists.agreements", fmt, result, table, tables.COLUMNS, html)

    return _listing("lists.agreements", ext, make)


def _counted(store: Any, key: str, filters: Filters) -> dict[str, int]:
    """How many of the filtered agreements each force, capability or region has."""
    return dict(tables.derived(tables.select(store, filters), key))


@bp.get("/forces")
@bp.get("/forces.<ext>")
def forces(ext: str | None = None) -> Response:
    """Every police force with its region, register and the agreements naming it."""

    def make(fmt: Format) -> Response:
        store = get_store()
        filters, errors = _filters()
        page, size, sort = _page_args(fmt, {k: v[1] for k, v in listing.FORCE_SORTS.items()})
        everyone = listing.forces(store, 1, 10**6, sort).rows
        if filters.active():
            counts = _counted(store, "force", filters)
            everyone = [
                dict(r, agreements=counts[r["iri"]]) for r in everyone if r["iri"] in counts
            ]
            if sort == "agreements":
                everyone.sort(key=lambda r: -r["agreements"])
        result = _paged(
            everyone, page, size, sort, {k: v[1] for k, v in listing.FORCE_SORTS.items()}
        )
        columns = ("iri", "name", "region", "register", "agreements")

        def table() -> list[dict[str, Any]]:
            return [
                {"iri": r["iri"], "name": r["title"], "region": r["region_label"] or "",
                 "register": r["register"] or "", "agreements": r["agreements"]}
                for r in result.rows
            ]  # fmt: skip

        def html() -> str:
            return render_template(
                "pages/forces.html", page=result, errors=errors, chosen=_chosen(filters),
                filtered=filters.active(), **_choices(store, filters),
            )  # fmt: skip

        return _answer("lists.forces", fmt, result, table, columns, html)

    return _listing("lists.forces", ext, make)


@bp.get("/capabilities")
@bp.get("/capabilities.<ext>")
def capabilities(ext: str | None = None) -> Response:
    """The capabilities collaborations provide, with how many agreements provide each."""

    def make(fmt: Format) -> Response:
        store = get_store()
        filters, errors = _filters()
        sorts = {k: v[1] for k, v in listing.CAPABILITY_SORTS.items()}
        page, size, sort = _page_args(fmt, sorts)
        everything = listing.capabilities(store, 1, 10**6, sort).rows
        if filters.active():
            counts = _counted(store, "capability", filters)
            everything = [
                dict(r, agreements=counts[r["iri"]]) for r in everything if r["iri"] in counts
            ]
            if sort == "agreements":
                everything.sort(key=lambda r: -r["agreements"])
        result = _paged(everything, page, size, sort, sorts)
        columns = ("iri", "name", "broader", "agreements")

        def table() -> list[dict[str, Any]]:
            return [
                {"iri": r["iri"], "name": r["title"], "broader": r["broader_label"] or "",
                 "agreements": r["agreements"]}
                for r in result.rows
            ]  # fmt: skip

        def html() -> str:
            return render_template(
                "pages/capabilities.html", page=result, errors=errors, chosen=_chosen(filters),
                filtered=filters.active(), **_choices(store, filters),
            )  # fmt: skip

        return _answer("lists.capabilities", fmt, result, table, columns, html)

    return _listing("lists.capabilities", ext, make)


@bp.get("/regions")
@bp.get("/regions.<ext>")
def regions(ext: str | None = None) -> Response:
    """The policing regions, with their forces and the agreements their forces are party to."""

    def make(fmt: Format) -> Response:
        store = get_store()
        filters, errors = _filters()
        counts = _counted(store, "region", filters)
        everything = [dict(r, agreements=counts.get(r["iri"], 0)) for r in listing.regions(store)]
        if filters.active():
            everything = [r for r in everything if r["agreements"]]
        page, size, _ = _page_args(fmt, {"name": "Name (A to Z)"})
        result = _paged(everything, page, size, "name", {"name": "Name (A to Z)"})
        columns = ("iri", "name", "forces", "agreements")

        def table() -> list[dict[str, Any]]:
            return [
                {
                    "iri": r["iri"],
                    "name": r["title"],
                    "forces": r["forces"],
                    "agreements": r["agreements"],
                }
                for r in result.rows
            ]

        def html() -> str:
            return render_template(
                "pages/regions.html", regions=result.rows, page=result, errors=errors,
                chosen=_chosen(filters), filtered=filters.active(), **_choices(store, filters),
            )  # fmt: skip

        return _answer("lists.regions", fmt, result, table, columns, html)

    return _listing("lists.regions", ext, make)


@bp.get("/search")
@bp.get("/search.<ext>")
def search(ext: str | None = None) -> Response:
    """Search titles, other names, labels and purposes; every word must match. Filters narrow
    the agreements found (and leave out other things)."""
    query = request.args.get("q", "")[: listing.MAX_QUERY]

    def make(fmt: Format) -> Response:
        store = get_store()
        filters, errors = _filters()
        page, size, _ = _page_args(fmt, {"relevance": "Relevance"})
        hits = listing.search(store, query, 1, 10**6).rows
        if filters.active():
            allowed = {r.iri for r in tables.select(store, filters)}
            hits = [h for h in hits if h["iri"] in allowed]
        result = _paged(hits, page, size, "relevance", {})
        columns = ("iri", "title", "kind", "match")

        def table() -> list[dict[str, Any]]:
            return [{k: r[k] for k in columns} for r in result.rows]

        def html() -> str:
            return render_template(
                "pages/search.html", query=query, page=result, words=listing.search_words(query),
                errors=errors, chosen=_chosen(filters), filtered=filters.active(),
                **_choices(store, filters, {h["iri"] for h in hits}),
            )  # fmt: skip

        return _answer("lists.search", fmt, result, table, columns, html)

    return _listing("lists.search", ext, make)
