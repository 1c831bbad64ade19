"""The app over the seed registers, and a real HTTP server running an app in a thread.

Validating the bundled catalogue takes seconds, so it is done once per process: the loaded
dataset is kept as an N-Quads dump, and every further app gets a fresh in-memory store filled
from it, the same dataset (versions, reconciliation) without validating again.
"""

from __future__ import annotations

import threading
from functools import cache

from flask import Flask
from werkzeug.serving import BaseWSGIServer, make_server

from s22a import create_app
from s22a.ingest.load import load_catalog
from s22a.store import get_store, open_store


@cache
def seed_dump() -> bytes:
    """The bundled catalogue loaded into a store, as N-Quads (loaded once per process)."""
    with open_store("memory:") as store:
        outcomes = load_catalog(store)
        assert all(o.outcome == "Accepted" for o in outcomes), outcomes
        return b"".join(store.dump("application/n-quads"))


def make_app(**overrides: object) -> Flask:
    """An app on a fresh in-memory store holding the bundled catalogue."""
    app = create_app({"TESTING": True, "S22A_STORE": "memory:", **overrides})
    with app.app_context():
        get_store().add_dataset(seed_dump())
    return app


class LiveServer:
    """A real HTTP server on 127.0.0.1 running an app in a thread."""

    def __init__(self, app: Flask):
        self.server: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
