"""Debian's Apache 2.4 on 127.0.0.1, with a document root laid out as w3id.org's, for tests.

    with ApacheServer(tmp_path) as apache:
        apache.install("s22a", folder_with_htaccess)
        requests.get(apache.url + "/s22a/id/force/merseyside")

w3id.org is Apache serving its repository: one folder per prefix, each with an ``.htaccess``
read on every request (``AllowOverride All``), mod_rewrite and mod_headers loaded. The server
here has its own configuration file, pid file and logs in the caller's folder and is started
with ``apache2 -f CONF -DFOREGROUND`` in its own process group. Run as root, Apache serves as
`www-data`, which cannot enter pytest's private temporary folders, so the document root is a
folder of its own under the system's temporary directory, readable by all and removed on stop.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.oxigraph import free_port
from tests.support.processes import Service, terminate
from tests.support.server import request

MODULES = Path("/usr/lib/apache2/modules")
LOADED = ("mpm_prefork", "authz_core", "dir", "rewrite", "headers")


def apache_binary() -> str | None:
    """The `apache2` program (Debian puts it in /usr/sbin, not always on PATH), or None."""
    found = shutil.which("apache2")
    if found:
        return found
    return "/usr/sbin/apache2" if os.access("/usr/sbin/apache2", os.X_OK) else None


def apache_missing() -> str | None:
    """Why Apache cannot be started here (the reason a test is skipped), or None."""
    if apache_binary() is None:
        return "Debian's apache2 is not installed (the README's test command installs it)"
    missing = [m for m in LOADED if not (MODULES / f"mod_{m}.so").is_file()]
    if missing:
        return f"apache2 modules missing from {MODULES}: {', '.join(missing)}"
    return None


class ApacheServer(Service):
    """Apache on a free 127.0.0.1 port serving a w3id.org-like document root."""

    def __init__(self, folder: Path, *, startup_timeout: float = 60) -> None:
        """Prepare a server whose configuration and logs live in `folder`."""
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.startup_timeout = startup_timeout
        self.docroot = Path(tempfile.mkdtemp(prefix="s22a-w3id-"))
        self.docroot.chmod(0o755)
        self.process: subprocess.Popen[bytes] | None = None

    def config(self) -> str:
        """The whole configuration: w3id.org's essentials and nothing of /etc/apache2."""
        loads = "\n".join(f"LoadModule {m}_module {MODULES}/mod_{m}.so" for m in LOADED)
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        return f"""\
ServerRoot "{self.folder}"
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile "{self.folder}/apache.pid"
DefaultRuntimeDir "{self.folder}"
ErrorLog "{self.folder}/error.log"
LogLevel warn rewrite:trace2
{loads}
{user}StartServers 2
MaxRequestWorkers 8
DocumentRoot "{self.docroot}"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{self.docroot}">
    Options FollowSymLinks
    AllowOverride All
    Require all granted
</Directory>
"""

    def install(self, name: str, source: Path) -> Path:
        """Copy the files of folder `source` into the document root as prefix `name`."""
        destination = self.docroot / name
        destination.mkdir(mode=0o755, exist_ok=True)
        for item in Path(source).iterdir():
            if item.is_file():
                shutil.copyfile(item, destination / item.name)
                (destination / item.name).chmod(0o644)
        return destination

    def start(self) -> ApacheServer:
        """Start Apache and wait until it answers; returns self."""
        binary = apache_binary()
        assert binary is not None, apache_missing()
        conf = self.folder / "apache.conf"
        conf.write_text(self.config())
        with open(self.folder / "apache.out", "ab") as output:
            self.process = subprocess.Popen(
                [binary, "-f", str(conf), "-DFOREGROUND"],
                cwd=self.folder,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"apache2 exited {self.process.returncode}:\n{self.logs()}")
            with contextlib.suppress(OSError):
                request(self.url, "GET", "/", timeout=2)
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"apache2 did not answer within {self.startup_timeout} s")

    def logs(self) -> str:
        """Apache's output and error log (with mod_rewrite's trace of each rule applied)."""
        texts = []
        for name in ("apache.out", "error.log"):
            path = self.folder / name
            if path.exists():
                texts.append(path.read_text(errors="replace"))
        return "\n".join(texts)

    def stop(self) -> None:
        """Stop Apache (SIGTERM, then SIGKILL to its group) and remove the document root."""
        process, self.process = self.process, None
        if process is not None:
            terminate(process, 15, group=True)
        shutil.rmtree(self.docroot, ignore_errors=True)
