"""Opening the store a spec names (`S22A_STORE`, `--store`)."""

from __future__ import annotations

import os

from s22a.store.base import Store
from s22a.store.oxigraph import OxigraphStore
from s22a.store.remote import RemoteStore
from s22a.store.shared import SharedOxigraphStore
from s22a.store.virtuoso import VirtuosoStore


def in_memory(spec: str) -> bool:
    """Whether the store `spec` names lives in the memory of the process that opens it."""
    return spec in ("memory:", "oxigraph:")


def embedded(spec: str) -> bool:
    """Whether the store `spec` names is embedded (one process may open it)."""
    return spec.partition(":")[0] in ("oxigraph", "memory")


def open_store(spec: str, timeout: float = 30, *, shared: bool = False) -> Store:
    """Open the store `spec` names: oxigraph:PATH, oxigraph:, memory:, sparql:URL or
    virtuoso:URL (a remote one's requests each given `timeout` seconds). `shared`: an
    oxigraph:PATH opened as one of the processes that serve it (`SharedOxigraphStore`)."""
    scheme, sep, rest = spec.partition(":")
    if sep and scheme == "memory" and not rest:
        return OxigraphStore(None)
    if sep and scheme == "oxigraph":
        if not rest:
            return OxigraphStore(None)
        path = os.path.abspath(os.path.expanduser(rest))
        os.makedirs(path, exist_ok=True)
        return SharedOxigraphStore(path) if shared else OxigraphStore(path)
    if sep and scheme == "sparql" and rest.startswith(("http://", "https://")):
        return RemoteStore(rest, timeout=timeout)
    if sep and scheme == "virtuoso" and rest.startswith(("http://", "https://")):
        return VirtuosoStore(rest, timeout=timeout)
    raise ValueError(
        f"unknown store {spec!r}; use 'oxigraph:PATH' (embedded, on disk), 'oxigraph:' or "
        "'memory:' (embedded, in memory), 'sparql:http://HOST:PORT' (SPARQL 1.1 server "
        "with /query, /update and /store endpoints) or 'virtuoso:http://HOST:PORT' (Virtuoso's "
        "HTTP port: /sparql and /sparql-graph-crud)"
    )
