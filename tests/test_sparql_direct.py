"""`/sparql` queries answered on the bridge's event loop (`s22a.web.direct`, issue 16).

Real `s22a serve` processes on copies of the seed registers, real HTTP over loopback. The same
requests go to one server on one port and store twice: with the direct path (the default) and
without it (`S22A_SPARQL_DIRECT=0`, every query through Flask), so the answers can be compared
byte for byte (the ETag and relative IRIs name the endpoint's URL, port included). Which
answer took the direct path is read from the access log, whose lines for it end in `direct`.
"""

from __future__ import annotations

import re
import socket
import time
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from flask import Flask

from s22a.sparql.errors import QueryTimeout
from s22a.sparql.protocol import QueryRequest
from s22a.sparql.service import get_service
from s22a.web.direct import RAN
from s22a.web.sparql_plan import plan
from s22a.web.tokens import TokenStore
from tests.support.oxigraph import free_port
from tests.support.server import (
    Reply,
    ServerProcess,
    cpu_seconds,
    exited,
    revision,
    seeded_store,
)

JSON = "application/sparql-results+json"
TIMEOUT = 2.0  # S22A_SPARQL_TIMEOUT of these servers
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } # slow"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": JSON}


def get(query: str, accept: str | None = JSON, **extra: str) -> tuple[str, str, dict, bytes]:
    path = "/sparql?" + urlencode({"query": query, **extra}, quote_via=quote)
    return ("GET", path, {"Accept": accept} if accept else {}, b"")


# Answered directly (the access log says so): every result format, the three ways of sending a
# query, both dataset clauses, a relative IRI (resolved against the endpoint's own URL).
DIRECT = [
    get("SELECT ?s ?type WHERE { ?s a ?type FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 5 # json"),
    get(
        "SELECT ?s ?type WHERE { ?s a ?type FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 5 # csv",
        "text/csv",
    ),
    get(
        "SELECT ?s WHERE { ?s a ?t FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 3",
        "text/tab-separated-values",
    ),
    get(
        "SELECT ?s WHERE { ?s a ?t FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 3",
        "application/sparql-results+xml",
    ),
    get(
        "SELECT ?s WHERE { ?s a ?t FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 3 # format",
        None,
        format="csv",
    ),
    get("ASK { ?s a ?t }"),
    get(
        "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 4",
        "text/turtle",
    ),
    get(
        "CONSTRUCT { ?s a ?t } WHERE { ?s a ?t FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 4",
        "application/n-triples",
    ),
    get('SELECT (IRI("relative") AS ?iri) WHERE {}'),
    get(
        "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
        **{"default-graph-uri": "https://w3id.org/s22a/graph/register/merseyside"},
    ),
    get(
        "SELECT (COUNT(*) AS ?n) FROM <https://w3id.org/s22a/graph/register/merseyside> "
        "WHERE { ?s ?p ?o }"
    ),
    (
        "POST",
        "/sparql",
        FORM,
        urlencode({"query": "SELECT ?t WHERE { ?s a ?t FILTER(isIRI(?s)) } LIMIT 2"}).encode(),
    ),
    (
        "POST",
        "/sparql",
        {"Content-Type": "application/sparql-query", "Accept": "text/csv"},
        b"SELECT ?t WHERE { ?s a ?t FILTER(isIRI(?s)) } LIMIT 2",
    ),
    # Through a trusted proxy (these servers trust 127.0.0.1): the endpoint's URL, the base of
    # the relative IRI, comes from the forwarded host and scheme (the last hop's), as in the app.
    (
        "GET",
        "/sparql?" + urlencode({"query": 'SELECT (IRI("proxied") AS ?iri) WHERE {}'}),
        {
            "Accept": JSON,
            "X-Forwarded-Host": "elsewhere.example, register.example",
            "X-Forwarded-Proto": "https",
            "X-Forwarded-For": "192.0.2.7",
        },
        b"",
    ),
]
# Run directly, failed, and worded by the app (so not logged as direct): a syntax error, an
# update sent as a query, a result in no offered format, the time limit, and again a query after
# it (the killed worker replaced).
FAILED = [
    get("SELECT ?s WHERE { ?s a }"),
    get("INSERT DATA { <urn:x> <urn:y> <urn:z> }"),
    get("CONSTRUCT { ?s a ?t } WHERE { ?s a ?t } LIMIT 1", "text/csv"),
    get(SLOW),
]
# Left to the app as before: the page, a past moment, SERVICE, a volatile query, HEAD, no query.
TO_THE_APP = [
    get("SELECT ?s WHERE { ?s a ?t FILTER(isIRI(?s)) } LIMIT 2", "text/html"),
    get(
        "SELECT ?s WHERE { ?s a ?t FILTER(isIRI(?s)) } ORDER BY ?s LIMIT 2 # asOf",
        asOf="2026-01-01",
    ),
    get("SELECT ?s WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"),
    get("SELECT (RAND() AS ?r) WHERE {}"),
    ("HEAD", "/sparql?query=" + quote("ASK { ?s ?p ?o }"), {"Accept": JSON}, b""),
    ("GET", "/sparql", {"Accept": "text/turtle"}, b""),
]


# Answers whose bodies differ from run to run whichever way they went: a random number, and
# the service description's blank nodes.
_APP_FROM = len(DIRECT) + len(FAILED) + 1
VARYING = {_APP_FROM + TO_THE_APP.index(get("SELECT (RAND() AS ?r) WHERE {}")), _APP_FROM + 5}


def comparable(reply: Reply, body: bool = True) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, the headers but Date (names in lower case, sorted: servers may order them
    differently), and the body (and its length) unless told not to."""
    skip = {"date"} if body else {"date", "content-length"}
    headers = sorted((k.lower(), v) for k, v in reply.headers.items() if k.lower() not in skip)
    return reply.status, headers, reply.body if body else b""


def answers(server: ServerProcess, requests: list[tuple[str, str, dict, bytes]]) -> list[Reply]:
    """The replies to `requests`, then to the plain GETs again with If-None-Match."""
    replies = [server.request(m, path, body or None, h) for m, path, h, body in requests]
    for (method, path, headers, _), reply in zip(DIRECT, list(replies), strict=False):
        if method == "GET":
            again = {**headers, "If-None-Match": reply.headers["ETag"]}
            replies.append(server.request(method, path, None, again))
    return replies


def log_lines(server: ServerProcess, count: int) -> list[str]:
    """The access log's `/sparql` lines, once there are `count` (within a generous 60 s)."""
    deadline = time.monotonic() + 60
    while True:
        lines = [line for line in server.logs().splitlines() if " /sparql" in line]
        if len(lines) >= count or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Reply]]:
    """Every request above through each way, on the same port and store, one after the other."""
    folder = tmp_path_factory.mktemp("direct")
    store = seeded_store(tmp_path_factory.getbasetemp(), folder / "store")
    port = free_port()
    requests = DIRECT + FAILED + [get("ASK { ?s ?p ?o } # after")] + TO_THE_APP
    found: dict[str, list[Reply]] = {}
    for way, on in (("direct", "1"), ("app", "0")):
        env = {
            "S22A_SPARQL_DIRECT": on,
            "S22A_SPARQL_TIMEOUT": str(TIMEOUT),
            "S22A_ANSWER_MEMO_BYTES": "0",  # every request reaches the app or the direct path
            "S22A_SPARQL_CLIENT_QUERIES": "0",
            "S22A_TRUSTED_PROXIES": "127.0.0.1",
        }
        with ServerProcess(folder / way, store=store, env=env, port=port) as server:
            found[way] = answers(server, requests)
            lines = log_lines(server, len(found[way]))
            assert len(lines) == len(found[way]), lines
            found[way + " log"] = lines  # type: ignore[assignment]
        assert "Traceback" not in server.logs()
    return found


def test_direct_answers_are_the_apps_byte_for_byte(both: dict[str, list[Reply]]) -> None:
    direct, app = both["direct"], both["app"]
    assert len(direct) == len(app)
    for index, (one, other) in enumerate(zip(direct, app, strict=True)):
        if index < len(DIRECT):
            assert one.status == 200, one.text[:300]
        same_body = index not in VARYING
        assert comparable(one, same_body) == comparable(other, same_body), index
    revalidations = direct[len(DIRECT) + len(FAILED) + 1 + len(TO_THE_APP) :]
    assert revalidations and all(r.status == 304 for r in revalidations)
    assert b"https://register.example/proxied" in direct[len(DIRECT) - 1].body


def test_plain_queries_and_their_revalidations_take_the_direct_path(
    both: dict[str, list[Reply]],
) -> None:
    lines: list[str] = both["direct log"]  # type: ignore[assignment]
    marked = [line.endswith(" direct") for line in lines]
    plain, failed = len(DIRECT), len(FAILED)
    assert marked[:plain] == [True] * plain, lines[:plain]
    assert marked[plain : plain + failed] == [False] * failed  # worded by the app
    assert marked[plain + failed] is True  # the query after the time limit
    assert marked[plain + failed + 1 : plain + failed + 1 + len(TO_THE_APP)] == [False] * len(
        TO_THE_APP
    )
    revalidated = lines[plain + failed + 1 + len(TO_THE_APP) :]
    assert revalidated and all(line.endswith(" direct") for line in revalidated)
    assert all('" 304 ' in line for line in revalidated)
    app_lines: list[str] = both["app log"]  # type: ignore[assignment]
    assert not any(line.endswith(" direct") for line in app_lines)


def test_failures_on_the_direct_path_are_the_apps_errors(both: dict[str, list[Reply]]) -> None:
    first = len(DIRECT)
    syntax, update, unacceptable, slow = both["direct"][first : first + len(FAILED)]
    assert syntax.status == 400 and "syntax" in syntax.text.lower()
    assert update.status == 400 and "SPARQL Update" in update.text
    assert unacceptable.status == 406 and "text/turtle" in unacceptable.text
    assert slow.status == 503 and f"({TIMEOUT:g} s)" in slow.text
    # Its log line, written by the app, counts from its arrival: the time limit it waited
    # through on the direct path is in it (regression: the app's line said 1 ms).
    for way in ("direct log", "app log"):
        line = both[way][first + len(FAILED) - 1]  # type: ignore[index]
        assert '" 503 ' in line, line
        waited = int(re.search(r" (\d+)ms", line).group(1))  # type: ignore[union-attr]
        assert waited >= TIMEOUT * 1000 * 0.99, line
    after = both["direct"][first + len(FAILED)]
    assert after.status == 200 and b"true" in after.body


def test_a_failure_handed_over_is_worded_without_running_the_query_again(app: Flask) -> None:
    """The app words a failure the direct path met, and runs nothing itself."""
    query = "SELECT * WHERE { ?s ?p ?o }"
    job = plan(QueryRequest(query), JSON, "any token", "http://localhost/sparql", "GET").job
    handed = {RAN: (job, QueryTimeout("the query did not finish within the time limit"))}
    client = app.test_client()
    reply = client.get(
        "/sparql", query_string={"query": query}, headers={"Accept": JSON}, environ_base=handed
    )
    assert reply.status_code == 503
    assert "the query did not finish within the time limit" in reply.text
    with app.app_context():
        assert get_service()._engine is None  # no query worker was ever started
    other = client.get(
        "/sparql",
        query_string={"query": query + " LIMIT 1"},
        headers={"Accept": JSON},
        environ_base=handed,
    )
    assert other.status_code == 200  # another job's outcome is not taken for this one


def test_a_write_is_seen_by_the_next_direct_query(tmp_path: Path) -> None:
    store = seeded_store(tmp_path.parent, tmp_path / "store")
    ask = get('ASK { ?s ?p "revision 1701"@en }')
    with ServerProcess(tmp_path / "server", store=store) as server:
        before = server.request(*ask[:2], None, ask[2])
        assert before.status == 200 and b"false" in before.body
        token = TokenStore(server.tokens).create("merseyside")[1]
        put = server.request(
            "PUT",
            "/registers/merseyside",
            revision("merseyside", 1701),
            {"Content-Type": "text/turtle", "Authorization": f"Bearer {token}"},
            timeout=120,
        )
        assert put.status in (200, 201), put.text[:300]
        after = server.request(*ask[:2], None, ask[2])
        assert after.status == 200 and b"true" in after.body
        assert before.headers["ETag"] != after.headers["ETag"]
        lines = log_lines(server, 2)
        assert [line.endswith(" direct") for line in lines if "GET /sparql" in line] == [True] * 2


def test_a_client_that_hangs_up_frees_its_query_worker(tmp_path: Path) -> None:
    """One query worker and a time limit of 10 minutes: a slow query whose client disconnects
    is given up (its worker killed), so the next client's query is answered, not queued behind
    it; the log gives the slow one a 499."""
    store = seeded_store(tmp_path.parent, tmp_path / "store")
    env = {
        "S22A_SPARQL_WORKERS": "1",
        "S22A_SPARQL_TIMEOUT": "600",
        "S22A_SPARQL_CLIENT_QUERIES": "0",
        "S22A_ANSWER_MEMO_BYTES": "0",
    }
    with ServerProcess(tmp_path / "server", store=store, env=env) as server:
        warm = get("ASK { ?s ?p ?o } # the worker starts")
        assert server.request(*warm[:2], None, warm[2]).status == 200
        (worker,) = server.query_worker_pids()
        before = cpu_seconds(worker)
        _, path, _, _ = get(SLOW)
        with socket.create_connection(("127.0.0.1", server.port), timeout=60) as raw:
            raw.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {JSON}\r\n\r\n".encode()
            )
            deadline = time.monotonic() + 60
            while cpu_seconds(worker) < before + 0.5:  # the worker is running the slow query
                assert time.monotonic() < deadline, "the slow query never reached the worker"
                time.sleep(0.05)
        deadline = time.monotonic() + 60
        while not exited(worker):
            assert time.monotonic() < deadline, "the slow query's worker was left running"
            time.sleep(0.05)
        after = get("ASK { ?s ?p ?o } # after the hang-up")
        reply = server.request(*after[:2], None, after[2], timeout=120)
        assert reply.status == 200 and b"true" in reply.body
        lines = log_lines(server, 3)
        assert len(lines) == 3, lines
        assert re.search(r'%20slow HTTP/1\.1" 499 0 \d+ms direct$', lines[1]), lines
    assert "Traceback" not in server.logs()
