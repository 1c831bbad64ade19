"""The production HTTP server: gunicorn with threaded workers, run from `s22a serve`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.config import KNOWN_SETTINGS

from s22a.web.memory import limit_malloc_arenas


class _Server(BaseApplication):
    """gunicorn serving an app object built by the caller (no import string)."""

    def __init__(
        self,
        app: Flask,
        options: dict[str, Any],
        prepare: Callable[[], None] | None,
        malloc_arenas: int,
    ) -> None:
        self.application = app
        self.options = options
        self.prepare = prepare
        self.malloc_arenas = malloc_arenas
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        # Called in each worker after the fork: what must live in the worker starts here.
        limit_malloc_arenas(self.malloc_arenas)
        if self.prepare is not None:
            self.prepare()
        return self.application


def run(
    app: Flask,
    *,
    host: str,
    port: int,
    workers: int = 1,
    threads: int = 8,
    prepare: Callable[[], None] | None = None,
    malloc_arenas: int = 0,
) -> None:
    """Serve `app` with gunicorn until interrupted.

    In each worker, before its threads start, glibc's malloc arenas are capped at
    `malloc_arenas` (0: glibc's default; see `s22a.web.memory`) and `prepare` runs.
    """
    options: dict[str, Any] = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # Longer than the SPARQL time limit, so a slow query gets its own 503 first.
        "timeout": 60,
        # A stop (SIGTERM, Ctrl+C) lets requests in flight finish for this long at most.
        "graceful_timeout": 3,
        "accesslog": "-",
        # The access log records the request line, never headers (so never a token).
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }
    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        # gunicorn 24+ would listen on one control socket under the home directory, shared
        # by every server of the user; `s22a serve` needs none.
        options["control_socket_disable"] = True
    _Server(app, options, prepare, malloc_arenas).run()
