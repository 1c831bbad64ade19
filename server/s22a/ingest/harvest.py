"""Fetching a register from its source: a file, an http(s) URL (conditional GET, a deadline,
a size cap, redirects only to catalogue hosts) or a SPARQL endpoint (CONSTRUCT).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from s22a import fetch
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
        headers = {"Accept": ACCEPT}
        if previous is not None and previous.source == source.location:
            if previous.etag:
                headers["If-None-Match"] = previous.etag
            if previous.last_modified:
                headers["If-Modified-Since"] = previous.last_modified
        where = source.location
        try:
            answer = fetch.request(
                where,
                headers=headers,
                timeout=self.timeout,
                max_bytes=self.max_bytes,
                allowed_hosts=self.allowed_hosts,
                follow_redirects=True,
            )
        except fetch.FetchError as error:
            raise SourceError(
                {
                    "timeout": f"{where} did not finish sending within {self.timeout:g} s"
                    if error.answering
                    else f"{where} did not answer within {self.timeout:g} s",
                    "unreachable": f"{where} is unreachable: {error.message}",
                    "too_large": f"{where} is over the {self.max_bytes}-byte limit",
                }.get(error.kind, error.message)
            ) from None
        if answer.status == 304:
            return Fetched(None, where)
        if answer.status != 200:
            raise SourceError(f"{where} answered HTTP {answer.status}")
        name = Path(urllib.parse.urlsplit(answer.url).path).name or "register"
        return Fetched(
            answer.body,
            name,
            answer.media_type,
            answer.headers.get("ETag"),
            answer.headers.get("Last-Modified"),
        )

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
        if not isinstance(data, bytes):  # the endpoint answered in a format other than Turtle
            raise SourceError(f"{source.location} did not answer with Turtle")
        if len(data) > self.max_bytes:
            raise SourceError(f"{source.location} returned over {self.max_bytes} bytes")
        return Fetched(data, "endpoint.ttl", "text/turtle")
