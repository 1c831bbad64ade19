"""An agreement page under load: `s22a serve` against the same server serving a constant string.

Run from the repository root after ``python3 -m pip install -r requirements/dev.lock -e .``:

    python -m bench.pages                   # 3,200 requests per scenario, 16 clients
    python -m bench.pages --requests 800    # a quick look

The seed registers are loaded (validated, reconciled) into an on-disk store in a temporary
folder; then, one after the other, two servers run on 127.0.0.1 with the same production
server settings (`s22a.web.production`: Granian, one worker with 16 threads):

* the app, ``s22a serve --threads 16`` over that store;
* ``bench.pages:constant``, a WSGI app that returns the same short string to every request,
  served by `s22a.web.production.run` (it is not the register, so not ``s22a serve``).

Each scenario sends a fixed number of GET requests from 16 concurrent clients (4 processes
of 4 threads, each thread one keep-alive connection) and prints requests per second and the
median and 99th percentile latency; ratios compare each scenario with the constant string,
measured in the same run. Scenarios: the agreement page as HTML, as Turtle, and as HTML
revalidated with If-None-Match (answered 304, as a browser or HTTP cache would get it).
Nothing here is a test and nothing asserts a time; only loopback is used.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import multiprocessing
import os
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from tests.support.processes import terminate
from tests.support.server import s22a_command

ROOT = Path(__file__).resolve().parent.parent
PAGE = "/doc/agreement/north-west-rocu"
STATIC = "/static/s22a.css"
CLIENTS, PROCESSES = 16, 4
THREADS = 16
# The constant string on the production server (Granian through the bridge), as bench.front
# serves it.
CONSTANT_SERVER = (
    "import sys; from bench.front import serve; serve('s22a', sys.argv[1], '', 'constant')"
)


def constant(environ: dict[str, object], start_response: object) -> Iterable[bytes]:
    """The baseline: a WSGI app that answers every request with the same short string."""
    body = b"constant\n"
    start_response(
        "200 OK",
        [
            ("Content-Type", "text/plain; charset=utf-8"),  # type: ignore[operator]
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load_store(path: Path) -> None:
    """Load the bundled catalogue (seed registers) into an on-disk store at `path`."""
    from s22a.ingest.load import load_catalog
    from s22a.store import open_store

    with open_store(f"oxigraph:{path}") as store:
        outcomes = load_catalog(store)
    refused = [o for o in outcomes if o.outcome == "Refused"]
    if refused:
        raise SystemExit(f"seed registers refused: {refused}")


def s22a_serve(store: str, port: int, threads: int = THREADS, workers: int = 1) -> list[str]:
    """The README's `s22a serve` on store spec `store` (``oxigraph:PATH``, ``sparql:URL``...)."""
    options = ["--port", str(port), "--threads", str(threads), "--store", store]
    options += ["--workers", str(workers)]
    return [*s22a_command(), "serve", *options]


# One process builds each page `count` times per batch, `batches` batches, with the page cache
# off, and prints CPU ms per page of each batch (JSON: path -> list).
COLD_RENDER = """
import json, sys, time
from s22a import create_app
app = create_app({"S22A_STORE": "oxigraph:" + sys.argv[1], "S22A_PAGE_CACHE_BYTES": 0})
client, count, batches = app.test_client(), int(sys.argv[2]), int(sys.argv[3])
figures = {}
for path in sys.argv[4:]:
    for _ in range(5):
        assert client.get(path, headers={"Accept": "text/html"}).status_code == 200, path
    runs = []
    for _ in range(batches):
        started = time.process_time()
        for _ in range(count):
            client.get(path, headers={"Accept": "text/html"})
        runs.append((time.process_time() - started) * 1000 / count)
    figures[path] = runs
print(json.dumps(figures))
"""
# The other pages timed cold: one of each kind, the home page and the lists.
COLD_PAGES = (
    "/doc/force/merseyside",
    "/doc/capability/anpr",
    "/doc/register/merseyside",
    "/doc/body/merseyside-pcc",
    "/doc/region/north-west",
    "/",
    "/agreements",
    "/forces",
    "/capabilities",
    "/regions",
    "/search?q=firearms",
)


def cold_render(
    store: Path,
    server_dir: str | None,
    count: int,
    paths: Sequence[str] = (PAGE,),
    batches: int = 1,
) -> dict[str, list[float]]:
    """CPU ms per cold render of each of `paths`, one figure per batch of `count` renders, in a
    process of its own (with the `s22a` of `server_dir` first on its path, if given)."""
    env = dict(os.environ)
    if server_dir:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [server_dir, env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", COLD_RENDER, str(store), str(count), str(batches), *paths],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode:
        raise SystemExit(
            f"the cold render failed ({server_dir or 'this checkout'}):\n{done.stderr}"
        )
    figures: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def cold_renders(
    store: Path, checkouts: dict[str, str | None], count: int, paths: Sequence[str], rounds: int
) -> dict[str, dict[str, list[float]]]:
    """`cold_render` of every checkout, taking turns `rounds` times (so that a busy spell of the
    machine falls on both alike): checkout -> path -> every batch's CPU ms per page."""
    found: dict[str, dict[str, list[float]]] = {name: {p: [] for p in paths} for name in checkouts}
    for _ in range(rounds):
        for name, server_dir in checkouts.items():
            for path, runs in cold_render(store, server_dir, count, paths, 3).items():
                found[name][path] += runs
    return found


def constant_server(port: int) -> list[str]:
    """The constant string on the same production server."""
    return [sys.executable, "-c", CONSTANT_SERVER, str(port)]


def wait_answering(
    process: subprocess.Popen[bytes], port: int, path: str, timeout: float, name: str
) -> None:
    """Block until `process` answers GET `path` on `port` with 200; exit if it dies or doesn't."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{name} exited with {process.returncode}")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            connection.close()
            if response.status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{name} did not answer {path} within {timeout:g} s")


class Server:
    """A server process on a free loopback port, started from `command(port)`."""

    def __init__(self, command: object, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.command: list[str] = command(self.port)  # type: ignore[operator]
        self.log = log.open("wb")
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env={**os.environ, **env}, stdout=self.log, stderr=self.log
        )

    def wait(self, path: str, timeout: float = 60) -> None:
        """Block until the server answers `path` with 200."""
        wait_answering(self.process, self.port, path, timeout, f"the server (see {self.log.name})")

    def stop(self) -> None:
        """Stop the server and wait for it."""
        terminate(self.process, 20)
        self.log.close()


def _client(args: tuple[int, str, dict[str, str], int, int]) -> list[float]:
    """One client process: `threads` keep-alive connections sending `count` requests each."""
    import threading

    port, path, headers, threads, count = args
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[str] = []

    def run() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = []
        for _ in range(count):
            start = time.perf_counter()
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - start)
            if response.status not in (200, 304):
                failures.append(str(response.status))
        connection.close()
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if failures:
        raise RuntimeError(f"{len(failures)} failed requests, e.g. {failures[0]}")
    return latencies


def measure(
    pool: multiprocessing.pool.Pool, port: int, path: str, headers: dict[str, str], requests: int
) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms) for `requests` GETs of `path` from CLIENTS clients."""
    per_client = max(1, requests // CLIENTS)
    threads = CLIENTS // PROCESSES
    warm = [(port, path, headers, threads, 5)] * PROCESSES
    pool.map(_client, warm)  # connections, caches and code paths warmed
    start = time.perf_counter()
    results = pool.map(_client, [(port, path, headers, threads, per_client)] * PROCESSES)
    elapsed = time.perf_counter() - start
    latencies = sorted(x for r in results for x in r)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[min(len(latencies) - 1, math.ceil(0.99 * len(latencies)) - 1)] * 1000,
    }


def main() -> None:
    """Run the scenarios and print the figures and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--requests",
        type=int,
        default=3200,
        help="requests per scenario (default 3200, 200 per client)",
    )
    parser.add_argument(
        "--renders",
        type=int,
        default=40,
        help="cold renders per batch timed in-process (default 40; 3 batches a round)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="rounds of cold renders, the checkouts taking turns (default 2)",
    )
    parser.add_argument(
        "--cold-only",
        action="store_true",
        help="only the in-process cold renders of the agreement page and the other pages",
    )
    parser.add_argument(
        "--baseline",
        metavar="SERVER_DIR",
        help="also time cold renders with the `s22a` package of another checkout "
        "(its server/ folder, e.g. an older commit's), on the same store",
    )
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="s22a-bench-pages-") as folder:
        store = Path(folder) / "store"
        started = time.perf_counter()
        load_store(store)
        print(f"seed registers loaded in {time.perf_counter() - started:.1f} s")
        checkouts = {
            "this checkout": None,
            **({"baseline": args.baseline} if args.baseline else {}),
        }
        renders = cold_renders(store, checkouts, args.renders, (PAGE, *COLD_PAGES), args.rounds)
        if args.cold_only:
            print_cold(renders, args.renders, args.rounds)
            return
        results: dict[str, dict[str, float]] = {}

        def serving(port: int) -> list[str]:
            return s22a_serve(f"oxigraph:{store}", port)

        with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
            app = Server(serving, {}, Path(folder) / "app.log")
            try:
                app.wait(PAGE)
                print("app:", shlex.join(app.command))
                connection = http.client.HTTPConnection("127.0.0.1", app.port)
                connection.request("GET", PAGE, headers={"Accept": "text/html"})
                response = connection.getresponse()
                size, etag = len(response.read()), response.getheader("ETag") or ""
                connection.close()
                scenarios = {
                    "static file": (STATIC, {}),
                    "agreement page, HTML": (PAGE, {"Accept": "text/html"}),
                    "agreement page, Turtle": (PAGE, {"Accept": "text/turtle"}),
                    "agreement page, HTML, 304": (
                        PAGE,
                        {"Accept": "text/html", "If-None-Match": etag},
                    ),
                }
                for name, (path, headers) in scenarios.items():
                    results[name] = measure(pool, app.port, path, headers, args.requests)
            finally:
                app.stop()
            # The same page built for every request: the page cache off (a cold render each time).
            cold = Server(serving, {"S22A_PAGE_CACHE_BYTES": "0"}, Path(folder) / "cold.log")
            try:
                cold.wait(PAGE)
                results["agreement page, HTML, cold"] = measure(
                    pool, cold.port, PAGE, {"Accept": "text/html"}, max(160, args.requests // 10)
                )
            finally:
                cold.stop()
            baseline = Server(
                constant_server, {"PYTHONPATH": str(ROOT)}, Path(folder) / "constant.log"
            )
            try:
                baseline.wait("/")
                results["constant string"] = measure(pool, baseline.port, "/", {}, args.requests)
            finally:
                baseline.stop()
    print(
        f"\n{CLIENTS} concurrent clients, {args.requests} requests per scenario; "
        f"the HTML page is {size:,} bytes\n"
    )
    base, static = results["constant string"], results["static file"]
    print(
        f"{'scenario':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'vs static':>11}{'vs constant':>13}"
    )
    for name, figures in results.items():
        print(
            f"{name:<30}{figures['rps']:>9.0f}{figures['p50']:>9.1f}{figures['p99']:>9.1f}"
            f"{figures['rps'] / static['rps']:>11.3f}{figures['rps'] / base['rps']:>13.3f}"
        )
    print_cold(renders, args.renders, args.rounds)


def print_cold(renders: dict[str, dict[str, list[float]]], count: int, rounds: int) -> None:
    """The cold renders' figures: the best batch (the one least disturbed by the rest of the
    machine) and the median batch of each checkout, and the baseline's over this checkout's."""
    batches = len(next(iter(renders.values()))[PAGE])
    print(
        f"\ncold render of {PAGE} (HTML), one client in-process, CPU ms per page "
        f"(best of {batches} batches of {count}, {rounds} rounds taking turns; median):"
    )
    best = {name: {p: min(runs) for p, runs in paths.items()} for name, paths in renders.items()}
    middle = {
        name: {p: statistics.median(runs) for p, runs in paths.items()}
        for name, paths in renders.items()
    }
    for name in renders:
        ms, median = best[name][PAGE], middle[name][PAGE]
        ratio = (
            f"  ({best['baseline'][PAGE] / ms:.2f}x cheaper than the baseline; median "
            f"{middle['baseline'][PAGE] / median:.2f}x)"
            if "baseline" in renders and name != "baseline"
            else ""
        )
        print(f"  {name:<16}{ms:>8.2f}  (median {median:.2f}){ratio}")
    print("\nother pages cold, CPU ms per page (best batch; median batch):")
    names = list(renders)
    header = "".join(f"{n:>22}" for n in names)
    print(f"{'page':<28}{header}" + (f"{'baseline / this':>17}" if "baseline" in renders else ""))
    for path in COLD_PAGES:
        cells = "".join(f"{best[n][path]:>12.2f} ({middle[n][path]:>6.2f})" for n in names)
        ratio = (
            f"{best['baseline'][path] / best['this checkout'][path]:>17.2f}"
            if "baseline" in renders
            else ""
        )
        print(f"{path:<28}{cells}{ratio}")


if __name__ == "__main__":
    main()
