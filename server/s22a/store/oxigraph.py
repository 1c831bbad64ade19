"""`OxigraphStore`: the `Store` interface over an embedded pyoxigraph store (disk or memory)."""

from __future__ import annotations

import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.term import Identifier, URIRef

# Media types: replace_graph and query_serialized (graphs); query_serialized (solutions); dump.
from s22a.store import lockfile, patch
from s22a.store.base import (
    Graphs,
    Store,
    StoreDataError,
    StoreError,
    StoreFull,
    StoreInUse,
    StoreQueryError,
    StoreUnavailable,
    Then,
    check_graph_name,
    dataset_format,
    from_oxigraph,
    graph_format,
    is_staging,
    output_formats,
    serialize_quads,
    serialized,
)

_log = logging.getLogger(__name__)

# How much may be written (bytes of RDF or SPARQL) before the memtables are flushed to disk.
FLUSH_BYTES = 2**20


@contextmanager
def _engine_errors() -> Iterator[None]:
    """Translate pyoxigraph exceptions into store exceptions."""
    try:
        yield
    except StoreError:
        raise
    except SyntaxError as error:
        raise StoreQueryError(error.msg or str(error)) from None
    except ValueError as error:  # e.g. an invalid IRI in default_graph
        raise StoreQueryError(str(error)) from None
    except OSError as error:
        if error.errno == errno.ENOSPC or "No space left on device" in str(error):
            raise StoreFull(str(error)) from error
        raise StoreError(str(error)) from error
    except RuntimeError as error:
        raise StoreError(str(error)) from error


class OxigraphStore(Store):
    """Embedded pyoxigraph store, on disk at `path` or in memory when `path` is None.

    A replacement is one SPARQL update, one transaction, writing only what changed
    (`s22a.store.patch`); `bulk_load` is not transactional. On disk the store is locked by its
    process: one read-write `OxigraphStore` per directory, so a lock in this object orders its
    writes.

    After a write fails on disk (a full disk), RocksDB refuses every later write until the
    database is reopened, and reopening needs free space. So reads go on through a read-only
    handle, and each later write first tries to reopen the database for writing: it fails
    (`StoreFull`, or `StoreUnavailable` while other requests still read the old handle)
    until space has been freed, and then the store works as before.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, alone: bool = True) -> None:
        """Open (creating if needed) the store and drop stale staging graphs. On disk, `alone`:
        the only opener until `close`; else one write's handle (`s22a.store.shared`), which
        leaves staging graphs be."""
        self.path = None if path is None else os.fspath(path)
        self._serving = None
        if self.path is not None and alone:
            os.makedirs(self.path, exist_ok=True)
            self._serving = lockfile.hold(self.path, lockfile.SERVING, exclusive=True)
        try:
            with _engine_errors():
                self._store: ox.Store | None = ox.Store(self.path)
        except StoreError as error:
            self.close()
            if "LOCK" in str(error):  # RocksDB: "While lock file: PATH/LOCK: ..."
                raise StoreInUse(f"the store at {self.path} is in use by another process") from None
            raise
        # Held by every write: a replacement reads the stored graph and writes the difference.
        self._write_lock = threading.RLock()
        self._reopen_lock = threading.Lock()
        self._write_failed = False
        self._disk_full = False  # the failed write (or flush) found the disk full
        self._read_only = False
        self._unflushed = 0  # bytes written since the last flush
        if alone:
            self._drop_staging(self._store)

    @staticmethod
    def _drop_staging(db: ox.Store) -> None:
        """Drop the staging graphs in `db` (none is in use when a store is opened)."""
        with _engine_errors():
            for name in list(db.named_graphs()):
                if isinstance(name, ox.NamedNode) and is_staging(name.value):
                    db.remove_graph(name)

    @contextmanager
    def _writing(self, size: int = FLUSH_BYTES) -> Iterator[ox.Store]:
        """The handle to write with, under the write lock, for a write of about `size` bytes
        (of RDF or SPARQL); a write failing on disk marks the store for reopening."""
        with self._write_lock:
            db = self._writable()
            try:
                yield db
            except StoreError as error:
                if self.path is not None and isinstance(error.__cause__, OSError):
                    self._write_failed = True
                    self._disk_full = isinstance(error, StoreFull)
                raise
            self._unflushed += size
            if self.path is not None and self._unflushed >= FLUSH_BYTES:
                self._flush(db)

    def _flush(self, db: ox.Store) -> None:
        """Write the memtables out to disk once `FLUSH_BYTES` have been written since the last.

        Left to itself, RocksDB keeps every write of a small, often-rewritten dataset in its
        memtables and write-ahead log: 150 uploads of one register grew the process by 1 GiB
        and the log to 700 MB (`bench/soak.py` shows the growth). A flush after every write
        bounded that, but costs tens of milliseconds however small the write (a twelfth of a
        2,000-agreement load, forty-odd flushes). The write has already committed (it is in
        the log) when this runs, so a flush that fails (a full disk) is not the write's
        failure: the store is marked to reopen before the next write.
        """
        self._unflushed = 0
        try:
            db.flush()
        except OSError as error:
            _log.warning("the store could not flush its writes to disk: %s", error)
            self._write_failed = True
            self._disk_full = error.errno == errno.ENOSPC or "No space left" in str(error)

    def _writable(self) -> ox.Store:
        """The read-write handle; after a failed write, the database reopened for writing."""
        db = self._db()
        if not self._write_failed:
            return db
        del db
        with self._reopen_lock:
            if self._write_failed:
                assert self.path is not None
                if not self._read_only:  # readers move to a read-only handle
                    with _engine_errors():
                        self._store, self._read_only = ox.Store.read_only(self.path), True
                try:  # possible once no request holds the old handle, and there is space
                    reopened = ox.Store(self.path)
                except OSError as error:
                    if "lock hold by current process" in str(error):
                        # The old handle is still open (RocksDB's own threads may hold it
                        # while the disk is full): say why the write failed in the first place.
                        if self._disk_full:
                            raise StoreFull(
                                "the disk was full at the last write and the store cannot be "
                                "reopened for writing yet"
                            ) from error
                        raise StoreUnavailable(
                            "the store is reopening after a failed write; try again"
                        ) from error
                    with _engine_errors():
                        raise error from None
                self._store, self._read_only, self._write_failed = reopened, False, False
                self._disk_full = False
                self._drop_staging(reopened)
        return self._db()

    def __repr__(self) -> str:
        return f"OxigraphStore({self.path!r})"

    def _db(self) -> ox.Store:
        if self._store is None:
            raise StoreError("the store is closed")
        return self._store

    def _run(self, query: str, default_graph: Graphs, named_graphs: Graphs) -> Any:
        db = self._db()
        with _engine_errors():
            if default_graph is not None or named_graphs is not None:
                return db.query(
                    query,
                    default_graph=[ox.NamedNode(g) for g in default_graph or ()],
                    named_graphs=[ox.NamedNode(g) for g in named_graphs or ()],
                )
            names = list(db.named_graphs())
            visible = [
                n for n in names if not (isinstance(n, ox.NamedNode) and is_staging(n.value))
            ]
            if len(visible) == len(names):
                return db.query(query, use_default_graph_as_union=True)
            # A staging graph left by an older version, or written by hand: the union without it.
            return db.query(
                query, default_graph=[ox.DefaultGraph(), *visible], named_graphs=visible
            )

    def replace_graph(
        self,
        graph: str,
        data: bytes,
        media_type: str = "application/n-triples",
        then: Then | None = None,
    ) -> int:
        """Atomically replace graph `graph` by the RDF in `data`; return its triple count.

        One update writes only the triples that differ (`s22a.store.patch`), with `then`'s in
        the same transaction. `then` is called, the stored triples read and the update run
        under the write lock, so no other write of this store falls between them.
        """
        check_graph_name(graph)
        new = patch.parsed(data, graph_format(media_type), graph)
        count = len(new)
        with self._write_lock:
            update, guard = then(count, True) if then is not None else ("", None)
            with _engine_errors():
                stored = self._db().quads_for_pattern(None, None, None, ox.NamedNode(graph))
                statements = patch.patch(graph, (q.triple for q in stored), new, guard, update)
            # The update has it all as text: let go of the parsed triples before Oxigraph
            # takes its own memory for the update (45 MiB of 100,000 triples, while the
            # update takes about 250 MiB more: the peak of a big write).
            del new
            if statements:
                with self._writing(len(statements)) as db, _engine_errors():
                    db.update(statements)
        return count

    def write_new_graph(
        self, graph: str, data: bytes, media_type: str = "application/n-triples"
    ) -> int:
        """Write graph `graph` with Oxigraph's bulk loader, outside a transaction (readers may
        see it part-written); `replace_graph` where the graph is already stored. The bulk
        loader writes index files directly: 400,000 triples in 2.9 s, where one update takes
        14 s (its transaction's cost per triple grows with its size)."""
        check_graph_name(graph)
        fmt, name = graph_format(media_type), ox.NamedNode(graph)
        with self._write_lock:
            with _engine_errors():
                stored = name in set(self._db().named_graphs())
            if stored:
                return self.replace_graph(graph, data, media_type)
            with self._writing(0) as db, _engine_errors():
                try:
                    db.bulk_load(data, fmt, base_iri=graph, to_graph=name)
                except SyntaxError as error:
                    raise StoreDataError(error.msg or str(error)) from None
                db.add_graph(name)  # listed even when empty, as `replace_graph` leaves it
                return sum(1 for _ in db.quads_for_pattern(None, None, None, name))

    def drop_graph(self, graph: str) -> None:
        """Remove named graph `graph` (no error if it does not exist)."""
        check_graph_name(graph)
        with self._writing() as db, _engine_errors():
            db.remove_graph(ox.NamedNode(graph))

    def graphs(self) -> list[str]:
        """The IRIs of the named graphs, sorted, staging graphs excluded."""
        with _engine_errors():
            names = list(self._db().named_graphs())
        return sorted(
            g.value for g in names if isinstance(g, ox.NamedNode) and not is_staging(g.value)
        )

    def select(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, Identifier]]:
        """Run a SELECT query; rows map bound variable names to rdflib terms."""
        return self._rows(query, default_graph, named_graphs, from_oxigraph)

    def select_text(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> list[dict[str, str]]:
        """Run a SELECT query; rows map bound variable names to their values' text, read from
        Oxigraph's terms (no rdflib terms made: most of a big reconciliation's reading)."""
        return self._rows(query, default_graph, named_graphs, lambda term: term.value)

    def _rows(
        self,
        query: str,
        default_graph: Graphs,
        named_graphs: Graphs,
        convert: Callable[[Any], Any],
    ) -> list[dict[str, Any]]:
        result = self._run(query, default_graph, named_graphs)
        if not isinstance(result, ox.QuerySolutions):
            raise StoreQueryError("expected a SELECT query")
        names = [v.value for v in result.variables]
        with _engine_errors():
            return [
                {n: convert(t) for n, t in zip(names, row, strict=True) if t is not None}
                for row in result
            ]

    def ask(self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None) -> bool:
        """Run an ASK query."""
        result = self._run(query, default_graph, named_graphs)
        if not isinstance(result, ox.QueryBoolean):
            raise StoreQueryError("expected an ASK query")
        return bool(result)

    def construct(
        self, query: str, *, default_graph: Graphs = None, named_graphs: Graphs = None
    ) -> rdflib.Graph:
        """Run a CONSTRUCT or DESCRIBE query."""
        result = self._run(query, default_graph, named_graphs)
        if not isinstance(result, ox.QueryTriples):
            raise StoreQueryError("expected a CONSTRUCT or DESCRIBE query")
        graph = rdflib.Graph()
        with _engine_errors():
            for t in result:
                graph.add(
                    (from_oxigraph(t.subject), from_oxigraph(t.predicate), from_oxigraph(t.object))
                )
        return graph

    def query_serialized(
        self,
        query: str,
        media_type: str,
        *,
        default_graph: Graphs = None,
        named_graphs: Graphs = None,
    ) -> tuple[bytes, str]:
        """Run any query; return the engine's serialization and its Content-Type."""
        results_format, graph_format_ = output_formats(media_type)
        result = self._run(query, default_graph, named_graphs)
        with _engine_errors():
            if isinstance(result, ox.QueryTriples):
                return serialized(result.serialize(format=graph_format_)), graph_format_.media_type
            return serialized(result.serialize(format=results_format)), results_format.media_type

    def update(self, update: str) -> None:
        """Run a SPARQL 1.1 Update (in one transaction)."""
        with self._writing(len(update)) as db, _engine_errors():
            db.update(update)

    def graph_triples(self, graph: str) -> rdflib.Graph:
        """The triples of named graph `graph` (empty if it does not exist)."""
        check_graph_name(graph)
        result = rdflib.Graph(identifier=URIRef(graph))
        with _engine_errors():
            for q in self._db().quads_for_pattern(None, None, None, ox.NamedNode(graph)):
                result.add(
                    (from_oxigraph(q.subject), from_oxigraph(q.predicate), from_oxigraph(q.object))
                )
        return result

    def dump(self, media_type: str = "application/n-quads") -> Iterator[bytes]:
        """Stream the whole dataset, staging graphs excluded, as N-Quads or TriG chunks."""
        fmt = dataset_format(media_type)
        with _engine_errors():
            # One snapshot, read whole here: pyoxigraph's iterators are bound to the thread
            # that made them, and the server may send the response from another one (an
            # iterator dropped there is leaked, and keeps the database open).
            quads = list(self._db().quads_for_pattern(None, None, None, None))

        def chunks() -> Iterator[bytes]:
            with _engine_errors():
                yield from serialize_quads(quads, fmt)

        return chunks()

    def add_dataset(self, data: bytes, media_type: str = "application/n-quads") -> None:
        """Add the quads of an N-Quads or TriG document to the dataset, in one transaction."""
        fmt = dataset_format(media_type)
        with self._writing(len(data)) as db, _engine_errors():
            try:
                db.load(data, fmt)
            except SyntaxError as error:
                raise StoreDataError(error.msg or str(error)) from None

    @classmethod
    def copy_of(cls, path: str) -> OxigraphStore:
        """An in-memory store holding what the store on disk at `path` holds, read through a
        read-only handle (while no process writes it: `s22a.store.shared`)."""
        copy = cls(None)
        with _engine_errors():
            disk = ox.Store.read_only(path)
            copy._db().bulk_extend(disk.quads_for_pattern(None, None, None, None))
        return copy

    def close(self) -> None:
        """Release the store (pyoxigraph closes the database when the last reference goes)."""
        self._store = None
        if self._serving is not None:
            self._serving.close()
            self._serving = None
