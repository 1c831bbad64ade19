"""What a `/sparql` query is (`QueryJob`), what it gives (`QueryResult`), and what runs it (an
`Engine`: `pool.WorkerPool` on the embedded store, `remote.RemoteEngine` on a remote one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from s22a.store import Store


@dataclass(frozen=True)
class QueryJob:
    """One query to run and how to serialize its result."""

    query: str
    dataset: str  # "union", "query" (its FROM clauses) or "protocol" (the two lists below)
    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()
    results_format: str | None = None  # media type for SELECT/ASK, None if not acceptable
    graph_format: str | None = None  # media type for CONSTRUCT/DESCRIBE, None if not acceptable
    # The base IRI relative IRIs in the query resolve against: the request's URL (SPARQL 1.1
    # Query section 4.1.1; RFC 3986 section 5.1.3, the URI used to retrieve the entity).
    base: str | None = None


@dataclass(frozen=True)
class QueryResult:
    """The engine's serialization of a result."""

    kind: str  # "solutions", "boolean" or "graph"
    media_type: str
    body: bytes


class Engine(Protocol):
    """Something that runs a `QueryJob` against a store before a deadline."""

    def run(self, job: QueryJob, store: Store, token: str, deadline: float) -> QueryResult:
        """Run `job` on the dataset identified by `token`; raise `QueryFailed` subclasses."""

    def close(self) -> None:
        """Release processes and files."""
