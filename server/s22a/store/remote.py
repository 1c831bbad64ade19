"""`RemoteStore`: the `Store` interface over a SPARQL 1.1 server, over HTTP.

The server needs SPARQL 1.1 Query, Update and Graph Store Protocol endpoints, and must expose
the union of its graphs as the default graph of queries (``oxigraph serve
--union-default-graph``; Fuseki ``tdb2:unionDefaultGraph true``). Queries are POSTed
form-encoded through `s22a.fetch` on kept connections (writes each on a new one); SPARQL JSON
results are read with `json`, N-Triples and N-Quads with pyoxigraph's parser.

While a hidden graph exists (a staging graph, or the merged graph `s22a.store.merged` keeps), a
query without a dataset of its own gets the visible named graphs as its dataset (one request
more; not the server's unnamed default graph). A replacement starting between the two can be
seen half-loaded: consistent per graph, across graphs only best-effort.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Iterator
from contextlib import suppress
from http.client import HTTPException, HTTPResponse
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.term import BNode, Identifier, URIRef

from s22a import fetch
from s22a.namespaces import GRAPH_META, NO_GRAPH, SPARQL_PREFIXES
from s22a.store.base import (
    MERGED_GRAPH,
    Graphs,
    Store,
    StoreDataError,
    StoreError,
    StoreQueryError,
    StoreUnavailable,
    Then,
    check_graph_name,
    dataset_format,
    from_oxigraph,
    graph_format,
    is_merged,
    is_staging,
    make_literal,
    output_formats,
    replacement,
    serialize_quads,
    staging_age,
    staging_name,
)
from s22a.store.merged import UNMERGED, merge_everything, merged, merged_lock, remerge, unmerge

_JSON = "application/sparql-results+json"
_NTRIPLES = "application/n-triples"
_FORM = "application/x-www-form-urlencoded"
_LIST_GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }"

# The largest answer read whole (a graph, a query's results): far more than any register.
MAX_ANSWER_BYTES = 2**30
# The header with which Virtuoso says it cut a result short (at its ResultSetMaxRows).
TRUNCATED_HEADER = "X-SPARQL-MaxRows"


def _from_json(term: dict[str, Any]) -> Identifier:
    kind = term.get("type")
    if kind == "uri":
        return URIRef(term["value"])
    if kind == "bnode":
        return BNode(term["value"])
    if kind in ("literal", "typed-literal"):
        return make_literal(term["value"], term.get("datatype"), term.get("xml:lang"))
    raise StoreError(f"unsupported RDF term in query results: {term!r}")


class RemoteStore(Store):
    """A SPARQL 1.1 server: Query at ``{base_url}/query``, Update at ``{base_url}/update``,
    Graph Store Protocol at ``{base_url}/store``, unless the URLs are given explicitly."""

    #: Send every query without a dataset of its own with the visible graphs as its dataset,
    #: for servers whose default graph holds more than ours (Virtuoso's system graphs).
    explicit_union = False
    #: How to list the named graphs (``GRAPH ?g {}`` binds nothing on Virtuoso).
    list_graphs = _LIST_GRAPHS

    def __init__(
        self,
        base_url: str | None = None,
        timeout: float = 30,
        *,
        query_url: str | None = None,
        update_url: str | None = None,
        store_url: str | None = None,
        staging_max_age: float = 3600,
    ) -> None:
        """Connect, check the union default graph, and drop staging graphs older than
        `staging_max_age` seconds (younger ones may belong to a client still loading)."""
        base = (base_url or "").rstrip("/")
        self.query_url = query_url or (base and f"{base}/query")
        self.update_url = update_url or (base and f"{base}/update")
        self.store_url = store_url or (base and f"{base}/store")
        urls = (self.query_url, self.update_url, self.store_url)
        if not all(url.startswith(("http://", "https://")) for url in urls):
            raise ValueError("give an http(s) base_url, or query_url, update_url and store_url")
        self.query_endpoint = self.query_url
        self.timeout = timeout
        self._closed = False
        names = self._graph_names()
        for name in names:
            if is_staging(name) and not is_merged(name) and staging_age(name) >= staging_max_age:
                self.update(f"DROP SILENT GRAPH <{name}>")
        visible = [n for n in names if not is_staging(n)]
        if (
            visible
            and not self.explicit_union  # (the server's own default graph, no dataset sent:)
            and not json.loads(self._raw_query("ASK { ?s ?p ?o }", _JSON, None, None)[0])["boolean"]
            and self.ask("ASK { GRAPH ?g { ?s ?p ?o } }", named_graphs=visible)
        ):
            raise StoreError(
                f"{self.query_url} does not query the union of its graphs by default; "
                "run oxigraph with --union-default-graph (Fuseki: tdb2:unionDefaultGraph)"
            )
        self.default_graphs = (MERGED_GRAPH, GRAPH_META)
        if MERGED_GRAPH not in names and set(visible) - set(UNMERGED):
            self.merge_all()  # data stored before the merged graph was kept, or added whole

    def __repr__(self) -> str:
        return f"RemoteStore(query_url={self.query_url!r})"

    @staticmethod
    def _failed(
        method: str, url: str, status: int, message: str, bad_input: type[StoreError]
    ) -> StoreError:
        """The store error for an HTTP error status (a bad request is the caller's)."""
        if status in (400, 406, 415):
            return bad_input(message or f"HTTP {status}")
        cls = StoreUnavailable if status in (502, 503, 504) else StoreError
        return cls(f"{method} {url}: HTTP {status}: {message}")

    def _stream(self, url: str, accept: str) -> HTTPResponse:
        """A GET read as a stream (the dump: unbounded by design; all else goes by `_fetch`)."""
        if self._closed:
            raise StoreError("the store is closed")
        request = urllib.request.Request(url, headers={"Accept": accept})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            with error:
                message = error.read().decode("utf-8", "replace").strip() or str(error.reason)
            raise self._failed("GET", url, error.code, message, StoreError) from None
        except (OSError, HTTPException) as error:  # refused, unresolvable, timed out...
            reason = getattr(error, "reason", error)
            raise StoreUnavailable(f"cannot reach {url}: {reason}") from None

    def _fetch(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        bad_input: type[StoreError] = StoreQueryError,
        reuse: bool = False,
    ) -> tuple[bytes, str]:
        if self._closed:
            raise StoreError("the store is closed")
        try:
            answer = fetch.request(
                url,
                method=method,
                body=body,
                headers=headers,
                timeout=self.timeout,
                max_bytes=MAX_ANSWER_BYTES,
                reuse=reuse,
            )
        except fetch.FetchError as error:  # refused, unresolvable, timed out...
            raise StoreUnavailable(f"cannot reach {url}: {error}") from None
        if answer.status >= 400:
            message = answer.body[: 64 * 1024].decode("utf-8", "replace").strip()
            raise self._failed(method, url, answer.status, message, bad_input)
        cap = answer.headers.get(TRUNCATED_HEADER)
        if cap is not None:  # never work on part of an answer as if it were the whole
            raise StoreError(
                f"{url} cut its answer short at {cap} rows (its {TRUNCATED_HEADER}); raise "
                "the server's limit (Virtuoso: ResultSetMaxRows in [SPARQL] of virtuoso.ini)"
            )
        return answer.body, answer.headers.get("Content-Type", "")

    def _post_query(
        self,
        query: str,
        accept: str,
        default_graph: Graphs,
        named_graphs: Graphs,
    ) -> tuple[bytes, str]:
        if default_graph is None and named_graphs is None:
            names = self._graph_names()
            # Someone is loading (hide the staging graph), or the server's union is not ours.
            if self.explicit_union or any(is_staging(n) for n in names):
                default_graph = named_graphs = [n for n in names if not is_staging(n)]
        return self._raw_query(query, accept, default_graph, named_graphs)

    def _raw_query(
        self,
        query: str,
        accept: str,
        default_graph: Graphs,
        named_graphs: Graphs,
    ) -> tuple[bytes, str]:
        params = [("query", query)]
        if default_graph is not None or named_graphs is not None:
            defaults, named = list(default_graph or ()), list(named_graphs or ())
            params += [("default-graph-uri", g) for g in defaults or [NO_GRAPH]]
            params += [("named-graph-uri", g) for g in named]
        headers = {"Content-Type": _FORM, "Accept": accept}
        body = fetch.form(params)
        return self._fetch("POST", self.query_url, body, headers, reuse=True)  # a query

    def _results(self, query: str, default_graph: Graphs, named_graphs: Graphs) -> dict[str, Any]:
        accept = f"{_JSON}, {_NTRIPLES};q=0.1"
        body, content_type = self._post_query(query, accept, default_graph, named_graphs)
        if not content_type.startswith(_JSON):
            return {}
        return json.loads(body)

    def _graph_names(self) -> list[str]:
        body, _ = self._raw_query(self.list_graphs, _JSON, None, None)
        rows = json.loads(body)["results"]["bindings"]
        return [row["g"]["value"] for row in rows if row["g"]["type"] == "uri"]

    def _graph_url(self, graph: str) -> str:
        separator = "&" if "?" in self.store_url else "?"
        return f"{self.store_url}{separator}graph={urllib.parse.quote(graph, safe='')}"

    @staticmethod
    def _triples(data: bytes, graph: rdflib.Graph) -> rdflib.Graph:
        try:
            for t in ox.parse(data, format=ox.RdfFormat.N_TRIPLES):
                graph.add(
                    (from_oxigraph(t.subject), from_oxigraph(t.predicate), from_oxigraph(t.object))
                )
        except SyntaxError as error:
            raise StoreError(f"unreadable N-Triples from the server: {error}") from None
        return graph

    # -- Store --------------------------------------------------------------------------------

    def replace_graph(
        self,
        graph: str,
        data: bytes,
        media_type: str = "application/n-triples",
        then: Then | None = None,
    ) -> int:
        """Atomically replace graph `graph` by the RDF in `data`; return its triple count.

        The MOVE and `then`'s update are one update request, one transaction on the server.
        """
        check_graph_name(graph)
        fmt = graph_format(media_type)
        staging = staging_name(graph)
        headers = {"Content-Type": fmt.media_type}
        try:
            self._fetch("PUT", self._graph_url(staging), data, headers, StoreDataError)
            rows = self.select("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", default_graph=[staging])
            count = int(rows[0]["n"])
            update, guard = then(count, False) if then is not None else ("", None)
            move = self._replacement(staging, graph, count, guard)
            if merged(graph):  # the merged graph changes in the same transaction
                move = f"{unmerge(graph, staging, guard)} ;\n{remerge(staging, guard)} ;\n{move}"
            with merged_lock(graph):  # `then`'s update uses the prefixes declared first
                self.update(f"{SPARQL_PREFIXES}{update} ;\n{move}" if update else move)
        except BaseException:
            with suppress(Exception):
                self.update(f"DROP SILENT GRAPH <{staging}>")
            raise
        return count

    def _replacement(self, staging: str, graph: str, count: int, guard: str | None) -> str:
        """The update putting staging graph (`count` triples) in `graph`'s place, under `guard`."""
        return replacement(staging, graph, guard)

    def drop_graph(self, graph: str) -> None:
        """Remove named graph `graph` (no error if it does not exist)."""
        check_graph_name(graph)
        drop = f"DROP SILENT GRAPH <{graph}>"
        with merged_lock(graph):
            self.update(f"{unmerge(graph)} ;\n{drop}" if merged(graph) else drop)

    def merge_all(self) -> None:
        """Add every merged graph's triples to `MERGED_GRAPH` (one update, the whole dataset)."""
        self.update(merge_everything())

    def graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted, staging graphs excluded."""
        return sorted(n for n in self._graph_names() if not is_staging(n))

    def select(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, Identifier]]:
        """Run a SELECT query; rows map bound variable names to rdflib terms."""
        doc = self._results(query, default_graph, named_graphs)
        if "results" not in doc:
            raise StoreQueryError("expected a SELECT query")
        return [
            {name: _from_json(term) for name, term in row.items()}
            for row in doc["results"]["bindings"]
        ]

    def ask(self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None) -> bool:
        """Run an ASK query."""
        doc = self._results(query, default_graph, named_graphs)
        if "boolean" not in doc:
            raise StoreQueryError("expected an ASK query")
        return bool(doc["boolean"])

    def construct(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> rdflib.Graph:
        """Run a CONSTRUCT or DESCRIBE query."""
        accept = f"{_NTRIPLES}, {_JSON};q=0.1"
        body, content_type = self._post_query(query, accept, default_graph, named_graphs)
        if not content_type.startswith(_NTRIPLES):
            raise StoreQueryError("expected a CONSTRUCT or DESCRIBE query")
        return self._triples(body, rdflib.Graph())

    def query_serialized(
        self,
        query: str,
        media_type: str,
        *,
        default_graph: Graphs = None,
        named_graphs: Graphs = None,
    ) -> tuple[bytes, str]:
        """Run any query; return the server's serialization and its Content-Type."""
        results_format, graph_format_ = output_formats(media_type)
        accept = f"{results_format.media_type}, {graph_format_.media_type}"
        return self._post_query(query, accept, default_graph, named_graphs)

    def protocol_query(
        self, params: list[tuple[str, str]], accept: list[str], form: str, timeout: float,
        max_bytes: int,
    ) -> fetch.Answer:  # fmt: skip
        """POST a `/sparql` query to the server's Query endpoint; its answer as it came."""
        if self._closed:
            raise StoreError("the store is closed")
        return fetch.request(
            self.query_url,
            method="POST",
            body=fetch.form(params),
            headers={"Content-Type": _FORM, "Accept": ", ".join(accept)},
            timeout=timeout,
            max_bytes=max_bytes,
            reuse=True,  # a query: safe to send again if a kept connection had been closed
        )

    def update(self, update: str) -> None:
        """Run a SPARQL 1.1 Update."""
        headers = {"Content-Type": "application/sparql-update"}
        self._fetch("POST", self.update_url, update.encode(), headers)

    def graph_triples(self, graph: str) -> rdflib.Graph:
        """The triples of named graph `graph` (empty if it does not exist)."""
        check_graph_name(graph)
        query = "CONSTRUCT WHERE { ?s ?p ?o }"
        body, _ = self._raw_query(query, _NTRIPLES, [graph], [])
        return self._triples(body, rdflib.Graph(identifier=URIRef(graph)))

    def dump(self, media_type: str = "application/n-quads") -> Iterator[bytes]:
        """Stream the whole dataset, staging graphs excluded, as N-Quads or TriG chunks."""
        fmt = dataset_format(media_type)
        url = self.store_url
        response = self._stream(url, "application/n-quads")

        def chunks() -> Iterator[bytes]:
            with response:
                try:
                    quads = ox.parse(response, format=ox.RdfFormat.N_QUADS)
                    yield from serialize_quads(quads, fmt)
                except SyntaxError as error:
                    raise StoreError(f"unreadable N-Quads from {url}: {error}") from None
                except (OSError, HTTPException) as error:
                    raise StoreUnavailable(f"reading from {url}: {error}") from None

        generator = chunks()
        weakref.finalize(generator, response.close)  # also when it is never iterated
        return generator

    def add_dataset(self, data: bytes, media_type: str = "application/n-quads") -> None:
        """POST the quads to the server's Graph Store endpoint (the whole dataset)."""
        dataset_format(media_type)
        self._fetch("POST", self.store_url, data, {"Content-Type": media_type}, StoreDataError)
        self.merge_all()

    def close(self) -> None:
        """Forget the server (each request had its own connection)."""
        self._closed = True
