"""Reading SPARQL 1.1 Protocol query requests (the result formats are in `s22a.web.conneg`).

Implements section 2.1 of the W3C Recommendation "SPARQL 1.1 Protocol" (21 March 2013): the
three ways of sending a query operation (2.1.1 GET with ``query=``; 2.1.2 POST of an
``application/x-www-form-urlencoded`` form; 2.1.3 POST of an ``application/sparql-query`` body)
and the protocol's RDF dataset parameters (2.1.4: ``default-graph-uri``, ``named-graph-uri``).
Requests that break the rules raise `ProtocolError` with the status the recommendation's
negative tests expect: 400 for two queries, a missing query in a POST, or text that is not
UTF-8; 415 for a POST with no or another media type. This endpoint is read-only, so SPARQL
Update (2.2), sent as ``update=`` or as ``application/sparql-update``, is refused with 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl

import pyoxigraph as ox

from s22a.sparql.errors import ProtocolError

MAX_REQUEST_BYTES = 1 << 20  # a query (and its parameters) may be up to 1 MiB
FORM = "application/x-www-form-urlencoded"
QUERY = "application/sparql-query"
UPDATE = "application/sparql-update"

FORMAT_PARAMETERS = ("format", "_format", "output")  # `output` is what some clients send


@dataclass(frozen=True)
class QueryRequest:
    """A query operation: the query, the protocol dataset, and any `format=` wishes."""

    query: str
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    formats: tuple[str, ...] = ()
    as_of: str | None = None  # the `asOf` parameter (`s22a.history.asof`), if any

    @property
    def has_dataset(self) -> bool:
        """Whether the request names its own RDF dataset (section 2.1.4)."""
        return bool(self.default_graphs or self.named_graphs)


@dataclass(frozen=True)
class Parameters:
    """The parameters of a request that carries no query (service description or page)."""

    formats: tuple[str, ...] = ()
    values: tuple[tuple[str, str], ...] = ()

    def get(self, name: str) -> str | None:
        """The first value of parameter `name`, if any."""
        return next((v for k, v in self.values if k == name), None)


def _decode_pairs(raw: bytes, where: str) -> list[tuple[str, str]]:
    try:
        text = raw.decode("ascii")  # percent-encoded, so ASCII unless the client is broken
        return parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise ProtocolError(
            f"the {where} is not UTF-8 (SPARQL 1.1 Protocol 2.1)", status=400
        ) from None


def _media_type(content_type: str | None) -> tuple[str, dict[str, str]]:
    fields = [f.strip() for f in (content_type or "").split(";")]
    parameters = {}
    for field in fields[1:]:
        name, _, value = field.partition("=")
        parameters[name.strip().lower()] = value.strip().strip('"').lower()
    return fields[0].lower(), parameters


def _check_charset(parameters: dict[str, str]) -> None:
    charset = parameters.get("charset")
    if charset and charset not in ("utf-8", "utf8", "us-ascii"):
        raise ProtocolError(
            f"the request is declared as {charset}; SPARQL queries must be sent as UTF-8",
            status=400,
        )


def _graph_iris(values: list[str], name: str) -> tuple[str, ...]:
    for value in values:
        try:
            ox.NamedNode(value)
        except ValueError as error:
            raise ProtocolError(
                f"{name} {value!r} is not an absolute IRI: {error}", status=400
            ) from None
    return tuple(dict.fromkeys(values))


def parse_request(
    method: str, content_type: str | None, query_string: bytes, body: bytes
) -> QueryRequest | Parameters:
    """Read a request to `/sparql`: a `QueryRequest`, or `Parameters` when it has no query."""
    pairs = _decode_pairs(query_string, "URL query string")
    direct_query: str | None = None
    if method == "POST":
        media_type, parameters = _media_type(content_type)
        if not media_type:
            raise ProtocolError(
                f"a POST to /sparql needs a Content-Type: {FORM} or {QUERY}", status=415
            )
        if media_type == UPDATE:
            raise ProtocolError(
                "/sparql is read-only: SPARQL Update is not accepted here", status=403
            )
        if len(body) > MAX_REQUEST_BYTES:
            raise ProtocolError(f"the request is over {MAX_REQUEST_BYTES} bytes", status=413)
        if media_type == FORM:
            _check_charset(parameters)
            pairs += _decode_pairs(body, "form body")
        elif media_type == QUERY:
            _check_charset(parameters)
            try:
                direct_query = body.decode("utf-8")
            except UnicodeDecodeError as error:
                raise ProtocolError(
                    f"the query is not UTF-8 (byte {error.start}); send queries as UTF-8",
                    status=400,
                ) from None
        else:
            raise ProtocolError(
                f"Content-Type {media_type} is not accepted; use {FORM} or {QUERY}", status=415
            )
    names = {name for name, _ in pairs}
    if "update" in names:
        raise ProtocolError("/sparql is read-only: SPARQL Update is not accepted here", status=403)
    queries = [v for k, v in pairs if k == "query"]
    if direct_query is not None:
        queries.append(direct_query)
    formats = tuple(v for k, v in pairs if k in FORMAT_PARAMETERS and v)
    if not queries:
        if method == "POST":
            raise ProtocolError("the POST carries no query", status=400)
        return Parameters(formats, tuple(pairs))
    if len(queries) > 1:
        raise ProtocolError("the request carries more than one query; send exactly one", status=400)
    if not queries[0].strip():
        raise ProtocolError("the query is empty", status=400)
    return QueryRequest(
        queries[0],
        _graph_iris([v for k, v in pairs if k == "default-graph-uri"], "default-graph-uri"),
        _graph_iris([v for k, v in pairs if k == "named-graph-uri"], "named-graph-uri"),
        formats,
        next((v for k, v in pairs if k == "asOf"), None),
    )
