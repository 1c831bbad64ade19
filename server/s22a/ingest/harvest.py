"""Fetching a register from its source: a file, an http(s) URL (conditional GET, a deadline,
a size cap, redirects only to catalogue hosts) or a SPARQL endpoint (CONSTRUCT).
"""

from __future__ import annotations

import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from http.client import HTTPResponse
from pathlib import Path

from s22a.history import versions
from s22a.ingest.catalog import Source

DEFAULT_TIMEOUT = 20.0


DEFAULT_MAX_BYTES = 20 * 2**20


ACCEPT = (
    "text/turtle, application/n-triples;q=0.9, application/ld+json;q=0.8, application/rdf+xml;q=0.7"
)


@dataclass
class Fetched:
    """What a fetch brought back: bytes, or word that nothing changed since last time."""

    data: bytes | None
    name: str
    media_type: str | None = None
    etag: str | None = None
    last_modified: str | None = None

    @property
    def not_modified(self) -> bool:
        """True when the server answered 304 Not Modified."""
        return self.data is None


class SourceError(Exception):
    """A source could not be fetched: unreachable, too large, or redirected elsewhere."""


class _CatalogueRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects only to hosts the catalogue lists."""

    def __init__(self, allowed_hosts: set[str]):
        self.allowed_hosts = allowed_hosts

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001
        host = urllib.parse.urlsplit(newurl).netloc
        if host not in self.allowed_hosts:
            raise SourceError(
                f"{req.full_url} redirects to {newurl}, a host that is not in the catalogue"
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Harvester:
    """Fetches register sources with a timeout, a size cap and conditional GET."""

    def __init__(
        self,
        allowed_hosts: set[str],
        timeout: float = DEFAULT_TIMEOUT,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ):
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.allowed_hosts = allowed_hosts
        self._opener = urllib.request.build_opener(_CatalogueRedirects(allowed_hosts))

    def fetch(self, source: Source, previous: versions.Version | None = None) -> Fetched:
        """Fetch a source's bytes (or learn it has not changed since `previous`)."""
        if source.kind == "file":
            return self._read_file(source)
        if source.kind == "url":
            return self._get(source, previous)
        return self._construct(source)

    def _read_file(self, source: Source) -> Fetched:
        path = Path(source.location)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise SourceError(f"{path} is {size} bytes, over the {self.max_bytes}-byte limit")
            return Fetched(path.read_bytes(), path.name)
        except FileNotFoundError:
            raise SourceError(f"no such file: {path}") from None
        except OSError as error:
            raise SourceError(f"cannot read {path}: {error.strerror}") from None

    def _get(self, source: Source, previous: versions.Version | None) -> Fetched:
        deadline = time.monotonic() + self.timeout
        request = urllib.request.Request(source.location, headers={"Accept": ACCEPT})
        if previous is not None and previous.source == source.location:
            if previous.etag:
                request.add_header("If-None-Match", previous.etag)
            if previous.last_modified:
                request.add_header("If-Modified-Since", previous.last_modified)
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise SourceError(
                        f"{source.location} is {declared} bytes, "
                        f"over the {self.max_bytes}-byte limit"
                    )
                data = _read_until(response, self.max_bytes + 1, deadline)
                if data is None:
                    raise SourceError(
                        f"{source.location} did not finish sending within {self.timeout:g} s"
                    )
                if len(data) > self.max_bytes:
                    raise SourceError(f"{source.location} is over the {self.max_bytes}-byte limit")
                name = Path(urllib.parse.urlsplit(response.url).path).name or "register"
                return Fetched(
                    data,
                    name,
                    response.headers.get_content_type(),
                    response.headers.get("ETag"),
                    response.headers.get("Last-Modified"),
                )
        except urllib.error.HTTPError as error:
            if error.code == 304:
                error.close()
                return Fetched(None, source.location)
            error.close()
            raise SourceError(
                f"{source.location} answered HTTP {error.code} {error.reason}"
            ) from None
        except urllib.error.URLError as error:
            raise SourceError(f"{source.location} is unreachable: {error.reason}") from None
        except TimeoutError:
            raise SourceError(
                f"{source.location} did not answer within {self.timeout:g} s"
            ) from None
        except OSError as error:
            raise SourceError(f"{source.location} failed: {error}") from None

    def _construct(self, source: Source) -> Fetched:
        from SPARQLWrapper import TURTLE, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        pattern = "?s ?p ?o"
        if source.endpoint_graph:
            pattern = f"GRAPH <{source.endpoint_graph}> {{ ?s ?p ?o }}"
        client = SPARQLWrapper(source.location)
        client.setQuery(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {pattern} }}")
        client.setReturnFormat(TURTLE)
        client.setTimeout(int(max(1, self.timeout)))
        try:
            data = client.query().convert()
        except SPARQLWrapperException as error:
            raise SourceError(f"{source.location} refused the query: {error}") from None
        except urllib.error.URLError as error:
            raise SourceError(f"{source.location} is unreachable: {error.reason}") from None
        except (TimeoutError, OSError) as error:
            raise SourceError(f"{source.location} failed: {error}") from None
        if isinstance(data, str):
            data = data.encode("utf-8")
        if len(data) > self.max_bytes:
            raise SourceError(f"{source.location} returned over {self.max_bytes} bytes")
        return Fetched(data, "endpoint.ttl", "text/turtle")


def _read_until(response: HTTPResponse, limit: int, deadline: float) -> bytes | None:
    """Up to `limit` bytes of the body, or None if it is still coming at `deadline`.

    The socket timeout bounds each read only: a server sending a byte now and then would
    otherwise hold a harvest for as long as it liked.
    """
    chunks, size = [], 0
    while size < limit:
        if time.monotonic() > deadline:
            return None
        chunk = response.read1(min(65536, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)
