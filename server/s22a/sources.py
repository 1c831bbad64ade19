"""The catalogue of registers, and loading each one from its source into the store.

A source is a local file, an http(s) URL to harvest, or a SPARQL endpoint.
Whatever it is, the bytes go through the same gate (`validation`): a register
that cannot be fetched, is too large, cannot be parsed or is invalid leaves
the force's previous version in place, and the attempt is recorded with why.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.client import HTTPResponse
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from . import reconcile, resources, validation, versions
from .namespaces import GRAPH_META, GRAPH_ONTOLOGY, GRAPH_RECONCILIATION, GRAPH_REFERENCE, S22A
from .store import Store, StoreError

DEFAULT_TIMEOUT = 20.0
DEFAULT_MAX_BYTES = 20 * 2**20
ACCEPT = (
    "text/turtle, application/n-triples;q=0.9, application/ld+json;q=0.8, application/rdf+xml;q=0.7"
)


@dataclass(frozen=True)
class Source:
    """Where one force's register comes from, as the catalogue says."""

    register: str
    force: str | None
    kind: str  # "file", "url" or "sparql"
    location: str
    endpoint_graph: str | None = None

    @property
    def label(self) -> str:
        """A short name for progress output: the register's slug."""
        return self.register.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class Fetched:
    """What a fetch brought back: bytes, or word that nothing changed since last time."""

    data: bytes | None
    name: str
    media_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 Not Modified."""
        return self.data is None


@dataclass
class LoadOutcome:
    """The result of loading one source."""

    register: str
    outcome: str  # "Accepted", "Unchanged" or "Refused"
    reason: str = ""
    triples: int = 0
    agreements: int = 0
    warnings: int = 0
    version: str | None = None
    findings: list[validation.Finding] = field(default_factory=list)


class SourceError(Exception):
    """A source could not be fetched: unreachable, too large, or redirected elsewhere."""


# ---------------------------------------------------------------------------
# The catalogue


def read_catalog(path: str | Path | None = None) -> list[Source]:
    """Read a DCAT catalogue and return its register sources, in catalogue order."""
    path = Path(path) if path else resources.catalog_path()
    graph = Graph().parse(path, format="turtle")
    sources = []
    for dataset in sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str):
        force = graph.value(dataset, S22A.force)
        for distribution in graph.objects(dataset, DCAT.distribution):
            download = graph.value(distribution, DCAT.downloadURL)
            service = graph.value(distribution, DCAT.accessService)
            if download is not None:
                url = str(download)
                kind = "file" if url.startswith("file:") else "url"
                location = (
                    urllib.request.url2pathname(urllib.parse.urlparse(url).path)
                    if (kind == "file")
                    else url
                )
                sources.append(Source(str(dataset), _opt(force), kind, location))
                break
            if service is not None:
                endpoint = graph.value(service, DCAT.endpointURL)
                if endpoint is None:
                    raise ValueError(f"{dataset}: the access service has no dcat:endpointURL")
                sources.append(
                    Source(
                        str(dataset),
                        _opt(force),
                        "sparql",
                        str(endpoint),
                        _opt(graph.value(distribution, S22A.endpointGraph)),
                    )
                )
                break
        else:
            raise ValueError(
                f"{dataset}: no distribution with dcat:downloadURL or dcat:accessService"
            )
    return sources


def _opt(term: object) -> str | None:
    return str(term) if term is not None else None


def catalog_hosts(sources: Iterable[Source]) -> set[str]:
    """The host names (with ports) that catalogue URLs and endpoints point at."""
    return {urllib.parse.urlsplit(s.location).netloc for s in sources if s.kind != "file"}


# ---------------------------------------------------------------------------
# Fetching


class _CatalogueRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to hosts the catalogue lists."""

    def __init__(self, allowed_hosts: set[str]):
        self.allowed_hosts = allowed_hosts

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        host = urllib.parse.urlsplit(newurl).netloc
        if host not in self.allowed_hosts:
            raise SourceError(
                f"{req.full_url} redirects to {newurl}, a host that is not in the catalogue"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Harvester:
    """Fetches register sources with a timeout, a size cap and conditional GET."""

    def __init__(
        self,
        allowed_hosts: set[str],
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.allowed_hosts = allowed_hosts
        self._opener = urllib.request.build_opener(_CatalogueRedirects(allowed_hosts))

    def fetch(self, source: Source, previous: versions.Version | None = None) -> Fetched:
        """Fetch a source's bytes (or learn it has not changed since `previous`)."""
        if source.kind == "file":
            return self._read_file(source)
        if source.kind == "url":
            return self._get(source, previous)
        return self._construct(source)

    def _read_file(self, source: Source) -> Fetched:
        path = Path(source.location)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise SourceError(f"{path} is {size} bytes, over the {self.max_bytes}-byte limit")
            return Fetched(path.read_bytes(), path.name)
        except FileNotFoundError:
            raise SourceError(f"no such file: {path}") from None
        except OSError as error:
            raise SourceError(f"cannot read {path}: {error.strerror}") from None

    def _get(self, source: Source, previous: versions.Version | None) -> Fetched:
        deadline = time.monotonic() + self.timeout
        request = urllib.request.Request(source.location, headers={"Accept": ACCEPT})
        if previous is not None and previous.source == source.location:
            if previous.etag:
                request.add_header("If-None-Match", previous.etag)
            if previous.last_modified:
                request.add_header("If-Modified-Since", previous.last_modified)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise SourceError(
                        f"{source.location} is {declared} bytes, "
                        f"over the {self.max_bytes}-byte limit"
                    )
                data = _read_until(response, self.max_bytes + 1, deadline)
                if data is None:
                    raise SourceError(
                        f"{source.location} did not finish sending within {self.timeout:g} s"
                    )
                if len(data) > self.max_bytes:
                    raise SourceError(f"{source.location} is over the {self.max_bytes}-byte limit")
                name = Path(urllib.parse.urlsplit(response.url).path).name or "register"
                return Fetched(
                    data,
                    name,
                    response.headers.get_content_type(),
                    response.headers.get("ETag"),
                    response.headers.get("Last-Modified"),
                )
        except urllib.error.HTTPError as error:
            if error.code == 304:
                error.close()
                return Fetched(None, source.location)
            error.close()
            raise SourceError(
                f"{source.location} answered HTTP {error.code} {error.reason}"
            ) from None
        except urllib.error.URLError as error:
            raise SourceError(f"{source.location} is unreachable: {error.reason}") from None
        except TimeoutError:
            raise SourceError(
                f"{source.location} did not answer within {self.timeout:g} s"
            ) from None
        except OSError as error:
            raise SourceError(f"{source.location} failed: {error}") from None

    def _construct(self, source: Source) -> Fetched:
        from SPARQLWrapper import TURTLE, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        pattern = "?s ?p ?o"
        if source.endpoint_graph:
            pattern = f"GRAPH <{source.endpoint_graph}> {{ ?s ?p ?o }}"
        client = SPARQLWrapper(source.location)
        client.setQuery(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}")
        client.setReturnFormat(TURTLE)
        client.setTimeout(int(max(1, self.timeout)))
        try:
            data = client.query().convert()
        except SPARQLWrapperException as error:
            raise SourceError(f"{source.location} refused the query: {error}") from None
        except urllib.error.URLError as error:
            raise SourceError(f"{source.location} is unreachable: {error.reason}") from None
        except (TimeoutError, OSError) as error:
            raise SourceError(f"{source.location} failed: {error}") from None
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > self.max_bytes:
            raise SourceError(f"{source.location} returned over {self.max_bytes} bytes")
        return Fetched(data, "endpoint.ttl", "text/turtle")


def _read_until(response: HTTPResponse, limit: int, deadline: float) -> bytes | None:
    """Up to `limit` bytes of the body, or None if it is still coming at `deadline`.

    The socket timeout bounds each read only: a server sending a byte now and then would
    otherwise hold a harvest for as long as it liked.
    """
    chunks, size = [], 0
    while size < limit:
        if time.monotonic() > deadline:
            return None
        chunk = response.read1(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------
# Loading


def content_hash(data: bytes) -> str:
    """The hash recorded for a version: 'sha256:' and the hex digest."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _refuse(
    store: Store,
    register: str,
    source: str,
    reason: str,
    violations: int | None = None,
    findings: list[validation.Finding] | None = None,
) -> LoadOutcome:
    versions.record_attempt(
        store, register, source=source, outcome="Refused", reason=reason, violations=violations
    )
    return LoadOutcome(register, "Refused", reason, findings=findings or [])


def load_source(
    store: Store, source: Source, harvester: Harvester, *, refresh_reconciliation: bool = True
) -> LoadOutcome:
    """Fetch, validate and (if valid and changed) store one register, recording the attempt."""
    previous = versions.latest(store, source.register)
    present = previous is not None and source.register in store.graphs()
    try:
        fetched = harvester.fetch(source, previous if present else None)
    except SourceError as error:
        return _refuse(store, source.register, source.location, str(error))
    if fetched.not_modified:
        versions.record_attempt(store, source.register, source=source.location, outcome="Unchanged")
        return LoadOutcome(source.register, "Unchanged", "not modified since the last harvest")
    # A force may publish newer versions over HTTP: the catalogue's source replaces them only
    # when it has itself changed since it was last taken.
    taken = [v for v in versions.history(store, source.register) if v.source == source.location]
    if present and taken and taken[-1].content_hash == content_hash(fetched.data):
        return LoadOutcome(
            source.register,
            "Unchanged",
            "the source has not changed since it was last loaded"
            + ("" if taken[-1] == previous else "; a newer version was published over HTTP"),
        )
    return accept_register(
        store,
        source.register,
        fetched.data,
        name=fetched.name,
        media_type=fetched.media_type,
        source=source.location,
        etag=fetched.etag,
        last_modified=fetched.last_modified,
        refresh_reconciliation=refresh_reconciliation,
    )


def accept_register(
    store: Store,
    register: str,
    data: bytes,
    *,
    name: str,
    source: str,
    media_type: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    refresh_reconciliation: bool = True,
) -> LoadOutcome:
    """The gate every new register version passes: unchanged, refused, or validated and stored.

    Identical bytes to the stored version change nothing; unreadable or invalid data, or
    data describing another register, is refused and recorded; a valid register replaces
    the graph atomically, is recorded as a new version and (unless told not to, as a
    catalogue load does until its end) the cross-register reconciliation is refreshed.
    """
    with _register_lock(register):
        previous = versions.latest(store, register)
        digest = content_hash(data)
        if previous is not None and previous.content_hash == digest and register in store.graphs():
            return LoadOutcome(register, "Unchanged", "same content as the stored version")
        try:
            result = validation.validate_bytes(data, name, media_type)
        except validation.RegisterUnreadable as error:
            return _refuse(store, register, source, f"cannot be read: {error}")
        if not result.conforms:
            first = result.violations[0].message
            return _refuse(
                store,
                register,
                source,
                f"invalid: {len(result.violations)} violation(s), the first: {first}",
                violations=len(result.violations),
                findings=result.findings,
            )
        described = {str(r) for r in result.graph.subjects(RDF.type, S22A.Register)}
        if described != {register}:
            return _refuse(
                store,
                register,
                source,
                f"the data describes {', '.join(sorted(described))}, but this is {register}",
            )
        content = result.graph.serialize(format="nt", encoding="utf-8")
        agreements = sorted(str(a) for a in result.graph.objects(URIRef(register), S22A.lists))
        recorded: list[str] = []

        def record(triples: int) -> str:
            """The version's record, stored in the same transaction as the graph."""
            version, update = versions.accepted_update(
                store,
                register,
                content=content,
                source=source,
                content_hash=digest,
                triples=triples,
                agreements=agreements,
                warnings=len(result.warnings),
                withheld={
                    str(a): str(provision)
                    for a, provision in result.graph.subject_objects(S22A.withheldUnder)
                },
                etag=etag,
                last_modified=last_modified,
            )
            recorded.append(version)
            return update

        triples = store.replace_graph(register, content, then=record)
        version = recorded[0]
    if refresh_reconciliation:
        try:
            refresh_reconciliation_report(store)
        except StoreError as error:  # the version is stored; the report catches up next time
            logging.getLogger(__name__).warning("reconciliation not refreshed: %s", error)
    return LoadOutcome(
        register,
        "Accepted",
        triples=triples,
        agreements=len(agreements),
        warnings=len(result.warnings),
        version=version,
        findings=result.findings,
    )


_RECONCILIATION_LOCK = threading.Lock()


def refresh_reconciliation_report(store: Store) -> None:
    """Recompute and store the reconciliation report; one at a time, so the last one stored
    was computed from the newest data."""
    with _RECONCILIATION_LOCK:
        reconcile.store_report(store, reconcile.reconcile(store))


_LOCKS: dict[str, threading.Lock] = {}
_LOCKS_GUARD = threading.Lock()


def _register_lock(register: str) -> threading.Lock:
    """One lock per register, so concurrent writes to it in this process are serialised."""
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(register, threading.Lock())


def load_reference(store: Store) -> bool:
    """Load the ontology and reference data into their graphs if they changed; True if loaded."""
    loaded = False
    wanted = {
        GRAPH_ONTOLOGY: [resources.ontology_path()],
        GRAPH_REFERENCE: resources.reference_paths(),
    }
    for graph_iri, paths in wanted.items():
        digest = content_hash(b"".join(p.read_bytes() for p in paths))
        known = store.select(
            f"SELECT ?h WHERE {{ GRAPH <{GRAPH_META}> {{ <{graph_iri}> "
            f"<{S22A.contentHash}> ?h }} }}"
        )
        if known and str(known[0]["h"]) == digest and graph_iri in store.graphs():
            continue
        graph = Graph()
        for path in paths:
            graph.parse(path, format="turtle")
        store.replace_graph(graph_iri, graph.serialize(format="nt", encoding="utf-8"))
        store.update(
            f"DELETE WHERE {{ GRAPH <{GRAPH_META}> {{ <{graph_iri}> <{S22A.contentHash}> ?h }} }} ;"
            f"INSERT DATA {{ GRAPH <{GRAPH_META}> {{ <{graph_iri}> "
            f'<{S22A.contentHash}> "{digest}" ; <{DCTERMS.modified}> '
            f"{versions.now().n3()} }} }}"
        )
        loaded = True
    return loaded


def load_catalog(
    store: Store,
    catalog: str | Path | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    progress: Callable[[Source, LoadOutcome], None] | None = None,
) -> list[LoadOutcome]:
    """Load the reference data and every register in the catalogue; return each outcome."""
    sources = read_catalog(catalog)
    load_reference(store)
    harvester = Harvester(catalog_hosts(sources), timeout=timeout, max_bytes=max_bytes)
    outcomes = []
    for source in sources:
        outcome = load_source(store, source, harvester, refresh_reconciliation=False)
        outcomes.append(outcome)
        if progress is not None:
            progress(source, outcome)
    if any(o.outcome == "Accepted" for o in outcomes) or GRAPH_RECONCILIATION not in store.graphs():
        refresh_reconciliation_report(store)
    return outcomes
