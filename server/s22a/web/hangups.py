"""Queries given up when their client hangs up (`s22a.web.direct`).

A `/sparql` query answered on the bridge's event loop may wait for a query worker, or run in
one, for up to the time limit. If its client disconnects meanwhile, the answer has nobody to
go to: `HangUps.run` then cancels the query, which kills its worker (`s22a.sparql.pool`) or
leaves its place in the queue (`s22a.sparql.slots`), so the next query gets the worker.

Watching a connection costs a future, so only queries still going after `WATCH_AFTER`
seconds are watched: one sweep on a timer finds them (a timer per query cost the bench's
lookups a few percent of their throughput). A query is watched between one and two
`WATCH_AFTER`s after it started.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

WATCH_AFTER = 0.25  # seconds

# The answer to a client that disconnected while its query waited or ran: nothing is sent.
# 499 is the status access logs give a request its client closed.
LEFT: tuple[int, list[tuple[str, str]], bytes] = (499, [], b"")


class ClientLeft(Exception):
    """The client disconnected before its query's answer was ready."""


class HangUps:
    """The queries of one event loop that `run` awaits, and the watches on their clients."""

    def __init__(self) -> None:
        # Each query's task: when it started, and its RSGI protocol (in the order they began).
        self._running: dict[asyncio.Task[Any], tuple[float, Any]] = {}
        self._watches: dict[asyncio.Task[Any], asyncio.Future[Any]] = {}
        self._left: set[asyncio.Task[Any]] = set()
        self._sweep_timer: asyncio.TimerHandle | None = None

    async def run(self, work: Awaitable[T], protocol: Any) -> T:
        """Await `work` in the current task; raise `ClientLeft` (`work` cancelled) if the
        client of the RSGI `protocol` disconnects once it has been watched."""
        task = asyncio.current_task()
        assert task is not None
        self._running[task] = (time.monotonic(), protocol)
        if self._sweep_timer is None:
            self._sweep_timer = asyncio.get_running_loop().call_later(WATCH_AFTER, self._sweep)
        try:
            return await work
        except asyncio.CancelledError:
            if task in self._left and task.uncancel() == 0:  # cancelled here, by nothing else
                raise ClientLeft() from None
            raise
        finally:
            del self._running[task]
            self._left.discard(task)
            watch = self._watches.pop(task, None)
            if watch is not None:
                watch.cancel()

    def _sweep(self) -> None:
        """Watch the clients of the queries going for `WATCH_AFTER` or more."""
        self._sweep_timer = None
        now = time.monotonic()
        for task, (started, protocol) in self._running.items():
            if now - started < WATCH_AFTER:
                break  # the rest began later
            if task not in self._watches:
                watch = asyncio.ensure_future(protocol.client_disconnect())
                watch.add_done_callback(partial(self._gone, task))
                self._watches[task] = watch
        if self._running:
            loop = asyncio.get_running_loop()
            self._sweep_timer = loop.call_later(WATCH_AFTER, self._sweep)

    def _gone(self, task: asyncio.Task[Any], watch: asyncio.Future[Any]) -> None:
        """A watch ended: if the client disconnected while `task` waits in `run`, cancel it
        (a callback runs only while the task waits)."""
        if watch.cancelled() or watch.exception() is not None or task not in self._running:
            return
        self._left.add(task)
        task.cancel()
