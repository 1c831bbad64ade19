"""`SharedOxigraphStore`: one embedded store on disk, served by several processes at once.

RocksDB lets one process open a store for writing, and one `s22a serve` process is bound to
about one core by its interpreter lock. With `s22a serve --workers N` each of the N processes
opens the store as a `SharedOxigraphStore`:

* it reads from a copy of the store in its own memory, made when it first reads and made
  again at its first read after any process's write;
* it writes by opening the store on disk for that one write, under an exclusive lock on a
  file in the store's folder (`s22a.store.lockfile`), and closing it again;
* every write moves the change clock of every process (`s22a.store.changes`: the signal file
  in `S22A_LOCKS`), so a process never reads from its copy once another's write has
  returned: a read after a write answers with it, whichever process each went to.

While a process writes, its own reads in that thread (the version's record, worked out inside
the write: `Store.replace_graph`'s ``then``) go to the store on disk, so they see every write
before this one even where this process's copy is not yet up to date.

Costs, at the size of today's register (5,600 quads; `bench/shared.py`): opening the store
for a write adds about 35 ms to it, and the copy takes about 60 ms in each process after each
write (300-350 ms at ten times the size). Each process holds a copy of the data, as each of
its query workers does.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from typing import BinaryIO, TypeVar

import rdflib
from rdflib.term import Identifier

from s22a.store import lockfile
from s22a.store.base import Graphs, Store, StoreError, StoreInUse, Then
from s22a.store.changes import Changes
from s22a.store.oxigraph import OxigraphStore

T = TypeVar("T")

# RocksDB's old info logs kept in the store's folder (`SharedOxigraphStore._prune_logs`).
OLD_LOGS = 4
# How long a write waits for RocksDB's own lock when another write's handle is still closing.
OPEN_PATIENCE = 10.0


class SharedOxigraphStore(Store):
    """The embedded store on disk at `path`, opened by each of several processes."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Join the processes serving the store at `path` (`StoreInUse` if one process has
        it open alone)."""
        self.path = os.fspath(path)
        os.makedirs(self.path, exist_ok=True)
        self._serving: BinaryIO | None = lockfile.hold(self.path, lockfile.SERVING, exclusive=False)
        self._changes = Changes(remote=False, shared=True)
        self._copy: OxigraphStore | None = None
        self._copied_at: tuple[int, bytes] | None = None
        self._copying = threading.Lock()
        self._writer = threading.local()  # .store: the handle on disk this thread writes with
        with lockfile.holding(self.path, lockfile.WRITING, exclusive=True):
            disk = self._open_for_writing()  # creating the database if there is none yet
            disk._drop_staging(disk._db())
            disk.close()

    def __repr__(self) -> str:
        return f"SharedOxigraphStore({self.path!r})"

    @property
    def changes(self) -> Changes:
        """This store's change clock: moved by every process's writes (`s22a.store.changes`)."""
        return self._changes

    def _reader(self) -> OxigraphStore:
        """The store to read from: the handle on disk in a thread that is writing, else this
        process's copy, made again first if any process has written since it was made."""
        writing = getattr(self._writer, "store", None)
        if writing is not None:
            return writing
        copy, stamp = self._copy, self._changes.stamp()
        if copy is not None and self._copied_at == stamp:
            return copy
        with self._copying:  # one copy at a time; the other readers wait for it
            stamp = self._changes.stamp()  # before the copy: a write during it moves it again
            if self._copy is None or self._copied_at != stamp:
                if self._serving is None:
                    raise StoreError("the store is closed")
                with lockfile.holding(self.path, lockfile.WRITING, exclusive=False):
                    self._copy = OxigraphStore.copy_of(self.path)
                self._copied_at = stamp
            return self._copy

    def _write(self, write: Callable[[OxigraphStore], T]) -> T:
        """`write(handle)` with the store opened on disk for it, under the exclusive lock."""
        if self._serving is None:
            raise StoreError("the store is closed")
        with lockfile.holding(self.path, lockfile.WRITING, exclusive=True):
            disk = self._open_for_writing()
            self._writer.store = disk
            try:
                return write(disk)
            except BaseException as error:
                # A traceback keeps the frames that used the handle, and with them the
                # database open past this write: the next would find RocksDB's lock taken.
                _clear_frames(error)
                raise
            finally:
                self._writer.store = None
                disk.close()
                del disk
                self._prune_logs()

    def _prune_logs(self) -> None:
        """Remove all but the newest `OLD_LOGS` of RocksDB's old info logs. RocksDB starts a
        new one (about 140 kB) at every open and keeps 1,000 old ones; this opens it for
        every write."""
        old = sorted(name for name in os.listdir(self.path) if name.startswith("LOG.old."))
        for name in old[:-OLD_LOGS]:
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(self.path, name))

    def _open_for_writing(self) -> OxigraphStore:
        deadline = time.monotonic() + OPEN_PATIENCE
        while True:
            try:
                return OxigraphStore(self.path, alone=False)
            except StoreInUse:  # RocksDB's lock: an earlier write's handle is still closing
                if time.monotonic() > deadline:
                    raise
            time.sleep(0.02)

    # Writes: on disk (each moves the change clock, `Store.__init_subclass__`).

    def replace_graph(
        self,
        graph: str,
        data: bytes,
        media_type: str = "application/n-triples",
        then: Then | None = None,
    ) -> int:
        """Atomically replace graph `graph` by the RDF in `data`; return its triple count."""
        return self._write(lambda disk: disk.replace_graph(graph, data, media_type, then))

    def write_new_graph(
        self, graph: str, data: bytes, media_type: str = "application/n-triples"
    ) -> int:
        """Write graph `graph` with Oxigraph's bulk loader (`OxigraphStore.write_new_graph`)."""
        return self._write(lambda disk: disk.write_new_graph(graph, data, media_type))

    def drop_graph(self, graph: str) -> None:
        """Remove named graph `graph` (no error if it does not exist)."""
        self._write(lambda disk: disk.drop_graph(graph))

    def update(self, update: str) -> None:
        """Run a SPARQL 1.1 Update (in one transaction)."""
        self._write(lambda disk: disk.update(update))

    def add_dataset(self, data: bytes, media_type: str = "application/n-quads") -> None:
        """Add the quads of an N-Quads or TriG document to the dataset, in one transaction."""
        self._write(lambda disk: disk.add_dataset(data, media_type))

    # Reads: from this process's copy.

    def graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted, staging graphs excluded."""
        return self._reader().graphs()

    def select(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, Identifier]]:
        """Run a SELECT query; rows map bound variable names to rdflib terms."""
        return self._reader().select(query, default_graph=default_graph, named_graphs=named_graphs)

    def select_text(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, str]]:
        """Run a SELECT query; rows map bound variable names to their values' text."""
        return self._reader().select_text(
            query, default_graph=default_graph, named_graphs=named_graphs
        )

    def ask(self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None) -> bool:
        """Run an ASK query."""
        return self._reader().ask(query, default_graph=default_graph, named_graphs=named_graphs)

    def construct(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> rdflib.Graph:
        """Run a CONSTRUCT or DESCRIBE query."""
        return self._reader().construct(
            query, default_graph=default_graph, named_graphs=named_graphs
        )

    def query_serialized(
        self,
        query: str,
        media_type: str,
        *,
        default_graph: Graphs = None,
        named_graphs: Graphs = None,
    ) -> tuple[bytes, str]:
        """Run any query; return the engine's serialization and its Content-Type."""
        return self._reader().query_serialized(
            query, media_type, default_graph=default_graph, named_graphs=named_graphs
        )

    def graph_triples(self, graph: str) -> rdflib.Graph:
        """The triples of named graph `graph` (empty if it does not exist)."""
        return self._reader().graph_triples(graph)

    def dump(self, media_type: str = "application/n-quads") -> Iterator[bytes]:
        """Stream the whole dataset as N-Quads or TriG chunks."""
        return self._reader().dump(media_type)

    def close(self) -> None:
        """Leave the processes serving the store: drop the copy, let go of the lock."""
        self._copy = None
        if self._serving is not None:
            self._serving.close()
            self._serving = None


def _clear_frames(error: BaseException | None) -> None:
    """Drop the local variables of the finished frames in `error`'s traceback and in those of
    the exceptions it was raised from."""
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__
