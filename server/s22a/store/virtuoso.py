"""`VirtuosoStore`: the `Store` interface over OpenLink Virtuoso 7.2 (Debian's
``virtuoso-opensource``), a `RemoteStore` with Virtuoso's dialect handled here.

What differs from a plain SPARQL 1.1 server, and what this class does about it:

* Endpoints. Query and Update are both ``/sparql``; the Graph Store Protocol is
  ``/sparql-graph-crud?graph-uri=...``. Updates over ``/sparql`` need
  ``GRANT SPARQL_UPDATE TO "SPARQL"`` (so keep Virtuoso's HTTP port private to the app
  processes, as any store's); its answer to an update is a 200 with a result, not a 204.
* The default graph is the union of *every* graph, Virtuoso's own system graphs
  (``virtrdf#``, ``ldp#``, ...) included. Those are never listed (`SYSTEM_GRAPHS`), and every
  query without a dataset of its own is sent with the visible graphs as its dataset.
* Results are cut short at ``ResultSetMaxRows`` (10,000 in a typical ini) with only an
  ``X-SPARQL-MaxRows`` header, and a Graph Store GET with no sign at all. Paging does not
  get round it (ORDER BY with LIMIT + OFFSET past 10,000 is refused: "Sorted TOP clause"), so
  the cap must be raised: opening the store checks that it is at least `MIN_ROWS` (reading
  the ini's setting with ``bif:cfg_item_value``, else by a query of more rows), graphs and
  the dump are read as SELECT solutions (a CONSTRUCT, like a
  Graph Store GET, is cut with no sign), and any answer carrying the header is an error
  (`RemoteStore`), never a part taken for the whole.
* ``MOVE GRAPH`` to a graph that does not exist yet is slow (15 s for 15,000 triples), so a
  replacement is ``COPY`` then ``DROP`` of the staging graph, in the same one update. A query
  running meanwhile can see the graph part-copied (one count of 41, taken in a loop during
  three 8,000-triple replacements, saw 5,600 new triples and 2,400 old): readers of a
  Virtuoso store are not isolated from a register's replacement.
* Its content negotiation ignores the kind of query: asked for a graph format first, it writes
  a SELECT's solutions as an RDF graph (and a CONSTRUCT's triples as solutions the other way
  round), and it answers ASK as one solution of ``__ASK_RETVAL`` (1, or none for false). So
  each query is sent with the one media type its kind takes (`protocol_query`,
  `query_serialized`), and an ASK's answer is turned into a SPARQL boolean result.
* There is no Graph Store request for the whole dataset, so `add_dataset` is one
  ``INSERT DATA`` (one transaction) and `dump` reads graph by graph.
* Literals come back in canonical form: ``0.50`` as ``0.5``, ``+00:00`` as ``Z``, language
  tags in lower case. Equal values, other lexical forms: compare graphs by value
  (`s22a.history.changes.same_triples` does).
"""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections import defaultdict
from collections.abc import Iterator
from contextlib import suppress
from email.message import Message

import pyoxigraph as ox
import rdflib
from rdflib.term import Identifier, URIRef

from s22a import fetch
from s22a.namespaces import NO_GRAPH
from s22a.store.base import (
    GRAPH_MEDIA_TYPES,
    Graphs,
    StoreDataError,
    StoreError,
    StoreQueryError,
    Then,
    check_graph_name,
    dataset_format,
    from_oxigraph,
    graph_format,
    output_formats,
    serialize_quads,
    serialized,
    staging_name,
)
from s22a.store.remote import RemoteStore

# Graphs a fresh Virtuoso database holds for itself (and the conductor, if installed).
SYSTEM_GRAPHS = (
    "http://www.openlinksw.com/",
    "http://www.w3.org/ns/ldp#",
    "http://localuriqaserver/",
    "http://localhost:8890/",
    "virtrdf:",
)
# The fewest rows a result may have before Virtuoso cuts it (ResultSetMaxRows): twice the
# largest register (`s22a.ingest.parse.MAX_TRIPLES`), so a whole graph is read in one answer.
MIN_ROWS = 200_000
_NTRIPLES = "application/n-triples"
_JSON = "application/sparql-results+json"
_GRAPH_TYPES = (*GRAPH_MEDIA_TYPES, "application/ld+json")
_SKIP = re.compile(r"#[^\n]*|<[^<>\s]*>|'[^'\n]*'|\"[^\"\n]*\"")
_FORM = re.compile(r"\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def _form(query: str) -> str:
    """The kind of result of one of the service's own queries (its first query keyword)."""
    match = _FORM.search(_SKIP.sub(" ", query))
    keyword = match.group(1).upper() if match else "SELECT"
    return {"CONSTRUCT": "graph", "DESCRIBE": "graph", "ASK": "boolean"}.get(keyword, "solutions")


def _ask_value(body: bytes) -> bool:
    """The answer of an ASK from Virtuoso's JSON: a boolean, or a solution of __ASK_RETVAL."""
    document = json.loads(body)
    if "boolean" in document:
        return bool(document["boolean"])
    rows: list[dict[str, dict[str, str]]] = document.get("results", {}).get("bindings", [])
    values = [term.get("value") for term in rows[0].values()] if rows else []
    return bool(values) and values[0] not in ("0", "false")


def _term(term: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A pyoxigraph term from a SPARQL JSON term (Virtuoso's blank nodes are nodeID://...)."""
    kind, value = term["type"], term["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value.removeprefix("nodeID://").removeprefix("_:"))
    if "xml:lang" in term:
        return ox.Literal(value, language=term["xml:lang"])
    datatype = term.get("datatype")
    return ox.Literal(value, datatype=ox.NamedNode(datatype) if datatype else None)


def boolean_result(value: bool, media_type: str) -> bytes:
    """A SPARQL boolean result in `media_type` (JSON, XML, or CSV/TSV as Oxigraph writes them)."""
    text = "true" if value else "false"
    if media_type.startswith("application/sparql-results+xml"):
        return (
            '<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
            f"<head></head><boolean>{text}</boolean></sparql>"
        ).encode()
    if media_type.startswith(("text/csv", "text/tab-separated-values")):
        return text.encode()
    return json.dumps({"head": {}, "boolean": value}, separators=(",", ":")).encode()


class VirtuosoStore(RemoteStore):
    """Virtuoso at `base_url` (its HTTP port): ``/sparql`` and ``/sparql-graph-crud``."""

    explicit_union = True
    # GROUP BY: the same with DISTINCT took 11 s over 15,000 triples (5 ms this way).
    list_graphs = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"

    def __init__(
        self,
        base_url: str,
        timeout: float = 30,
        staging_max_age: float = 3600,
        min_rows: int = MIN_ROWS,
    ) -> None:
        """Connect, check the result cap is `min_rows` or more, and drop stale staging graphs."""
        base = base_url.rstrip("/")
        super().__init__(
            timeout=timeout,
            query_url=f"{base}/sparql",
            update_url=f"{base}/sparql",
            store_url=f"{base}/sparql-graph-crud",
            staging_max_age=staging_max_age,
        )
        self._check_row_cap(min_rows)

    def _check_row_cap(self, min_rows: int) -> None:
        """Refuse a server whose ResultSetMaxRows is below `min_rows`: read the setting from
        its ini (cheap), else (the function refused) by a query of more rows than that."""
        fix = f"set ResultSetMaxRows in [SPARQL] of virtuoso.ini to {min_rows} or more"
        setting = (
            "SELECT (bif:cfg_item_value(bif:virtuoso_ini_path(), 'SPARQL', 'ResultSetMaxRows')"
            " AS ?rows) {}"
        )
        try:
            body, _ = self._raw_query(setting, _JSON, [], [])
            rows = json.loads(body)["results"]["bindings"]
            cap = int(rows[0]["rows"]["value"])
        except (StoreError, ValueError, KeyError, IndexError, TypeError):
            cap = None
        if cap is not None:
            if cap < min_rows:
                raise StoreError(f"{self.query_url} returns at most {cap} rows per result; {fix}")
            return
        values = " ".join(str(n) for n in range(math.isqrt(min_rows) + 1))
        probe = f"SELECT ?a {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }}"
        try:  # more than min_rows rows: an answer cut short is refused (X-SPARQL-MaxRows)
            self._raw_query(probe, "text/csv", [], [])
        except StoreError as error:
            raise StoreError(
                f"{self.query_url} returns fewer than {min_rows} rows per result ({error}); {fix}"
            ) from None

    def __repr__(self) -> str:
        return f"VirtuosoStore(query_url={self.query_url!r})"

    def _graph_url(self, graph: str) -> str:
        return f"{self.store_url}?graph-uri={urllib.parse.quote(graph, safe='')}"

    def _graph_names(self) -> list[str]:
        return [n for n in super()._graph_names() if not n.startswith(SYSTEM_GRAPHS)]

    def _raw_query(
        self, query: str, accept: str, default_graph: Graphs, named_graphs: Graphs
    ) -> tuple[bytes, str]:
        # Given default graphs alone, Virtuoso lets GRAPH see every graph; the protocol says
        # none (SPARQL 1.1 Protocol 2.1.4): name a graph that does not exist.
        if default_graph is not None and not named_graphs:
            named_graphs = [NO_GRAPH]
        return super()._raw_query(query, accept, default_graph, named_graphs)

    @staticmethod
    def _expect(query: str, form: str, what: str) -> None:
        # Virtuoso answers any query in the format asked for: check its kind (after sending
        # it, so that a syntax error is reported as the server's).
        if _form(query) != form:
            raise StoreQueryError(f"expected {what} query")

    def replace_graph(
        self,
        graph: str,
        data: bytes,
        media_type: str = "application/n-triples",
        then: Then | None = None,
    ) -> int:
        """Atomically replace graph `graph` by the RDF in `data`; return its triple count.

        The data is parsed here first (Virtuoso reports a syntax error as a 500 about "an
        unsupported type") and sent as N-Triples, relative IRIs resolved against `graph`."""
        check_graph_name(graph)
        try:
            triples = list(ox.parse(data, format=graph_format(media_type), base_iri=graph))
        except SyntaxError as error:
            raise StoreDataError(error.msg or str(error)) from None
        ntriples = serialized(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
        return super().replace_graph(graph, ntriples, _NTRIPLES, then)

    def select(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, Identifier]]:
        """Run a SELECT query; rows map bound variable names to rdflib terms."""
        rows = super().select(query, default_graph=default_graph, named_graphs=named_graphs)
        self._expect(query, "solutions", "a SELECT")
        return rows

    def construct(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> rdflib.Graph:
        """Run a CONSTRUCT or DESCRIBE query."""
        body, content_type = self._post_query(query, _NTRIPLES, default_graph, named_graphs)
        self._expect(query, "graph", "a CONSTRUCT or DESCRIBE")
        return self._triples(body, rdflib.Graph())

    def ask(self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None) -> bool:
        """Run an ASK query (Virtuoso answers it as a solution)."""
        body, _ = self._post_query(query, _JSON, default_graph, named_graphs)
        self._expect(query, "boolean", "an ASK")
        return _ask_value(body)

    def query_serialized(
        self,
        query: str,
        media_type: str,
        *,
        default_graph: Graphs = None,
        named_graphs: Graphs = None,
    ) -> tuple[bytes, str]:
        """Run any query, asking for the one media type its kind of result takes."""
        results_format, graph_format = output_formats(media_type)
        form = _form(query)
        if form == "boolean":
            body, _ = self._post_query(query, _JSON, default_graph, named_graphs)
            wanted = results_format.media_type
            return boolean_result(_ask_value(body), wanted), wanted
        accept = graph_format.media_type if form == "graph" else results_format.media_type
        return self._post_query(query, accept, default_graph, named_graphs)

    def protocol_query(
        self, params: list[tuple[str, str]], accept: list[str], form: str, timeout: float,
        max_bytes: int,
    ) -> fetch.Answer:  # fmt: skip
        """POST a `/sparql` query with the one media type its kind takes; an ASK's answer
        turned into a boolean result."""
        names = {name for name, _ in params}
        if "default-graph-uri" in names and "named-graph-uri" not in names:
            params = [*params, ("named-graph-uri", NO_GRAPH)]  # as in `_raw_query`
        graph = [t for t in accept if t.startswith(_GRAPH_TYPES)]
        solutions = [t for t in accept if not t.startswith(_GRAPH_TYPES)]
        wanted = (graph if form == "graph" else solutions) or accept
        if form != "boolean":
            return super().protocol_query(params, wanted[:1], form, timeout, max_bytes)
        answer = super().protocol_query(params, [_JSON], form, timeout, max_bytes)
        if answer.status >= 400 or not answer.media_type.startswith(_JSON):
            return answer
        headers = Message()
        headers["Content-Type"] = wanted[0]
        body = boolean_result(_ask_value(answer.body), wanted[0])
        return fetch.Answer(answer.status, headers, body, answer.url)

    def _replacement(self, staging: str, graph: str, count: int, guard: str | None) -> str:
        # A MOVE to a graph that does not exist yet took 15 s for 15,000 triples; COPY and DROP
        # take under 1 s. (An empty staging graph does not exist at all in Virtuoso.)
        if guard is not None:
            return super()._replacement(staging, graph, count, guard)
        if count == 0:
            return f"DROP SILENT GRAPH <{graph}> ; DROP SILENT GRAPH <{staging}>"
        return f"COPY GRAPH <{staging}> TO <{graph}> ; DROP SILENT GRAPH <{staging}>"

    def _graph_triples(self, graph: str) -> list[ox.Triple]:
        """The triples of `graph`, read as solutions: a CONSTRUCT is cut short at the cap with
        no sign at all, a SELECT with its header (which `RemoteStore` refuses)."""
        body, _ = self._raw_query("SELECT ?s ?p ?o { ?s ?p ?o }", _JSON, [graph], [])
        rows = json.loads(body)["results"]["bindings"]
        try:
            return [ox.Triple(_term(r["s"]), _term(r["p"]), _term(r["o"])) for r in rows]  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError) as error:
            raise StoreError(f"unreadable solutions from {self.query_url}: {error}") from None

    def graph_triples(self, graph: str) -> rdflib.Graph:
        """The triples of named graph `graph` (empty if it does not exist)."""
        check_graph_name(graph)
        result = rdflib.Graph(identifier=URIRef(graph))
        for t in self._graph_triples(graph):
            result.add(
                (from_oxigraph(t.subject), from_oxigraph(t.predicate), from_oxigraph(t.object))
            )
        return result

    def dump(self, media_type: str = "application/n-quads") -> Iterator[bytes]:
        """Stream the visible graphs, graph by graph, as N-Quads or TriG."""
        fmt = dataset_format(media_type)
        graphs = self.graphs()

        def quads() -> Iterator[ox.Quad]:
            for graph in graphs:
                name = ox.NamedNode(graph)
                for t in self._graph_triples(graph):
                    yield ox.Quad(t.subject, t.predicate, t.object, name)

        return serialize_quads(quads(), fmt)

    def add_dataset(self, data: bytes, media_type: str = "application/n-quads") -> None:
        """Add the quads of an N-Quads or TriG document, made visible in one update (one
        transaction). Virtuoso's Graph Store endpoint takes one graph at a time, and one
        INSERT of a whole dump is refused ("generated SQL text has exceeded 10000 lines"), so
        each graph is PUT to a hidden staging graph first, then one update ADDs them all.
        (So a blank node label shared by two graphs names two nodes, one in each.)"""
        fmt = dataset_format(media_type)
        by_graph: dict[str, list[ox.Triple]] = defaultdict(list)
        try:
            for quad in ox.parse(data, format=fmt):
                if not isinstance(quad.graph_name, ox.NamedNode):
                    raise StoreDataError("the store keeps named graphs only, not a default graph")
                by_graph[quad.graph_name.value].append(quad.triple)
        except SyntaxError as error:
            raise StoreDataError(str(error)) from None
        staged: dict[str, str] = {}
        headers = {"Content-Type": _NTRIPLES}
        try:
            for graph, triples in by_graph.items():
                staged[graph] = staging_name(graph)
                body = serialized(ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES))
                self._fetch("PUT", self._graph_url(staged[graph]), body, headers, StoreDataError)
            if staged:
                self.update(
                    " ;\n".join(
                        [f"ADD GRAPH <{s}> TO <{g}>" for g, s in staged.items()]
                        + [f"DROP SILENT GRAPH <{s}>" for s in staged.values()]
                    )
                )
                self.merge_all()
        except BaseException:
            for staging in staged.values():
                with suppress(Exception):
                    self.update(f"DROP SILENT GRAPH <{staging}>")
            raise
