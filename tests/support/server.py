"""The production server in a subprocess, for tests and benchmarks that need real processes.

    with ServerProcess(tmp_path, store=seeded_store(cache, tmp_path / "store")) as server:
        reply = server.request("GET", "/")

`ServerProcess` runs ``s22a serve`` (the command the README gives: Granian, one threaded
worker, as the embedded store belongs to one process) on a free 127.0.0.1 port, with its
working directory, token file and log (the server's output: access log and errors) in a
folder of the caller's, and waits until it answers. Its process group is its own, so `kill`
(SIGKILL to the group: master, worker and query workers at once) is a crash, and `stop`
leaves no process behind. `peak_rss_mib` reads a process's peak resident set (VmHWM), and
`reset_peak` starts a new peak (``/proc/PID/clear_refs``).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from email.message import Message
from pathlib import Path

from tests.support import ROOT
from tests.support.oxigraph import free_port
from tests.support.processes import Service, terminate

__all__ = [
    "Reply",
    "ServerProcess",
    "children",
    "peak_rss_mib",
    "request",
    "reset_peak",
    "rss_mib",
    "revision",
    "seeded_store",
]


def s22a_command() -> list[str]:
    """The `s22a` console script of this interpreter's environment (else ``python -m s22a``)."""
    script = Path(sys.executable).with_name("s22a")
    if script.is_file() and os.access(script, os.X_OK):
        return [str(script)]
    return [sys.executable, "-m", "s22a"]


@dataclass
class Reply:
    """An HTTP response, read whole."""

    status: int
    headers: Message
    body: bytes
    seconds: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def text(self) -> str:
        """The body as text (UTF-8, bad bytes replaced)."""
        return self.body.decode("utf-8", "replace")


def request(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 60,
    source: str | None = None,
) -> Reply:
    """One HTTP request on its own connection to `base` (http://127.0.0.1:PORT), from the
    loopback address `source` if given (each address has its own share of the server)."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(
        host, int(port), timeout=timeout, source_address=(source, 0) if source else None
    )
    started = time.monotonic()
    try:
        try:
            connection.request(method, path, body=body, headers=headers or {})
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early (413) and closed: its answer is still readable
        response = connection.getresponse()
        data = response.read()
        return Reply(response.status, response.headers, data, time.monotonic() - started)
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------
# Processes and their memory (Linux /proc)


def _status(pid: int, key: str) -> float:
    """A `/proc/PID/status` figure in MiB (VmRSS, VmHWM...); 0 if the process is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def rss_mib(pid: int) -> float:
    """The resident set size of process `pid`, in MiB."""
    return _status(pid, "VmRSS")


def peak_rss_mib(pid: int) -> float:
    """The peak resident set size of process `pid` (VmHWM), in MiB."""
    return _status(pid, "VmHWM")


def reset_peak(pid: int) -> bool:
    """Start a new peak for `pid` (the peak becomes the current RSS); False if not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """The CPU time process `pid` has used so far (user and system); ProcessLookupError if
    it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        raise ProcessLookupError(pid) from None
    fields = stat.rsplit(")", 1)[1].split()  # those after the command name
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def exited(pid: int) -> bool:
    """Whether process `pid` has ended: gone, or a zombie (which it becomes only once its files,
    pipes included, are closed; its command line is empty earlier, while they are open)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state in ("Z", "X")


def children(pid: int) -> list[int]:
    """The process ids whose parent is `pid`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat.rsplit(")", 1)[-1].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# A seeded on-disk store


def seeded_store(cache: Path, destination: Path) -> Path:
    """Copy an on-disk store holding the bundled catalogue to `destination`; return it.

    The store is loaded once into `cache` (a folder kept for the session) and copied for each
    server, which is much faster than validating the registers again.
    """
    template = cache / "seeded-store"
    if not template.exists():
        from s22a.ingest.load import load_catalog
        from s22a.store import open_store

        building = cache / "seeded-store.tmp"
        shutil.rmtree(building, ignore_errors=True)
        with open_store(f"oxigraph:{building}") as store:
            outcomes = load_catalog(store)
        assert all(o.outcome == "Accepted" for o in outcomes), outcomes
        building.rename(template)
    shutil.copytree(template, destination)
    return destination


def revision(force: str, number: int) -> bytes:
    """The force's bundled register with one statement naming revision `number`: a new
    version of it for each number, valid like the original."""
    data = (ROOT / "data" / "registers" / f"{force}.ttl").read_bytes()
    statement = (
        f"<https://w3id.org/s22a/id/register/{force}> <http://purl.org/dc/terms/description> "
        f'"revision {number}"@en .'
    )
    return data + f"\n{statement}\n".encode()


# ---------------------------------------------------------------------------------------------
# The server


class ServerProcess(Service):
    """``s22a serve`` on 127.0.0.1 in its own process group."""

    def __init__(
        self,
        folder: Path,
        *,
        store: Path | str,
        env: dict[str, str] | None = None,
        threads: int = 32,
        workers: int = 1,
        port: int | None = None,
        startup_timeout: float = 180,
    ) -> None:
        """Prepare a server on `store` (an on-disk store folder, or a store spec)."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.store = f"oxigraph:{store}" if isinstance(store, Path) else store
        self.tokens = self.folder / "tokens.json"
        self.log = self.folder / "server.log"
        self.env = env or {}
        self.threads = threads
        self.workers = workers
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.started_at = 0.0

    def command(self) -> list[str]:
        """The command line: the README's `s22a serve`, with this server's port and store."""
        return [
            *s22a_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--store",
            self.store,
        ]

    def start(self) -> ServerProcess:
        """Start the server and wait until it answers; returns self."""
        environment = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "S22A_STORE": self.store,
            "S22A_TOKENS": str(self.tokens),
            **self.env,
        }
        python_path = [str(ROOT / "server"), environment.get("PYTHONPATH", "")]
        environment["PYTHONPATH"] = os.pathsep.join(p for p in python_path if p)
        self.started_at = time.monotonic()
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                self.command(),
                cwd=self.folder,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_ready()
        return self

    def wait_ready(self) -> float:
        """Wait until the server answers a static file; return the seconds since start."""
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"s22a serve exited {self.process.returncode}:\n{self.logs()}")
            try:
                reply = self.request("GET", "/static/s22a.css", timeout=2)
                if reply.status == 200 and len(children(self.process.pid)) >= self.workers:
                    return time.monotonic() - self.started_at
            except OSError:
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"s22a serve did not answer within {self.startup_timeout} s")

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60,
    ) -> Reply:
        """One HTTP request to this server."""
        return request(self.url, method, path, body, headers, timeout)

    def worker_pid(self) -> int | None:
        """The HTTP server worker's process id (the process that runs the app)."""
        if self.process is None or self.process.poll() is not None:
            return None
        found = children(self.process.pid)
        return found[0] if found else None

    def query_worker_pids(self) -> list[int]:
        """The SPARQL query worker processes of the HTTP server worker."""
        worker = self.worker_pid()
        return children(worker) if worker else []

    def logs(self) -> str:
        """Everything the server wrote: what it loaded, its access log and its errors."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def kill(self) -> None:
        """SIGKILL the whole process group at once: a crash, with no cleanup."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def stop(self) -> None:
        """Stop gracefully (SIGTERM), then kill whatever of the group is left."""
        process, self.process = self.process, None
        if process is not None:
            terminate(process, 15, group=True)
