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
POSIX only (the pipes are read with `select`).
"""

from __future__ import annotations

import json
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from pathlib import Path
from typing import Any

from s22a.namespaces import NO_GRAPH
from s22a.sparql import worker as query_worker
from s22a.sparql.engine import QueryJob, QueryResult
from s22a.sparql.errors import (
    NotAcceptable,
    QueryFailed,
    QueryMemoryExceeded,
    QuerySyntaxError,
    QueryTimeout,
    ResultTooLarge,
)
from s22a.store import Store

LOAD_TIMEOUT = 600.0  # seconds a worker may take to load a dataset copy


_WORKER_SCRIPT = str(Path(query_worker.__file__).resolve())


class _Timeout(Exception):
    pass


class _Died(Exception):
    pass


class _Gone(_Died):
    """The worker had stopped before it was sent the request: nothing of it ran."""


class WorkerProcess:
    """One `query_worker` child process and its pipes."""

    def __init__(self, memory_mib: int = 0) -> None:
        """Start the process (it is ready to read requests at once), within `memory_mib` MiB."""
        self.process = subprocess.Popen(
            [sys.executable, "-P", _WORKER_SCRIPT, "--memory-mib", str(memory_mib)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            close_fds=True,
            # An allocation past the memory cap aborts the engine with one line on stderr
            # (the server's log), not a backtrace.
            env={**os.environ, "RUST_BACKTRACE": "0"},
        )
        self.token: str | None = None

    @property
    def pid(self) -> int:
        """The process id."""
        return self.process.pid

    def call(self, request: dict[str, Any], deadline: float) -> tuple[dict[str, Any], bytes]:
        """Send one request and wait for the reply until `deadline` (time.monotonic)."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:
            query_worker.write_message(self.process.stdin.fileno(), request)
        except OSError as error:  # EPIPE: no process reads the pipe any more
            raise _Gone(f"cannot write to the query worker: {error}") from None
        fd = self.process.stdout.fileno()
        buffer = bytearray()
        size = query_worker.HEADER.size
        self._fill(fd, buffer, size, deadline)
        header_size, body_size = query_worker.HEADER.unpack_from(buffer)
        self._fill(fd, buffer, size + header_size + body_size, deadline)
        header = json.loads(buffer[size : size + header_size])
        return header, bytes(buffer[size + header_size :])

    @staticmethod
    def _fill(fd: int, buffer: bytearray, size: int, deadline: float) -> None:
        """Read from `fd` into `buffer` until it holds `size` bytes, or raise at `deadline`."""
        while len(buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Timeout()
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise _Timeout()
            chunk = os.read(fd, max(size - len(buffer), 1 << 16))
            if not chunk:
                raise _Died("the query worker stopped")
            buffer += chunk

    def kill(self) -> None:
        """Kill the process at once and reap it."""
        _kill(self.process)

    def aborted(self) -> bool:
        """Whether the process ended by itself with SIGABRT (the engine ran out of memory)."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return False
        return code == -signal.SIGABRT


def _kill(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()


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
        self._slots: queue.LifoQueue[_Slot] = queue.LifoQueue()
        self._all: list[_Slot] = []
        for _ in range(self.size):
            slot = _Slot()
            self._all.append(slot)
            self._slots.put(slot)
        self._finalizer = weakref.finalize(self, _shutdown, self._all, self._directory)

    def pids(self) -> list[int]:
        """The process ids of the live workers."""
        return [s.worker.pid for s in self._all if s.worker and s.worker.process.poll() is None]

    def run(self, job: QueryJob, store: Store, token: str, deadline: float) -> QueryResult:
        """Run `job` in a worker holding the dataset `token`, killing it at `deadline`."""
        remaining = deadline - time.monotonic()
        try:
            slot = self._slots.get(timeout=max(remaining, 0.001))
        except queue.Empty:
            raise QueryTimeout(
                f"all {self.size} query workers stayed busy for the whole time limit; "
                "try again later"
            ) from None
        try:
            try:
                return self._run_in(slot, job, store, token, deadline)
            except _Gone:  # it had stopped while idle (killed from outside): a fresh one runs it
                return self._run_in(slot, job, store, token, deadline)
        except _Gone as error:
            raise QueryFailed(f"the query worker stopped unexpectedly ({error})") from None
        finally:
            self._slots.put(slot)

    def _run_in(
        self, slot: _Slot, job: QueryJob, store: Store, token: str, deadline: float
    ) -> QueryResult:
        # A worker is not polled before each query (a system call, and the interpreter lock
        # let go, on every request): one that has stopped meanwhile fails the first write
        # with EPIPE (`_Gone`), before anything ran, and `run` gives the query to a fresh one.
        if slot.worker is None:
            slot.worker = WorkerProcess(self.memory_mib)
        worker = slot.worker
        try:
            if worker.token != token:
                loading = time.monotonic()
                path = self._snapshot.current(store, token)
                # Loading is not the query's time: it happens once per accepted write.
                reply, _ = worker.call(
                    {"op": "load", "path": path, "token": token}, time.monotonic() + LOAD_TIMEOUT
                )
                if not reply.get("ok"):
                    raise QueryFailed(f"the query worker could not load the dataset: {reply}")
                worker.token = token
                # So the query keeps the whole of its limit (else a fresh worker, or the first
                # query after a write, could time out while loading on a busy machine).
                deadline += time.monotonic() - loading
            request = {
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
            reply, body = worker.call(request, deadline)
        except _Timeout:
            slot.worker = None
            worker.kill()
            raise QueryTimeout("the query did not finish within the time limit") from None
        except _Gone:
            slot.worker = None
            worker.kill()
            raise
        except _Died as error:
            slot.worker = None
            if worker.aborted():
                worker.kill()
                raise self._memory_exceeded() from None
            worker.kill()
            raise QueryFailed(f"the query worker stopped unexpectedly ({error})") from None
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
