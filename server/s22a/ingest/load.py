"""Loading the catalogue: the reference data, then each register from its source, via the gate."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import DCTERMS

from s22a import resources
from s22a.history import versions
from s22a.ingest.catalog import Source, catalog_hosts, read_catalog
from s22a.ingest.checks import Checked, Checkers
from s22a.ingest.gate import (
    LoadOutcome,
    accept_register,
    content_hash,
    refresh_reconciliation_report,
    refuse,
)
from s22a.ingest.harvest import (
    DEFAULT_MAX_BYTES,
    DEFAULT_TIMEOUT,
    Fetched,
    Harvester,
    SourceError,
)
from s22a.namespaces import GRAPH_META, GRAPH_ONTOLOGY, GRAPH_RECONCILIATION, GRAPH_REFERENCE, S22A
from s22a.store import Store


def load_source(
    store: Store, source: Source, harvester: Harvester, *, refresh_reconciliation: bool = True
) -> LoadOutcome:
    """Fetch, validate and (if valid and changed) store one register, recording the attempt."""
    fetched = _fetch(store, source, harvester)
    if isinstance(fetched, LoadOutcome):
        return fetched
    return _accept(store, source, fetched, None, refresh_reconciliation=refresh_reconciliation)


def _fetch(store: Store, source: Source, harvester: Harvester) -> Fetched | LoadOutcome:
    """The source's register, fetched; or the outcome when there is nothing to check."""
    previous = versions.latest(store, source.register)
    present = previous is not None and source.register in store.graphs()
    try:
        fetched = harvester.fetch(source, previous if present else None)
    except SourceError as error:
        return refuse(store, source.register, source.location, str(error))
    if fetched.not_modified:
        versions.record_attempt(store, source.register, source=source.location, outcome="Unchanged")
        return LoadOutcome(source.register, "Unchanged", "not modified since the last harvest")
    assert fetched.data is not None  # fetched.not_modified is exactly data is None
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
    return fetched


def _accept(
    store: Store,
    source: Source,
    fetched: Fetched,
    checked: Checked | None,
    *,
    refresh_reconciliation: bool = False,
) -> LoadOutcome:
    assert fetched.data is not None
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
        force=source.force,
        checked=checked,
    )


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


# How many registers a catalogue load fetches ahead of the one it stores (each worker process
# checks one, and one more waits for it): a bound on the memory held, as a register may be big.
AHEAD = 3


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
    outcomes: list[LoadOutcome] = []
    # In catalogue order, each register fetched, checked (in worker processes, for big ones)
    # and stored; up to `AHEAD` fetched and being checked while an earlier one is stored.
    ahead: deque[tuple[Source, LoadOutcome | tuple[Fetched, Future[Checked]]]] = deque()

    def settle() -> None:
        source, staged = ahead.popleft()
        if isinstance(staged, tuple):
            fetched, checked = staged
            staged = _accept(store, source, fetched, checked.result())
        outcomes.append(staged)
        if progress is not None:
            progress(source, staged)

    with Checkers() as checkers:
        for source in sources:
            fetched = _fetch(store, source, harvester)
            if isinstance(fetched, LoadOutcome):
                ahead.append((source, fetched))
            else:
                assert fetched.data is not None
                checked = checkers.submit(
                    source.register, fetched.data, fetched.name, fetched.media_type, source.force
                )
                ahead.append((source, (fetched, checked)))
            while len(ahead) > AHEAD:
                settle()
        while ahead:
            settle()
    if any(o.outcome == "Accepted" for o in outcomes) or GRAPH_RECONCILIATION not in store.graphs():
        refresh_reconciliation_report(store)
    return outcomes
