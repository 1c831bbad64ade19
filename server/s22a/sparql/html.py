"""Query results as a table for the `/sparql` page: cells with text, links and notes.

IRIs under the canonical base (`s22a.namespaces.BASE`) link to this server's pages (``/id/...``
answers with a 303 to the document), other http(s) IRIs link out, anything else is plain text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import pyoxigraph as ox

from s22a.sparql.engine import QueryResult


@dataclass(frozen=True)
class Cell:
    """One value of a result: what to show, where it links (or ""), and a short note."""

    text: str
    href: str = ""
    note: str = ""


@dataclass
class Table:
    """A result for the page: columns and rows (at most `limit`), or a yes/no answer."""

    columns: list[str] = field(default_factory=list)
    rows: list[list[Cell | None]] = field(default_factory=list)
    count: int = 0
    boolean: bool | None = None


def cell(term: dict[str, Any] | None, base: str, root: str) -> Cell | None:
    """A term in SPARQL JSON form as a cell; `root` is this server's script root."""
    if term is None:
        return None
    kind, value = term.get("type"), str(term.get("value", ""))
    if kind == "uri":
        if value.startswith(base):
            return Cell(value, f"{root}/{value[len(base) :]}")
        return Cell(value, value if value.startswith(("http://", "https://")) else "")
    if kind == "bnode":
        return Cell(f"_:{value}", note="blank node")
    note = term.get("xml:lang") or str(term.get("datatype", "")).rsplit("#", 1)[-1]
    return Cell(value, note=note)


def _json_term(term: Any) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    literal = {"type": "literal", "value": term.value, "datatype": term.datatype.value}
    if term.language:
        literal["xml:lang"] = term.language
    return literal


def results_table(result: QueryResult, base: str, root: str, limit: int) -> Table:
    """The result (SPARQL JSON, or N-Triples for graphs) as a table of its first `limit` rows."""
    if result.kind == "graph":
        triples = list(ox.parse(result.body, format=ox.RdfFormat.N_TRIPLES))
        rows = [
            [cell(_json_term(term), base, root) for term in (t.subject, t.predicate, t.object)]
            for t in islice(triples, limit)
        ]
        return Table(["subject", "predicate", "object"], rows, len(triples))
    doc = json.loads(result.body)
    if "boolean" in doc:
        return Table(boolean=bool(doc["boolean"]))
    columns = doc["head"]["vars"]
    bindings = doc["results"]["bindings"]
    rows = [[cell(b.get(c), base, root) for c in columns] for b in bindings[:limit]]
    return Table(columns, rows, len(bindings))
