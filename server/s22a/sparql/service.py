"""The `/sparql` service of one app: its settings, query engine, result cache and allow-list.

Its settings are the ``S22A_SPARQL_*`` rows of `s22a.config`: the time limit (waiting for a
worker and SERVICE calls included, counted from the request's arrival) after which a query is
stopped with a 503, the largest result (larger: 422), the number of query worker processes of
the embedded store (so how many queries run at once), how many more may wait and how many one
client address may have running or waiting (`admission`), the memory of one query worker
(more: 422), the time each SERVICE call may take, and the memory of the result cache.

The default dataset of `/sparql` is the union of every graph the service offers: the registers
(each named by its register IRI), and the reference, ontology, meta and reconciliation graphs.
The archive graph (base64 snapshots of past versions) is not offered at all. Its default graph
is their RDF merge, a set: a triple that several registers state is seen once (the worker
copies merge at load, a remote store keeps a merged graph per dataset version), and
``GRAPH ?g`` shows which registers state it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF, RDFS

from s22a.ingest.catalog import read_catalog
from s22a.namespaces import BASE, GRAPH_ARCHIVE, REGISTER
from s22a.sparql import federation
from s22a.sparql.admission import Admission
from s22a.sparql.cache import ResultCache
from s22a.sparql.engine import Engine
from s22a.sparql.pool import WorkerPool
from s22a.sparql.remote import RemoteEngine
from s22a.store import Store, is_staging

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
RESULT_FORMATS = (
    "SPARQL_Results_JSON",
    "SPARQL_Results_XML",
    "SPARQL_Results_CSV",
    "SPARQL_Results_TSV",
    "Turtle",
    "N-Triples",
    "RDF_XML",
    "JSON-LD",
)
DEFAULT_GRAPH_NOTE = (
    "The default graph is the union of every named graph offered here, as a set (their RDF "
    "merge: a triple that several graphs state is one triple, so counts need no DISTINCT): "
    "each force's register (named by its register IRI, "
    "https://w3id.org/s22a/id/register/{force}) and the reference, ontology, meta (versions and "
    "load attempts) and reconciliation graphs. GRAPH ?g shows which graphs state a triple. The "
    "archive graph of past versions is not offered. default-graph-uri and named-graph-uri, or "
    "FROM and FROM NAMED, select other datasets from these graphs."
)
EXTENSION = "s22a_sparql"


@dataclass(frozen=True)
class Settings:
    """The limits and sizes of the SPARQL service."""

    timeout: float = 10.0
    max_bytes: int = 50 * 2**20
    workers: int = 2
    service_timeout: float = 5.0
    cache_bytes: int = 64 * 2**20
    queue: int = 8
    client_queries: int = 4
    memory_mib: int = 512

    @property
    def capacity(self) -> int:
        """How many queries may be admitted at once: running, and waiting for a worker."""
        return self.workers + self.queue

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Settings:
        """The S22A_SPARQL_* settings of an app (see `s22a.config`)."""
        return cls(
            timeout=float(config["S22A_SPARQL_TIMEOUT"]),
            max_bytes=int(config["S22A_SPARQL_MAX_BYTES"]),
            workers=int(config["S22A_SPARQL_WORKERS"]),
            service_timeout=float(config["S22A_SPARQL_SERVICE_TIMEOUT"]),
            cache_bytes=int(config["S22A_SPARQL_CACHE_BYTES"]),
            queue=int(config["S22A_SPARQL_QUEUE"]),
            client_queries=int(config["S22A_SPARQL_CLIENT_QUERIES"]),
            memory_mib=int(config["S22A_SPARQL_MEMORY"]),
        )


class SparqlService:
    """What `/sparql` keeps between requests in one app: engine, cache, allow-list."""

    def __init__(self, settings: Settings, catalog: str | None) -> None:
        """Prepare the service; worker processes start on the first query."""
        self.settings = settings
        self.catalog = catalog
        self.cache = ResultCache(settings.cache_bytes)
        self.federation = federation.Settings(timeout=settings.service_timeout)
        self.admission = Admission(settings.capacity, settings.client_queries)
        self._engine: Engine | None = None
        self._copies: WorkerPool | None = None  # for in-memory copies on a remote-store app
        self._allow: tuple[tuple[str, float], federation.AllowList] | None = None
        self._lock = threading.Lock()

    def engine(self, store: Store) -> Engine:
        """The engine for `store`: HTTP for a remote store, a worker pool otherwise."""
        with self._lock:
            if self._engine is None:
                if store.query_endpoint is not None:
                    self._engine = RemoteEngine(self.settings.max_bytes)
                else:
                    self._engine = WorkerPool(
                        self.settings.workers, self.settings.max_bytes, self.settings.memory_mib
                    )
            if store.query_endpoint is None and not isinstance(self._engine, WorkerPool):
                # A copy in memory (the registers as they stood at an instant) on an app whose
                # store is remote: its queries need worker processes of their own.
                if self._copies is None:
                    self._copies = WorkerPool(1, self.settings.max_bytes, self.settings.memory_mib)
                return self._copies
            return self._engine

    def allow_list(self) -> federation.AllowList:
        """The SERVICE allow-list, read from the catalogue (again when the file changes)."""
        path = self.catalog or ""
        try:
            stamp = (path, Path(path).stat().st_mtime if path else 0.0)
        except OSError:
            stamp = (path, -1.0)
        with self._lock:
            if self._allow is None or self._allow[0] != stamp:
                try:
                    allow = federation.AllowList.from_sources(read_catalog(path or None))
                except (OSError, ValueError):
                    allow = federation.AllowList((), ())  # no catalogue: no federation
                self._allow = (stamp, allow)
            return self._allow[1]

    def close(self) -> None:
        """Stop the worker processes."""
        with self._lock:
            for engine in (self._engine, self._copies):
                if engine is not None:
                    engine.close()
            self._engine = self._copies = None


def init_app(app: Flask) -> None:
    """Attach a (lazily started) SPARQL service to `app`."""
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = SparqlService(
            Settings.from_config(app.config), app.config.get("S22A_CATALOG")
        )


def get_service() -> SparqlService:
    """The current app's SPARQL service."""
    init_app(current_app)
    return current_app.extensions[EXTENSION]


def shutdown(app: Flask) -> None:
    """Stop `app`'s query workers (they also stop when the process exits)."""
    service = app.extensions.get(EXTENSION)
    if service is not None:
        service.close()


def offered_graphs(store: Store) -> list[str]:
    """The named graphs `/sparql` offers: all but the archive and staging graphs."""
    return [g for g in store.graphs() if g != GRAPH_ARCHIVE and not is_staging(g)]


def service_description(endpoint: str, graphs: list[str], settings: Settings) -> Graph:
    """The SPARQL 1.1 Service Description of the endpoint at `endpoint`."""
    graph = Graph()
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    graph.bind("dcterms", DCTERMS)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    # True as the recommendation means it: the default graph is the (set) union of the named
    # graphs offered, each triple once, on every store (`DEFAULT_GRAPH_NOTE`).
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    graph.add((service, SD.feature, SD.BasicFederatedQuery))
    for name in RESULT_FORMATS:
        graph.add((service, SD.resultFormat, FORMATS[name]))
    graph.add((service, DCTERMS.title, Literal("Section 22A Collaboration Register", lang="en")))
    # The service's canonical name, as /void and /catalog give it: /id/service/sparql is
    # answered with a 303 to this document, which must then describe it too.
    canonical = URIRef(BASE + "id/service/sparql")
    graph.add((canonical, RDF.type, DCAT.DataService))
    graph.add((canonical, DCAT.endpointURL, URIRef(BASE + "sparql")))
    graph.add(
        (
            service,
            RDFS.comment,
            Literal(
                "Read-only SPARQL 1.1 Query endpoint. Queries stop after "
                f"{settings.timeout:g} s (503) and results over {settings.max_bytes} bytes are "
                "refused (422). SERVICE reaches only the SPARQL endpoints and hosts listed in "
                "the register catalogue (/catalog).",
                lang="en",
            ),
        )
    )
    dataset = BNode()
    default = BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default))
    graph.add((default, RDF.type, SD.Graph))
    graph.add((default, DCTERMS.description, Literal(DEFAULT_GRAPH_NOTE, lang="en")))
    for name in graphs:
        named = BNode()
        graph.add((dataset, SD.namedGraph, named))
        graph.add((named, RDF.type, SD.NamedGraph))
        graph.add((named, SD.name, URIRef(name)))
        if name.startswith(str(REGISTER)):
            graph.add((named, RDFS.label, Literal(f"register {name.rsplit('/', 1)[-1]}")))
    return graph
