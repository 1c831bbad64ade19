"""One query worker child process (`s22a.sparql.worker`) and its pipes, as the pool sees it.

`call` sends a request and waits for the reply in the calling thread; `call_on_loop` waits
on the running event loop instead. Both give up at a deadline (`Timeout`), and tell a worker
found stopped before it was sent anything (`Gone`: nothing ran, another may run the request)
from one that stopped while it worked (`Died`).
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from s22a.sparql import worker as query_worker

_WORKER_SCRIPT = str(Path(query_worker.__file__).resolve())


class Timeout(Exception):
    """No reply came by the deadline."""


class Died(Exception):
    """The worker stopped before it replied."""


class Gone(Died):
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
            raise Gone(f"cannot write to the query worker: {error}") from None
        fd = self.process.stdout.fileno()
        buffer = bytearray()
        size = query_worker.HEADER.size
        self._fill(fd, buffer, size, deadline)
        header_size, body_size = query_worker.HEADER.unpack_from(buffer)
        self._fill(fd, buffer, size + header_size + body_size, deadline)
        header = json.loads(buffer[size : size + header_size])
        return header, bytes(buffer[size + header_size :])

    async def call_on_loop(
        self, request: dict[str, Any], deadline: float
    ) -> tuple[dict[str, Any], bytes]:
        """`call`, waiting for the reply on the running event loop instead of in a thread."""
        assert self.process.stdin is not None and self.process.stdout is not None
        try:  # a request is a few hundred bytes: the pipe takes it at once
            query_worker.write_message(self.process.stdin.fileno(), request)
        except OSError as error:
            raise Gone(f"cannot write to the query worker: {error}") from None
        fd = self.process.stdout.fileno()
        loop = asyncio.get_running_loop()
        replied: asyncio.Future[None] = loop.create_future()
        buffer = bytearray()
        size = query_worker.HEADER.size

        def settle(error: type[Exception] | Exception | None = None) -> None:
            if replied.done():
                return
            if error is None:
                replied.set_result(None)
            else:
                replied.set_exception(error)

        def readable() -> None:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return settle(Died("the query worker stopped"))
            buffer.extend(chunk)
            if len(buffer) >= size:
                header_size, body_size = query_worker.HEADER.unpack_from(buffer)
                if len(buffer) >= size + header_size + body_size:
                    settle()

        # The reader and a timer settle one future: `asyncio.wait_for` would add a second
        # future and its callbacks to every query.
        loop.add_reader(fd, readable)
        timer = loop.call_later(max(deadline - time.monotonic(), 0.0), settle, Timeout)
        try:
            await replied
        finally:
            timer.cancel()
            loop.remove_reader(fd)
        header_size, _ = query_worker.HEADER.unpack_from(buffer)
        header = json.loads(buffer[size : size + header_size])
        return header, bytes(buffer[size + header_size :])

    @staticmethod
    def _fill(fd: int, buffer: bytearray, size: int, deadline: float) -> None:
        """Read from `fd` into `buffer` until it holds `size` bytes, or raise at `deadline`."""
        while len(buffer) < size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Timeout()
            ready, _, _ = select.select([fd], [], [], remaining)
            if not ready:
                raise Timeout()
            chunk = os.read(fd, max(size - len(buffer), 1 << 16))
            if not chunk:
                raise Died("the query worker stopped")
            buffer += chunk

    def kill(self) -> None:
        """Kill the process at once and reap it."""
        kill_process(self.process)

    def aborted(self) -> bool:
        """Whether the process ended by itself with SIGABRT (the engine ran out of memory)."""
        try:
            code = self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return False
        return code == -signal.SIGABRT


def kill_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    for pipe in (process.stdin, process.stdout):
        if pipe is not None:
            pipe.close()
