"""HTTP servers side by side on the same app: throughput, p99, and slow clients.

Run from the repository root after ``python3 -m pip install -r requirements/dev.lock -e .``:

    python -m bench.front                       # every server, 3,200 requests per scenario
    python -m bench.front --requests 800        # a quick look
    python -m bench.front --servers s22a,gthread

The seed registers are loaded into an on-disk store once; then, one server after the other,
each serves the same app (`create_app`, the store opened in its worker) on 127.0.0.1 with 32
threads (gevent: greenlets) and one worker process:

* ``s22a``: ``s22a serve`` itself: Granian's RSGI interface through `s22a.web.bridge`, which
  reads each request whole before a thread takes it (the production server);
* ``granian-wsgi``: Granian's own WSGI interface;
* ``gthread`` and ``gevent``: gunicorn with those workers;
* ``waitress``.

Scenarios, 16 concurrent keep-alive clients each: a constant string (a WSGI app that answers
every request with the same bytes: the server's own cost), the agreement page as HTML, its
304 revalidation, and a `/sparql` query its result cache answers. Then the attacks of issue 14,
from another loopback address (127.0.0.2) than the reader: 16 connections that drip headers
(a line a second) and then 16 that drip a body (a byte a second), 8 s each, while one reader
fetches the agreement page every 0.2 s; the reader's worst time and failures are printed.
Ratios compare each server with ``s22a`` in the same run. Nothing asserts a time.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.pages import PAGE, free_port, load_store, measure, s22a_serve, wait_answering
from tests.support.processes import terminate

ROOT = Path(__file__).resolve().parent.parent
THREADS = 32
SERVERS = ("s22a", "granian-wsgi", "gthread", "gevent", "waitress")
# The load generator is one loopback address standing for many readers: the per-address
# shares (S22A_CLIENT_REQUESTS, S22A_SPARQL_CLIENT_QUERIES) are lifted for it.
ONE_ADDRESS = {"S22A_CLIENT_REQUESTS": "0", "S22A_SPARQL_CLIENT_QUERIES": "0"}
QUERY = "SELECT ?a WHERE { ?a a <https://w3id.org/s22a/def/s22a#Agreement> } LIMIT 5"


def constant(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """The baseline: a WSGI app that answers every request with the same short string."""
    body = b"constant\n"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "9")])
    return [body]


def _app(store: str, which: str) -> Any:
    """The app to serve: the register on `store` (opened now, in this worker), or `constant`."""
    if which == "constant":
        return constant
    from s22a import create_app
    from s22a.store import get_store

    app = create_app({"S22A_STORE": store})
    with app.app_context():
        get_store()
    return app


def serve(kind: str, port_text: str, store: str, which: str) -> None:
    """Run server `kind` on `port` until killed (the body of the server process)."""
    port = int(port_text)
    if kind == "waitress":
        import waitress

        waitress.serve(_app(store, which), host="127.0.0.1", port=port, threads=THREADS)
    elif kind == "granian-wsgi":
        from granian.constants import HTTPModes, Interfaces
        from granian.server import Server

        server = Server(
            "bench.front:constant", address="127.0.0.1", port=port,
            interface=Interfaces.WSGI, blocking_threads=THREADS, http=HTTPModes.http1,
            websockets=False,
        )  # fmt: skip
        server.serve(target_loader=lambda *_: _app(store, which), wrap_loader=False)
    elif kind in ("gthread", "gevent"):
        from gunicorn.app.base import BaseApplication

        class Gunicorn(BaseApplication):  # type: ignore[misc]
            def load_config(self) -> None:
                options = {"bind": f"127.0.0.1:{port}", "workers": 1, "worker_class": kind}
                options |= {"threads": THREADS, "worker_connections": 1000, "accesslog": None}
                for key, value in options.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return _app(store, which)

        Gunicorn().run()
    elif kind == "s22a" and which == "constant":
        from granian.constants import HTTPModes, Interfaces
        from granian.server import Server

        from s22a.web.bridge import Bridge

        bridge = Bridge(
            constant, threads=THREADS, max_body=1 << 20, body_timeout=60, client_requests=16
        )
        server = Server(
            "bench.front:constant",
            address="127.0.0.1",
            port=port,
            interface=Interfaces.RSGI,
            http=HTTPModes.http1,
            websockets=False,
        )
        server.serve(target_loader=lambda *_: bridge, wrap_loader=False)
    else:
        raise SystemExit(f"unknown server {kind}")


def start(kind: str, store: Path, which: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start server `kind` serving `which` ("app" or "constant"); wait until it answers."""
    port = free_port()
    if kind == "s22a" and which == "app":
        command = s22a_serve(f"oxigraph:{store}", port, THREADS)
    else:
        code = "import sys; from bench.front import serve; serve(*sys.argv[1:])"
        command = [sys.executable, "-c", code, kind, str(port), f"oxigraph:{store}", which]
    with log.open("ab") as output:
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=output, stderr=output, start_new_session=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **ONE_ADDRESS},
        )  # fmt: skip
    path = PAGE if which == "app" else "/"
    try:
        wait_answering(process, port, path, 120, f"{kind} (see {log})")
    except SystemExit:
        stop(process)
        raise
    return process, port


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server's whole process group."""
    terminate(process, 15, group=True)


def _drip(port: int, until: float, body: bool) -> None:
    try:
        with socket.create_connection(
            ("127.0.0.1", port), timeout=20, source_address=("127.0.0.2", 0)
        ) as sock:
            if body:
                sock.sendall(b"POST /publish/validate HTTP/1.1\r\nHost: x\r\n"
                             b"Content-Length: 100000\r\n\r\nturtle=")  # fmt: skip
            else:
                sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            number = 0
            while time.monotonic() < until:
                sock.sendall(b"a" if body else f"X-{number}: y\r\n".encode())
                number += 1
                time.sleep(1)
    except OSError:
        pass  # the server closed the connection (a deadline) or refused it


def attack(port: int, body: bool, seconds: float = 8) -> dict[str, float]:
    """The reader's worst time and failures while 16 clients drip headers or a body."""
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=_drip, args=(port, until, body)) for _ in range(16)]
    for thread in threads:
        thread.start()
    time.sleep(1)
    times, failures = [], 0
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=seconds + 5)
            connection.request("GET", PAGE, headers={"Accept": "text/html"})
            failures += connection.getresponse().status != 200
            connection.close()
        except OSError:
            failures += 1
        times.append(time.monotonic() - started)
        time.sleep(0.2)
    for thread in threads:
        thread.join(30)
    return {"worst": max(times) * 1000, "requests": len(times), "failures": failures}


def main() -> None:
    """Measure every server and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3200, help="requests per scenario")
    parser.add_argument("--servers", default=",".join(SERVERS), help="which, comma-separated")
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, "-m", "bench.front", *sys.argv[1:]]))
    kinds = [k for k in args.servers.split(",") if k]
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="s22a-bench-front-") as folder:
        store = Path(folder) / "store"
        load_store(store)
        log = Path(folder) / "servers.log"
        query = "/sparql?query=" + urllib.parse.quote(QUERY)
        with multiprocessing.get_context("spawn").Pool(4) as pool:
            for kind in kinds:
                figures: dict[str, Any] = {}
                process, port = start(kind, store, "constant", log)
                try:
                    figures["constant"] = measure(pool, port, "/", {}, args.requests)
                finally:
                    stop(process)
                process, port = start(kind, store, "app", log)
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    connection.request("GET", PAGE, headers={"Accept": "text/html"})
                    response = connection.getresponse()
                    response.read()
                    etag = response.getheader("ETag") or ""
                    connection.close()
                    connection.request("GET", query, headers={"Accept": "text/csv"})
                    connection.getresponse().read()  # the result is in the cache from now on
                    connection.close()
                    html = {"Accept": "text/html"}
                    figures["page"] = measure(pool, port, PAGE, html, args.requests)
                    figures["304"] = measure(
                        pool, port, PAGE, {**html, "If-None-Match": etag}, args.requests
                    )
                    figures["sparql"] = measure(
                        pool, port, query, {"Accept": "text/csv"}, args.requests
                    )
                    figures["drip headers"] = attack(port, body=False)
                    figures["drip body"] = attack(port, body=True)
                finally:
                    stop(process)
                results[kind] = figures
                print(f"{kind}: done", flush=True)
    base = results.get("s22a") or next(iter(results.values()))
    print(f"\nreq/s (p99 ms) with 16 clients, {args.requests} requests per scenario; "
          "ratio to s22a in brackets\n")  # fmt: skip
    scenarios = ("constant", "page", "304", "sparql")
    print(f"{'server':<14}" + "".join(f"{s:>24}" for s in scenarios))
    for kind, figures in results.items():
        cells = []
        for scenario in scenarios:
            f, b = figures[scenario], base[scenario]
            cells.append(f"{f['rps']:,.0f} ({f['p99']:,.0f}) [{f['rps'] / b['rps']:.2f}]")
        print(f"{kind:<14}" + "".join(f"{c:>24}" for c in cells))
    print("\nwhile 16 clients drip (8 s): the reader's worst ms, failed / requests\n")
    for kind, figures in results.items():
        cells = [
            f"{figures[a]['worst']:,.0f} ms, {figures[a]['failures']}/{figures[a]['requests']}"
            for a in ("drip headers", "drip body")
        ]
        print(f"{kind:<14}{'headers: ' + cells[0]:>28}{'body: ' + cells[1]:>28}")


if __name__ == "__main__":
    main()
