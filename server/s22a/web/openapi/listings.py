"""The listings in the OpenAPI document: agreements, forces, capabilities, regions and search,
each filtered and paged, as a page, CSV or JSON (by extension or by Accept)."""

from __future__ import annotations

from s22a.read.tables import COLUMNS, CONFIRMATIONS, SCOPES
from s22a.web.conneg import TABLE_FORMATS
from s22a.web.openapi.components import (
    CONDITIONAL,
    STRING,
    Schema,
    answers,
    ext_param,
    format_param,
    header,
    open_enum,
    operation,
    query,
    ref,
    response,
    types,
)

SLUG: Schema = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}
# The columns of each listing's CSV and JSON, in order.
LISTINGS = {
    "agreements": ("Every agreement", COLUMNS, ["title", "newest", "oldest", "registers"]),
    "forces": (
        "Every police force",
        ("iri", "name", "region", "register", "agreements"),
        ["name", "agreements", "region"],
    ),
    "capabilities": (
        "The capabilities agreements provide",
        ("iri", "name", "broader", "agreements"),
        ["name", "agreements"],
    ),
    "regions": ("The policing regions", ("iri", "name", "forces", "agreements"), []),
    "search": (
        "Things whose titles, names or purposes have every word",
        ("iri", "title", "kind", "match"),
        [],
    ),
}
FILTERS = (
    query("force", "A party force (repeat: all must be parties)", SLUG),
    query("capability", "A capability provided (narrower ones count)", SLUG),
    query("region", "The region of a party force", SLUG),
    query("scope", "The agreement's scope", open_enum(SCOPES)),
    query("from", "Made in this year or later", {"type": "string", "pattern": "^[0-9]{4}$"}),
    query("to", "Made in this year or earlier", {"type": "string", "pattern": "^[0-9]{4}$"}),
    query("confirmation", "Whose registers list it", open_enum(list(CONFIRMATIONS))),
)


def _table(columns: tuple[str, ...]) -> Schema:
    return {
        "type": "object",
        "required": ["total", "page", "size", "columns", "rows"],
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "size": {"type": "integer"},
            "columns": {"type": "array", "items": {"enum": list(columns)}},
            "rows": {
                "type": "array",
                "items": {"type": "object", "required": list(columns)},
            },
        },
    }


def listings_paths() -> Schema:
    """Paths of the listings and their CSV and JSON forms."""
    paths: Schema = {}
    for name, (summary, columns, sorts) in LISTINGS.items():
        ok = response(
            f"{summary}: a page of it, as HTML, CSV (columns {', '.join(columns)}) or JSON",
            types(TABLE_FORMATS),
            {"application/json": _table(columns)},
            headers={"Link": header("The next and previous pages (rel=next, rel=prev)")},
        )
        params = [CONDITIONAL, ref("parameters", "Page"), *FILTERS]
        params.append(query("size", "Rows a page: up to 50 on a page, 1000 in CSV or JSON",
                            {"type": "integer"}))  # fmt: skip
        if sorts:
            params.append(query("sort", "The order (others: the first)", open_enum(sorts)))
        if name == "search":
            params.append(query("q", "The words (the first 100 characters, 8 words)", STRING))
        paths[f"/{name}"] = {
            "get": operation(
                f"{summary}, filtered and a page at a time",
                answers(ok, "304", "503"),
                *params,
                format_param(TABLE_FORMATS),
                tag="pages",
                op=name,
            )
        }
        paths[f"/{name}.{{ext}}"] = {
            "get": operation(
                f"{summary}, in the format its extension names (csv, json, html)",
                answers(ok, "304", "503", problems=("406",)),
                ext_param(TABLE_FORMATS),
                *params,
                tag="pages",
                op=f"{name}ByExtension",
            )
        }
    return paths
