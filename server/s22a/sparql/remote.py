"""Running `/sparql` queries on a remote store's own SPARQL endpoint, within the time limit and
the size cap.

The time limit is the socket timeout: the request is answered with a 503 in time, but the
remote server may go on computing (SPARQL 1.1 Protocol has no cancel), so give that server its
own limit too.
"""

from __future__ import annotations

import time

from s22a import fetch
from s22a.namespaces import GRAPH_ARCHIVE, NO_GRAPH
from s22a.sparql.engine import QueryJob, QueryResult
from s22a.sparql.errors import (
    NotAcceptable,
    QueryFailed,
    QuerySyntaxError,
    QueryTimeout,
    QueryUnavailable,
    ResultTooLarge,
)
from s22a.sparql.text import query_form
from s22a.store import Store, StoreError, is_staging
from s22a.store.remote import TRUNCATED_HEADER

_RESULT_TYPES = ("application/sparql-results", "text/csv", "text/tab-separated-values")


class RemoteEngine:
    """Runs queries on the SPARQL endpoint of a remote store (`Store.query_endpoint`)."""

    def __init__(self, max_bytes: int) -> None:
        """Results over `max_bytes` bytes are refused."""
        self.max_bytes = max_bytes
        self._graphs: tuple[str, list[str]] | None = None

    def _visible_graphs(self, store: Store, token: str) -> list[str]:
        if self._graphs is None or self._graphs[0] != token:
            graphs = [g for g in store.graphs() if g != GRAPH_ARCHIVE and not is_staging(g)]
            self._graphs = (token, graphs)
        return self._graphs[1]

    def run(self, job: QueryJob, store: Store, token: str, deadline: float) -> QueryResult:
        """POST the query to the server, giving up (503) at `deadline`."""
        # The protocol has no base IRI parameter: a BASE declaration before the query's own
        # prologue gives it (a later BASE in the query resolves against it, as it should). On
        # the first line, so that the server's error positions keep their line numbers.
        query = f"BASE <{job.base}> {job.query}" if job.base else job.query
        params = [("query", query)]
        if job.dataset == "union":
            # The default graph is a set: the store's merged graph (each triple once) and
            # the meta graph, not the union of the registers' quads (`Store.default_graphs`).
            graphs = self._visible_graphs(store, token)
            params += [("default-graph-uri", g) for g in store.default_graphs or graphs]
            params += [("named-graph-uri", g) for g in graphs]
        elif job.dataset == "protocol":
            params += [("default-graph-uri", g) for g in job.default or (NO_GRAPH,)]
            params += [("named-graph-uri", g) for g in job.named]
        accept = [t for t in (job.results_format, job.graph_format) if t]
        accept = accept or ["application/sparql-results+json", "text/turtle"]
        if store.query_endpoint is None:
            raise QueryFailed("the store has no SPARQL endpoint of its own to send queries to")
        timeout = max(deadline - time.monotonic(), 0.001)
        try:
            answer = store.protocol_query(
                params, accept, query_form(job.query), timeout, self.max_bytes
            )
        except fetch.FetchError as error:
            if error.kind == "timeout":
                raise QueryTimeout("the query did not finish within the time limit") from None
            if error.kind == "too_large":
                kind = (
                    "solutions" if (error.media_type or "").startswith(_RESULT_TYPES) else "graph"
                )
                raise ResultTooLarge(
                    f"the result is larger than {self.max_bytes} bytes", kind
                ) from None
            raise QueryUnavailable(f"cannot reach the SPARQL server: {error}") from None
        except StoreError as error:
            raise QueryFailed(str(error)) from None
        if answer.status >= 400:
            message = answer.body[: 64 * 1024].decode("utf-8", "replace").strip()
            if answer.status == 400:
                raise QuerySyntaxError(message)
            failure = QueryUnavailable if answer.status in (502, 503, 504) else QueryFailed
            raise failure(f"the SPARQL server answered HTTP {answer.status}: {message}")
        body, media_type = answer.body, answer.media_type
        kind = "solutions" if media_type.startswith(_RESULT_TYPES) else "graph"
        cap = answer.headers.get(TRUNCATED_HEADER)
        if cap is not None:  # the store cut the result short: never pass a part off as whole
            raise ResultTooLarge(f"the result is longer than the store's limit of {cap} rows", kind)
        if not job.results_format and not job.graph_format or media_type not in accept:
            raise NotAcceptable(kind, kind)
        return QueryResult(kind, media_type, body)

    def close(self) -> None:
        """Nothing to release: `s22a.fetch` keeps the connections to the store."""
