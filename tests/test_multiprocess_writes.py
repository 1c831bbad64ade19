"""Many app processes on one store (issue 15, Deliver 5): two separate `s22a serve`
processes (one of them with two workers) on one remote store (Virtuoso), sharing one token
file and one folder of write locks, and one `s22a serve --workers 3` on the embedded store,
with concurrent writers of one register through all of them.
No acknowledged version is lost, no two versions share a number, and the register, its history,
its feed and the reconciliation agree afterwards.
"""

from __future__ import annotations

import json
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from rdflib import BNode, Graph

from s22a.reconcile.compute import reconcile
from s22a.reconcile.findings import store_report
from s22a.store import open_store
from s22a.web.tokens import TokenStore
from tests.support.app import seed_dump
from tests.support.server import ServerProcess, revision, seeded_store
from tests.support.writes import bearer

FORCE = "merseyside"
WRITES_PER_WRITER = 3  # bounded in count; each write also bounded in time (its timeout)
ATOM = "{http://www.w3.org/2005/Atom}"


def ground(data: bytes) -> set[tuple]:
    """The triples without blank nodes of a Turtle document."""
    graph = Graph().parse(data=data, format="turtle")
    return {t for t in graph if not any(isinstance(x, BNode) for x in t)}


@dataclass
class Writer:
    """PUTs `WRITES_PER_WRITER` revisions of one register (numbers from `start`) to `server`."""

    server: ServerProcess
    token: str
    start: int
    acknowledged: dict[int, int] = field(default_factory=dict)  # version number: revision
    numbers: list[int] = field(default_factory=list)  # every number acknowledged, repeats kept
    errors: list[str] = field(default_factory=list)

    def run(self) -> None:
        """Write until done or a write fails (kept in `errors`)."""
        for number in range(self.start, self.start + WRITES_PER_WRITER):
            try:
                reply = self.server.request(
                    "PUT", f"/registers/{FORCE}", revision(FORCE, number), bearer(self.token),
                    timeout=120,
                )  # fmt: skip
            except OSError as error:
                self.errors.append(f"{number}: {error}")
                return
            if reply.status not in (200, 201):
                self.errors.append(f"{number}: {reply.status} {reply.text[:500]}")
                return
            version = json.loads(reply.body)["version"]["number"]
            self.numbers.append(version)
            self.acknowledged[version] = number


@dataclass
class Shared:
    """Two app processes on one remote store, and a token both of them accept."""

    servers: list[ServerProcess]
    token: str
    spec: str


# One remote backend suffices for the two-process property: both go through the same Store
# interface and the same compare-and-set of the version record. Virtuoso is kept as the one
# more likely to break (its own store class, its own isolation); Oxigraph's server is the remote
# store of the other remote tests (test_store.py, test_sources.py).
#
# The embedded store on disk can be shared by the processes of one `s22a serve --workers N`
# only (`s22a.store.shared`): there one server of three workers takes all four writers.
@pytest.fixture(params=["virtuoso", "embedded"])
def shared(
    request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shared]:
    # What every process on one store shares: the token file (S22A_TOKENS: a force's
    # token, created once, is accepted by each) and the write locks' folder (S22A_LOCKS).
    tokens = tmp_path / "tokens.json"
    token = TokenStore(tokens).create(FORCE)[1]
    env = {"S22A_TOKENS": str(tokens), "S22A_LOCKS": str(tmp_path / "locks")}
    if request.param == "embedded":
        folder = seeded_store(tmp_path_factory.getbasetemp(), tmp_path / "store")
        spec = f"oxigraph:{folder}"
        one = ServerProcess(tmp_path / "a", store=folder, env=env, workers=3, threads=16)
        servers = [one, one]
    else:
        spec = request.getfixturevalue("virtuoso").spec
        with open_store(spec) as store:  # the session's Virtuoso, emptied, then seeded
            for graph in store.graphs():
                store.drop_graph(graph)
            store.add_dataset(seed_dump())  # the seed registers, as loaded by `s22a load`
        servers = [
            ServerProcess(tmp_path / "a", store=spec, env=env, workers=2, threads=16),
            ServerProcess(tmp_path / "b", store=spec, env=env, workers=1, threads=16),
        ]
    try:
        for server in dict.fromkeys(servers):
            server.start()
        yield Shared(servers, token, spec)
    finally:
        for server in servers:
            server.stop()


@pytest.mark.slow
def test_concurrent_writes_through_two_servers_lose_nothing_and_share_no_number(
    shared: Shared,
) -> None:
    first, second = shared.servers
    listing = first.request("GET", f"/registers/{FORCE}/versions",
                            headers={"Accept": "application/json"})  # fmt: skip
    assert listing.status == 200, listing.text[:500]
    before = len(json.loads(listing.body)["versions"])
    # Two writers on each server (three workers between them), all at once.
    writers = [
        Writer(server, shared.token, 1000 * (index + 1))
        for index, server in enumerate([first, first, second, second])
    ]
    threads = [threading.Thread(target=w.run) for w in writers]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    assert not any(t.is_alive() for t in threads), "writers still running after 600 s"
    took = time.monotonic() - started
    for writer in writers:
        assert not writer.errors, writer.errors

    numbers = [n for w in writers for n in w.numbers]
    assert len(numbers) == len(writers) * WRITES_PER_WRITER
    assert len(set(numbers)) == len(numbers), f"one number acknowledged twice: {sorted(numbers)}"
    acknowledged = {n: sent for w in writers for n, sent in w.acknowledged.items()}

    for server in (first, second):  # both processes see the same history
        listing = server.request("GET", f"/registers/{FORCE}/versions",
                                 headers={"Accept": "application/json"})  # fmt: skip
        assert listing.status == 200, listing.text[:500]
        listed = [row["number"] for row in json.loads(listing.body)["versions"]]
        # Numbered 1..N once each; the seed's versions and one per acknowledged write.
        assert listed == list(range(1, before + len(numbers) + 1)), listed
        assert set(acknowledged) == set(listed[before:])
    for number, sent in acknowledged.items():  # every acknowledged version kept its content
        content = second.request("GET", f"/registers/{FORCE}/versions/{number}",
                                 headers={"Accept": "text/turtle"})  # fmt: skip
        assert content.status == 200, content.text[:500]
        assert ground(content.body) == ground(revision(FORCE, sent)), (number, sent)
    # The register is its newest version, which is the last write acknowledged.
    current = first.request("GET", f"/registers/{FORCE}", headers={"Accept": "text/turtle"})
    assert current.status == 200
    newest = max(acknowledged)
    assert ground(current.body) == ground(revision(FORCE, acknowledged[newest]))
    # The feed names only listed versions, each entry once.
    feed = second.request("GET", f"/registers/{FORCE}/feed.atom")
    assert feed.status == 200, feed.text[:500]
    ids = [e.findtext(f"{ATOM}id") for e in ET.fromstring(feed.body).iter(f"{ATOM}entry")]
    assert len(ids) == len(set(ids)), ids
    for entry_id in ids:
        assert entry_id is not None
        number = int(entry_id.split("/version/")[1].split("#")[0])
        assert 1 <= number <= newest, entry_id
    # The stored reconciliation was computed from the final data: computed again, it is the
    # same report, so nothing is written.
    # (An embedded store is opened as one more of the processes serving it.)
    with open_store(shared.spec, shared=shared.spec.startswith("oxigraph:")) as store:
        assert not store_report(store, reconcile(store)), "the stored report is stale"
    print(f"\n{len(numbers)} concurrent writes through {shared.spec[:8]}... in {took:.1f} s")
