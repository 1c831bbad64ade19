"""`/sparql` answers given again by the bridge before the app runs (`s22a.web.memo`, issue 16).

One real `s22a serve` on the seed registers (on-disk store), real HTTP over loopback. Which
answer came from the memo is read from the access log, where such lines end in `memo`; the
first answer of each request is the app's own (the slow path), so comparing the two compares
the memo with the slow path.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from s22a.web.tokens import TokenStore
from tests.support.server import Reply, ServerProcess, revision, seeded_store

RESULTS = {"Accept": "application/sparql-results+json"}
PER_ADDRESS = 2  # S22A_CLIENT_REQUESTS of this server
HOLDER = "127.0.0.3"  # the loopback address that holds its share in the limits test


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The production server on the seed registers, two requests in progress per address."""
    cache = tmp_path_factory.getbasetemp()
    folder = tmp_path_factory.mktemp("memo")
    store = seeded_store(cache, folder / "store")
    env = {"S22A_CLIENT_REQUESTS": str(PER_ADDRESS)}
    with ServerProcess(folder / "server", store=store, env=env) as running:
        yield running
    assert "Traceback" not in running.logs()


def path_of(query: str, **extra: str) -> str:
    """The GET path of `query` (and more parameters)."""
    parameters = "".join(f"&{k}={quote(v)}" for k, v in extra.items())
    return "/sparql?query=" + quote(query) + parameters


def log_lines(server: ServerProcess, path: str, count: int) -> list[str]:
    """The access log lines of `path`, once there are `count` of them (within a generous 60 s:
    a busy machine may be slow to write the log, and the wait ends as soon as they are in)."""
    deadline = time.monotonic() + 60
    while True:
        lines = [line for line in server.logs().splitlines() if f"GET {path} " in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def comparable(reply: Reply) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers in order but the Date, body."""
    headers = [(k, v) for k, v in reply.headers.items() if k.lower() != "date"]
    return reply.status, headers, reply.body


def test_a_memoised_answer_is_the_slow_paths_byte_for_byte(server: ServerProcess) -> None:
    path = path_of("SELECT ?s WHERE { ?s a ?type } LIMIT 7 # memo-identical")
    for headers in (RESULTS, {"Accept": "text/csv"}, {"Accept": "text/html"}):
        slow = server.request("GET", path, headers=headers)
        assert slow.status == 200, slow.text[:300]
        fast = server.request("GET", path, headers=headers)
        assert comparable(fast) == comparable(slow)
        for name in ("ETag", "Vary", "Cache-Control", "X-Content-Type-Options"):
            assert fast.headers[name], name  # the hooks' headers are on the kept answer
        assert fast.headers["Access-Control-Allow-Origin"] == "*"
        assert fast.headers["Date"]  # the server's own, per exchange
        head_slow = server.request("HEAD", path, headers=headers)
        head_fast = server.request("HEAD", path, headers=headers)
        assert comparable(head_fast) == comparable(head_slow)
        assert head_fast.body == b"" and head_fast.headers["ETag"] == slow.headers["ETag"]
        tag = slow.headers["ETag"]
        revalidate = {**headers, "If-None-Match": tag}
        slow_304 = server.request("GET", path, headers=revalidate)
        fast_304 = server.request("GET", path, headers=revalidate)
        assert slow_304.status == 304 and comparable(fast_304) == comparable(slow_304)
    lines = log_lines(server, path, 12)
    # Per Accept: 200 from the app, 200 from the memo, 304 from the app, 304 from the memo.
    assert [line.endswith(" memo") for line in lines] == [False, True] * 6, lines
    assert [line.split('" ')[1].split()[0] for line in lines[:4]] == ["200"] * 2 + ["304"] * 2
    heads = [line for line in server.logs().splitlines() if f"HEAD {path} " in line]
    assert [line.endswith(" memo") for line in heads] == [False, True] * 3, heads


def test_a_write_through_the_app_changes_the_next_answer_at_once(server: ServerProcess) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o } # memo-write"
    path = path_of(query)
    server.request("GET", path, headers=RESULTS)
    before = server.request("GET", path, headers=RESULTS)
    assert log_lines(server, path, 2)[-1].endswith(" memo")
    tag = before.headers["ETag"]
    token = TokenStore(server.tokens).create("merseyside")[1]
    put = server.request(
        "PUT",
        "/registers/merseyside",
        revision("merseyside", 1601),
        {"Authorization": f"Bearer {token}", "Content-Type": "text/turtle"},
        timeout=120,
    )
    assert put.status in (200, 201), put.text[:500]
    after = server.request("GET", path, headers=RESULTS)
    assert after.status == 200 and after.body != before.body
    assert after.headers["ETag"] != tag
    old = server.request("GET", path, headers={**RESULTS, "If-None-Match": tag})
    assert old.status == 200 and old.body == after.body
    lines = log_lines(server, path, 4)
    assert not lines[2].endswith(" memo") and not lines[3].endswith(" memo"), lines
    again = server.request("GET", path, headers=RESULTS)  # kept again, for the new version
    assert comparable(again) == comparable(after)
    assert log_lines(server, path, 5)[-1].endswith(" memo")


@pytest.mark.parametrize(
    ("query", "extra"),
    [
        ("SELECT (RAND() AS ?r) WHERE {}", {}),
        ("SELECT (STRUUID() AS ?u) WHERE {}", {}),
        ("SELECT (NOW() AS ?t) WHERE {}", {}),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", {"asOf": "2025-06-01"}),
        (
            "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
            {},
        ),
    ],
    ids=["rand", "struuid", "now", "as-of", "service"],
)
def test_volatile_service_and_past_queries_are_never_memoised(
    server: ServerProcess, query: str, extra: dict[str, str]
) -> None:
    path = path_of(query, **extra)
    replies = [server.request("GET", path, headers=RESULTS) for _ in range(3)]
    lines = log_lines(server, path, 3)
    assert len(lines) == 3 and not any(line.endswith(" memo") for line in lines), lines
    if "RAND" in query or "UUID" in query:
        assert len({reply.body for reply in replies}) == 3  # each one computed afresh


def test_post_queries_are_never_memoised(server: ServerProcess) -> None:
    body = b"query=" + quote("ASK { ?s ?p ?o } # memo-post").encode()
    form = {"Content-Type": "application/x-www-form-urlencoded", **RESULTS}
    for _ in range(2):
        reply = server.request("POST", "/sparql", body, form)
        assert reply.status == 200, reply.text[:300]
    lines = [line for line in server.logs().splitlines() if '"POST /sparql ' in line]
    assert lines and not any(line.endswith(" memo") for line in lines)


def test_the_per_address_limit_holds_for_memoised_answers(server: ServerProcess) -> None:
    path = path_of("ASK { ?s a ?o } # memo-limit")
    assert server.request("GET", path, headers=RESULTS).status == 200
    holders = []
    try:
        for _ in range(PER_ADDRESS):  # requests whose bodies never come: in progress
            sock = socket.create_connection(
                ("127.0.0.1", server.port), timeout=30, source_address=(HOLDER, 0)
            )
            sock.sendall(
                b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query"
                b"\r\nContent-Length: 100\r\n\r\nASK"
            )
            holders.append(sock)
        deadline = time.monotonic() + 30
        while True:  # until the server has read both requests' headers
            refused = request_from(server, HOLDER, path)
            if refused.status == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert refused.status == 503 and refused.headers["Retry-After"]
        other = request_from(server, "127.0.0.1", path)
        assert other.status == 200
        assert log_lines(server, path, 2)[-1].endswith(" memo")
    finally:
        for sock in holders:
            sock.close()
    deadline = time.monotonic() + 30
    while request_from(server, HOLDER, path).status != 200 and time.monotonic() < deadline:
        time.sleep(0.1)  # the held requests end when their connections close
    assert request_from(server, HOLDER, path).status == 200


def request_from(server: ServerProcess, source: str, path: str) -> Reply:
    """One GET of `path` from the loopback address `source`."""
    from tests.support.server import request

    return request(server.url, "GET", path, headers=RESULTS, timeout=30, source=source)
