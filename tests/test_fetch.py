"""`s22a.fetch`, the one HTTP client: every exchange ends by its deadline, however the peer
behaves, and the deadlines of many exchanges are kept by one thread (`_Watchdog`).

Real sockets on 127.0.0.1 (`tests.support.peers`): a peer that answers, one that hangs, one
that drips a byte every 0.2 s so that no single read times out.
"""

from __future__ import annotations

import threading
import time

import pytest

from s22a import fetch
from tests.support.peers import Peer, answer, drip

OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
# Far beyond any deadline below: an exchange still running then was not cut at its deadline.
HUNG = 30.0


def test_an_answer_within_the_deadline_is_read_whole() -> None:
    peer = Peer(answer(OK), path="/")
    try:
        reply = fetch.request(peer.url, timeout=HUNG, max_bytes=100)
    finally:
        peer.close()
    assert (reply.status, reply.body) == (200, b"ok")


@pytest.mark.parametrize("handler", [None, drip], ids=["hangs", "drips"])
def test_a_peer_that_hangs_or_drips_is_cut_at_the_deadline_after_many_ended_exchanges(
    handler: object,
) -> None:
    """Two hundred exchanges that ended leave their (cancelled) deadlines, all later than this
    one's, in the heap: the new, earlier deadline must still be kept."""
    good = Peer(answer(OK), path="/")
    bad = Peer(handler, path="/")  # type: ignore[arg-type]
    try:
        for _ in range(200):
            assert fetch.request(good.url, timeout=HUNG, max_bytes=100).status == 200
        started = time.monotonic()
        with pytest.raises(fetch.FetchError) as raised:
            fetch.request(bad.url, timeout=1.0, max_bytes=10_000_000)
        elapsed = time.monotonic() - started
    finally:
        good.close()
        bad.close()
    assert raised.value.kind == "timeout"
    assert elapsed < HUNG / 2, f"cut after {elapsed:.1f} s, not at its 1 s deadline"


def test_exchanges_side_by_side_are_each_cut_at_their_own_deadline() -> None:
    """A long deadline waiting in the heap does not hold back a shorter one, and the shorter
    one's cut does not end the longer exchange early."""
    peer = Peer(drip, path="/")
    ended: dict[float, float] = {}

    def exchange(timeout: float) -> None:
        started = time.monotonic()
        with pytest.raises(fetch.FetchError):
            fetch.request(peer.url, timeout=timeout, max_bytes=10_000_000)
        ended[timeout] = time.monotonic() - started

    try:
        long = threading.Thread(target=exchange, args=(6.0,))
        long.start()
        time.sleep(0.2)  # its deadline is in the heap first
        exchange(1.0)
        long.join(timeout=HUNG * 2)
    finally:
        peer.close()
    assert set(ended) == {1.0, 6.0}
    assert ended[1.0] < ended[6.0], ended
    assert ended[6.0] >= 6.0, "the long exchange ran to its own deadline"
