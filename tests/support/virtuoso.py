"""A real Virtuoso 7.2 for tests: Debian's ``virtuoso-t`` on free 127.0.0.1 ports, with a
temporary database of its own, started and stopped by the test.

    with VirtuosoServer() as server:
        VirtuosoStore(server.url)       # or the store spec server.spec

The README's test command installs Debian's ``virtuoso-opensource`` (non-interactively); the
packaged system service is not used. A fresh database grants SPARQL_UPDATE to the anonymous
SPARQL user (so ``/sparql`` takes updates, as `VirtuosoStore` needs) and gets a new random DBA
password. `ResultSetMaxRows` is raised to 500,000 (a typical ini's 10,000 is below what
`VirtuosoStore` requires; tests load graphs larger than 10,000 triples).
After `kill` (a crash, data kept) `start` brings it back on the same ports and data.
"""

from __future__ import annotations

import secrets
import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.support.oxigraph import free_port
from tests.support.processes import Service, terminate

__all__ = ["VirtuosoServer", "virtuoso_binary", "virtuoso_missing"]

MAX_ROWS = 500_000
TYPICAL_MAX_ROWS = 10_000  # what a typical virtuoso.ini sets
# Virtuoso's own limit on one request: a first write of 15,000 triples (the graph, its staging
# copy and the merged graph, in one transaction) took over 60 s with both cores busy.
MAX_SECONDS = 600

INI = """[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
CheckpointInterval = 60
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
ServerThreads = 10
MaxClientConnections = 10
[SPARQL]
ResultSetMaxRows = {max_rows}
MaxQueryExecutionTime = {max_seconds}
"""


def virtuoso_missing() -> str | None:
    """Why Virtuoso cannot be started here (the reason a test is skipped), or None."""
    if shutil.which("virtuoso-t") is None or shutil.which("isql-vt") is None:
        return (
            "needs Debian's virtuoso-opensource (virtuoso-t, isql-vt): the README's test "
            "command installs it with apt-get"
        )
    return None


def virtuoso_binary() -> str:
    """The path of ``virtuoso-t`` (Debian's virtuoso-opensource-7-bin)."""
    found = shutil.which("virtuoso-t")
    if found is None:
        raise FileNotFoundError(
            "no `virtuoso-t`: apt-get install -y virtuoso-opensource (the README's test command)"
        )
    return found


class VirtuosoServer(Service):
    """``virtuoso-t +foreground`` on 127.0.0.1 with its own database folder."""

    def __init__(self, *, startup_timeout: float = 120, max_rows: int = MAX_ROWS) -> None:
        """Prepare (not start) a server."""
        self.startup_timeout = startup_timeout
        self.max_rows = max_rows
        self.http_port: int | None = None
        self.sql_port: int | None = None
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._fresh = True

    @property
    def spec(self) -> str:
        """The `S22A_STORE` value that names this server."""
        return f"virtuoso:{self.url}"

    @property
    def folder(self) -> Path:
        """The database folder."""
        assert self._tmp is not None
        return Path(self._tmp.name)

    def start(self) -> VirtuosoServer:
        """Start the server (a fresh database the first time) and wait until it answers."""
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="s22a-virtuoso-")
        if self.http_port is None:
            self.http_port, self.sql_port = free_port(), free_port()
        ini = self.folder / "virtuoso.ini"
        ini.write_text(
            INI.format(
                dir=self.folder,
                sql_port=self.sql_port,
                http_port=self.http_port,
                max_rows=self.max_rows,
                max_seconds=MAX_SECONDS,
            )
        )
        self.url = f"http://127.0.0.1:{self.http_port}"
        with open(self.folder / "server.out", "ab") as out:
            self.process = subprocess.Popen(
                [virtuoso_binary(), "+configfile", str(ini), "+foreground"],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if not self._wait_ready():
            log = (self.folder / "virtuoso.log").read_text(errors="replace")[-3000:]
            self.stop()
            raise RuntimeError(f"virtuoso-t did not start:\n{log}")
        if self._fresh:
            self._isql(
                'GRANT SPARQL_UPDATE TO "SPARQL"; '
                f"USER_SET_PASSWORD('dba', '{secrets.token_hex(12)}');"
            )
            self._fresh = False
        return self

    def _isql(self, statements: str) -> None:
        """Run SQL statements as dba (only on a fresh database, whose password is dba)."""
        result = subprocess.run(
            ["isql-vt", f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={statements}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0 or "Error" in result.stdout + result.stderr:
            raise RuntimeError(f"isql-vt failed: {result.stdout}{result.stderr}")

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        probe = f"{self.url}/sparql?query=ASK%7B%7D"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with urllib.request.urlopen(probe, timeout=2) as response:
                    if response.status == 200:
                        return True
            except urllib.error.HTTPError as error:
                error.close()
            except OSError:
                pass
            time.sleep(0.1)
        return False

    def kill(self) -> None:
        """SIGKILL the server, keeping its database and ports for `start`."""
        process, self.process = self.process, None
        if process is not None:
            process.kill()
            process.wait()

    def _terminate(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            terminate(process, 30)

    def stop(self) -> None:
        """Stop the server and delete its database."""
        self._terminate()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None
