"""What a `/sparql` query request comes to before it runs: the job, its formats, its ETag.

Worked out in one place for both ways a query is answered: by the app (`s22a.views.sparql`)
and on the HTTP bridge's event loop (`s22a.web.direct`), so that the two give the same job,
the same cache key and the same ETag for the same request.
"""

from __future__ import annotations

from dataclasses import dataclass

from s22a.sparql.cache import etag
from s22a.sparql.engine import QueryJob
from s22a.sparql.errors import QueryTextError
from s22a.sparql.protocol import QueryRequest
from s22a.sparql.text import dataset_clauses, has_service_keyword, is_volatile, might_use_service
from s22a.web import conneg
from s22a.web.conneg import GRAPH_NTRIPLES, RESULTS_JSON, Choice, Format, choose_formats


@dataclass(frozen=True)
class Plan:
    """A query request worked out: what to run, how to answer, and whether it may be kept."""

    job: QueryJob
    choice: Choice
    federated: bool  # it may call out with SERVICE
    cacheable: bool  # its answer is a function of the request and the dataset version
    tag: str | None  # its ETag, for a cacheable request other than a POST

    @property
    def html(self) -> bool:
        """Whether the client is answered with the query page rather than the results."""
        return self.choice.solutions is conneg.HTML or self.choice.graph is conneg.HTML


def plan(query: QueryRequest, accept: str | None, token: str, base: str, method: str) -> Plan:
    """Work out `query` (sent with `method` and `accept`) on the dataset version `token`; `base`
    is the endpoint's URL, the base IRI of relative IRIs in the query."""
    choice = choose_formats(query.formats, accept)
    mode, default, named = dataset(query)
    job = QueryJob(
        query.query,
        mode,
        default,
        named,
        _wanted(choice.solutions, RESULTS_JSON),
        _wanted(choice.graph, GRAPH_NTRIPLES),
        base=base,
    )
    try:
        federated = might_use_service(query.query) and has_service_keyword(query.query)
    except QueryTextError:
        federated = True
    cacheable = not federated and not is_volatile(query.query)
    tag = None
    if cacheable and method != "POST":
        html = (choice.solutions is conneg.HTML, choice.graph is conneg.HTML)
        tag = etag(
            token,
            job.query,
            mode,
            default,
            named,
            job.results_format,
            job.graph_format,
            html,
            job.base,
        )
    return Plan(job, choice, federated, cacheable, tag)


def dataset(query: QueryRequest) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """Which dataset the query runs on (SPARQL 1.1 Protocol 2.1.4, Query 13.2)."""
    if query.has_dataset:  # the protocol's graphs override FROM and FROM NAMED
        return "protocol", query.default_graphs, query.named_graphs
    try:
        if dataset_clauses(query.query):
            return "query", (), ()
    except QueryTextError:
        pass  # the engine reports the query's syntax error
    return "union", (), ()


def _wanted(fmt: Format | None, for_html: Format) -> str | None:
    """The media type the engine writes for `fmt` (the page shows `for_html`'s)."""
    if fmt is None:
        return None
    return for_html.media_type if fmt is conneg.HTML else fmt.media_type
