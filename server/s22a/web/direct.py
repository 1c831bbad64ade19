"""`/sparql` queries answered on the HTTP bridge's event loop, without a thread or Flask.

A query the result cache cannot answer spends most of its time waiting for a query worker
(`s22a.sparql.pool`); through the app it waits in a request thread, and the thread hop, the
WSGI environ, Flask and its hooks cost about as much CPU again as the query itself (measured:
bench/README.md). So the bridge (`s22a.web.bridge`) first offers each request to
`DirectQueries.answer`, which answers the plain case here, as a coroutine: a GET or POST
query on the current data of the embedded store, asking for results (not the page), with no
SERVICE and nothing volatile (NOW(), RAND()...). It is worked out by the same code as in the
app (`s22a.web.sparql_plan`: job, formats, ETag), shares the app's result cache, admission
control and query workers, and gives the same headers (`headers`). Its access log line ends
in ``direct``.

Everything else goes to the app as before, untouched. So does a query that failed here (a
syntax error, a time limit, a refusal): the app is handed the failure (`ran`) and words the
error response itself, without running the query again.

A query still waiting for a worker or running when its client disconnects is given up
(`s22a.web.hangups`): its worker is killed and freed for the next query, instead of working on
until the time limit for nobody. The answer is then `LEFT` (nothing to send), logged as a 499.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import Executor
from functools import partial
from typing import Any

from flask import Flask
from werkzeug.wrappers import Request

from s22a.sparql.cache import dataset_token, etag_matches
from s22a.sparql.engine import QueryJob, QueryResult
from s22a.sparql.errors import ProtocolError, QueryFailed
from s22a.sparql.pool import WorkerPool
from s22a.sparql.protocol import MAX_REQUEST_BYTES, QueryRequest, parse_request
from s22a.sparql.service import EXTENSION, SparqlService
from s22a.store import Store, StoreError
from s22a.web.bridge import request_environ
from s22a.web.front import ACCESS_LOG, Front, log_line
from s22a.web.hangups import LEFT, ClientLeft, HangUps
from s22a.web.http import base_url_of
from s22a.web.security import DOCUMENT, EVERY
from s22a.web.sparql_plan import plan

Answer = tuple[int, list[tuple[str, str]], bytes]
Ran = Callable[[], QueryResult]

# What every `/sparql` answer carries (the blueprint's hook adds them to the app's answers).
CORS = {
    "Access-Control-Allow-Origin": "*",  # for browser clients (YASGUI)
    "Access-Control-Expose-Headers": "ETag, Content-Type, Content-Length",
}
VARY = ("Accept", "Accept-Datetime")  # what negotiation reads (Accept-Datetime: a past moment)
RAN = "s22a.sparql.ran"  # the environ key of a query run here and handed to the app


def content_type(result: QueryResult) -> str:
    """The Content-Type of a result (Oxigraph names the charset of CSV and TSV itself)."""
    media = result.media_type
    return media if "charset=" in media.lower() else f"{media}; charset=utf-8"


def headers(result: QueryResult | None, tag: str | None) -> list[tuple[str, str]]:
    """The headers of a 200 with `result`, or of a 304 (`result` None), as the app gives them."""
    own = [("Content-Type", content_type(result))] if result is not None else []
    if tag:
        own += [("ETag", tag), ("Cache-Control", "no-cache")]
    # The app's 304 is a Flask response without a body, text/html by default: it carries the
    # headers of documents (`s22a.web.security`).
    security = EVERY if result is not None else DOCUMENT
    return [*own, *CORS.items(), ("Vary", ", ".join(VARY)), *security]


def ran(environ: dict[str, Any], job: QueryJob) -> Ran | None:
    """The outcome of `job` if it was run here before the request was handed to the app: a
    callable that gives its result or raises its failure."""
    handed = environ.get(RAN)
    if handed is None or handed[0] != job:
        return None
    outcome = handed[1]

    def again() -> QueryResult:
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    return again


class DirectQueries:
    """Answers the plain `/sparql` queries of one app on the bridge's event loop."""

    def __init__(self, app: Flask) -> None:
        """Answer for `app` (its store, SPARQL service and `Front`, as it made them)."""
        self.extensions = app.extensions
        front = app.wsgi_app
        self.front = front if isinstance(front, Front) else None
        self.hang_ups = HangUps()

    async def answer(
        self,
        scope: Any,
        protocol: Any,
        body: bytes,
        client: str,
        arrived: float,
        threads: Executor,
    ) -> tuple[Answer | None, Callable[[], bool] | None, dict[str, Any]]:
        """The answer to a request (an RSGI scope and protocol, its whole body), or None for
        the app to answer it, or `LEFT`; how long the answer holds (for `s22a.web.memo`); and
        what to add to the app's environ. `threads` run what must not run on the loop
        (reading the store)."""
        work = self._query(scope, body, client)
        store, service = self._parts()
        if work is None or store is None or service is None:
            return None, None, {}
        engine = service.engine(store)
        if not isinstance(engine, WorkerPool):  # a remote store: its own server runs queries
            return None, None, {}
        query, environ = work
        changes = store.changes
        token = changes.known("sparql")
        loop = asyncio.get_running_loop()
        if token is None:  # after a write: the token is worked out from the store, in a thread
            read = partial(dataset_token, store)
            try:
                token = await loop.run_in_executor(threads, changes.derived, "sparql", read)
            except StoreError:
                return None, None, {}  # the app says the store is unavailable
        planned = plan(query, scope.headers.get("accept"), token, base_url_of(Request(environ)),
                       scope.method)  # fmt: skip
        if planned.federated or not planned.cacheable or planned.html:
            return None, None, {}
        tag = planned.tag
        holds = partial(changes.holds, "sparql", token) if tag else None
        if tag and etag_matches(scope.headers.get("if-none-match"), tag):
            return self._logged(environ, (304, headers(None, tag), b""), arrived), holds, {}
        job = planned.job
        result = service.cache.get(token, job)
        if result is None:
            deadline = arrived + service.settings.timeout  # as in the app: from the arrival
            try:
                with service.admission.admit(environ["REMOTE_ADDR"]):
                    running = engine.run_on_loop(job, store, token, deadline, threads)
                    result = await self.hang_ups.run(running, protocol)
            except (QueryFailed, StoreError) as error:
                return None, None, {RAN: (job, error)}
            except ClientLeft:
                return self._logged(environ, LEFT, arrived), None, {}
            service.cache.put(token, job, result)
        answer = (200, headers(result, tag), result.body)
        return self._logged(environ, answer, arrived), holds, {}

    def _parts(self) -> tuple[Store | None, SparqlService | None]:
        """The app's store and SPARQL service, once its first request has opened them."""
        return self.extensions.get("s22a_store"), self.extensions.get(EXTENSION)

    def _query(self, scope: Any, body: bytes, client: str) -> tuple[QueryRequest, dict] | None:
        """The query of a request this path may answer, and its canonical WSGI address."""
        method, headers_ = scope.method, scope.headers
        if method not in ("GET", "POST") or self.front is None:
            return None
        if len(body) > MAX_REQUEST_BYTES or headers_.get("accept-datetime"):
            return None
        environ = self._canonical(scope, client)
        if environ["PATH_INFO"] != "/sparql":
            return None
        try:
            raw = scope.query_string.encode("latin-1")
            query = parse_request(method, headers_.get("content-type"), raw, body)
        except (ProtocolError, UnicodeEncodeError):
            return None  # the app words the error
        if not isinstance(query, QueryRequest) or query.as_of:
            return None
        return query, environ

    def _canonical(self, scope: Any, client: str) -> dict[str, Any]:
        """The part of the WSGI environ the endpoint's URL and the client's address come from,
        set by the app's own `Front` (public URL, trusted proxies)."""
        assert self.front is not None
        environ = request_environ(scope, client)
        self.front.canonical(environ)
        return environ

    @staticmethod
    def _logged(environ: dict[str, Any], answer: Answer, arrived: float) -> Answer:
        """`answer`, after its access log line (as `s22a.web.front` writes it, marked): the
        time since the request's `arrived` (time.monotonic)."""
        if ACCESS_LOG.isEnabledFor(20):  # logging.INFO
            ACCESS_LOG.info(
                "%s direct",
                log_line(
                    environ["REMOTE_ADDR"],
                    environ["REQUEST_METHOD"],
                    environ["SCRIPT_NAME"] + environ["PATH_INFO"],
                    environ["QUERY_STRING"],
                    environ["SERVER_PROTOCOL"],
                    str(answer[0]),
                    str(len(answer[2])),
                    (time.monotonic() - arrived) * 1000,
                ),
            )
        return answer
