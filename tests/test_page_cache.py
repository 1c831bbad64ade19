"""Pages, documents and `/sparql` from memory per dataset version (issue 16).

The servers are real `s22a serve` processes on a real Oxigraph server, reached through a
counting proxy (`tests.support.counting`): the proxy's count of `/query` requests is the
number of store queries a server made. `S22A_TOKEN_TTL` is an hour here, so nothing but a
write (in the process itself, or signalled by another through `S22A_LOCKS`) can make a server
read the dataset version again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s22a.store import changes, open_store
from s22a.web.tokens import TokenStore
from tests.support.app import make_app, seed_dump
from tests.support.counting import CountingProxy
from tests.support.oxigraph import OxigraphServer
from tests.support.server import ServerProcess, revision
from tests.support.writes import bearer, tokens_for

FORCE = "merseyside"
PAGE = "/doc/agreement/north-west-rocu"
REGISTER = f"/doc/register/{FORCE}.ttl"
HTML = {"Accept": "text/html"}
QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SPARQL = "/sparql?query=" + QUERY.replace(" ", "+")
RESULTS = {"Accept": "application/sparql-results+json"}


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CountingProxy, Path]]:
    """A seeded Oxigraph server behind a counting proxy, and a folder for the servers."""
    folder = tmp_path_factory.mktemp("page-cache")
    with OxigraphServer(location=folder / "oxigraph") as oxigraph:
        with open_store(f"sparql:{oxigraph.url}") as store:
            store.add_dataset(seed_dump())
        with CountingProxy(oxigraph.url) as proxy:
            yield proxy, folder


def servers(folder: Path, proxy: CountingProxy, count: int) -> tuple[list[ServerProcess], str]:
    """`count` servers on the proxied store sharing tokens and locks, and a write token."""
    tokens = folder / "tokens.json"
    token = TokenStore(tokens).create(FORCE)[1]
    env = {"S22A_TOKENS": str(tokens), "S22A_LOCKS": str(folder / "locks")}
    env["S22A_TOKEN_TTL"] = "3600"
    made = [
        ServerProcess(
            folder / f"server-{index}-{time.monotonic_ns()}",
            store=f"sparql:{proxy.url}",
            env=env,
            threads=16,
        )  # fmt: skip
        for index in range(count)
    ]
    return made, token


@pytest.mark.slow
def test_repeated_pages_304s_and_queries_make_no_store_query(
    remote: tuple[CountingProxy, Path],
) -> None:
    proxy, folder = remote
    (server,), _ = servers(folder, proxy, 1)
    with server:
        first = server.request("GET", PAGE, headers=HTML)
        assert first.status == 200, first.text[:300]
        tag = first.headers["ETag"]
        turtle = server.request("GET", PAGE, headers={"Accept": "text/turtle"})
        assert turtle.status == 200 and turtle.headers["Content-Type"].startswith("text/turtle")
        answer = server.request("GET", SPARQL, headers=RESULTS)
        assert answer.status == 200, answer.text[:300]
        before = proxy.count()
        assert before > 0  # the builds above did query the store through the proxy
        for _ in range(10):
            again = server.request("GET", PAGE, headers=HTML)
            assert again.status == 200 and again.body == first.body
            assert again.headers["ETag"] == tag
            assert "Content-Security-Policy" in again.headers  # hooks still run on each answer
            fresh = server.request("GET", PAGE, headers={**HTML, "If-None-Match": tag})
            assert fresh.status == 304 and fresh.body == b""
            repeat = server.request("GET", PAGE, headers={"Accept": "text/turtle"})
            assert repeat.body == turtle.body
            cached = server.request("GET", SPARQL, headers=RESULTS)
            assert cached.status == 200 and cached.body == answer.body
        assert proxy.count() == before, "a cached page, a 304 or a cached result queried the store"
        # A thing that does not exist is still not found (its check is a query).
        missing = server.request("GET", "/doc/agreement/no-such-agreement", headers=HTML)
        assert missing.status == 404
        assert proxy.count() > before


@pytest.mark.slow
def test_a_write_through_one_process_changes_the_pages_of_every_process_at_once(
    remote: tuple[CountingProxy, Path],
) -> None:
    proxy, folder = remote
    (writer, reader), token = servers(folder, proxy, 2)
    with writer, reader:
        for server in (writer, reader):  # each builds and keeps the document
            for _ in range(2):
                seen = server.request("GET", REGISTER)
                assert seen.status == 200 and b"revision 7001" not in seen.body
        tags = {s.port: s.request("GET", REGISTER).headers["ETag"] for s in (writer, reader)}
        counted = {s.port: count(s) for s in (writer, reader)}
        assert counted[writer.port] == counted[reader.port] == count(reader)
        put = writer.request("PUT", f"/registers/{FORCE}", revision(FORCE, 7001), bearer(token),
                             timeout=120)  # fmt: skip
        assert put.status in (200, 201), put.text[:500]
        assert json.loads(put.body)["version"]["number"] >= 1
        for server in (writer, reader):  # at once: no waiting, no trust period to run out
            now = server.request("GET", REGISTER)
            assert now.status == 200 and b"revision 7001" in now.body, server.port
            assert now.headers["ETag"] != tags[server.port]
            stale = server.request("GET", REGISTER, headers={"If-None-Match": tags[server.port]})
            assert stale.status == 200
            # /sparql's cached result of the old data is not given either.
            assert count(server) != counted[server.port], server.port
        assert count(writer) == count(reader)


def count(server: ServerProcess) -> bytes:
    """The number of triples `/sparql` gives (its CSV answer)."""
    reply = server.request("GET", SPARQL, headers={"Accept": "text/csv"})
    assert reply.status == 200, reply.text[:300]
    return reply.body


def test_a_write_through_the_app_changes_its_pages_at_once(tmp_path: Path) -> None:
    app = make_app()
    token = tokens_for(app, tmp_path / "tokens.json", FORCE)[FORCE]
    client = app.test_client()
    first = client.get(REGISTER)
    assert first.status_code == 200 and b"revision 7002" not in first.data
    cache = app.extensions["s22a_pages"]
    hits = cache.hits
    assert client.get(REGISTER).data == first.data
    assert cache.hits == hits + 1  # the second came from memory
    put = client.put(f"/registers/{FORCE}", data=revision(FORCE, 7002), headers=bearer(token))
    assert put.status_code in (200, 201), put.get_data(as_text=True)[:500]
    now = client.get(REGISTER)
    assert now.status_code == 200 and b"revision 7002" in now.data
    assert now.headers["ETag"] != first.headers["ETag"]


def test_the_page_cache_keeps_within_its_bytes(tmp_path: Path) -> None:
    app = make_app(S22A_PAGE_CACHE_BYTES=400_000)
    client = app.test_client()
    paths = [
        f"/doc/agreement/{slug}" for slug in ("north-west-rocu", "cheshire-bluelight-collaboration")
    ]
    paths += ["/", "/agreements", "/forces", "/void", "/catalog", "/def/s22a", "/def/shapes"]
    bodies = {path: client.get(path, headers=HTML) for path in paths}
    assert all(r.status_code in (200, 404) for r in bodies.values())
    cache = app.extensions["s22a_pages"]
    assert 0 < len(cache) < len(paths)  # the least recently used went
    assert sum(e.size for e in cache._entries.values()) <= 400_000
    for path, first in bodies.items():  # and whatever was dropped is built again, the same
        assert client.get(path, headers=HTML).data == first.data


def test_change_clocks_see_each_others_writes_through_the_signal_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(changes, "_SHARED", dict(changes._SHARED))  # undone after the test
    changes.share(tmp_path, 3600.0)
    one, other, embedded = changes.Changes(True), changes.Changes(True), changes.Changes(False)
    reads: list[str] = []

    def read(name: str) -> str:
        reads.append(name)
        return f"{name}-{len(reads)}"

    for _ in range(3):
        other.derived("token", lambda: read("other"))
        embedded.derived("token", lambda: read("embedded"))
    assert reads == ["other", "embedded"]  # read once, then from memory
    one.changed()  # another process's write
    assert other.derived("token", lambda: read("other")) == "other-3"
    assert embedded.derived("token", lambda: read("embedded")) == "embedded-2"  # its own only
    embedded.changed()
    assert embedded.derived("token", lambda: read("embedded")) == "embedded-4"
    monkeypatch.setitem(changes._SHARED, "ttl", 0.0)  # a write nobody signalled: trust ends
    assert other.derived("token", lambda: read("other")) == "other-5"
