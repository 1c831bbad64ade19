"""`s22a serve`, the command the README gives: it loads an empty store once, answers pages,
and answers writes (PUT, POST, an invalid PUT, DELETE) on a fresh store, on a restarted one,
in memory, and with several workers on a remote store and on the embedded one; it stops
promptly and says in one line why it cannot start."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.parse
from pathlib import Path

import pytest
from click.testing import CliRunner

from s22a.cli import cli
from s22a.store import open_store
from s22a.web.tokens import TokenStore
from tests.support.oxigraph import OxigraphServer
from tests.support.server import ServerProcess, children, s22a_command, seeded_store

ROOT = Path(__file__).resolve().parents[1]
MERSEYSIDE = (ROOT / "data" / "registers" / "merseyside.ttl").read_bytes()
INVALID = (ROOT / "tests" / "fixtures" / "registers" / "missing-title.ttl").read_bytes()
# Every write must be answered well within this; before the fix they were never answered.
ANSWER_WITHIN = 60


def auth(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Content-Type": "text/turtle",
        "Accept": "application/json",
    }


def version_numbers(server: ServerProcess, force: str) -> list[int]:
    listing = server.request(
        "GET", f"/registers/{force}/versions", headers={"Accept": "application/json"}
    )
    assert listing.status == 200, listing.text[:500]
    return [row["number"] for row in json.loads(listing.body)["versions"]]


def exercise_writes(server: ServerProcess, token: str, revision: int) -> None:
    """PUT a changed register, POST a merge, PUT an invalid one (422), DELETE, PUT it back:
    each answered, and each accepted write listed as a version."""
    before = version_numbers(server, "merseyside")
    changed = MERSEYSIDE.replace(b'"Minerva Programme"@en', f'"Minerva {revision}"@en'.encode())
    assert changed != MERSEYSIDE
    put = server.request(
        "PUT", "/registers/merseyside", changed, auth(token), timeout=ANSWER_WITHIN
    )
    assert put.status == 200, put.text[:500]
    merge = (
        b"<https://w3id.org/s22a/id/register/merseyside> "
        b'<http://purl.org/dc/terms/description> "merged %d"@en .' % revision
    )
    post = server.request(
        "POST", "/registers/merseyside", merge, auth(token), timeout=ANSWER_WITHIN
    )
    assert post.status == 200, post.text[:500]
    refused = server.request(
        "PUT", "/registers/merseyside", INVALID, auth(token), timeout=ANSWER_WITHIN
    )
    assert refused.status == 422, refused.text[:500]
    deleted = server.request(
        "DELETE", "/registers/merseyside", None, auth(token), timeout=ANSWER_WITHIN
    )
    assert deleted.status in (200, 204), deleted.text[:500]
    gone = server.request("GET", "/registers/merseyside", headers={"Accept": "text/turtle"})
    assert gone.status == 404
    back = server.request(
        "PUT", "/registers/merseyside", changed, auth(token), timeout=ANSWER_WITHIN
    )
    assert back.status == 201, back.text[:500]
    numbers = version_numbers(server, "merseyside")
    put_number = json.loads(put.body)["version"]["number"]
    post_number = json.loads(post.body)["version"]["number"]
    assert put_number > max(before, default=0) and post_number == put_number + 1
    assert {put_number, post_number, json.loads(back.body)["version"]["number"]} <= set(numbers)
    page = server.request("GET", "/doc/register/merseyside", headers={"Accept": "text/html"})
    assert page.status == 200 and f"Minerva {revision}".encode() in page.body


def token_for(server: ServerProcess, force: str = "merseyside") -> str:
    return TokenStore(server.tokens).create(force)[1]


def _time_wait_towards(port: int) -> int:
    """Sockets on this machine in TIME_WAIT towards 127.0.0.1:`port`: what a client leaves
    for a minute after each connection it closes (`/proc/net/tcp`)."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "06" and fields[2] == f"0100007F:{port:04X}":
            count += 1
    return count


def test_queries_to_a_remote_store_share_kept_connections(tmp_path: Path) -> None:
    """A connection per query would leave a port in TIME_WAIT per query: at a thousand
    queries a second towards a store on another machine, the ports run out in a minute."""
    queries = 100
    with (
        OxigraphServer() as oxigraph,
        ServerProcess(tmp_path, store=f"sparql:{oxigraph.url}") as server,
    ):
        store_port = int(oxigraph.url.rsplit(":", 1)[1].strip("/"))
        before = _time_wait_towards(store_port)
        for n in range(queries):  # each with its own text: no cache answers it
            query = urllib.parse.quote(f"SELECT ?s WHERE {{ ?s a ?type }} LIMIT 1 # {n}")
            reply = server.request("GET", f"/sparql?query={query}", headers={"Accept": "text/csv"})
            assert reply.status == 200, reply.text
        left = _time_wait_towards(store_port) - before
    assert left < queries / 10, f"{left} connections closed for {queries} queries"


@pytest.mark.slow
def test_serve_loads_once_then_writes_on_a_fresh_and_a_restarted_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    with ServerProcess(tmp_path / "first", store=store) as server:
        home = server.request("GET", "/")
        assert b"Collaboration agreements between UK police forces" in home.body
        turtle = server.request("GET", "/doc/force/merseyside.ttl")
        assert b"@prefix force: <https://w3id.org/s22a/id/force/>" in turtle.body
        exercise_writes(server, token_for(server), 1)
    output = server.logs()
    assert "Loading 5 register(s)" in output
    assert "merseyside: accepted: 24 agreement(s)" in output
    assert "Started worker-1" in output  # Granian (s22a.web.production)

    with ServerProcess(tmp_path / "second", store=store) as server:
        exercise_writes(server, token_for(server), 2)
    assert "Loading" not in server.logs(), "a restart must reuse the store"


@pytest.mark.slow
def test_serve_writes_on_an_in_memory_store(tmp_path: Path) -> None:
    with ServerProcess(tmp_path, store="memory:") as server:
        exercise_writes(server, token_for(server), 3)
    assert "Loading 5 register(s)" in server.logs()


@pytest.mark.slow
def test_serve_writes_with_several_workers_on_a_remote_store(tmp_path: Path) -> None:
    with (
        OxigraphServer() as oxigraph,
        ServerProcess(tmp_path, store=f"sparql:{oxigraph.url}", workers=2) as server,
    ):
        assert server.process is not None and len(children(server.process.pid)) == 2
        token = token_for(server)
        for revision in (4, 5):  # whichever worker takes each request
            exercise_writes(server, token, revision)
    assert server.logs().count("Loading 5 register(s)") == 1


@pytest.mark.slow
def test_serve_stops_promptly_and_leaves_no_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    server = ServerProcess(tmp_path, store=tmp_path / "store", env={"HOME": str(home)}).start()
    assert server.process is not None
    assert list(home.iterdir()) == [], "the server writes nothing under the home directory"
    worker = server.worker_pid()
    assert worker is not None
    started = time.monotonic()
    server.process.terminate()
    server.process.wait(timeout=60)
    print(f"\ns22a serve stopped {time.monotonic() - started:.2f} s after SIGTERM")
    assert not Path(f"/proc/{worker}").exists()
    server.process = None


@pytest.mark.slow
def test_a_second_serve_on_a_store_in_use_says_so_in_one_line(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = seeded_store(tmp_path_factory.getbasetemp(), tmp_path / "store")  # nothing to load
    with ServerProcess(tmp_path / "first", store=store):
        second = subprocess.run(
            [*s22a_command(), "serve", "--port", "0", "--store", f"oxigraph:{store}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert second.returncode == 1
    assert "Traceback" not in second.stderr + second.stdout
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "is in use by another process" in lines[0], second.stderr


@pytest.mark.slow
def test_serve_writes_with_several_workers_on_the_embedded_store(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    store = seeded_store(tmp_path_factory.getbasetemp(), tmp_path / "store")
    with ServerProcess(tmp_path, store=store, workers=2) as server:
        assert server.process is not None
        workers = children(server.process.pid)
        assert len(workers) == 2
        token = token_for(server)
        query = urllib.parse.urlencode({"query": 'ASK { ?s ?p "Minerva 7"@en }'})

        def ask() -> bool:
            reply = server.request(
                "GET", f"/sparql?{query}", headers={"Accept": "application/sparql-results+json"}
            )
            assert reply.status == 200, reply.text[:500]
            return json.loads(reply.body)["boolean"]

        exercise_writes(server, token, 6)  # whichever worker takes each request
        # Both processes answer (and keep) "no" before the write that makes it "yes". A worker
        # starts its query workers at its first query: ask, each time on a new connection,
        # until both have.
        deadline, asked = time.monotonic() + 120, 0
        while any(not children(w) for w in workers) and time.monotonic() < deadline:
            assert asked < 500, "one worker answered every query"
            assert ask() is False
            asked += 1
        assert all(children(w) for w in workers), "a worker answered no query within 120 s"
        exercise_writes(server, token, 7)
        assert all(ask() for _ in range(60)), "a process answered from before the write"
        # Nothing else may open the store meanwhile: it would write unseen by the servers.
        load = subprocess.run(
            [*s22a_command(), "load", "--store", f"oxigraph:{store}"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert load.returncode == 1 and "is in use by another process" in load.stderr
        assert "Traceback" not in load.stderr + load.stdout
        # A worker killed is replaced (Granian), and the new one joins the others.
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            now = children(server.process.pid)
            if len(now) == 2 and workers[0] not in now:
                break
            time.sleep(0.2)
        assert len(now) == 2 and workers[0] not in now, now
        server.wait_ready()
        exercise_writes(server, token, 8)
    with open_store(f"oxigraph:{store}") as alone:  # and what they wrote is on disk
        assert alone.ask('ASK { ?s ?p "Minerva 8"@en }')


def test_a_store_in_memory_refuses_several_workers() -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", "2", "--store", "memory:"])
    assert result.exit_code == 2
    assert "a store in memory lives in one process" in result.output
