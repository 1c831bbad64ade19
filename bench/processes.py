"""1, 2 and 4 app processes on one store: pages and `/sparql` throughput side by side.

Run from the repository root after ``python3 -m pip install -r requirements/dev.lock -e .``:

    python -m bench.processes                          # 1,2,4 processes, 400 requests each
    python -m bench.processes --requests 200 --budget 20   # a quick look

One ``oxigraph serve --union-default-graph`` on 127.0.0.1 holds the seed registers (loaded
once through the catalogue, validated and reconciled, then copied in as N-Quads). For each
count N, N separate ``s22a serve --store sparql:URL`` processes (one Granian worker of 16
threads each, as the README's production deployment runs them) share that store, one token
file and one lock folder. With ``--embedded``, one ``s22a serve --workers N`` runs on a copy of
an embedded store holding the same seed registers. 8 client threads (each one keep-alive
connection, spread round-robin over the N processes) send, per scenario, up to `--requests`
requests or for `--budget` seconds, whichever ends first:

* ``page``: an agreement page as HTML (the app renders it from the store);
* ``page 304``: the same page revalidated with its ETag (what an HTTP cache in front sends);
* ``sparql join``: a join over the registers (query limits raised so that one address,
  127.0.0.1, may have every client's query admitted), each request with its own trailing
  comment so that no result cache answers it (the query runs on the store);
* ``sparql lookup``: the same for a lookup of one agreement, which costs the store little, so
  that what each query costs the app (the request, the exchange with the store) shows.

Printed: requests/s, median and p95 latency, and each N's throughput as a ratio of N=1's.
Nothing here is a test and nothing asserts a time; only loopback is used. On a 2-core machine
the store, the app processes and the clients share two cores; one app process uses about one
of them whatever its threads (one interpreter lock), so a second process can use the other:
the figures show what N processes gain or cost on one machine (and that nothing breaks), not
how N machines would scale.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.pages import s22a_serve, wait_answering
from tests.support.processes import terminate

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = 8
THREADS = 16
PAGE = "/doc/agreement/north-west-forensics.html"
QUERY = """PREFIX s22a: <https://w3id.org/s22a/def/s22a#>
SELECT ?agreement ?one ?other WHERE {
  GRAPH ?r1 { ?r1 s22a:force ?one ; s22a:lists ?agreement }
  GRAPH ?r2 { ?r2 s22a:force ?other ; s22a:lists ?agreement }
  FILTER(STR(?one) < STR(?other))
}"""
LOOKUP = "SELECT ?p ?o WHERE { <https://w3id.org/s22a/id/agreement/north-west-forensics> ?p ?o }"
SCENARIOS = {"page": None, "page 304": None, "sparql join": QUERY, "sparql lookup": LOOKUP}


@dataclass
class Figures:
    """What one scenario measured."""

    requests: int
    seconds: float
    latencies: list[float]

    @property
    def rps(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    def percentile(self, share: float) -> float:
        """The latency (ms) below which `share` of the requests finished."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))] * 1000


def seed_store(url: str) -> None:
    """Load the seed registers into the Oxigraph server at `url` (validated, as `s22a load`)."""
    from tests.support.app import seed_dump

    request = urllib.request.Request(
        f"{url}/store",
        data=seed_dump(),
        method="POST",
        headers={"Content-Type": "application/n-quads"},
    )
    urllib.request.urlopen(request, timeout=600).close()


def seed_embedded(folder: Path) -> str:
    """An embedded store at `folder` holding the seed registers (as `seed_store`)."""
    from s22a.store import OxigraphStore
    from tests.support.app import seed_dump

    with OxigraphStore(folder) as store:
        store.add_dataset(seed_dump())
    return str(folder)


def start_apps(count: int, store: str, folder: Path) -> list[subprocess.Popen[bytes]]:
    """`count` separate `s22a serve` processes on the remote store at URL `store`, sharing
    tokens and locks; or, `store` an embedded store's folder, one `s22a serve --workers
    COUNT` on a copy of it."""
    from tests.support.oxigraph import free_port

    env = {
        **os.environ,
        "S22A_TOKENS": str(folder / "tokens.json"),
        "S22A_LOCKS": str(folder / "locks"),
        # Every client comes from 127.0.0.1: let one address have them all running at once,
        # and give a loaded machine time (a 503 would end the run).
        "S22A_SPARQL_CLIENT_QUERIES": str(CLIENTS * 2),
        "S22A_SPARQL_TIMEOUT": "60",
        # One public address for all, as behind a cache: ETags (and absolute URLs) agree.
        "S22A_PUBLIC_URL": "http://register.test/",
    }
    processes, ports = [], []
    embedded = not store.startswith("http")
    if embedded:
        copy = folder / f"store-{count}"
        shutil.copytree(store, copy)
    for n in range(1 if embedded else count):
        port = free_port()
        if embedded:
            command = s22a_serve(f"oxigraph:{copy}", port, THREADS, workers=count)
        else:
            command = s22a_serve(f"sparql:{store}", port, THREADS)
        log = (folder / f"app-{count}-{n}.log").open("wb")
        processes.append(
            subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        )
        ports.append(port)
    for process, port in zip(processes, ports, strict=True):
        wait_ready(process, port)
    for process, port in zip(processes, ports, strict=True):
        process.port = port  # type: ignore[attr-defined]
    return processes


def wait_ready(process: subprocess.Popen[bytes], port: int, timeout: float = 300) -> None:
    """Block until the app on `port` answers its home page."""
    wait_answering(process, port, "/", timeout, f"the app on port {port}")


def stop_apps(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop the app processes and wait for them."""
    for process in processes:
        process.terminate()  # all at once, then wait for each
    for process in processes:
        terminate(process, 30)


def etag(port: int) -> str:
    """The page's ETag, as a cache in front would have stored it."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", PAGE)
    response = connection.getresponse()
    response.read()
    connection.close()
    tag = response.getheader("ETag")
    if response.status != 200 or not tag:
        raise SystemExit(f"{PAGE} answered {response.status} without an ETag")
    return tag


def run(ports: list[int], scenario: str, requests: int, budget: float, tag: str) -> Figures:
    """Up to `requests` requests of `scenario` (or `budget` seconds) from CLIENTS threads."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    counter = iter(range(requests))
    deadline = time.monotonic() + budget

    def client(index: int) -> None:
        port = ports[index % len(ports)]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        while time.monotonic() < deadline:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            if scenario.startswith("sparql"):
                query = urllib.parse.quote(f"{SCENARIOS[scenario]} # {n}")
                path, headers = f"/sparql?query={query}", {"Accept": "text/csv"}
            else:
                path = PAGE
                headers = {"If-None-Match": tag} if scenario == "page 304" else {}
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            expected = 304 if scenario == "page 304" else 200
            if response.status != expected:
                with lock:
                    failures.append(f"{path[:40]}: {response.status}")
        connection.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, e.g. {failures[0]}")
    return Figures(len(latencies), seconds, latencies)


def main() -> None:
    """Run every process count and scenario; print the figures and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", default="1,2,4", help="comma-separated app counts")
    parser.add_argument("--requests", type=int, default=400, help="requests per scenario")
    parser.add_argument("--budget", type=float, default=60, help="seconds per scenario at most")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, of: {', '.join(SCENARIOS)}")  # fmt: skip
    parser.add_argument("--embedded", action="store_true",
                        help="one s22a serve --workers N on the embedded store, not N processes "
                             "on a remote one")  # fmt: skip
    args = parser.parse_args()
    from tests.support.oxigraph import OxigraphServer

    counts = [int(c) for c in args.processes.split(",")]
    scenarios = [s.strip() for s in args.scenarios.split(",")]
    if unknown := set(scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
    figures: dict[tuple[int, str], Figures] = {}
    with (
        tempfile.TemporaryDirectory(prefix="s22a-bench-processes-") as tmp,
        contextlib.nullcontext() if args.embedded else OxigraphServer() as server,
    ):
        if server is None:
            store = seed_embedded(Path(tmp) / "seeded")
        else:
            seed_store(server.url)
            store = server.url
        for count in counts:
            apps = start_apps(count, store, Path(tmp))
            try:
                ports = [app.port for app in apps]  # type: ignore[attr-defined]
                tag = etag(ports[0])
                for scenario in scenarios:
                    run(ports, scenario, CLIENTS * 2, args.budget, tag)  # warm every process
                    figures[count, scenario] = run(ports, scenario, args.requests, args.budget, tag)
            finally:
                stop_apps(apps)
    where = "the embedded store" if args.embedded else "one oxigraph serve on 127.0.0.1"
    print(f"\n{CLIENTS} clients; {os.cpu_count()} CPUs; {where}")
    print(
        "| scenario | app processes | requests | req/s | median ms | p95 ms | req/s vs 1 |\n"
        "|---|---:|---:|---:|---:|---:|---:|"
    )
    for scenario in scenarios:
        base = figures[counts[0], scenario].rps
        for count in counts:
            f = figures[count, scenario]
            print(
                f"| {scenario} | {count} | {f.requests} | {f.rps:.1f} | "
                f"{statistics.median(f.latencies) * 1000:.1f} | {f.percentile(0.95):.1f} | "
                f"{f.rps / base:.2f} |"
            )
    print("\n$ python -m bench.processes " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
