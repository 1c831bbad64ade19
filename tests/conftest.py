"""Shared fixtures: an app over the loaded seed registers, its client, and a live HTTP server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from s22a.store import get_store
from tests.support.app import LiveServer, make_app
from tests.support.virtuoso import VirtuosoServer, virtuoso_missing

ROOT = Path(__file__).resolve().parents[1]

# rdflib logs a traceback for each ill-typed literal in the broken fixtures.
logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)


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


@pytest.fixture(scope="session")
def live_server(loaded_app: Flask) -> Iterator[LiveServer]:
    """The shared read-only app served over real HTTP on 127.0.0.1."""
    with LiveServer(loaded_app) as server:
        yield server


@pytest.fixture(scope="session")
def virtuoso() -> Iterator[VirtuosoServer]:
    """One real Virtuoso 7.2 per test process (it takes seconds to start); tests that use it
    drop the graphs they find first. Skipped only where Debian's `virtuoso-t` is absent."""
    missing = virtuoso_missing()
    if missing:
        pytest.skip(missing)
    with VirtuosoServer() as server:
        yield server
