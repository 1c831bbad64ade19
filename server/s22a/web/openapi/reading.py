"""The read side of the OpenAPI document: pages, documents and `/sparql`."""

from __future__ import annotations

from s22a.sparql.examples import EXAMPLES
from s22a.sparql.protocol import FORM, QUERY, UPDATE
from s22a.web.conneg import (
    DOCUMENT_FORMATS,
    DUMPS,
    GRAPH_FORMATS,
    RDF_FORMATS,
    SOLUTION_FORMATS,
)
from s22a.web.openapi.components import (
    CONDITIONAL,
    PAGE,
    STRING,
    Schema,
    answers,
    ext_param,
    format_param,
    header,
    open_enum,
    operation,
    path,
    query,
    ref,
    representations,
    response,
    types,
)


def pages_paths() -> Schema:
    html = response("The page", PAGE)
    ok = answers(html, "304", "503")
    paths: Schema = {
        "/": {"get": operation("The home page", ok, CONDITIONAL, tag="pages", op="home")}
    }
    return paths


def documents_paths() -> Schema:
    doc = representations(
        DOCUMENT_FORMATS,
        "The document in the negotiated format (extension, then _format, then Accept)",
        "ETag",
        "Link",
        "Content-Location",
    )
    fmt = format_param(DOCUMENT_FORMATS)
    kind = path(
        "kind",
        "The kind of thing: agreement, force, body, group, region, capability, "
        "register, scheme (or the first part of another IRI the service mints)",
        {"type": "string", "pattern": "^[a-z][a-z0-9-]*$"},
        "force",
        "agreement",
    )
    name = path(
        "name",
        "Its identifier, with a format extension if wanted (.ttl, .html...)",
        {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._~-]*$"},
        "merseyside",
        "merseyside.ttl",
    )
    slug = path(
        "slug", "Its identifier", {"type": "string", "pattern": "^[A-Za-z0-9._~-]+$"}, "merseyside"
    )
    errors = ("304", "404", "406", "503")
    see_other = answers(None, "303", "404", "503")
    paths: Schema = {
        "/id/{kind}/{slug}": {
            "get": operation(
                "A thing's IRI: 303 See Other to its document (keeping the query)",
                see_other,
                kind,
                slug,
                fmt,
                tag="documents",
                op="thing",
            )
        },
        "/id/{name}": {
            "get": operation(
                "The catalogue and the dataset: 303 See Other to /catalog and /void",
                see_other,
                path(
                    "name",
                    "catalog or dataset",
                    open_enum(
                        ["catalog", "dataset"], {"type": "string", "pattern": "^[a-z0-9-]+$"}
                    ),
                ),
                tag="documents",
                op="other_thing",
            )
        },
        "/doc/{kind}/{name}": {
            "get": operation(
                "The document about a thing",
                answers(doc, *errors),
                kind,
                name,
                fmt,
                CONDITIONAL,
                tag="documents",
                op="document",
            )
        },
        "/def/{name}": {
            "get": operation(
                "The ontology (s22a) or the shapes, as documentation or RDF",
                answers(doc, *errors),
                path(
                    "name",
                    "s22a or shapes, with a format extension if wanted",
                    open_enum(["s22a", "shapes", "s22a.ttl", "shapes.jsonld", "s22a.html"]),
                    "s22a",
                ),
                fmt,
                CONDITIONAL,
                tag="documents",
                op="definition",
            )
        },
    }
    for name_, what in (
        ("void", "The VoID description of the dataset"),
        ("catalog", "The DCAT catalogue: the dataset, registers, services"),
    ):
        paths[f"/{name_}"] = {
            "get": operation(
                what, answers(doc, *errors), fmt, CONDITIONAL, tag="documents", op=name_
            )
        }
        paths[f"/{name_}.{{ext}}"] = {
            "get": operation(
                f"{what}, in the format its extension names",
                answers(doc, *errors),
                ext_param(DOCUMENT_FORMATS),
                fmt,
                CONDITIONAL,
                tag="documents",
                op=f"{name_}_ext",
            )
        }
    paths["/dump.{ext}"] = {
        "get": operation(
            "The whole dataset, every named graph (an attachment)",
            answers(response("The dump", DUMPS.values()), "304", "404", "503"),
            path("ext", "nq or trig (others: 404)", open_enum(DUMPS), "nq"),
            CONDITIONAL,
            tag="documents",
            op="dump",
        )
    }
    paths["/context.jsonld"] = {
        "get": operation(
            "The JSON-LD context every JSON-LD document names",
            answers(
                response(
                    "The context",
                    ["application/ld+json"],
                    {"application/ld+json": {"type": "object", "required": ["@context"]}},
                ),
                "304",
            ),
            CONDITIONAL,
            tag="documents",
            op="context",
        )
    }
    return paths


def sparql_paths() -> Schema:
    results = [*types(SOLUTION_FORMATS), *types(GRAPH_FORMATS), *types(RDF_FORMATS)]
    ok = response(
        "Query results (negotiated by format= or Accept); with no query, the service "
        "description (Turtle unless asked otherwise) or the query page (HTML)",
        results,
        {"application/sparql-results+json": ref("schemas", "SparqlResultsJson")},
    )
    error = response(
        "The error, as text (or the query page, for browsers)", ["text/plain", "text/html"]
    )
    codes = {
        "400": "The request or the query is wrong (the message says where)",
        "403": "SPARQL Update: the endpoint is read-only",
        "406": "No format you accept suits this kind of result",
        "413": "The request is over 1 MiB",
        "415": "A POST that is neither a form nor application/sparql-query",
        "422": "The result is larger than the endpoint's cap, or the query needed more memory "
        "than a query may use",
        "502": "A SERVICE endpoint failed",
        "503": "The query ran out of time, too many queries are running or waiting (yours or "
        "everyone's: Retry-After says when to try again), or the store is unavailable",
        "504": "A SERVICE endpoint did not answer in time",
    }
    failures = {status: {**error, "description": text} for status, text in codes.items()}
    keys = open_enum(
        [k for fs in (SOLUTION_FORMATS, GRAPH_FORMATS) for f in fs for k in (f.key, f.media_type)]
    )
    graphs = {"type": "array", "items": {"type": "string", "format": "iri"}}
    dataset = [
        query(
            "default-graph-uri",
            "The default graph: these graphs merged (SPARQL 1.1 Protocol 2.1.4)",
            graphs,
            explode=True,
        ),
        query("named-graph-uri", "The named graphs the query may use", graphs, explode=True),
        query(
            "asOf",
            "Answer over the registers as they stood at this instant (an xsd:dateTime in UTC, "
            "or a date, meaning its end), with the reference data and the ontology",
            {"type": "string", "examples": ["2026-12-01T12:00:00Z", "2026-12-01"]},
        ),
        {
            "name": "Accept-Datetime",
            "in": "header",
            "required": False,
            "schema": STRING,
            "description": "As asOf, as an HTTP date (Memento, RFC 7089); asOf wins",
        },
    ]
    formats = [
        query(name, "The result format, by key or media type (wins over Accept)", keys)
        for name in ("format", "_format", "output")
    ]
    text = {"type": "string", "examples": [EXAMPLES[0].query]}
    form = {
        "type": "object",
        "properties": {
            "query": text,
            "default-graph-uri": graphs,
            "named-graph-uri": graphs,
            "format": STRING,
            "asOf": STRING,
        },
    }
    body = {
        "required": True,
        "content": {
            FORM: {"schema": {**form, "required": ["query"]}},
            QUERY: {"schema": text},
            UPDATE: {"schema": {**STRING, "description": "Refused with 403: read-only endpoint"}},
        },
    }
    refused = answers(
        None,
        extra={
            "405": {
                **error,
                "description": "Only GET and POST (and "
                "OPTIONS, HEAD) are allowed: this endpoint is "
                "read-only",
                "headers": {"Allow": header("GET, HEAD, POST, OPTIONS", True)},
            }
        },
    )
    get_failures = {k: v for k, v in failures.items() if k not in ("413", "415")}
    return {
        "/sparql": {
            "get": operation(
                "Run a query (SPARQL 1.1 Protocol 2.1.1), or read the service description",
                answers(ok, "304", extra=get_failures),
                query("query", "The query", text),
                *dataset,
                *formats,
                query("update", "SPARQL Update: refused with 403"),
                query(
                    "example",
                    "Which example the query page shows",
                    open_enum([e.slug for e in EXAMPLES]),
                ),
                tag="sparql",
                op="sparql_get",
            ),
            "post": operation(
                "Run a query sent as a form (2.1.2) or directly (2.1.3)",
                answers(ok, extra=failures),
                *dataset,
                *formats,
                body=body,
                tag="sparql",
                op="sparql_post",
            ),
            "options": operation(
                "CORS preflight",
                {
                    "204": response(
                        "What may be sent",
                        headers={
                            "Allow": header("The methods", True),
                            "Access-Control-Allow-Methods": header("The methods", True),
                        },
                    )
                },
                tag="sparql",
                op="sparql_options",
            ),
            **{
                method: operation(
                    f"{method.upper()} is refused: the endpoint is read-only",
                    refused,
                    tag="sparql",
                    op=f"sparql_{method}",
                )
                for method in ("put", "delete", "patch")
            },
        }
    }
