"""Federated queries (SPARQL 1.1 Federated Query): SERVICE reaches only the catalogue's endpoints.

Oxigraph evaluates `SERVICE <iri>` itself, over HTTP, to whatever IRI it is given, with no
timeout of ours. So the engine never sees a SERVICE clause: `evaluate_services` finds every
clause in the query text (`sparql_text.service_clauses`), checks every endpoint against the
allow-list *before any request is made*, checks the rest of the query's syntax, then asks each
endpoint for the solutions of its group (``SELECT * WHERE { group }``, with the query's
prologue) and writes them back into the query as a ``VALUES`` block in place of the clause.
A ``VALUES`` block joins with the rest of its group exactly as the evaluated SERVICE pattern
does (section 4 of the Federated Query recommendation: the service's solutions are joined with
the rest of the pattern). Each call has its own timeout; one failing endpoint fails only its
clause: with ``SILENT`` the clause becomes ``{}`` (one empty solution, section 4.1), without it
the query fails with a 502 (504 on timeout) naming that endpoint.

The allow-list (`AllowList`) is the catalogue: an endpoint is allowed when its IRI is a
catalogue SPARQL endpoint or has the scheme, host and port of one, or of a catalogue URL that
registers are harvested from. The host is resolved before connecting and the connection is
made to that checked address: an address on a private, loopback, link-local or reserved range
is refused unless the catalogue itself names a local host (``localhost`` or an IP address),
so a public catalogue host name cannot be pointed at the internal network by its DNS.
Redirects are not followed. Blank nodes in remote results become skolem IRIs under
``https://w3id.org/s22a/.well-known/genid/``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from s22a import fetch
from s22a.ingest.catalog import Source
from s22a.sparql.errors import ServiceFailed, ServiceRefused, ServiceTimeout
from s22a.sparql.text import Prologue, ServiceClause, has_service_keyword, service_clauses

GENID = "https://w3id.org/s22a/.well-known/genid/"
_VARNAME = re.compile(r"^[A-Za-z0-9_\u00b7\u00c0-\U000effff]+$")
Resolver = Callable[[str, int], list[str]]


def resolve_host(host: str, port: int) -> list[str]:
    """The IP addresses `host` resolves to (the system resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    return parts.scheme, parts.hostname.lower(), port


def _is_local_name(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Target:
    """An allowed endpoint: where to connect, and whether a local address is expected there."""

    url: str
    scheme: str
    host: str
    port: int
    local_allowed: bool


class AllowList:
    """The endpoints SERVICE may call: the catalogue's SPARQL endpoints and source hosts."""

    def __init__(self, endpoints: Iterable[str], hosts: Iterable[str]) -> None:
        """`endpoints` are SPARQL endpoint URLs; `hosts` other catalogue URLs (their origins)."""
        self.endpoints = frozenset(endpoints)
        origins = [_origin(u) for u in (*self.endpoints, *hosts)]
        self.origins = frozenset(o for o in origins if o is not None)

    @classmethod
    def from_sources(cls, sources: Iterable[Source]) -> AllowList:
        """The allow-list of a catalogue, from `sources.read_catalog`."""
        sources = list(sources)
        return cls(
            [s.location for s in sources if s.kind == "sparql"],
            [s.location for s in sources if s.kind == "url"],
        )

    def check(self, iri: str) -> Target:
        """The target for `iri`, or `ServiceRefused` if the catalogue does not list it."""
        origin = _origin(iri)
        parts = urllib.parse.urlsplit(iri)
        if origin is None or parts.username or parts.password:
            raise ServiceRefused(
                f"SERVICE <{iri}> is refused: only http(s) endpoints listed in the catalogue "
                "can be queried"
            )
        if iri not in self.endpoints and origin not in self.origins:
            raise ServiceRefused(
                f"SERVICE <{iri}> is refused: it is not a SPARQL endpoint listed in the "
                "catalogue (see /catalog); no request was made"
            )
        scheme, host, port = origin
        return Target(iri, scheme, host, port, _is_local_name(host))


def _checked_address(target: Target, resolver: Resolver) -> str:
    """Resolve the target's host and return an address it may be reached at."""
    try:
        addresses = resolver(target.host, target.port)
    except OSError as error:
        raise ServiceFailed(
            f"SERVICE <{target.url}>: cannot resolve {target.host}: {error}"
        ) from None
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_global or target.local_allowed:
            return address
    raise ServiceRefused(
        f"SERVICE <{target.url}> is refused: {target.host} resolves to a private or loopback "
        "address that the catalogue does not name; no request was made"
    )


def call_endpoint(
    target: Target, address: str, query: str, timeout: float, max_bytes: int
) -> dict[str, Any]:
    """POST `query` to the endpoint at `address` (checked) and return its SPARQL JSON results."""
    try:
        answer = fetch.request(
            target.url,
            method="POST",
            body=urllib.parse.urlencode({"query": query}).encode(),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/sparql-results+json",
                "User-Agent": "s22a-register federation",
            },
            timeout=timeout,
            max_bytes=max_bytes,
            address=address,  # the address that was checked, not a second lookup
        )
    except fetch.FetchError as error:
        if error.kind == "timeout":
            raise ServiceTimeout(
                f"SERVICE <{target.url}> did not answer within {timeout:.3g} s"
            ) from None
        if error.kind == "too_large":
            raise ServiceFailed(
                f"SERVICE <{target.url}> answered more than {max_bytes} bytes"
            ) from None
        raise ServiceFailed(f"SERVICE <{target.url}> cannot be reached: {error}") from None
    status, media_type, data = answer.status, answer.media_type, answer.body
    if status != 200:
        excerpt = data[:300].decode("utf-8", "replace").strip()
        raise ServiceFailed(f"SERVICE <{target.url}> answered HTTP {status}: {excerpt}")
    if len(data) > max_bytes:
        raise ServiceFailed(f"SERVICE <{target.url}> answered more than {max_bytes} bytes")
    if media_type != "application/sparql-results+json":
        raise ServiceFailed(f"SERVICE <{target.url}> answered {media_type}, not SPARQL JSON")
    try:
        return json.loads(data)
    except ValueError as error:
        raise ServiceFailed(f"SERVICE <{target.url}> answered unreadable JSON: {error}") from None


def _term(value: dict[str, Any], endpoint: str) -> str:
    kind = value.get("type")
    text = str(value.get("value", ""))
    if kind == "uri":
        return str(ox.NamedNode(text))
    if kind in ("literal", "typed-literal"):
        if "xml:lang" in value:
            return str(ox.Literal(text, language=value["xml:lang"]))
        if "datatype" in value:
            return str(ox.Literal(text, datatype=ox.NamedNode(value["datatype"])))
        return str(ox.Literal(text))
    if kind == "bnode":
        scope = hashlib.sha256(endpoint.encode()).hexdigest()[:12]
        return str(ox.NamedNode(f"{GENID}{scope}/{urllib.parse.quote(text, safe='')}"))
    raise ValueError(f"unsupported term type {kind!r}")


def values_block(results: dict[str, Any], endpoint: str, max_rows: int) -> str:
    """The SPARQL ``VALUES`` block holding a service's solutions."""
    try:
        names = [str(v) for v in results["head"]["vars"]]
        rows = results["results"]["bindings"]
    except (KeyError, TypeError):
        raise ServiceFailed(f"SERVICE <{endpoint}> did not answer with SELECT results") from None
    if any(not _VARNAME.match(name) for name in names):
        raise ServiceFailed(f"SERVICE <{endpoint}> answered an invalid variable name")
    if len(rows) > max_rows:
        raise ServiceFailed(
            f"SERVICE <{endpoint}> answered more than {max_rows} rows; narrow its pattern"
        )
    lines = []
    try:
        for row in rows:
            cells = [_term(row[n], endpoint) if n in row else "UNDEF" for n in names]
            lines.append("(" + " ".join(cells) + ")")
    except (ValueError, TypeError, AttributeError) as error:
        raise ServiceFailed(
            f"SERVICE <{endpoint}> answered a value that is not RDF: {error}"
        ) from None
    head = " ".join(f"?{n}" for n in names)
    return f"VALUES ({head}) {{\n" + "\n".join(lines) + "\n}"


def _remote_query(pro: Prologue, text: str, clause: ServiceClause) -> str:
    return f"{text[: pro.end]}\nSELECT * WHERE {clause.group(text)}"


def _splice(text: str, clauses: list[ServiceClause], replacements: list[str]) -> str:
    out, position = [], 0
    for clause, replacement in zip(clauses, replacements, strict=True):
        out.append(text[position : clause.start])
        out.append(replacement)
        position = clause.end
    out.append(text[position:])
    return "".join(out)


@dataclass(frozen=True)
class Settings:
    """How SERVICE calls are made."""

    timeout: float = 5.0  # per call, and never past the query's deadline
    max_rows: int = 10_000
    max_bytes: int = 16 * 2**20


def evaluate_services(
    text: str,
    allow: AllowList,
    deadline: float,
    settings: Settings = Settings(),
    check_syntax: Callable[[str], None] | None = None,
    resolver: Resolver = resolve_host,
) -> tuple[str, bool]:
    """The query with every SERVICE clause replaced by its solutions, and whether it had any.

    Raises `ServiceRefused` before any request if an endpoint is not allowed; `check_syntax`
    is called on the query with each SERVICE clause reduced to its group, before any request.
    """
    pro, clauses = service_clauses(text)
    if not clauses:
        return text, False
    targets = [allow.check(c.endpoint) for c in clauses]
    if check_syntax is not None:
        check_syntax(_splice(text, clauses, [c.group(text) for c in clauses]))
    # Every address is checked before the first connection is made.
    addresses: list[str | ServiceFailed] = []
    for target in targets:
        try:
            addresses.append(_checked_address(target, resolver))
        except ServiceRefused:
            raise
        except ServiceFailed as error:
            addresses.append(error)

    def call(index: int) -> str:
        clause, target, address = clauses[index], targets[index], addresses[index]
        timeout = min(settings.timeout, deadline - time.monotonic())
        try:
            if isinstance(address, ServiceFailed):
                raise address
            if timeout <= 0:
                raise ServiceTimeout(f"SERVICE <{target.url}>: no time left in the time limit")
            query = _remote_query(pro, text, clause)
            results = call_endpoint(target, address, query, timeout, settings.max_bytes)
            return values_block(results, target.url, settings.max_rows)
        except ServiceFailed:
            if clause.silent:
                return "{}"  # SERVICE SILENT: one solution with no bindings
            raise

    with ThreadPoolExecutor(max_workers=min(len(clauses), 8)) as executor:
        replacements = list(executor.map(call, range(len(clauses))))
    rewritten = _splice(text, clauses, replacements)
    if has_service_keyword(rewritten):  # cannot happen; never let the engine make a call
        raise ServiceRefused("the query could not be rewritten without SERVICE")
    return rewritten, True
