"""The query worker pool's places, shared by threads and event loops (`s22a.sparql.slots`)."""

from __future__ import annotations

import asyncio
import threading
import time

from s22a.sparql.slots import Slots

GENEROUS = 30.0  # seconds a take may wait where it must succeed: the test ends long before


def test_threads_and_coroutines_share_the_items_never_more_than_there_are() -> None:
    slots = Slots(["a", "b"])
    held: set[str] = set()
    most = [0]
    lock = threading.Lock()
    done: list[str] = []

    def hold(item: str) -> None:
        with lock:
            assert item not in held, "an item was lent twice at once"
            held.add(item)
            most[0] = max(most[0], len(held))
        time.sleep(0.002)
        with lock:
            held.discard(item)

    def by_thread() -> None:
        for _ in range(20):
            item = slots.take(GENEROUS)
            assert item is not None
            hold(item)
            slots.give(item)
        done.append("thread")

    async def by_coroutine() -> None:
        for _ in range(20):
            item = await slots.take_on_loop(time.monotonic() + GENEROUS)
            assert item is not None
            await asyncio.get_running_loop().run_in_executor(None, hold, item)
            slots.give(item)
        done.append("coroutine")

    async def coroutines() -> None:
        await asyncio.gather(*(by_coroutine() for _ in range(4)))

    threads = [threading.Thread(target=by_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    asyncio.run(coroutines())
    for thread in threads:
        thread.join(GENEROUS)
    assert sorted(done) == ["coroutine"] * 4 + ["thread"] * 4
    assert most[0] == 2  # both were in use at once, and never more
    assert slots.free() == 2


def test_a_taker_that_gives_up_loses_nothing() -> None:
    slots = Slots(["only"])
    item = slots.take(0)
    assert item == "only"
    assert slots.take(0.05) is None  # a thread gives up

    async def give_up() -> str | None:
        return await slots.take_on_loop(time.monotonic() + 0.05)

    assert asyncio.run(give_up()) is None  # so does a coroutine
    slots.give(item)
    assert slots.free() == 1  # not handed to either of them
    assert slots.take(0) == "only"


def test_an_item_given_back_goes_to_the_longest_waiting_taker() -> None:
    slots = Slots(["x"])
    first = slots.take(0)
    order: list[str] = []

    async def wait(name: str) -> None:
        item = await slots.take_on_loop(time.monotonic() + GENEROUS)
        order.append(name)
        await asyncio.sleep(0.01)
        slots.give(item)

    async def scene() -> None:
        waiting = [asyncio.create_task(wait(name)) for name in ("one", "two", "three")]
        await asyncio.sleep(0.05)  # all three queued, in that order
        assert first is not None
        threading.Thread(target=slots.give, args=(first,)).start()  # given from another thread
        await asyncio.wait_for(asyncio.gather(*waiting), GENEROUS)

    asyncio.run(scene())
    assert order == ["one", "two", "three"]
    assert slots.free() == 1


def test_a_coroutine_cancelled_while_it_waits_loses_no_item() -> None:
    """Cancelled before anything came, as an item came from another thread, and as one came
    from its own loop: the item is free again each time (it was once lost for good, and the
    pool one query worker short)."""
    slots = Slots(["only"])

    async def scene(give_first: str) -> None:
        item = await slots.take_on_loop(time.monotonic() + GENEROUS)
        assert item == "only"
        taker = asyncio.create_task(slots.take_on_loop(time.monotonic() + GENEROUS))
        await asyncio.sleep(0.05)  # queued
        if give_first == "thread":
            giver = threading.Thread(target=slots.give, args=(item,))
            giver.start()
            giver.join(GENEROUS)  # its settling call is queued on this loop, not yet run
        elif give_first == "loop":
            slots.give(item)  # settled at once; the taker has not resumed yet
        taker.cancel()
        try:
            await taker
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the taker was not cancelled")
        if give_first == "nothing":
            slots.give(item)
        await asyncio.sleep(0.05)  # any settling call has run
        assert slots.free() == 1
        again = await slots.take_on_loop(time.monotonic() + 1)
        assert again == "only"
        slots.give(again)

    for give_first in ("nothing", "thread", "loop"):
        asyncio.run(scene(give_first))
