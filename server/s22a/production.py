"""The production HTTP server: gunicorn with threaded workers, run from `s22a serve`."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class _Server(BaseApplication):
    """gunicorn serving an app object built by the caller (no import string)."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def run(app: Flask, *, host: str, port: int, workers: int = 1, threads: int = 8) -> None:
    """Serve `app` with gunicorn until interrupted."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        # Longer than the SPARQL time limit, so a slow query gets its own 503 first.
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": "-",
        # The access log records the request line, never headers (so never a token).
        "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
    }
    _Server(app, options).run()
