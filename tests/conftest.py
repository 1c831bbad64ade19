"""Shared fixtures: an app over the loaded seed registers, its client, and a live HTTP server."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from s22a.store import get_store
from tests.support.app import make_app
from tests.support.server import ServerProcess, seeded_store
from tests.support.virtuoso import VirtuosoServer, virtuoso_missing

ROOT = Path(__file__).resolve().parents[1]

# rdflib logs a traceback for each ill-typed literal in the broken fixtures.
logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)

# The longest tests (15 s to four minutes each on this 2-core machine, from `--durations` of a
# whole run at load 5-8, call and module set-up together), longest first: they run before
# everything else. Under `--dist worksteal` each worker runs its share from the front while an
# idle one takes from the back of the other's, so a long test queued late would run alone at
# the end and set the suite's wall time. A name that no longer matches only loses its place
# in the queue, never a test.
LONGEST = (
    "tests/test_store.py::test_virtuoso_with_a_typical_result_cap",  # 239 s
    "tests/test_crawl.py::test_every_link_from_the_home_page_resolves",  # 121 s
    "tests/test_multiprocess_writes.py::",  # 53 s + 22 s set-up
    "tests/test_w3id.py::test_canonical_iris_resolve_through_apache",  # 71 s
    "tests/test_big_registers.py::",  # 32 s set-up + 22 s
    "tests/test_soak.py::",  # 52 s
    "tests/test_browser.py::",  # 48 s, and two of 26-27 s on the module's server
    "tests/test_faults.py::test_kill_9_during_writes",  # 47 s
    "tests/test_hostile_uploads.py::",  # 46 s and 26 s; its tests share the module's server
    "tests/test_serve.py::test_serve_writes_with_several_workers",  # 43 s
    "tests/test_serve.py::test_serve_loads_once",  # 41 s
    "tests/test_store.py::test_crash_during_replace_virtuoso",  # 37 s
    "tests/test_properties.py::test_a_register_uploaded_by_one_force",  # 36 s
    "tests/test_store.py::test_virtuoso_graphs_larger_than_a_typical_result_cap",  # 33 s
    "tests/test_store.py::test_crash_during_replace_embedded",  # 25 s
    "tests/test_store.py::test_crash_during_replace_remote",  # 18 s
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Queue the LONGEST tests first, in that order; the rest keep theirs (a stable sort)."""

    def rank(item: pytest.Item) -> int:
        return next((i for i, p in enumerate(LONGEST) if item.nodeid.startswith(p)), len(LONGEST))

    items.sort(key=rank)


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
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The seed registers served by `s22a serve`, as the README starts it, on 127.0.0.1:
    shared by read-only tests (do not write to it)."""
    folder = tmp_path_factory.mktemp("live-server")
    store = seeded_store(tmp_path_factory.getbasetemp(), folder / "store")
    with ServerProcess(folder / "server", store=store) as server:
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
