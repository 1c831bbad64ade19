"""The `/sparql` page for people: the query form, the examples, a result as a table."""

from __future__ import annotations

from typing import Any

from flask import Response, render_template, request, url_for

from s22a.namespaces import BASE
from s22a.sparql import service as sparql_service
from s22a.sparql.engine import QueryResult
from s22a.sparql.examples import EXAMPLES
from s22a.sparql.html import results_table
from s22a.sparql.protocol import QueryRequest
from s22a.store import StoreError, get_store
from s22a.web import conneg
from s22a.web.conneg import GRAPH_FORMATS, SOLUTION_FORMATS

HTML_ROWS = 1000  # rows shown on the page; the downloads have them all


def page(
    query_text: str,
    *,
    result: QueryResult | None = None,
    error: str | None = None,
    request_: QueryRequest | None = None,
) -> Response:
    """The page, with the query in the form and a result or an error under it."""
    try:
        graphs = sparql_service.offered_graphs(get_store())
    except StoreError:
        graphs = []
    service = sparql_service.get_service()
    table = None
    if result is not None:
        table = results_table(result, BASE, request.script_root, HTML_ROWS)
    downloads = _downloads(request_, result.kind) if result and request_ else []
    html = render_template(
        "sparql/query.html",
        query=query_text,
        examples=EXAMPLES,
        result=table,
        downloads=downloads,
        error=error,
        graphs=graphs,
        settings=service.settings,
        default_graph_note=sparql_service.DEFAULT_GRAPH_NOTE,
    )
    return Response(html, content_type=conneg.HTML.content_type)


def _downloads(query: QueryRequest, kind: str) -> list[tuple[str, str]]:
    """The result in every other format, as (label, link) pairs."""
    offered = GRAPH_FORMATS if kind == "graph" else SOLUTION_FORMATS
    links = []
    for fmt in offered:
        if fmt is conneg.HTML:
            continue
        parameters: dict[str, Any] = {"query": query.query, "format": fmt.key}
        if query.default_graphs:
            parameters["default-graph-uri"] = list(query.default_graphs)
        if query.named_graphs:
            parameters["named-graph-uri"] = list(query.named_graphs)
        links.append((f"{fmt.label} ({fmt.media_type})", url_for("sparql.sparql", **parameters)))
    return links
