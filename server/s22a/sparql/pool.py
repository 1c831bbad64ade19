"""The worker pool that runs `/sparql` queries on the embedded store: a time limit that really
stops the work, and a size cap.

pyoxigraph 0.5 has no way to cancel a query: a thread running one runs it to the end. So the
embedded backends run queries in a pool of worker *processes* (`s22a.sparql.worker`), each with
its own in-memory copy of the dataset, taken from the store as N-Quads (archive graph left out)
whenever the dataset token changes. The request thread waits for the answer with a deadline;
when it passes, the worker is killed (SIGKILL: its CPU and memory are freed at once), the
request gets a 503, and the slot is refilled by a fresh process on its next use. The other
workers, and the web server's other threads, keep serving meanwhile.

Costs: one copy of the dataset per worker (the whole UK register is small: a few MB at the
seed size, ~100 MB at 100 times it) and a reload in every worker after each accepted write.
POSIX only (the pipes are read with `select`). A query waits for a worker and its reply in
the request thread (`run`) or on the HTTP bridge's event loop (`run_on_loop`, see
`s22a.web.direct`), sharing the same workers (`s22a.sparql.slots`).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from s22a.namespaces import NO_GRAPH
from s22a.sparql.engine import QueryJob, QueryResult
from s22a.sparql.errors import (
    NotAcceptable,
    QueryFailed,
    QueryMemoryExceeded,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
)
from s22a.sparql.process import Died, Gone, Timeout, WorkerProcess
from s22a.sparql.slots import Slots
from s22a.store import Store

LOAD_TIMEOUT = 600.0  # seconds a worker may take to load a dataset copy


class _Slot:
    """A place in the pool: holds a live worker, or None until one is needed."""

    def __init__(self) -> None:
        self.worker: WorkerProcess | None = None


class _Snapshot:
    """The N-Quads file the workers load, for one dataset token."""

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.token: str | None = None
        self.path: str | None = None
        self.lock = threading.Lock()
        self.counter = 0

    def current(self, store: Store, token: str) -> str:
        """The path of a dump of `store` taken at (or after) `token`."""
        with self.lock:
            if self.token != token or self.path is None:
                self.counter += 1
                path = os.path.join(self.directory, f"dataset-{self.counter}.nq")
                with open(path, "wb") as out:
                    for chunk in store.dump("application/n-quads"):
                        out.write(chunk)
                old, self.path, self.token = self.path, path, token
                if old:  # workers read the whole file when they load it
                    Path(old).unlink(missing_ok=True)
            return self.path


class WorkerPool:
    """A fixed number of query worker processes, started on first use."""

    def __init__(self, size: int, max_bytes: int, memory_mib: int = 0) -> None:
        """Prepare `size` slots; results over `max_bytes` bytes are refused, and a worker may
        use `memory_mib` MiB of address space (0: no cap)."""
        self.size = max(1, size)
        self.max_bytes = max_bytes
        self.memory_mib = memory_mib
        self._directory = tempfile.mkdtemp(prefix="s22a-sparql-")
        self._snapshot = _Snapshot(self._directory)
        self._all = [_Slot() for _ in range(self.size)]
        self._slots = Slots(self._all)
        self._finalizer = weakref.finalize(self, _shutdown, self._all, self._directory)

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        return [s.worker.pid for s in self._all if s.worker and s.worker.process.poll() is None]

    def run(self, job: QueryJob, store: Store, token: str, deadline: float) -> QueryResult:
        """Run `job` in a worker holding the dataset `token`, killing it at `deadline`."""
        slot = self._slots.take(deadline - time.monotonic())
        if slot is None:
            raise self._all_busy()
        try:
            try:
                return self._run_in(slot, job, store, token, deadline)
            except Gone:  # it had stopped while idle (killed from outside): a fresh one runs it
                return self._run_in(slot, job, store, token, deadline)
        except Gone as error:
            raise QueryFailed(f"the query worker stopped unexpectedly ({error})") from None
        finally:
            self._slots.give(slot)

    async def run_on_loop(
        self, job: QueryJob, store: Store, token: str, deadline: float, threads: Executor
    ) -> QueryResult:
        """`run` as a coroutine on the running event loop: it waits for a worker and for its
        reply there, without a thread. A worker that must first load the dataset (after a
        write, or a fresh one) loads it in one of `threads`, the store being read to dump it."""
        slot = await self._slots.take_on_loop(deadline)
        if slot is None:
            raise self._all_busy()
        try:
            try:
                return await self._run_on_loop_in(slot, job, store, token, deadline, threads)
            except Gone:  # as in `run`
                return await self._run_on_loop_in(slot, job, store, token, deadline, threads)
        except Gone as error:
            raise QueryFailed(f"the query worker stopped unexpectedly ({error})") from None
        finally:
            self._slots.give(slot)

    async def _run_on_loop_in(
        self,
        slot: _Slot,
        job: QueryJob,
        store: Store,
        token: str,
        deadline: float,
        threads: Executor,
    ) -> QueryResult:
        if slot.worker is None or slot.worker.token != token:
            loading = asyncio.get_running_loop().run_in_executor(
                threads, self._ready, slot, store, token
            )
            try:
                deadline += await asyncio.shield(loading)
            except asyncio.CancelledError:
                # The load goes on in its thread, with the slot's worker: the slot is given
                # back only once that is done.
                await _settled(loading)
                raise
        worker = slot.worker
        assert worker is not None  # `_ready` started it
        with self._talking_to(slot, worker):
            reply, body = await worker.call_on_loop(self._request(job, token), deadline)
        return self._reply(slot, worker, reply, body)

    @contextmanager
    def _talking_to(self, slot: _Slot, worker: WorkerProcess) -> Iterator[None]:
        """Around an exchange with `slot`'s `worker`: a worker found gone leaves the slot (the
        next query starts a fresh one), and so does one given up on (cancelled, the server
        stopping), as the reply still to come must not be read as the next query's; one that
        timed out or died is a failure (`_failed`)."""
        try:
            yield
        except (Gone, asyncio.CancelledError):
            slot.worker = None
            worker.kill()
            raise
        except (Timeout, Died) as error:
            raise self._failed(slot, worker, error) from None

    def _all_busy(self) -> QueryTimeout:
        return QueryTimeout(
            f"all {self.size} query workers stayed busy for the whole time limit; try again later"
        )

    def _ready(self, slot: _Slot, store: Store, token: str) -> float:
        """Give `slot` a live worker holding the dataset `token`; the seconds it took to load."""
        if slot.worker is None:
            slot.worker = WorkerProcess(self.memory_mib)
        worker = slot.worker
        if worker.token == token:
            return 0.0
        loading = time.monotonic()
        path = self._snapshot.current(store, token)
        with self._talking_to(slot, worker):
            reply, _ = worker.call(
                {"op": "load", "path": path, "token": token}, time.monotonic() + LOAD_TIMEOUT
            )
        if not reply.get("ok"):
            raise QueryFailed(f"the query worker could not load the dataset: {reply}")
        worker.token = token
        # Loading is not the query's time: it happens once per accepted write. So the query
        # keeps the whole of its limit (else a fresh worker, or the first query after a write,
        # could time out while loading on a busy machine).
        return time.monotonic() - loading

    def _run_in(
        self, slot: _Slot, job: QueryJob, store: Store, token: str, deadline: float
    ) -> QueryResult:
        # A worker is not polled before each query (a system call, and the interpreter lock
        # let go, on every request): one that has stopped meanwhile fails the first write
        # with EPIPE (`Gone`), before anything ran, and `run` gives the query to a fresh one.
        deadline += self._ready(slot, store, token)
        worker = slot.worker
        assert worker is not None  # `_ready` started it
        with self._talking_to(slot, worker):
            reply, body = worker.call(self._request(job, token), deadline)
        return self._reply(slot, worker, reply, body)

    def _request(self, job: QueryJob, token: str) -> dict[str, Any]:
        return {
            "op": "query",
            "token": token,
            "query": job.query,
            "base": job.base,
            "dataset": job.dataset,
            # An empty default graph is named by an IRI no graph has (pyoxigraph reads an
            # empty list as "not given").
            "default": list(job.default) or [NO_GRAPH],
            "named": list(job.named),
            "results_format": job.results_format,
            "graph_format": job.graph_format,
            "max_bytes": self.max_bytes,
        }

    def _failed(self, slot: _Slot, worker: WorkerProcess, error: Exception) -> QueryFailed:
        """What a query that timed out (`Timeout`) or whose worker died raises; the worker is
        killed either way and the slot gets a fresh one on its next use."""
        slot.worker = None
        aborted = not isinstance(error, Timeout) and worker.aborted()  # before it is reaped
        worker.kill()
        if isinstance(error, Timeout):
            return QueryTimeout("the query did not finish within the time limit")
        if aborted:
            return self._memory_exceeded()
        return QueryFailed(f"the query worker stopped unexpectedly ({error})")

    def _reply(
        self, slot: _Slot, worker: WorkerProcess, reply: dict[str, Any], body: bytes
    ) -> QueryResult:
        if reply.get("error") == "memory":
            slot.worker = None  # its heap may be fragmented past use: start afresh
            worker.kill()
            raise self._memory_exceeded()
        return _result(reply, body)

    def _memory_exceeded(self) -> QueryMemoryExceeded:
        return QueryMemoryExceeded(
            f"the query needed more than the {self.memory_mib} MiB of memory a query may use"
        )

    def close(self) -> None:
        """Kill every worker and remove the dataset copies."""
        self._finalizer()


def _result(reply: dict[str, Any], body: bytes) -> QueryResult:
    if reply.get("ok"):
        return QueryResult(reply["kind"], reply["media_type"], body)
    error, message, kind = reply.get("error"), str(reply.get("message", "")), reply.get("kind")
    if error == "syntax":
        raise QuerySyntaxError(message)
    if error == "not_acceptable":
        raise NotAcceptable(message, kind)
    if error == "too_large":
        raise ResultTooLarge(message, kind)
    raise QueryFailed(f"the engine failed: {message}")


def _shutdown(slots: list[_Slot], directory: str) -> None:
    for slot in slots:
        if slot.worker is not None:
            slot.worker.kill()
            slot.worker = None
    shutil.rmtree(directory, ignore_errors=True)


async def _settled(future: asyncio.Future[Any]) -> None:
    """Wait until `future` is done, whatever is cancelled meanwhile."""
    while not future.done():
        try:
            await asyncio.wait({future})
        except asyncio.CancelledError:
            continue
    if not future.cancelled():
        future.exception()  # retrieved: its failure is the cancelled query's, not logged
