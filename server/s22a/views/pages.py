"""Pages for people."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..namespaces import S22A
from ..store import get_store

bp = Blueprint("pages", __name__)


@bp.get("/")
def home() -> str:
    """The home page: what the register holds."""
    rows = get_store().select(
        f"""SELECT ?register ?title (COUNT(DISTINCT ?agreement) AS ?agreements) WHERE {{
              GRAPH ?register {{ ?register a <{S22A.Register}> ; <{S22A.lists}> ?agreement .
                                 OPTIONAL {{ ?register <http://purl.org/dc/terms/title> ?title }} }}
            }} GROUP BY ?register ?title ORDER BY ?register"""
    )
    registers = [
        {
            "iri": str(row["register"]),
            "title": str(row.get("title", row["register"])),
            "agreements": int(row["agreements"]),
        }
        for row in rows
    ]
    return render_template("home.html", registers=registers)
