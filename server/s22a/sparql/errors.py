"""The errors of `/sparql`: one base class, carrying the HTTP status the endpoint answers with.

The statuses follow the SPARQL 1.1 Protocol (section 2.1.5, and its negative tests) where it
gives one: 400 for a malformed request or query, 415 for a body of the wrong media type; and
HTTP's otherwise: 403 for an update (this endpoint is read-only), 406 for a result format the
client cannot accept, 413 and 422 for what is too large, 502/504 for a SERVICE endpoint that
fails or hangs, 503 for a query stopped at its time limit or a store that cannot be reached.
"""

from __future__ import annotations


class SparqlError(Exception):
    """A query or request `/sparql` cannot answer; `status` is the HTTP status to answer with."""

    status = 500

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status


class ProtocolError(SparqlError):
    """A request the protocol does not allow (the status is given with the message)."""

    status = 400


class QueryTextError(SparqlError, ValueError):
    """Query text that cannot be made safe sense of (the message says why)."""

    status = 400


class QueryFailed(SparqlError):
    """A query that did not produce a result; `kind` is the kind of result it would give."""

    status = 500

    def __init__(self, message: str, kind: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind


class QuerySyntaxError(QueryFailed):
    """The engine could not parse the query; the message is the parser's."""

    status = 400


class QueryTimeout(QueryFailed):
    """The query (or the wait for a free worker) passed the time limit."""

    status = 503


class QueryUnavailable(QueryFailed):
    """The store that would run the query cannot be reached (a remote SPARQL server)."""

    status = 503


class QueryRefused(QueryFailed):
    """Too many queries are running or waiting (in all, or from this client): not admitted."""

    status = 503


class QueryMemoryExceeded(QueryFailed):
    """The query needed more memory than a query worker may use; the worker was replaced."""

    status = 422


class ResultTooLarge(QueryFailed):
    """The serialized result passed the size cap."""

    status = 422


class NotAcceptable(QueryFailed):
    """No format the client accepts suits the query's kind of result (`kind`)."""

    status = 406


class FederationError(SparqlError):
    """A SERVICE clause that was refused or failed."""

    status = 400


class ServiceRefused(FederationError):
    """An endpoint that is not in the catalogue (no request was made)."""

    status = 400


class ServiceFailed(FederationError):
    """An allowed endpoint that failed or answered badly."""

    status = 502


class ServiceTimeout(ServiceFailed):
    """An allowed endpoint that did not answer in time."""

    status = 504
