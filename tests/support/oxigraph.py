"""A real ``oxigraph serve`` for tests: free 127.0.0.1 port, temporary directory, clean stop.

    with OxigraphServer() as server:
        RemoteStore(server.url)

The server runs with ``--union-default-graph``, as `s22a.store_remote.RemoteStore` requires.
The ``oxigraph`` binary comes from the ``oxigraph`` PyPI package (a test dependency).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.processes import Service, terminate

__all__ = ["OxigraphServer", "free_port", "oxigraph_binary"]


def oxigraph_binary() -> str:
    """The path of the ``oxigraph`` executable (next to the Python interpreter, or on PATH)."""
    beside = Path(sys.executable).with_name("oxigraph")
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("oxigraph")
    if found is None:
        raise FileNotFoundError("no `oxigraph` executable: pip install 'oxigraph>=0.5,<0.6'")
    return found


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the moment of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OxigraphServer(Service):
    """An ``oxigraph serve`` subprocess on 127.0.0.1, by default with its own temporary data
    directory. Given a `location`, it keeps its data there; after `kill` (a crash, data kept)
    `start` brings it back on the same port and data, the way a remote store goes away and
    comes back."""

    def __init__(
        self,
        *,
        union_default_graph: bool = True,
        startup_timeout: float = 20,
        location: Path | None = None,
    ) -> None:
        """Prepare (not start) a server."""
        self.union_default_graph = union_default_graph
        self.startup_timeout = startup_timeout
        self.location = location
        self.port: int | None = None
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None

    def start(self) -> OxigraphServer:
        """Start the server and wait until it answers queries; on a port clash, retries on
        another port (a restart keeps its port, so it does not retry)."""
        if self.location is None and self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="s22a-oxigraph-")
        folder = self.location or Path(self._tmp.name, "db")  # type: ignore[union-attr]
        ports = [self.port] if self.port else [free_port() for _ in range(3)]
        errors = []
        for attempt, port in enumerate(ports):
            log = folder.parent / f"{folder.name}-{attempt}.log"
            command = [
                oxigraph_binary(),
                "serve",
                "--location",
                str(folder),
                "--bind",
                f"127.0.0.1:{port}",
            ]
            if self.union_default_graph:
                command.append("--union-default-graph")
            with log.open("ab") as log_file:
                self.process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT
                )
            self.url = f"http://127.0.0.1:{port}"
            if self._wait_ready():
                self.port = port
                return self
            self._terminate()
            errors.append(log.read_text(errors="replace").strip())
        self.stop()
        raise RuntimeError("oxigraph serve did not start:\n" + "\n---\n".join(errors))

    def kill(self) -> None:
        """SIGKILL the server, keeping its data and port for `start`."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        probe = f"{self.url}/query?query=ASK%7B%7D"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(probe, timeout=1) as response:
                    if response.status == 200:
                        return True
            except urllib.error.HTTPError as error:
                error.close()
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            terminate(process, 10)

    def stop(self) -> None:
        """Stop the server and delete its data directory."""
        self._terminate()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
