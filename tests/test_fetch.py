"""`s22a.fetch`, the one HTTP client: every exchange ends by its deadline, however the peer
behaves, the deadlines of many exchanges are kept by one thread (`_Watchdog`), and requests
that may be sent twice (queries to the store) share kept connections (`_Idle`).

Real sockets on 127.0.0.1 (`tests.support.peers`): a peer that answers and hangs up, one that
keeps the connection open for the next request, one that hangs, one that drips a byte every
0.2 s so that no single read times out.
"""

from __future__ import annotations

import multiprocessing
import socket
import threading
import time
import urllib.parse

import pytest

from s22a import fetch
from tests.support.peers import Peer, answer, drip, echo, keep_alive

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


def test_requests_that_may_be_repeated_share_one_kept_connection() -> None:
    kept, fresh = Peer(keep_alive(OK), path="/"), Peer(keep_alive(OK), path="/")
    try:
        for _ in range(20):
            assert fetch.request(kept.url, timeout=HUNG, max_bytes=100, reuse=True).body == b"ok"
            assert fetch.request(fresh.url, timeout=HUNG, max_bytes=100).body == b"ok"
    finally:
        kept.close()
        fresh.close()
    assert (kept.connections, fresh.connections) == (1, 20)


def test_kept_connections_send_without_waiting_for_acknowledgements() -> None:
    """http.client writes a request's head and body apart; with Nagle's algorithm on, the body
    of each request on a kept connection waited for the peer's delayed ACK: 40 ms a query to
    the store (bench.processes, "sparql lookup": 170 instead of 550 req/s)."""
    peer = Peer(keep_alive(OK), path="/")
    try:
        fetch.request(peer.url, method="POST", body=b"q", timeout=HUNG, max_bytes=100, reuse=True)
        kept = fetch._IDLE.take(("http", "127.0.0.1", peer.port, None))
        assert kept is not None and kept.sock is not None
        assert kept.sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        kept.close()
    finally:
        peer.close()


def test_threads_sharing_kept_connections_each_read_their_own_answers() -> None:
    """Sixteen threads, thirty requests each, on kept connections: an answer read by the wrong
    request (a connection given to two exchanges at once) would show as another's path."""
    peer = Peer(echo, path="/")
    wrong: list[str] = []

    def client(index: int) -> None:
        for n in range(30):
            path = f"/{index}/{n}"
            body = fetch.request(peer.url.rstrip("/") + path, timeout=HUNG, max_bytes=100,
                                 reuse=True).body  # fmt: skip
            if body != f"GET {path} HTTP/1.1".encode():
                wrong.append(f"{path}: {body!r}")

    threads = [threading.Thread(target=client, args=(i,)) for i in range(16)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=HUNG * 2)
    finally:
        peer.close()
    assert not any(thread.is_alive() for thread in threads)
    assert wrong == []
    assert peer.connections <= 16, "one connection at most per thread in flight"


def test_a_kept_connection_the_peer_closed_meanwhile_costs_no_failed_request() -> None:
    """The peer answers without `Connection: close` but hangs up after each answer: every
    next request finds its kept connection closed, and goes again on a new one."""
    peer = Peer(answer(OK), path="/")
    try:
        for _ in range(10):
            assert fetch.request(peer.url, timeout=HUNG, max_bytes=100, reuse=True).body == b"ok"
            time.sleep(0.05)  # the peer's close has arrived
    finally:
        peer.close()
    assert peer.connections == 10


def test_a_kept_connection_that_hangs_is_cut_at_the_deadline_and_never_kept_again() -> None:
    """The peer answers the first request on a connection and never the second: the second,
    on the kept connection, ends at its own deadline, and the next request opens a new one."""
    peer = Peer(keep_alive(OK, answers=1), path="/")
    try:
        assert fetch.request(peer.url, timeout=HUNG, max_bytes=100, reuse=True).status == 200
        started = time.monotonic()
        with pytest.raises(fetch.FetchError) as raised:
            fetch.request(peer.url, timeout=1.0, max_bytes=100, reuse=True)
        elapsed = time.monotonic() - started
        assert fetch.request(peer.url, timeout=HUNG, max_bytes=100, reuse=True).status == 200
    finally:
        peer.close()
    assert raised.value.kind == "timeout"
    assert elapsed < HUNG / 2, f"cut after {elapsed:.1f} s, not at its 1 s deadline"
    assert peer.connections == 2


def test_an_answer_too_large_to_read_leaves_no_connection_kept() -> None:
    big = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
    peer = Peer(keep_alive(big), path="/")
    try:
        with pytest.raises(fetch.FetchError) as raised:
            fetch.request(peer.url, timeout=HUNG, max_bytes=100, reuse=True)
        assert fetch.request(peer.url, timeout=HUNG, max_bytes=10_000, reuse=True).status == 200
    finally:
        peer.close()
    assert raised.value.kind == "too_large"
    assert peer.connections == 2


def _one_request(url: str, statuses: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    statuses.put(fetch.request(url, timeout=HUNG, max_bytes=100, reuse=True).status)


def test_a_forked_child_never_talks_on_its_parents_kept_connections() -> None:
    """Granian forks its workers from the process that built the app: a connection the
    parent kept must not be shared by two processes."""
    peer = Peer(keep_alive(OK), path="/")
    fork = multiprocessing.get_context("fork")
    statuses = fork.Queue()
    try:
        assert fetch.request(peer.url, timeout=HUNG, max_bytes=100, reuse=True).status == 200
        child = fork.Process(target=_one_request, args=(peer.url, statuses))
        child.start()
        child.join(timeout=HUNG)
        assert statuses.get(timeout=HUNG) == 200
        assert fetch.request(peer.url, timeout=HUNG, max_bytes=100, reuse=True).status == 200
    finally:
        peer.close()
    assert child.exitcode == 0
    assert peer.connections == 2  # the parent's, still kept, and the child's own


def test_a_form_body_is_what_urlencode_writes_whatever_the_characters() -> None:
    params = [
        ("query", "SELECT * { ?s ?p 'é & = + %' } # 1"),
        ("default-graph-uri", "https://w3id.org/s22a/id/register/a b"),
        ("named-graph-uri", "urn:x:y?z=1&w=ü"),
        ("named-graph-uri", "urn:x:y?z=1&w=ü"),  # remembered: the same again
    ]
    for _ in range(2):
        assert fetch.form(params) == urllib.parse.urlencode(params).encode()
