"""`/sparql` against its peers: this endpoint, a bare Oxigraph server, rdflib-endpoint.

Run from the repository root after ``python3 -m pip install -r requirements/dev.lock -e .``:

    python -m bench.sparql                      # 1x, 10x and 100x the seed data
    python -m bench.sparql --scales 1 --budget 2  # a quick look

For each scale the same dataset (the seed registers plus synthetic registers from
`bench/synthetic.py`, loaded through the catalogue, so validated like any register) is served
by three peers on 127.0.0.1, each in its own process(es):

* this endpoint: ``s22a serve`` (Granian, one worker, 16 threads) on the on-disk
  store (the app's query workers do the engine work in their own processes), and
  ``s22a serve --workers 2`` on a copy of it (two app processes sharing the store, each with
  its query workers: `--processes`);
* ``oxigraph serve --union-default-graph`` holding the same quads (archive graph left out,
  as the endpoint does);
* ``rdflib-endpoint serve`` on the same N-Quads file.

Every query runs under 8 concurrent clients (keep-alive connections, one per client) for a
time budget or a request cap, whichever comes first; each request carries a distinct trailing
comment so that no peer can answer from a cache. Figures: median and p95 latency, throughput,
and where the CPU went: milliseconds of CPU per request in each peer's processes (the server
and its children, from /proc), in this bench's client threads, and how busy the machine's
cores were meanwhile (a peer whose own processes use one core while the machine has cores
idle is bound by one process, as a Python server is by its GIL).
Then a repeated-query mix (the same texts again and again, half the clients revalidating
with If-None-Match as browsers and HTTP caches do) is run against this endpoint (result cache
and ETags on) and the bare Oxigraph server. Ratios are printed with the command line.
Only loopback is used; nothing here is a test and nothing asserts a time.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SEED_LISTINGS = 72  # agreements listed by the five seed registers, together
CLIENTS = 8
PREFIXES = """PREFIX s22a: <https://w3id.org/s22a/def/s22a#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
QUERIES: dict[str, str] = {
    "lookup": "SELECT ?p ?o WHERE { "
    "<https://w3id.org/s22a/id/agreement/west-coast-collaboration> ?p ?o }",
    "join": """SELECT ?agreement ?one ?other WHERE {
  GRAPH ?r1 { ?r1 s22a:force ?one ; s22a:lists ?agreement }
  GRAPH ?r2 { ?r2 s22a:force ?other ; s22a:lists ?agreement }
  FILTER(STR(?one) < STR(?other)) }""",
    "group-by": """SELECT ?capability (COUNT(DISTINCT ?a) AS ?agreements) WHERE {
  ?a a s22a:Agreement ; s22a:capability ?capability }
GROUP BY ?capability ORDER BY DESC(?agreements)""",
    "text-filter": """SELECT ?a ?title WHERE {
  ?a s22a:purpose ?purpose ; dcterms:title ?title
  FILTER(CONTAINS(LCASE(STR(?purpose)), "firearm")) }""",
    "construct": """CONSTRUCT { ?a s22a:party ?f . ?f rdfs:label ?name } WHERE {
  ?a s22a:scope s22a:Regional ; s22a:party ?f . ?f rdfs:label ?name }""",
    "graph": """SELECT ?g (COUNT(?a) AS ?agreements) WHERE { GRAPH ?g { ?g s22a:lists ?a } }
GROUP BY ?g ORDER BY DESC(?agreements)""",
}
MIX_WEIGHTS = {"lookup": 6, "join": 1, "group-by": 3, "text-filter": 2, "construct": 1, "graph": 3}


# ---------------------------------------------------------------------------------------------
# Data


def build(scale: int, folder: Path) -> dict[str, object]:
    """Build the on-disk store and the N-Quads dump for `scale` (in a child process)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.sparql", "--build", str(scale), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _build_child(scale: int, folder: Path) -> None:
    import pyoxigraph as ox

    from bench.synthetic import reference_slugs, register_turtle
    from s22a import resources
    from s22a.ingest.catalog import read_catalog
    from s22a.ingest.load import load_catalog
    from s22a.namespaces import GRAPH_ARCHIVE
    from s22a.store import open_store

    entries = [
        f"<{s.register}> a dcat:Dataset ; s22a:force <{s.force}> ; "
        f"dcat:distribution [ dcat:downloadURL <{Path(s.location).resolve().as_uri()}> ] ."
        for s in read_catalog(resources.catalog_path())
    ]
    folder.mkdir(parents=True, exist_ok=True)
    extra = SEED_LISTINGS * (scale - 1)
    if extra:
        seeded = {s.force.rsplit("/", 1)[-1] for s in read_catalog(resources.catalog_path())}
        forces = [f for f in reference_slugs()[0] if f not in seeded]
        registers = min(len(forces), max(1, math.ceil(extra / 200)))
        for n in range(registers):
            count = extra // registers + (1 if n < extra % registers else 0)
            path = folder / f"synthetic-{forces[n]}.ttl"
            path.write_text(register_turtle(forces[n], count, seed=n))
            entries.append(
                f"<https://w3id.org/s22a/id/register/{forces[n]}> a dcat:Dataset ; "
                f"s22a:force <https://w3id.org/s22a/id/force/{forces[n]}> ; "
                f"dcat:distribution [ dcat:downloadURL <{path.as_uri()}> ] ."
            )
    catalog = folder / "catalog.ttl"
    catalog.write_text(
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .\n"
        "@prefix s22a: <https://w3id.org/s22a/def/s22a#> .\n" + "\n".join(entries) + "\n"
    )
    started = time.perf_counter()
    store = open_store(f"oxigraph:{folder / 'store'}")
    outcomes = load_catalog(store, catalog)
    refused = [o.reason for o in outcomes if o.outcome == "Refused"]
    assert not refused, refused
    seconds = time.perf_counter() - started
    quads = [
        q
        for q in ox.parse(b"".join(store.dump()), format=ox.RdfFormat.N_QUADS)
        if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == GRAPH_ARCHIVE)
    ]
    (folder / "data.nq").write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    store.close()
    print(
        json.dumps(
            {
                "scale": scale,
                "registers": len(outcomes),
                "agreements": sum(o.agreements for o in outcomes),
                "quads": len(quads),
                "load_seconds": round(seconds, 1),
                "catalog": str(catalog),
            }
        )
    )


# ---------------------------------------------------------------------------------------------
# Peers


@dataclass
class Peer:
    """A SPARQL server under test: where to send queries, and how to stop it."""

    name: str
    host: str
    port: int
    path: str
    stop: object = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    pids: list[int] = field(default_factory=list)  # whose process trees' CPU is counted

    def close(self) -> None:
        """Stop the server's processes."""
        if callable(self.stop):
            self.stop()
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _wait_ready(peer: Peer, timeout: float, process: subprocess.Popen[bytes] | None) -> None:
    deadline = time.monotonic() + timeout
    url = f"http://{peer.host}:{peer.port}{peer.path}?" + urllib.parse.urlencode(
        {"query": "ASK { ?s ?p ?o }"}
    )
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{peer.name} exited with status {process.returncode}")
        try:
            request = urllib.request.Request(
                url, headers={"Accept": "application/sparql-results+json"}
            )
            with urllib.request.urlopen(request, timeout=60) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            error.close()
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{peer.name} did not start within {timeout:g} s")


def start_endpoint(
    store: Path, catalog: str, log: Path, workers: int, processes: int, direct: bool = True
) -> Peer:
    """This endpoint under `s22a serve --workers PROCESSES`: app processes on the on-disk
    store, each with its `workers` query workers; every query through Flask unless `direct`
    (`S22A_SPARQL_DIRECT`)."""
    from tests.support.oxigraph import free_port

    port = free_port()
    env = dict(
        os.environ,
        S22A_STORE=f"oxigraph:{store}",
        S22A_CATALOG=catalog,
        S22A_SPARQL_WORKERS=str(workers),
        S22A_SPARQL_TIMEOUT="120",
        # Every bench client comes from 127.0.0.1: no per-address share (else 503s), as the
        # bare servers have none.
        S22A_SPARQL_CLIENT_QUERIES="0",
        S22A_CLIENT_REQUESTS="0",
        S22A_SPARQL_DIRECT="1" if direct else "0",
    )
    from tests.support.server import s22a_command

    command = [
        *s22a_command(),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(processes),
        "--threads",
        "16",  # at least S22A_SPARQL_WORKERS + S22A_SPARQL_QUEUE, or `s22a serve` refuses
        "--store",
        f"oxigraph:{store}",
        "--catalog",
        catalog,
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    name = "s22a /sparql" + (f", {processes} processes" if processes > 1 else "")
    name += "" if direct else ", via app"
    peer = Peer(name, "127.0.0.1", port, "/sparql", processes=[process], pids=[process.pid])
    _wait_ready(peer, 600, process)
    return peer


def start_oxigraph(dump: Path) -> Peer:
    """A bare `oxigraph serve --union-default-graph` holding the dump."""
    from tests.support.oxigraph import OxigraphServer

    server = OxigraphServer().start()
    request = urllib.request.Request(
        f"{server.url}/store",
        data=dump.read_bytes(),
        method="POST",
        headers={"Content-Type": "application/n-quads"},
    )
    urllib.request.urlopen(request, timeout=600).close()
    host, port = server.url.removeprefix("http://").split(":")
    assert server.process is not None
    pids = [server.process.pid]
    return Peer("oxigraph serve", host, int(port), "/query", stop=server.stop, pids=pids)


def start_rdflib_endpoint(dump: Path, log: Path) -> Peer:
    """rdflib-endpoint (FastAPI, uvicorn) serving the dump from an rdflib Dataset."""
    from tests.support.oxigraph import free_port

    port = free_port()
    command = [sys.executable, "-m", "rdflib_endpoint", "serve", str(dump)]
    command += ["--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    peer = Peer("rdflib-endpoint", "127.0.0.1", port, "/", processes=[process], pids=[process.pid])
    _wait_ready(peer, 1800, process)
    return peer


# ---------------------------------------------------------------------------------------------
# Load


def accept_for(query: str) -> str:
    """The Accept header for a query: SPARQL JSON for tables, Turtle for graphs."""
    return (
        "text/turtle"
        if query.lstrip().upper().startswith("CONSTRUCT")
        else ("application/sparql-results+json")
    )


def tree_cpu(roots: list[int]) -> dict[int, float]:
    """CPU seconds (user and system) used so far by each of the processes `roots` and their
    children, by process id."""
    from tests.support.server import children, cpu_seconds

    seconds: dict[int, float] = {}
    todo = list(roots)
    while todo:
        pid = todo.pop()
        try:
            seconds[pid] = cpu_seconds(pid)
        except ProcessLookupError:
            continue  # gone meanwhile
        todo += children(pid)
    return seconds


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (idle, iowait and steal not busy)."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4] + (ticks[7] if len(ticks) > 7 else 0)
    return sum(ticks) - idle, sum(ticks)


def own_cpu() -> float:
    """CPU seconds of this process (the bench's client threads) so far."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Cell:
    """The figures of one (peer, query) run."""

    latencies: list[float]
    seconds: float
    errors: int
    not_modified: int = 0
    server_cpu: float = math.nan  # CPU seconds of the peer's processes during the run
    busiest_cpu: float = math.nan  # ... of the one that used the most
    client_cpu: float = math.nan  # CPU seconds of the bench's own client threads
    busy: float = math.nan  # share of the machine's CPU time in use, 0 to 1

    def cpu_ms(self, seconds: float) -> float:
        """`seconds` of CPU per completed request, in milliseconds."""
        return seconds * 1000 / len(self.latencies) if self.latencies else math.nan

    @property
    def median_ms(self) -> float:
        """Median latency in milliseconds."""
        return statistics.median(self.latencies) * 1000 if self.latencies else math.nan

    @property
    def p95_ms(self) -> float:
        """95th percentile latency in milliseconds."""
        if len(self.latencies) < 2:
            return self.median_ms
        return statistics.quantiles(self.latencies, n=20)[18] * 1000

    @property
    def throughput(self) -> float:
        """Completed requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def run(
    peer: Peer,
    pick: object,
    *,
    clients: int,
    budget: float,
    max_requests: int,
    unique: bool,
    revalidating: int = 0,
    timeout: float = 300,
) -> Cell:
    """`clients` threads send the queries `pick(client, n)` gives until budget or cap runs out."""
    latencies: list[float] = []
    errors = [0]
    not_modified = [0]
    issued = [0]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = [0.0]

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(peer.host, peer.port, timeout=timeout)
        tags: dict[str, str] = {}
        n = 0
        start.wait()
        try:
            while time.monotonic() < deadline[0]:
                with lock:
                    if issued[0] >= max_requests:
                        return
                    issued[0] += 1
                query = pick(index, n)  # type: ignore[operator]
                n += 1
                text = f"{PREFIXES}{query}\n# {index}-{n}" if unique else PREFIXES + query
                headers = {"Accept": accept_for(query)}
                if index < revalidating and text in tags:
                    headers["If-None-Match"] = tags[text]
                path = f"{peer.path}?" + urllib.parse.urlencode({"query": text})
                began = time.perf_counter()
                try:
                    connection.request("GET", path, headers=headers)
                    response = connection.getresponse()
                    response.read()
                except (OSError, http.client.HTTPException):
                    connection.close()
                    with lock:
                        errors[0] += 1
                    continue
                elapsed = time.perf_counter() - began
                with lock:
                    if response.status in (200, 304):
                        latencies.append(elapsed)
                        not_modified[0] += response.status == 304
                    else:
                        errors[0] += 1
                if response.getheader("ETag"):
                    tags[text] = response.getheader("ETag")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    server_before, client_before, ticks_before = tree_cpu(peer.pids), own_cpu(), machine_ticks()
    began = time.monotonic()
    deadline[0] = began + budget
    start.wait()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - began
    ticks = [after - before for after, before in zip(machine_ticks(), ticks_before, strict=True)]
    used = {pid: cpu - server_before.get(pid, 0.0) for pid, cpu in tree_cpu(peer.pids).items()}
    return Cell(
        latencies, seconds, errors[0], not_modified[0],
        server_cpu=sum(used.values()), busiest_cpu=max(used.values(), default=math.nan),
        client_cpu=own_cpu() - client_before, busy=ticks[0] / ticks[1] if ticks[1] else math.nan,
    )  # fmt: skip


def warm(peer: Peer, budget: float = 2.0) -> None:
    """Send every query from 8 clients once, so that workers and caches are warm."""
    names = list(QUERIES)
    run(
        peer,
        lambda i, n: QUERIES[names[(i + n) % len(names)]],
        clients=CLIENTS,
        budget=budget,
        max_requests=len(names) * 2,
        unique=True,
    )


def answers(peer: Peer, query: str) -> str:
    """How many rows (or triples) the peer answers `query` with, or its error."""
    import pyoxigraph as ox

    url = f"http://{peer.host}:{peer.port}{peer.path}?" + urllib.parse.urlencode(
        {"query": PREFIXES + query}
    )
    request = urllib.request.Request(url, headers={"Accept": accept_for(query)})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            body = response.read()
    except urllib.error.HTTPError as error:
        error.close()
        return f"HTTP {error.code}"
    except OSError as error:
        return f"error: {error}"
    if accept_for(query) == "text/turtle":
        return f"{len(list(ox.parse(body, format=ox.RdfFormat.TURTLE)))} triples"
    return f"{len(json.loads(body)['results']['bindings'])} rows"


# ---------------------------------------------------------------------------------------------
# Report


def fmt_cell(cell: Cell) -> str:
    """Median / p95 / throughput, compactly."""
    extra = f" ({cell.errors} err)" if cell.errors else ""
    return f"{cell.median_ms:8.1f} {cell.p95_ms:8.1f} {cell.throughput:8.1f}{extra}"


def fmt_cpu(cell: Cell) -> str:
    """Server / client CPU per request, the busiest process's cores, the machine's busy share."""
    server, client = cell.cpu_ms(cell.server_cpu), cell.cpu_ms(cell.client_cpu)
    cores = cell.busiest_cpu / cell.seconds if cell.seconds else math.nan
    return f"{server:5.2f} / {client:4.2f} {cores:4.2f} {cell.busy:4.0%}"


def report(
    peers: dict[str, Peer],
    results: dict[str, dict[str, Cell]],
    engine_ms: dict[str, float],
    mixes: dict[str, Cell],
    ours: list[int],
    checked: dict[str, list[str]],
    via_app: Sequence[int] = (),
) -> None:
    """Print one scale's table, answers, ratios and mix."""
    print(f"{'query':12} {'engine':>7}  " + "  ".join(
        f"{p.name[:24]:>26}" for p in peers.values()))  # fmt: skip
    print(f"{'':12} {'ms':>7}  " + "  ".join(f"{'median   p95    req/s':>26}" for _ in peers))
    for name in QUERIES:
        row = "  ".join(f"{fmt_cell(results[key][name]):>26}" for key in peers)
        print(f"{name:12} {engine_ms[name]:7.1f}  {row}")
    print(
        "CPU: ms per request in the peer's processes / in the bench's clients, cores used by the "
        "peer's busiest process, the machine's busy share"
    )
    print(f"{'':12} {'':7}  " + "  ".join(f"{'server / client cores busy':>26}" for _ in peers))
    for name in QUERIES:
        row = "  ".join(f"{fmt_cpu(results[key][name]):>26}" for key in peers)
        print(f"{name:12} {'':7}  {row}")
    print("answers (the same query on each peer):")
    for name, found in checked.items():
        print(f"  {name:12} " + " | ".join(found))
    for key in [*(f"ours-{c}" for c in ours), *(f"app-{c}" for c in via_app)]:
        print(f"ratios (throughput), {peers[key].name}:")
        for name in QUERIES:
            mine = results[key][name].throughput
            bare = results["oxigraph"][name].throughput
            kind = "engine >= 10 ms" if engine_ms[name] >= 10 else "trivial"
            line = f"  {name:12} ours/oxigraph {mine / bare:5.2f}  [{kind}]"
            if "rdflib" in results:
                slow = results["rdflib"][name].throughput
                line += f"  ours/rdflib-endpoint {mine / slow:8.1f}" if slow else "  rdflib: none"
            through = results.get("app-" + key.removeprefix("ours-"))
            if key.startswith("ours-") and through:
                line += f"  direct/via-app {mine / through[name].throughput:5.2f}"
            print(line)
    m_bare = mixes["oxigraph"]
    print(
        f"repeated-query mix ({CLIENTS} clients, {CLIENTS // 2} revalidating with If-None-Match):"
        f"\n  oxigraph {fmt_cell(m_bare)}  CPU ms {fmt_cpu(m_bare)}"
    )
    for count in ours:
        m_ours = mixes[f"ours-{count}"]
        print(
            f"  ours, {count} process(es) {fmt_cell(m_ours)}  ({m_ours.not_modified} answered "
            f"304)  CPU ms {fmt_cpu(m_ours)}"
            f"\n    ours/oxigraph throughput {m_ours.throughput / m_bare.throughput:5.2f}",
            flush=True,
        )


def bench_scale(scale: int, args: argparse.Namespace, folder: Path) -> dict[str, object]:
    """Build one scale, start the peers, measure every query and the mix; return the figures."""
    info = build(scale, folder)
    ours = [int(count) for count in args.processes.split(",")]
    via_app = [int(count) for count in args.via_app.split(",") if count]
    print(
        f"\n== {scale}x: {info['registers']} registers, {info['agreements']} agreement listings, "
        f"{info['quads']} quads (loaded and validated in {info['load_seconds']} s)",
        flush=True,
    )
    dump = folder / "data.nq"
    peers: dict[str, Peer] = {}
    results: dict[str, dict[str, Cell]] = {}
    try:
        for index, count in enumerate(ours):  # each on its own copy of the store
            store = folder / ("store" if index == 0 else f"store-{count}")
            if index:
                shutil.copytree(folder / "store", store)
            peers[f"ours-{count}"] = start_endpoint(
                store, str(info["catalog"]), folder / f"app-{count}.log", args.workers, count
            )
        for count in via_app:  # the same with every query through Flask, on a copy of its own
            store = folder / f"store-app-{count}"
            shutil.copytree(folder / "store", store)
            peers[f"app-{count}"] = start_endpoint(
                store, str(info["catalog"]), folder / f"via-app-{count}.log", args.workers, count,
                direct=False,
            )  # fmt: skip
        peers["oxigraph"] = start_oxigraph(dump)
        if scale <= args.rdflib_max_scale:
            peers["rdflib"] = start_rdflib_endpoint(dump, folder / "rdflib.log")
        for key, peer in peers.items():
            warm(peer)
            results[key] = {}
        checked = {name: [answers(p, q) for p in peers.values()] for name, q in QUERIES.items()}
        # Peers take turns on each query, so that a noisy neighbour hits them alike.
        for name, query in QUERIES.items():
            for key, peer in peers.items():
                budget = args.budget * (args.rdflib_budget_factor if key == "rdflib" else 1)
                results[key][name] = run(
                    peer, lambda i, n, q=query: q, clients=CLIENTS, budget=budget,
                    max_requests=args.max_requests, unique=True,
                )  # fmt: skip
        engine_ms = {
            name: run(
                peers["oxigraph"], lambda i, n, q=query: q, clients=1, budget=args.budget / 2,
                max_requests=50, unique=True,
            ).median_ms
            for name, query in QUERIES.items()
        }  # fmt: skip
        weighted = [name for name, weight in MIX_WEIGHTS.items() for _ in range(weight)]

        def mix(i: int, n: int) -> str:
            return QUERIES[random.Random(i * 100_003 + n).choice(weighted)]

        mixes = {
            key: run(
                peers[key], mix, clients=CLIENTS, budget=args.budget * 2,
                max_requests=args.max_requests * 4, unique=False, revalidating=CLIENTS // 2,
            )
            for key in [*(f"ours-{count}" for count in ours), "oxigraph"]
        }  # fmt: skip
    finally:
        for peer in peers.values():
            peer.close()
    report(peers, results, engine_ms, mixes, ours, checked, via_app)
    return {
        "data": info,
        "answers": checked,
        "engine_ms": engine_ms,
        "cells": {
            key: {name: cell.__dict__ | {"median_ms": cell.median_ms, "p95_ms": cell.p95_ms,
                                         "throughput": cell.throughput}
                  for name, cell in cells.items()}
            for key, cells in results.items()
        },
        "mix": {key: {"median_ms": c.median_ms, "p95_ms": c.p95_ms, "throughput": c.throughput,
                      "not_modified": c.not_modified, "server_cpu": c.server_cpu,
                      "busiest_cpu": c.busiest_cpu, "client_cpu": c.client_cpu, "busy": c.busy}
                for key, c in mixes.items()},
    }  # fmt: skip


def main() -> None:
    """Parse arguments, run every scale, print the figures and the command."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10,100", help="comma-separated multiples")
    parser.add_argument("--budget", type=float, default=4.0, help="seconds per (peer, query)")
    parser.add_argument("--max-requests", type=int, default=2000, help="cap per (peer, query)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="query worker processes of each app process")  # fmt: skip
    parser.add_argument("--processes", default="1,2",
                        help="comma-separated app process counts (s22a serve --workers N), "
                             "each run as a peer")  # fmt: skip
    parser.add_argument("--via-app", default="",
                        help="comma-separated app process counts also run with every query "
                             "through Flask (S22A_SPARQL_DIRECT=0), as peers")  # fmt: skip
    parser.add_argument("--rdflib-max-scale", type=int, default=100,
                        help="largest scale to run rdflib-endpoint at")  # fmt: skip
    parser.add_argument("--rdflib-budget-factor", type=float, default=1.0,
                        help="rdflib-endpoint's budget, as a multiple of --budget")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--build", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        _build_child(int(args.build[0]), Path(args.build[1]))
        return
    command = "python -m bench.sparql " + shlex.join(sys.argv[1:])
    print(
        f"$ {command}\n{os.cpu_count()} CPUs, {CLIENTS} concurrent clients, "
        f"budget {args.budget:g} s or {args.max_requests} requests per cell",
        flush=True,
    )
    figures = {}
    for scale in [int(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory(prefix=f"s22a-bench-{scale}x-") as tmp:
            figures[scale] = bench_scale(scale, args, Path(tmp))
    print(f"\nReproduce with: {command}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str))


if __name__ == "__main__":
    main()
