"""The registers as they stood at an instant: the version of each that was current then, and the
whole dataset rebuilt from those versions for reading and querying.

A register's version stands from the instant it was accepted (`prov:generatedAtTime`) until
the next one; a version that retired the register (DELETE) stands for no register at all. The
reference data and the ontology are the project's own and are taken as they are now: they
carry no history of their own.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import UTC, date, datetime, time

from rdflib import Graph

from s22a.history import changes, versions
from s22a.namespaces import GRAPH_ONTOLOGY, GRAPH_REFERENCE
from s22a.store import OxigraphStore, Store

# Datasets as of an instant, rebuilt from snapshots: keyed by the versions that stood, so two
# instants between the same versions share one. A few are kept (each is the size of the data).
_KEPT = 8
_DATASETS: OrderedDict[tuple[str, ...], OxigraphStore] = OrderedDict()
_LOCK = threading.Lock()


def as_instant(value: datetime | date) -> datetime:
    """An aware instant: a day means its end (in UTC); a naive time is taken as UTC."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time.max, tzinfo=UTC)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def standing_at(history: list[versions.Version], instant: datetime) -> versions.Version | None:
    """The version of a register that stood at `instant` (None: not yet published)."""
    current = None
    for version in history:
        if version.generated <= instant:
            current = version
    return current


def versions_at(store: Store, instant: datetime) -> dict[str, versions.Version]:
    """Each register that stood at `instant`, with the version that stood (retired ones left
    out), by register IRI."""
    standing = {}
    for register in changes.registers_with_history(store):
        version = standing_at(versions.history(store, register), instant)
        if version is not None and version.iri not in changes.retired_versions(store, register):
            standing[register] = version
    return standing


def dataset_key(store: Store, instant: datetime) -> str:
    """A short token naming the dataset that stood at `instant` (the same for two instants
    between the same versions)."""
    standing = versions_at(store, instant)
    key = "\n".join(sorted(v.iri + "|" + v.content_hash for v in standing.values()))
    return "asof-" + hashlib.sha256(key.encode()).hexdigest()[:20]


def dataset_at(store: Store, instant: datetime) -> Store:
    """An in-memory store holding the registers as they stood at `instant` (each as its own
    named graph), the reference data and the ontology. Do not write to it."""
    standing = versions_at(store, instant)
    key = tuple(sorted(v.iri + "|" + v.content_hash for v in standing.values()))
    with _LOCK:
        if key in _DATASETS:
            _DATASETS.move_to_end(key)
            return _DATASETS[key]
    built = OxigraphStore(None)
    for graph in (GRAPH_REFERENCE, GRAPH_ONTOLOGY):
        built.replace_graph(
            graph, store.graph_triples(graph).serialize(format="nt", encoding="utf-8")
        )
    for register, version in standing.items():
        content: Graph = changes.snapshot(store, version)
        built.replace_graph(register, content.serialize(format="nt", encoding="utf-8"))
    with _LOCK:
        _DATASETS[key] = built
        while len(_DATASETS) > _KEPT:
            _DATASETS.popitem(last=False)
    return built
