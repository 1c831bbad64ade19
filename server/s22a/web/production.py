"""The production HTTP server: Granian (a Rust HTTP server), from `s22a serve`.

Chosen by measurement (`python -m bench.front`, bench/README.md): side by side with gunicorn
(gthread and gevent workers), waitress and Granian's own WSGI interface, on the same app and
machine. Granian reads requests in Rust; through `s22a.web.bridge` it hands a request to one
of the worker's threads only once it has arrived whole (headers within `header_timeout`, the
body within `body_timeout`), so a client that drips its headers or body holds a socket, never
a thread, and one client address may have only `client_requests` requests in progress.
`s22a.web.front` (installed by `create_app`) gives canonical URLs and the access log, which is
written to standard output here.

The app is built in the master (`s22a serve`) and the master forks each worker; what must live
in a worker (the store handle, the malloc arena limit, the threads) starts in the worker
(`prepare`).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from flask import Flask
from granian.constants import HTTPModes, Interfaces
from granian.http import HTTP1Settings
from granian.server import Server

from s22a.sparql.protocol import MAX_REQUEST_BYTES
from s22a.web.bridge import Bridge
from s22a.web.direct import DirectQueries
from s22a.web.front import ACCESS_LOG
from s22a.web.memo import AnswerMemo
from s22a.web.memory import limit_malloc_arenas

# Requests the Rust side holds per worker (being read, or waiting for a thread): past that,
# new connections wait in the listen backlog.
BACKPRESSURE = 1024
MULTIPART_OVERHEAD = 64 * 1024  # a form's boundaries and field headers around its file


def largest_body(config: dict) -> int:
    """The largest request body any route accepts, in bytes: more is never read."""
    limits = (config["S22A_MAX_UPLOAD"], config["S22A_ANONYMOUS_MAX_UPLOAD"], MAX_REQUEST_BYTES)
    return max(int(limit) for limit in limits) + MULTIPART_OVERHEAD


def _rsgi(
    app: Flask, threads: int, prepare: Callable[[], None] | None, malloc_arenas: int
) -> Bridge:
    """The application a worker serves, after the per-worker set-up."""
    limit_malloc_arenas(malloc_arenas)
    if prepare is not None:
        prepare()
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOG.addHandler(handler)
    ACCESS_LOG.setLevel(logging.INFO)
    ACCESS_LOG.propagate = False
    return Bridge(
        app,
        threads=threads,
        max_body=largest_body(app.config),
        body_timeout=float(app.config["S22A_BODY_TIMEOUT"]),
        client_requests=int(app.config["S22A_CLIENT_REQUESTS"]),
        memo=AnswerMemo(
            int(app.config["S22A_ANSWER_MEMO_BYTES"]),
            (app.config.get("S22A_TRUSTED_PROXIES") or "").split(","),
        ),
        direct=DirectQueries(app) if int(app.config["S22A_SPARQL_DIRECT"]) else None,
    )


def run(
    app: Flask,
    *,
    host: str,
    port: int,
    workers: int = 1,
    threads: int = 32,
    prepare: Callable[[], None] | None = None,
    malloc_arenas: int = 0,
    header_timeout: float = 5.0,
) -> None:
    """Serve `app` with Granian until interrupted (SIGINT, SIGTERM).

    In each worker, before it serves, glibc's malloc arenas are capped at `malloc_arenas`
    (0: glibc's default; see `s22a.web.memory`) and `prepare` runs. `threads` is the number of
    threads per worker that run the app.
    """
    server = Server(
        "s22a:create_app",  # a label only: the app is loaded by the loader below
        address=host,
        port=port,
        interface=Interfaces.RSGI,
        workers=workers,
        backpressure=BACKPRESSURE,
        http=HTTPModes.http1,
        websockets=False,
        http1_settings=HTTP1Settings(header_read_timeout=max(1, int(header_timeout * 1000))),
        log_access=False,  # `s22a.web.front` writes the access log, without tokens
        respawn_failed_workers=True,
        # A stop lets requests in flight finish for this long at most.
        workers_kill_timeout=3,
    )

    def load(*_: object) -> Any:  # Granian calls the loaded object's __rsgi__
        return _rsgi(app, threads, prepare, malloc_arenas)

    server.serve(target_loader=load, wrap_loader=False)
