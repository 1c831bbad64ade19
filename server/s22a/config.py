"""Every setting of the service, in one table: its name, type, default and meaning.

Each is read from the environment (``S22A_*``) when the app is made, overridden by the
`test_config` given to `create_app`, and used from ``app.config`` with its type. The README's
settings table is tested against this one (``tests/test_project.py``), both ways.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from s22a import resources


def default_query_workers() -> int:
    """The CPU count, kept between 2 and 4."""
    return min(4, max(2, os.cpu_count() or 2))


@dataclass(frozen=True)
class Setting:
    """One setting: `default` is a value, or a function computing it when the app is made."""

    name: str
    kind: type
    default: Any
    meaning: str

    def value(self, raw: str | None) -> Any:
        """The setting's value from its environment variable `raw` (None: not set)."""
        if raw is None or raw == "":
            return self.default() if callable(self.default) else self.default
        try:
            return self.kind(raw)
        except ValueError:
            noun = {int: "a whole number", float: "a number"}.get(self.kind, self.kind.__name__)
            raise ValueError(f"{self.name} must be {noun}, not {raw!r}") from None


def _bundled_catalog() -> str:
    return str(resources.catalog_path())


SETTINGS: tuple[Setting, ...] = (
    Setting("S22A_STORE", str, "oxigraph:./var/store",
            "the store: `oxigraph:PATH` embedded on disk, `memory:` in memory, "
            "`sparql:http://host:port` a SPARQL 1.1 server, "
            "`virtuoso:http://host:port` Virtuoso 7.2's HTTP port"),
    Setting("S22A_STORE_TIMEOUT", float, 30.0,
            "seconds a request to a remote store may take (a big register's write on "
            "Virtuoso takes several)"),
    Setting("S22A_CATALOG", str, _bundled_catalog, "the DCAT catalogue of registers"),
    Setting("S22A_TOKENS", str, "./var/tokens.json",
            "the file of the forces' write tokens (salted hashes only)"),
    Setting("S22A_LOCKS", str, "./var/locks",
            "the folder of the register write locks (and write signal) every app process on "
            "one remote store, or of one `s22a serve --workers N`, shares"),
    Setting("S22A_MAX_UPLOAD", int, 5 * 2**20,
            "the largest register a write or form accepts, in bytes"),
    Setting("S22A_ANONYMOUS_MAX_UPLOAD", int, 2 * 2**20,
            "the largest file the anonymous forms (`/publish/validate`, `/publish/csv`) "
            "accept, in bytes"),
    Setting("S22A_ANONYMOUS_TIMEOUT", float, 30.0,
            "seconds an anonymous form's check may take before it is stopped (503)"),
    Setting("S22A_ANONYMOUS_MEMORY", int, 1024,
            "MiB of address space the process that runs the anonymous checks may use"),
    Setting("S22A_SPARQL_TIMEOUT", float, 10.0,
            "seconds a `/sparql` query may run before it is stopped (503)"),
    Setting("S22A_SPARQL_MAX_BYTES", int, 50 * 2**20,
            "the largest `/sparql` result, in bytes (larger: 422)"),
    Setting("S22A_SPARQL_WORKERS", int, default_query_workers,
            "query worker processes of the embedded store"),
    Setting("S22A_SPARQL_SERVICE_TIMEOUT", float, 5.0,
            "seconds each federated `SERVICE` call may take"),
    Setting("S22A_SPARQL_CACHE_BYTES", int, 64 * 2**20,
            "memory for cached `/sparql` results, in bytes (0: no cache)"),
    Setting("S22A_ANSWER_MEMO_BYTES", int, 16 * 2**20,
            "memory for whole `/sparql` answers (200s and 304s of cacheable queries) that "
            "`s22a serve` gives again before the app runs while the dataset version stands, in "
            "bytes (0: off)"),
    Setting("S22A_SPARQL_DIRECT", int, 1,
            "1: `s22a serve` answers plain `/sparql` queries (current data, results not the "
            "page, no SERVICE) on its event loop, without a thread or Flask; 0: all through "
            "the app"),
    Setting("S22A_PAGE_CACHE_BYTES", int, 64 * 2**20,
            "memory for rendered pages and documents kept for the current dataset version, "
            "in bytes (0: no cache)"),
    Setting("S22A_TOKEN_TTL", float, 2.0,
            "with a remote store, seconds a process trusts its dataset version without asking "
            "the store (writes through app processes sharing `S22A_LOCKS` are seen at once; "
            "this bounds how long a write made otherwise goes unseen)"),
    Setting("S22A_SPARQL_QUEUE", int, 8,
            "`/sparql` queries that may wait for a query worker (more: 503 at once)"),
    Setting("S22A_SPARQL_CLIENT_QUERIES", int, 4,
            "`/sparql` queries one client address may have running or waiting (more: 503 at "
            "once; 0: no limit of its own)"),
    Setting("S22A_SPARQL_MEMORY", int, 512,
            "MiB of address space one query may take in its worker, beyond the worker's copy "
            "of the data (more: the query is stopped with 422 and the worker replaced)"),
    Setting("S22A_MALLOC_ARENAS", int, 2,
            "glibc malloc arenas per server worker (0: glibc's default)"),
    Setting("S22A_PUBLIC_URL", str, "",
            "the service's own public address, e.g. `https://register.example.org/`, from "
            "which absolute URLs are built (none: the address the server listens on; never "
            "the request's `Host`)"),
    Setting("S22A_TRUSTED_PROXIES", str, "",
            "comma-separated addresses of reverse proxies whose `X-Forwarded-For`, "
            "`-Proto` and `-Host` are honoured (none: those headers are ignored)"),
    Setting("S22A_CLIENT_REQUESTS", int, 16,
            "requests of one client address being read or handled at once (more: 503 at "
            "once; 0: no limit)"),
    Setting("S22A_HEADER_TIMEOUT", float, 5.0,
            "seconds a client has to send a request's headers before its connection is closed"),
    Setting("S22A_BODY_TIMEOUT", float, 60.0,
            "seconds a client has to send a request's body, after its headers (then: 408)"),
)  # fmt: skip
BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}


def from_environment(environ: Callable[[str], str | None] = os.environ.get) -> dict[str, Any]:
    """Every setting's value: its environment variable if set, else its default."""
    return {setting.name: setting.value(environ(setting.name)) for setting in SETTINGS}


def default(name: str) -> Any:
    """The default value of setting `name`."""
    return BY_NAME[name].value(None)
