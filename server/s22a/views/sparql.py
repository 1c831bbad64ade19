"""`/sparql`: the SPARQL 1.1 Protocol endpoint, its service description, and its page for people.

One URL, four answers: a query gets its results (negotiated by `format=` or Accept); no query
gets the SPARQL 1.1 Service Description (Turtle by default), or the query page when the client
asks for HTML; OPTIONS gets a CORS preflight answer. The protocol rules live in
`s22a.sparql.protocol`, the limits in `s22a.sparql.pool` and `.remote`, federation in
`.federation`, caching in `.cache`, the result formats in `s22a.web.conneg`; this module wires
them to HTTP.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime
from functools import partial

from flask import Blueprint, Response, current_app, request

from s22a.history import asof
from s22a.sparql import federation
from s22a.sparql import service as sparql_service
from s22a.sparql.cache import dataset_token, etag_matches
from s22a.sparql.engine import QueryJob, QueryResult
from s22a.sparql.errors import (
    FederationError,
    ProtocolError,
    QueryFailed,
    QueryMemoryExceeded,
    QueryRefused,
    QuerySyntaxError,
    QueryTextError,
    QueryUnavailable,
)
from s22a.sparql.examples import EXAMPLES, by_slug
from s22a.sparql.protocol import MAX_REQUEST_BYTES, Parameters, QueryRequest, parse_request
from s22a.sparql.service import SparqlService
from s22a.sparql.text import (
    check_syntax,
    is_update,
    syntax_message,
)
from s22a.store import Store, StoreError, get_store
from s22a.views.sparql_page import page
from s22a.web import conneg, direct, memo
from s22a.web.conneg import (
    GRAPH_FORMATS,
    SOLUTION_FORMATS,
    Format,
    wants_html,
)
from s22a.web.http import add_vary, base_url
from s22a.web.memento import BadDatetime, parse_http_date, parse_xsd_datetime
from s22a.web.sparql_plan import plan

bp = Blueprint("sparql", __name__)

ALLOWED_METHODS = "GET, HEAD, POST, OPTIONS"
RETRY_AFTER = 2  # seconds a client refused for capacity is asked to wait
_PLAIN = Format("txt", "text/plain", "Text")


@bp.after_request
def _headers(response: Response) -> Response:
    """CORS for browser clients (YASGUI), and Vary on what negotiation reads."""
    response.headers.update(direct.CORS)
    add_vary(response, *direct.VARY)
    return response


@bp.route("/sparql", methods=["GET", "HEAD", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"])
def sparql() -> Response:
    """The SPARQL 1.1 Protocol endpoint (query operation only)."""
    if request.method == "OPTIONS":
        return _preflight()
    if request.method not in ("GET", "HEAD", "POST"):
        return _error(
            405,
            f"{request.method} is not allowed: /sparql is a read-only query endpoint "
            "(SPARQL 1.1 Protocol); use GET or POST. Graph Store writes are not accepted here.",
            {"Allow": ALLOWED_METHODS},
        )
    if (request.content_length or 0) > MAX_REQUEST_BYTES:
        return _error(413, f"the request is over {MAX_REQUEST_BYTES} bytes")
    try:
        parsed = parse_request(
            request.method,
            request.headers.get("Content-Type"),
            request.query_string,
            request.get_data() if request.method == "POST" else b"",
        )
    except ProtocolError as error:
        return _error(error.status, error.message)
    accept = request.headers.get("Accept")
    if isinstance(parsed, Parameters):
        if wants_html(parsed.formats, accept):
            example = by_slug(parsed.get("example")) or EXAMPLES[0]
            return page(example.query)
        return _description(parsed.formats, accept)
    return _answer(parsed, accept)


def _preflight() -> Response:
    response = Response(status=204)
    response.headers["Allow"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
    response.headers["Access-Control-Allow-Headers"] = request.headers.get(
        "Access-Control-Request-Headers", "Accept, Content-Type, If-None-Match"
    )
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


def _client_wants_html(formats: tuple[str, ...] = ()) -> bool:
    if any(conneg.by_key(f, (conneg.HTML,)) for f in formats):
        return True
    return conneg.from_accept(request.headers.get("Accept"), (_PLAIN, conneg.HTML)) is conneg.HTML


def _error(
    status: int, message: str, headers: dict[str, str] | None = None, query: str | None = None
) -> Response:
    """An error: the page for browsers, plain text for everyone else."""
    formats = tuple(request.args.getlist("format"))
    if _client_wants_html(formats):
        response = page(query or "", error=message)
        response.status_code = status
    else:
        response = Response(message + "\n", status, content_type=_PLAIN.content_type)
    response.headers.update(headers or {})
    return response


def _description(formats: tuple[str, ...], accept: str | None) -> Response:
    """The SPARQL 1.1 Service Description, as Turtle unless asked otherwise."""
    fmt = conneg.negotiate(
        format_param=formats[0] if formats else None, accept=accept, offered=conneg.RDF_FORMATS
    )
    if fmt is None:
        offered = ", ".join(f.media_type for f in conneg.RDF_FORMATS)
        return _error(406, f"the service description is available as {offered} (and HTML)")
    try:
        graphs = sparql_service.offered_graphs(get_store())
    except StoreError as error:
        return _error(503, f"the store is unavailable: {error}")
    service = sparql_service.get_service()
    graph = sparql_service.service_description(base_url(), graphs, service.settings)
    assert fmt.rdflib_format is not None  # every one of conneg.RDF_FORMATS has one
    body = graph.serialize(format=fmt.rdflib_format, encoding="utf-8")
    return Response(body, content_type=fmt.content_type)


def _answer(query: QueryRequest, accept: str | None) -> Response:
    """Run a query (or find its result in the cache) and answer in the chosen format."""
    service = sparql_service.get_service()
    store = get_store()
    try:
        moment = _as_of(query)
    except BadDatetime as error:
        return _error(400, str(error), query=query.query)
    try:
        if moment is None:
            # From the store's change clock: a query only after a write (`s22a.store.changes`).
            token = store.changes.derived("sparql", lambda: dataset_token(store))
        else:  # the registers as they stood then, in memory
            token = asof.dataset_key(store, moment)
            store = asof.dataset_at(store, moment)
    except StoreError as error:
        return _error(503, f"the store is unavailable: {error}", query=query.query)
    planned = plan(query, accept, token, base_url(), request.method)
    job, tag = planned.job, planned.tag
    if tag and moment is None:
        # A GET on the current data: its answer (a 200 or 304; errors are not kept) holds while
        # the token does, so the bridge may give it again before the app runs (`s22a.web.memo`).
        memo.allow(request.environ, partial(store.changes.holds, "sparql", token))
    if tag and etag_matches(request.headers.get("If-None-Match"), tag):
        return Response(status=304, headers={"ETag": tag, "Cache-Control": "no-cache"})
    result = service.cache.get(token, job) if planned.cacheable else None
    if result is None:
        try:
            ran = direct.ran(request.environ, job)  # run on the bridge's loop, if it was
            if ran is not None:
                result = ran()
            else:
                with service.admission.admit(request.remote_addr or ""):
                    result = _run(job, planned.federated, store, token, service)
        except (QueryFailed, FederationError, QueryTextError) as error:
            return _failure(error, job, service)
        if planned.cacheable:
            service.cache.put(token, job, result)
    chosen = planned.choice.graph if result.kind == "graph" else planned.choice.solutions
    if chosen is conneg.HTML:
        response = page(query.query, result=result, request_=query)
    else:
        response = Response(result.body, content_type=direct.content_type(result))
    if tag:
        response.headers["ETag"] = tag
        response.headers["Cache-Control"] = "no-cache"
    return response


def _as_of(query: QueryRequest) -> datetime | None:
    """The instant a query asks about: `asOf` (an xsd:dateTime, or a date meaning its end),
    else Accept-Datetime (an HTTP date); None for now."""
    value = query.as_of  # read with the other parameters (not `request.values`: parsed again)
    if value:
        return parse_xsd_datetime(value)
    header = request.headers.get("Accept-Datetime")
    return parse_http_date(header) if header else None


def _run(
    job: QueryJob, federated: bool, store: Store, token: str, service: SparqlService
) -> QueryResult:
    # The time limit counts from the request's arrival (noted by s22a.web.front), not from
    # when this thread or a worker took it up.
    arrived = request.environ.get("s22a.arrived", time.monotonic())
    deadline = arrived + service.settings.timeout
    if federated:
        text, _ = federation.evaluate_services(
            job.query,
            service.allow_list(),
            deadline,
            service.federation,
            check_syntax=lambda text: check_syntax(text, job.base),
            resolver=federation.resolve_host,
        )
        job = replace(job, query=text)
    return service.engine(store).run(job, store, token, deadline)


def _failure(error: Exception, job: QueryJob, service: SparqlService) -> Response:
    """The response for a query that failed: status and a message saying what to do."""
    settings = service.settings
    if isinstance(error, QueryTextError):
        return _error(400, f"the query cannot be run here: {error}", query=job.query)
    if isinstance(error, FederationError):
        return _error(error.status, error.message, query=job.query)
    assert isinstance(error, QueryFailed)
    if isinstance(error, QuerySyntaxError):
        if is_update(job.query):
            message = (
                "this is a SPARQL Update: /sparql is read-only and runs queries only "
                "(SELECT, ASK, CONSTRUCT, DESCRIBE)"
            )
        else:
            message = syntax_message(job.query, error.message)
        return _error(400, message, query=job.query)
    if error.status == 406:
        offered = SOLUTION_FORMATS if error.kind != "graph" else GRAPH_FORMATS
        kinds = {"graph": "an RDF graph", "boolean": "a yes/no answer"}
        return _error(
            406,
            f"this query gives {kinds.get(error.kind or '', 'a table of solutions')}, "
            "which is available as " + ", ".join(f.media_type for f in offered),
            query=job.query,
        )
    if isinstance(error, QueryRefused):
        return _error(
            503,
            f"{error.message}. Try again in a few seconds, or download the data (/dump.nq) "
            "and query it yourself.",
            {"Retry-After": str(RETRY_AFTER)},
            query=job.query,
        )
    if isinstance(error, QueryMemoryExceeded):
        return _error(
            422,
            f"{error.message}: the query was stopped. Aggregate less (GROUP_CONCAT and "
            "long strings use memory for every row), add a LIMIT, or download the data "
            "(/dump.nq) and query it yourself.",
            query=job.query,
        )
    if isinstance(error, QueryUnavailable):
        current_app.logger.error("SPARQL query failed: %s", error.message)
        return _error(
            503,
            f"the store is unavailable: {error.message}. Try again later.",
            {"Retry-After": "30"},
            query=job.query,
        )
    if error.status == 503:
        return _error(
            503,
            f"{error.message} ({settings.timeout:g} s): the query was stopped. Add a LIMIT, "
            "narrow the pattern, or download the data (/dump.nq) and query it yourself.",
            query=job.query,
        )
    if error.status == 422:
        return _error(
            422,
            f"{error.message}, the cap of this endpoint: add a LIMIT or ask for fewer variables.",
            query=job.query,
        )
    current_app.logger.error("SPARQL query failed: %s", error.message)
    return _error(error.status, f"the query could not be run: {error.message}", query=job.query)
