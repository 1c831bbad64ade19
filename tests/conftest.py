"""Shared fixtures: an app over the loaded seed registers, its client, and a live HTTP server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.serving import BaseWSGIServer, make_server

from s22a import create_app
from s22a.ingest.load import load_catalog
from s22a.store import get_store

ROOT = Path(__file__).resolve().parents[1]

# rdflib logs a traceback for each ill-typed literal in the broken fixtures.
logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)


def make_app(**overrides: object) -> Flask:
    """An app on a fresh in-memory store holding the bundled catalogue."""
    app = create_app({"TESTING": True, "S22A_STORE": "memory:", **overrides})
    with app.app_context():
        outcomes = load_catalog(get_store())
    assert all(o.outcome == "Accepted" for o in outcomes), outcomes
    return app


@pytest.fixture(scope="session")
def loaded_app() -> Iterator[Flask]:
    """One app over the seed registers, shared by read-only tests (do not write to it)."""
    app = make_app()
    yield app
    with app.app_context():
        get_store().close()


@pytest.fixture
def app() -> Iterator[Flask]:
    """A fresh app over the seed registers, for tests that change data."""
    app = make_app()
    yield app
    with app.app_context():
        get_store().close()


@pytest.fixture
def client(loaded_app: Flask) -> FlaskClient:
    """A test client of the shared read-only app."""
    return loaded_app.test_client()


@pytest.fixture
def runner(loaded_app: Flask) -> FlaskCliRunner:
    """A CLI runner of the shared read-only app."""
    return loaded_app.test_cli_runner()


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


@pytest.fixture(scope="session")
def live_server(loaded_app: Flask) -> Iterator[LiveServer]:
    """The shared read-only app served over real HTTP on 127.0.0.1."""
    with LiveServer(loaded_app) as server:
        yield server
