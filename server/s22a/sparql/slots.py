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
from collections.abc import Callable, Iterable
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
    __slots__ = ("back", "future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop, back: Callable[[T], None]) -> None:
        self.loop = loop
        self.back = back  # where an item goes that came after its taker was cancelled
        self.future: asyncio.Future[T | None] = loop.create_future()

    def give(self, item: T) -> bool:
        # Called with the lock held, from any thread. A future is settled on its own loop:
        # at once from that loop's thread (giving back is most often done there, by the
        # query before), else by a callback queued there (`_settle`).
        if self.future.done():  # its taker timed out or was cancelled
            return False
        try:
            here = asyncio.get_running_loop() is self.loop
        except RuntimeError:  # a thread without a loop
            here = False
        if here:
            self.future.set_result(item)
        else:
            self.loop.call_soon_threadsafe(self._settle, item)
        return True

    def _settle(self, item: T) -> None:
        if self.future.done():  # cancelled in the meantime: the item is not lost
            self.back(item)
        else:
            self.future.set_result(item)


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
        """A free item, waiting on the running event loop until `deadline` (time.monotonic);
        None if none came. A taker cancelled while it waits loses nothing of the pool: an
        item given to it meanwhile goes back (`give`)."""
        with self._lock:
            if self._free and not self._waiters:
                return self._free.pop()
            loop = asyncio.get_running_loop()
            waiter: _LoopWaiter[T] = _LoopWaiter(loop, self.give)
            self._waiters.append(waiter)
        # A timer settles the one future (`asyncio.wait_for` and a shield would add two).
        timer = loop.call_later(max(deadline - time.monotonic(), 0.0), self._expire, waiter)
        try:
            return await waiter.future
        except asyncio.CancelledError:
            with self._lock:
                if waiter in self._waiters:  # nothing was given to it
                    self._waiters.remove(waiter)
                    raise
            # Given to it: the future holds the item, or else `_settle` will give it back.
            future = waiter.future
            item = future.result() if future.done() and not future.cancelled() else None
            if item is not None:
                self.give(item)
            raise
        finally:
            timer.cancel()

    def _expire(self, waiter: _LoopWaiter[T]) -> None:
        """At a loop taker's deadline: None for it, unless an item is already on its way."""
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                waiter.future.set_result(None)

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
