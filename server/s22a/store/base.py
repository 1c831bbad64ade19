"""The store interface (`Store`), its errors, and the helpers both backends share.

Query dataset. Without ``default_graph``/``named_graphs`` a query's default graph is the UNION of
all graphs and every named graph is visible to ``GRAPH``. The embedded store does this itself;
a remote server must be configured to do it: ``oxigraph serve --union-default-graph`` or, for
Fuseki, ``tdb2:unionDefaultGraph true``. (Oxigraph's union includes the unnamed default graph,
Fuseki's does not: keep data, metadata included, in named graphs.) With either argument the
SPARQL Protocol rules apply on both backends: the default graph is the merge of
``default_graph`` (empty if not given) and ``GRAPH`` sees only ``named_graphs`` (none if not
given).

Atomic replacement. A remote store's `Store.replace_graph` loads into a private staging graph
named ``<graph IRI without fragment>#s22a-staging-<unix time>-<uuid>`` (so relative IRIs
resolve as against the graph IRI), then runs one ``MOVE GRAPH <staging> TO <graph>`` update, a
single transaction: readers, and a process killed at any moment, see the old graph or the new
one, never a mix. (Not ``MOVE SILENT``: in Oxigraph 0.5 a silent MOVE from a missing graph
empties the target.) The embedded store needs no staging graph: it compares the new version
with the stored triples itself and writes the difference in one update (`s22a.store.patch`).
An update given as ``then`` runs in that same transaction, so the record of a new version is
stored with the graph or not at all. When ``then`` also gives a guard (a graph pattern), the
replacement is made conditional on it: every operation changing the graph holds the guard in
its WHERE, in the same update, so that a compare-and-set in ``then`` decides whether the graph
changes too (`s22a.history.versions.accepted_update`). Staging graphs are hidden from
`Store.graphs`, `Store.dump` and union-default-graph queries, and stale ones are dropped when a
store is opened.

Merged graph. SPARQL's default graph is a graph, a set of triples, but an engine's union of
named graphs is a union of quads (Oxigraph's, embedded and server, and Virtuoso's): a triple
that two registers state matches twice. A remote store therefore keeps the RDF merge of its
graphs (all but the meta and archive graphs, which `RemoteStore` leaves out of it) in one hidden
graph, `MERGED_GRAPH`, brought up to date in the same update as each `Store.replace_graph` and
`Store.drop_graph`; `/sparql` takes it, with the meta graph, as its default graph. An embedded
store needs none: its `/sparql` queries run on copies that merge at load (`s22a.sparql.worker`).
"""

from __future__ import annotations

import functools
import re
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.term import BNode, Identifier, Literal, URIRef

from s22a.store.changes import Changes

# Media types: replace_graph and query_serialized (graphs); query_serialized (solutions); dump.
GRAPH_MEDIA_TYPES = ("text/turtle", "application/n-triples", "application/rdf+xml")
RESULT_MEDIA_TYPES = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
DATASET_MEDIA_TYPES = ("application/n-quads", "application/trig")

Graphs = list[str] | None  # graph IRIs for a query's dataset; None: not given

STAGING_MARK = "#s22a-staging-"
MERGED_MARK = "#s22a-merged"
MERGED_GRAPH = "https://w3id.org/s22a/graph/default" + MERGED_MARK
HIDDEN_MARK = "#s22a-"  # in the name of every hidden graph, staging or merged
_STAGING_RE = re.compile(re.escape(STAGING_MARK) + r"(\d+)-[0-9a-f]{32}$")
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_DUMP_BATCH = 20_000


class StoreError(Exception):
    """Any failure of the store."""


class StoreQueryError(StoreError, ValueError):
    """A query or update the engine rejected; the message is the engine's."""


class StoreDataError(StoreError, ValueError):
    """RDF data given to `Store.replace_graph` could not be parsed."""


class StoreUnavailable(StoreError, RuntimeError):
    """The backend cannot be reached."""


class StoreInUse(StoreUnavailable):
    """An on-disk store is held by another process (RocksDB allows one writer per folder)."""


class StoreFull(StoreError):
    """A write failed because the disk is full; nothing was written."""


def staging_name(graph: str) -> str:
    """A fresh staging graph IRI for `graph`."""
    return f"{graph.split('#', 1)[0]}{STAGING_MARK}{int(time.time())}-{uuid.uuid4().hex}"


def is_staging(graph: str) -> bool:
    """Whether `graph` names a hidden graph: a staging graph or a merged default graph."""
    return STAGING_MARK in graph or MERGED_MARK in graph


def is_merged(graph: str) -> bool:
    """Whether `graph` names the merged graph (`MERGED_GRAPH`)."""
    return graph == MERGED_GRAPH


def staging_age(graph: str) -> float:
    """Seconds since staging graph `graph` was created (infinite if the name has no time)."""
    match = _STAGING_RE.search(graph)
    return time.time() - int(match.group(1)) if match else float("inf")


# What `Store.replace_graph`'s ``then`` gives, from the triple count and whether it is called
# under the store's one write lock (the embedded store: nothing it reads can change before its
# update runs): the update to run in the same transaction, with no prologue (the store puts
# `SPARQL_PREFIXES` first), and the guard (a graph pattern) the replacement holds under, or None.
Then = Callable[[int, bool], tuple[str, str | None]]


def replacement(staging: str, graph: str, guard: str | None) -> str:
    """The update that puts the loaded staging graph in `graph`'s place: a MOVE, or with a
    guard a DELETE and an INSERT that happen only where the guard holds (then the staging
    graph is dropped either way)."""
    if guard is None:
        return f"MOVE GRAPH <{staging}> TO <{graph}>"
    return (
        f"DELETE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} "
        f"WHERE {{ {guard} GRAPH <{graph}> {{ ?s ?p ?o }} }} ;\n"
        f"INSERT {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} "
        f"WHERE {{ {guard} GRAPH <{staging}> {{ ?s ?p ?o }} }} ;\n"
        f"DROP SILENT GRAPH <{staging}>"
    )


def check_graph_name(graph: str) -> str:
    """Return `graph` if it is an absolute IRI usable as a graph name, else raise ValueError."""
    try:
        ox.NamedNode(graph)
    except (ValueError, TypeError) as error:
        raise ValueError(f"invalid graph IRI {graph!r}: {error}") from None
    if is_staging(graph):
        raise ValueError(f"{graph!r} is a staging graph name")
    return graph


def graph_format(media_type: str) -> ox.RdfFormat:
    """The RDF triple format for `media_type` (Turtle, N-Triples or RDF/XML)."""
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None or fmt.media_type not in GRAPH_MEDIA_TYPES:
        raise ValueError(f"unsupported RDF media type {media_type!r}; use {GRAPH_MEDIA_TYPES}")
    return fmt


def dataset_format(media_type: str) -> ox.RdfFormat:
    """The RDF dataset format for `media_type` (N-Quads or TriG)."""
    fmt = ox.RdfFormat.from_media_type(media_type)
    if fmt is None or fmt.media_type not in DATASET_MEDIA_TYPES:
        raise ValueError(
            f"unsupported dataset media type {media_type!r}; use {DATASET_MEDIA_TYPES}"
        )
    return fmt


def output_formats(media_type: str) -> tuple[ox.QueryResultsFormat, ox.RdfFormat]:
    """Formats for solutions and for graphs; the one `media_type` names, a default for the other."""
    results = ox.QueryResultsFormat.from_media_type(media_type)
    graph = ox.RdfFormat.from_media_type(media_type)
    if graph is not None and graph.media_type not in GRAPH_MEDIA_TYPES:
        graph = None
    if results is None and graph is None:
        known = RESULT_MEDIA_TYPES + GRAPH_MEDIA_TYPES
        raise ValueError(f"unsupported query result media type {media_type!r}; use {known}")
    return results or ox.QueryResultsFormat.JSON, graph or ox.RdfFormat.TURTLE


def make_literal(value: str, datatype: str | None = None, lang: str | None = None) -> Literal:
    """An rdflib Literal; xsd:string literals become plain literals, as rdflib parsers make them."""
    if lang:
        return Literal(value, lang=lang)
    if datatype is None or datatype == _XSD_STRING:
        return Literal(value)
    return Literal(value, datatype=URIRef(datatype))


# rdflib's Literal() parses its value on creation (a third of a cold page's CPU went there);
# literals are immutable and the same ones come back in every page (names, titles, dates).
_literal = functools.lru_cache(maxsize=2**15)(make_literal)
# Likewise IRIs: URIRef() checks every character of its value, and a page's rows name the same
# graphs, predicates and things over and over.
_iri = functools.lru_cache(maxsize=2**15)(URIRef)


def from_oxigraph(term: Any) -> Identifier:
    """Convert a pyoxigraph term to the rdflib term."""
    if isinstance(term, ox.NamedNode):
        return _iri(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        return _literal(term.value, term.datatype.value, term.language)
    raise StoreError(f"unsupported RDF term {term!r}")


def to_oxigraph(term: Identifier) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """Convert an rdflib term to the pyoxigraph term (a blank node keeps its label if Oxigraph
    takes it, else gets a new one: map blank nodes yourself where two must stay one)."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        try:
            return ox.BlankNode(str(term))
        except ValueError:  # a label Oxigraph refuses
            return ox.BlankNode()
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
        return ox.Literal(str(term), datatype=datatype)
    raise StoreError(f"unsupported RDF term {term!r}")


def serialized(data: bytes | None) -> bytes:
    """The bytes a pyoxigraph ``serialize()`` returns when it is given no output to write to."""
    assert data is not None, "pyoxigraph returns bytes when serialize() has no output"
    return data


def serialize_quads(quads: Iterable[ox.Quad], fmt: ox.RdfFormat) -> Iterator[bytes]:
    """Serialize `quads`, minus those in staging graphs, in chunks of `fmt` (N-Quads or TriG)."""
    batch: list[ox.Quad] = []
    for quad in quads:
        graph = quad.graph_name
        if isinstance(graph, ox.NamedNode) and is_staging(graph.value):
            continue
        batch.append(quad)
        if len(batch) >= _DUMP_BATCH:
            yield serialized(ox.serialize(batch, format=fmt))
            batch = []
    if batch:
        yield serialized(ox.serialize(batch, format=fmt))


def _moving_clock(method: Callable[..., Any]) -> Callable[..., Any]:
    """`method` (a write), then the store's change clock moved, whether it succeeded or not
    (a failed write may have changed something on a remote store; moving costs one re-read)."""

    @functools.wraps(method)
    def write(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        finally:
            self.changes.changed()

    write._moves_clock = True  # type: ignore[attr-defined]
    return write


class Store(ABC):
    """An RDF dataset of named graphs, queried with SPARQL."""

    #: The SPARQL 1.1 Query endpoint of a remote store, where `/sparql` sends queries
    #: itself; None for an embedded store, whose queries run in worker processes.
    query_endpoint: str | None = None
    #: The graphs whose merge is the default graph of `/sparql` queries sent to
    #: `query_endpoint` (`MERGED_GRAPH` and the meta graph); None: no such endpoint.
    default_graphs: tuple[str, ...] | None = None

    #: The methods that write; each subclass's are wrapped to move the change clock.
    WRITES = ("replace_graph", "write_new_graph", "drop_graph", "update", "add_dataset")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Wrapped here rather than in each backend, so that no write (of any backend, now or
        # later) can forget to tell the caches of this process and the others (`changes`).
        super().__init_subclass__(**kwargs)
        for name in Store.WRITES:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_moves_clock", False):
                setattr(cls, name, _moving_clock(method))

    @property
    def changes(self) -> Changes:
        """This store's change clock (`s22a.store.changes`)."""
        clock = self.__dict__.get("_changes")
        if clock is None:
            clock = self.__dict__.setdefault("_changes", Changes(self.query_endpoint is not None))
        return clock

    @abstractmethod
    def replace_graph(
        self,
        graph: str,
        data: bytes,
        media_type: str = "application/n-triples",
        then: Then | None = None,
    ) -> int:
        """Atomically replace graph `graph` by the RDF in `data`; return its triple count.

        `then`, given the triple count and whether it is called under the store's one write
        lock, returns a SPARQL update to run in the same transaction as the replacement, and
        a guard the replacement holds under (or None).
        """

    def write_new_graph(
        self, graph: str, data: bytes, media_type: str = "application/n-triples"
    ) -> int:
        """Write graph `graph`, not stored yet, the fastest way the store has; return its triple
        count. Readers may see it part-written, and a failure may leave part of it: only for
        data derived from the rest, which the next computation writes whole (the reconciliation
        report). By default (a remote store), `replace_graph`."""
        return self.replace_graph(graph, data, media_type)

    @abstractmethod
    def drop_graph(self, graph: str) -> None:
        """Remove named graph `graph` (no error if it does not exist)."""

    @abstractmethod
    def graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted, staging graphs excluded."""

    @abstractmethod
    def select(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, Identifier]]:
        """Run a SELECT query; rows map bound variable names to rdflib terms."""

    def select_text(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, str]]:
        """Run a SELECT query; rows map bound variable names to their values' text (an IRI,
        a literal's lexical form), for callers that only compare and print them."""
        rows = self.select(query, default_graph=default_graph, named_graphs=named_graphs)
        return [{name: str(value) for name, value in row.items()} for row in rows]

    @abstractmethod
    def ask(self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None) -> bool:
        """Run an ASK query."""

    @abstractmethod
    def construct(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> rdflib.Graph:
        """Run a CONSTRUCT or DESCRIBE query."""

    @abstractmethod
    def query_serialized(
        self,
        query: str,
        media_type: str,
        *,
        default_graph: Graphs = None,
        named_graphs: Graphs = None,
    ) -> tuple[bytes, str]:
        """Run any query; return the engine's serialization and its Content-Type.

        `media_type` picks the format for the query's kind of result (solutions/boolean or
        graph); for the other kind the default is used (SPARQL JSON, Turtle). Media types
        neither kind supports raise ValueError before the query runs.
        """

    @abstractmethod
    def update(self, update: str) -> None:
        """Run a SPARQL 1.1 Update."""

    @abstractmethod
    def graph_triples(self, graph: str) -> rdflib.Graph:
        """The triples of named graph `graph` (empty if it does not exist)."""

    @abstractmethod
    def dump(self, media_type: str = "application/n-quads") -> Iterator[bytes]:
        """Stream the whole dataset, staging graphs excluded, as N-Quads or TriG chunks."""

    @abstractmethod
    def add_dataset(self, data: bytes, media_type: str = "application/n-quads") -> None:
        """Add the quads of an N-Quads or TriG document (a dump) to the dataset, in one
        transaction; what the store already holds stays."""

    def protocol_query(
        self, params: list[tuple[str, str]], accept: list[str], form: str, timeout: float,
        max_bytes: int,
    ) -> Any:  # fmt: skip
        """Send a `/sparql` query (SPARQL 1.1 Protocol parameters) to the store's own endpoint
        and return its `s22a.fetch.Answer` as it is; `form` is the query's kind of result
        ("solutions", "boolean" or "graph") and `accept` the media types wanted for it. Only
        a store with a `query_endpoint` has one."""
        raise StoreError("this store has no SPARQL endpoint of its own to send queries to")

    @abstractmethod
    def close(self) -> None:
        """Release the backend; the store cannot be used afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
