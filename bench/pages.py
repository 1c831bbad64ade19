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
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGE = "/doc/agreement/north-west-rocu"
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


def s22a_serve(store: Path, port: int) -> list[str]:
    """The README's `s22a serve` on `store` and `port`."""
    script = Path(sys.executable).with_name("s22a")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "s22a"]
    return [
        *command,
        "serve",
        "--port",
        str(port),
        "--threads",
        str(THREADS),
        "--store",
        f"oxigraph:{store}",
    ]


def constant_server(port: int) -> list[str]:
    """The constant string on the same production server."""
    return [sys.executable, "-c", CONSTANT_SERVER, str(port)]


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
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited: see {self.log.name}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the server did not answer {path} within {timeout:g} s")

    def stop(self) -> None:
        """Stop the server and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
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
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, *sys.argv]))
    with tempfile.TemporaryDirectory(prefix="s22a-bench-pages-") as folder:
        store = Path(folder) / "store"
        started = time.perf_counter()
        load_store(store)
        print(f"seed registers loaded in {time.perf_counter() - started:.1f} s")
        results: dict[str, dict[str, float]] = {}
        with multiprocessing.get_context("spawn").Pool(PROCESSES) as pool:
            app = Server(lambda port: s22a_serve(store, port), {}, Path(folder) / "app.log")
            try:
                app.wait(PAGE)
                print("app:", shlex.join(app.command))
                connection = http.client.HTTPConnection("127.0.0.1", app.port)
                connection.request("GET", PAGE, headers={"Accept": "text/html"})
                response = connection.getresponse()
                size, etag = len(response.read()), response.getheader("ETag") or ""
                connection.close()
                scenarios = {
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
    base = results["constant string"]
    print(
        f"{'scenario':<28}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'req/s ratio':>13}{'p50 ratio':>11}"
    )
    for name, figures in results.items():
        print(
            f"{name:<28}{figures['rps']:>9.0f}{figures['p50']:>9.1f}{figures['p99']:>9.1f}"
            f"{figures['rps'] / base['rps']:>13.3f}{figures['p50'] / base['p50']:>11.1f}"
        )


if __name__ == "__main__":
    main()
