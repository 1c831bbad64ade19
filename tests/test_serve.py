"""`s22a serve`: the production server starts, loads an empty store once, and answers `/`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from oxigraph_server import free_port
from s22a.cli import cli


def serve(store: Path, port: int) -> subprocess.Popen[str]:
    """Start `s22a serve` (gunicorn) on 127.0.0.1:`port` with an on-disk store."""
    return subprocess.Popen(
        [sys.executable, "-m", "s22a", "serve", "--port", str(port),
         "--store", f"oxigraph:{store}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def wait_for(url: str, process: subprocess.Popen[str], timeout: float = 60) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read() if process.stdout else ""
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def stop(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
    return output


@pytest.mark.slow
def test_serve_loads_once_then_reuses_the_store(tmp_path: Path) -> None:
    store = tmp_path / "store"
    port = free_port()
    first = serve(store, port)
    try:
        home = wait_for(f"http://127.0.0.1:{port}/", first)
        assert b"Collaboration agreements between UK police forces" in home
        turtle = wait_for(f"http://127.0.0.1:{port}/doc/force/merseyside.ttl", first)
        assert b"@prefix force: <https://w3id.org/s22a/id/force/>" in turtle
        assert b"force:merseyside" in turtle
    finally:
        output = stop(first)
    assert "Loading 5 register(s)" in output
    assert "merseyside: accepted: 24 agreement(s)" in output
    assert "Using worker: gthread" in output

    second = serve(store, port)
    try:
        wait_for(f"http://127.0.0.1:{port}/", second)
    finally:
        output = stop(second)
    assert "Loading" not in output, "a restart must reuse the store"


def test_embedded_store_refuses_several_workers() -> None:
    result = CliRunner().invoke(cli, ["serve", "--workers", "2", "--store", "memory:"])
    assert result.exit_code == 2
    assert "the embedded store can be opened by one process only" in result.output
