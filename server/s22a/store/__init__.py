"""The storage layer: one small interface (`Store`) over an RDF quad store, two backends.

Nothing outside this package talks to a backend directly; `open_store` opens the one a spec
names, and `get_store` is the store of the current Flask app (`init_app`):

* ``oxigraph:./var/store`` -- embedded pyoxigraph store on disk (`oxigraph.OxigraphStore`), the
  path is relative to the current directory and created if missing;
* the same, opened by each of the processes of ``s22a serve --workers N``
  (`shared.SharedOxigraphStore`: reads from a copy in each process's memory);
* ``oxigraph:`` or ``memory:`` -- embedded store in memory;
* ``sparql:http://host:port`` -- a SPARQL 1.1 server (`remote.RemoteStore`) with Query
  (``/query``), Update (``/update``) and Graph Store Protocol (``/store``) endpoints;
* ``virtuoso:http://host:port`` -- Virtuoso 7 (`virtuoso.VirtuosoStore`) at its HTTP port.

`base` says what a query's dataset is and how a graph is replaced atomically.
"""

from __future__ import annotations

from s22a.store.app import close_store, get_store, init_app
from s22a.store.base import (
    Graphs,
    Store,
    StoreDataError,
    StoreError,
    StoreFull,
    StoreInUse,
    StoreQueryError,
    StoreUnavailable,
    from_oxigraph,
    is_staging,
    to_oxigraph,
)
from s22a.store.factory import embedded, in_memory, open_store
from s22a.store.oxigraph import OxigraphStore
from s22a.store.remote import RemoteStore
from s22a.store.shared import SharedOxigraphStore
from s22a.store.virtuoso import VirtuosoStore

__all__ = [
    "Graphs",
    "OxigraphStore",
    "RemoteStore",
    "SharedOxigraphStore",
    "Store",
    "StoreDataError",
    "StoreError",
    "StoreFull",
    "StoreInUse",
    "StoreQueryError",
    "StoreUnavailable",
    "VirtuosoStore",
    "close_store",
    "embedded",
    "from_oxigraph",
    "get_store",
    "in_memory",
    "init_app",
    "is_staging",
    "to_oxigraph",
    "open_store",
]
