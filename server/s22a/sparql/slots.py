"""The free places of the query worker pool, waited for by threads and by event loops alike.

A `/sparql` query waits for a worker until its deadline. It may wait in a request thread (the
app, `WorkerPool.run`) or as a coroutine on the HTTP bridge's event loop
(`WorkerPool.run_on_loop`), which must never block. `Slots` serves both: a place given back
goes to the longest waiting query of either kind, else onto a stack (the last worker used is
the next one taken, its caches warm).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class _ThreadWaiter(Generic[T]):
    __slots__ = ("given", "ready")

    def __init__(self) -> None:
        self.ready = threading.Event()
        self.given: T | None = None

    def give(self, item: T) -> bool:
        self.given = item
        self.ready.set()
        return True


class _LoopWaiter(Generic[T]):
    __slots__ = ("future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[T] = loop.create_future()

    def give(self, item: T) -> bool:
        # Called with the lock held, from any thread: the future is settled on its own loop,
        # where a waiter that has timed out meanwhile hands the item on (`_settle`).
        if self.future.done():
            return False
        self.loop.call_soon_threadsafe(self._settle, item)
        return True

    def _settle(self, item: T) -> None:
        self.future.set_result(item)  # not done: only a waiter still queued is cancelled


class Slots(Generic[T]):
    """Items lent one at a time, to threads (`take`) and coroutines (`take_on_loop`)."""

    def __init__(self, items: Iterable[T]) -> None:
        """Start with `items` free."""
        self._free: list[T] = list(items)
        self._waiters: deque[_ThreadWaiter[T] | _LoopWaiter[T]] = deque()
        self._lock = threading.Lock()

    def take(self, timeout: float) -> T | None:
        """A free item, waiting up to `timeout` seconds for one; None if none came."""
        with self._lock:
            if self._free and not self._waiters:
                return self._free.pop()
            waiter: _ThreadWaiter[T] = _ThreadWaiter()
            self._waiters.append(waiter)
        waiter.ready.wait(max(timeout, 0.0))
        with self._lock:
            if waiter.given is None:
                self._waiters.remove(waiter)
                return None
        return waiter.given

    async def take_on_loop(self, deadline: float) -> T | None:
        """A free item, waiting on the running event loop until `deadline` (time.monotonic)."""
        with self._lock:
            if self._free and not self._waiters:
                return self._free.pop()
            waiter: _LoopWaiter[T] = _LoopWaiter(asyncio.get_running_loop())
            self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(
                asyncio.shield(waiter.future), max(deadline - time.monotonic(), 0.0)
            )
        except TimeoutError:
            with self._lock:
                if not waiter.future.done() and waiter in self._waiters:
                    self._waiters.remove(waiter)
                    waiter.future.cancel()
                    return None
            # Given at the last moment (the settling call is queued on this loop): keep it.
            return await waiter.future

    def give(self, item: T) -> None:
        """Give `item` back: to the longest waiting taker, else onto the free stack."""
        with self._lock:
            while self._waiters:
                if self._waiters.popleft().give(item):
                    return
            self._free.append(item)

    def free(self) -> int:
        """How many items are free now."""
        with self._lock:
            return len(self._free)
