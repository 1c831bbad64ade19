"""The query workers as the direct `/sparql` path uses them: on an event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

from flask import Flask

from s22a.sparql.engine import QueryJob
from s22a.sparql.pool import WorkerPool
from s22a.store import Store, get_store

REGISTERS = "SELECT (COUNT(*) AS ?n) WHERE { ?s a <https://w3id.org/s22a/def/s22a#Register> }"
TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
LIMIT = 60.0  # an upper bound only, for what must not hang


def test_a_query_given_up_leaves_no_reply_behind_for_the_next(loaded_app: Flask) -> None:
    """Regression: a query whose coroutine was cancelled while its worker ran it (the server
    stopping) gave the worker back with its reply still to come, and the next query on that
    worker read that reply as its own."""
    with loaded_app.app_context():
        store = get_store()
    pool = WorkerPool(1, 10**6)
    threads = ThreadPoolExecutor(2)
    registers = QueryJob(REGISTERS, "union", results_format="text/csv")
    triples = QueryJob(TRIPLES, "union", results_format="text/csv")

    async def scenario() -> tuple[bytes, bytes, bytes]:
        alone = await pool.run_on_loop(triples, store, "t", time.monotonic() + LIMIT, threads)
        given_up = asyncio.create_task(
            pool.run_on_loop(registers, store, "t", time.monotonic() + LIMIT, threads)
        )
        await asyncio.sleep(0)  # it runs to its wait for the reply: the request is sent
        given_up.cancel()
        try:
            await given_up
        except asyncio.CancelledError:
            pass
        after = await pool.run_on_loop(triples, store, "t", time.monotonic() + LIMIT, threads)
        again = await pool.run_on_loop(registers, store, "t", time.monotonic() + LIMIT, threads)
        return alone.body, after.body, again.body

    try:
        alone, after, again = asyncio.run(scenario())
    finally:
        pool.close()
        threads.shutdown()
    assert after == alone
    assert again != alone  # the two queries' answers differ, so the check above can fail


class _SlowDump:
    """A store that takes a second to dump (what a worker loads its copy from), and tells
    when the dump is done."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.dumped = False

    def dump(self, media_type: str = "application/n-quads") -> Iterator[bytes]:
        time.sleep(1.0)
        yield from self.store.dump(media_type)
        self.dumped = True


def test_a_query_given_up_while_its_worker_loads_waits_for_the_load(loaded_app: Flask) -> None:
    """Regression: a query cancelled while its worker loaded the dataset (in a thread) gave the
    slot back at once, so the next query could use the same worker while that thread still
    talked to it."""
    with loaded_app.app_context():
        store = get_store()
    slow = _SlowDump(store)
    pool = WorkerPool(1, 10**6)
    threads = ThreadPoolExecutor(2)
    triples = QueryJob(TRIPLES, "union", results_format="text/csv")

    async def scenario() -> tuple[bool, bytes]:
        given_up = asyncio.create_task(
            pool.run_on_loop(triples, slow, "t", time.monotonic() + LIMIT, threads)  # type: ignore[arg-type]
        )
        await asyncio.sleep(0)  # it runs to its wait for the load
        given_up.cancel()
        try:
            await given_up
        except asyncio.CancelledError:
            pass
        loaded = slow.dumped  # the slot came back only after the load
        after = await pool.run_on_loop(triples, store, "t2", time.monotonic() + LIMIT, threads)
        return loaded, after.body

    try:
        loaded, after = asyncio.run(scenario())
        with_threads = pool.run(triples, store, "t2", time.monotonic() + LIMIT)
    finally:
        pool.close()
        threads.shutdown()
    assert loaded
    assert after == with_threads.body
