"""The OpenAPI 3.1 document of the HTTP interface, served at `/openapi.json`.

Written from what each view does (OpenAPI Specification 3.1.0): every route, its methods,
parameters, request bodies, and the status codes and media types it answers with. The
format lists come from the views themselves, so a format added there is documented here;
the parts shared by many operations are in `openapi_components`. `tests/test_openapi.py`
checks the document is valid, that every route of the app is in it with its methods, and
runs schemathesis against a live server to hold each response to it.
"""

from __future__ import annotations

from s22a import __version__
from s22a.sparql.examples import EXAMPLES
from s22a.sparql.protocol import FORM, QUERY, UPDATE
from s22a.views.documents import DUMPS
from s22a.views.history import DIFF_FORMATS, LIST_FORMATS
from s22a.views.registers import READ_FORMATS, REPORT_FORMATS, WRITE_TYPES
from s22a.web.conneg import DOCUMENT_FORMATS, GRAPH_FORMATS, RDF_FORMATS, SOLUTION_FORMATS
from s22a.web.openapi_components import (
    CONDITIONAL,
    PAGE,
    SLUG_PATTERN,
    STRING,
    Schema,
    answers,
    components,
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

OPENAPI_VERSION = "3.1.0"
FORCE, DAY = ref("parameters", "Force"), ref("parameters", "Day")
NUMBER: Schema = {"type": "integer", "minimum": 0}


def _pages() -> Schema:
    html = response("The page", PAGE)
    listing = (CONDITIONAL, ref("parameters", "Page"), ref("parameters", "Size"))
    sorts = {
        "agreements": ["title", "newest", "oldest", "registers"],
        "forces": ["name", "agreements", "region"],
        "capabilities": ["name", "agreements"],
    }
    ok = answers(html, "304", "503")
    paths: Schema = {
        "/": {"get": operation("The home page", ok, CONDITIONAL, tag="pages", op="home")}
    }
    for name, keys in sorts.items():
        paths[f"/{name}"] = {
            "get": operation(
                f"Every {name[:-1]}, a page at a time",
                ok,
                *listing,
                query("sort", "The order (others: the first)", open_enum(keys)),
                tag="pages",
                op=name,
            )
        }
    paths["/regions"] = {
        "get": operation("The policing regions", ok, CONDITIONAL, tag="pages", op="regions")
    }
    paths["/search"] = {
        "get": operation(
            "Search titles, names, labels and purposes; every word must match",
            ok,
            *listing,
            query("q", "The words (the first 100 characters, 8 words)"),
            tag="pages",
            op="search",
        )
    }
    return paths


def _documents() -> Schema:
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


def _sparql() -> Schema:
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
        "422": "The result is larger than the endpoint's cap: add a LIMIT",
        "502": "A SERVICE endpoint failed",
        "503": "The query ran out of time, or the store is unavailable",
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


def _registers() -> Schema:
    read = representations(
        READ_FORMATS, "The current register (a page for browsers)", "ETag", "Link"
    )
    summary = {"application/json": ref("schemas", "WriteSummary")}
    written = response(
        "Written (or unchanged): what changed, and where the new version is",
        ["application/json", "text/html"],
        summary,
        {"Content-Location": header("The new version's URL")},
    )
    created = response(
        "Created: the first version of the register",
        ["application/json", "text/html"],
        summary,
        {
            "Location": header("The new version's URL", True),
            "Content-Location": header("The new version's URL", True),
        },
    )
    invalid = response(
        "Not valid: the SHACL report (JSON, Turtle or HTML); nothing changed",
        types(REPORT_FORMATS),
        {"application/json": ref("schemas", "InvalidReport")},
    )
    body = {
        "required": True,
        "description": "The register, at most S22A_MAX_UPLOAD bytes, "
        "uncompressed (a Content-Encoding other than identity: 415)",
        "content": {
            t: {
                "schema": {"type": ["object", "array"]}
                if t.endswith("json")
                else {"type": "string"}
            }
            for t in WRITE_TYPES
        },
    }
    outcomes = answers(
        written,
        "401",
        "403",
        "503",
        problems=("400", "404", "413", "415"),
        extra={"201": created, "422": invalid},
    )
    return {
        "/registers/{force}": {
            "parameters": [FORCE],
            "get": operation(
                "The current register, in the negotiated format",
                answers(read, "304", "503", problems=("404", "406")),
                format_param(READ_FORMATS),
                CONDITIONAL,
                tag="registers",
                op="register_get",
            ),
            "put": operation(
                "Replace the register (Graph Store Protocol 5.3)",
                outcomes,
                body=body,
                secured=True,
                tag="registers",
                op="register_put",
            ),
            "post": operation(
                "Merge triples into the register (5.5); the result must be valid",
                outcomes,
                body=body,
                secured=True,
                tag="registers",
                op="register_post",
            ),
            "delete": operation(
                "Retire the register (5.4): GET then answers 404",
                answers(written, "401", "403", "503", problems=("404",)),
                secured=True,
                tag="registers",
                op="register_delete",
            ),
        }
    }


def _history() -> Schema:
    number = path("number", "A version number", NUMBER, 1)
    read_ext = ext_param(READ_FORMATS)
    versions = representations(LIST_FORMATS, "Every accepted version")
    versions["content"]["application/json"] = {"schema": ref("schemas", "VersionList")}
    diff = representations(DIFF_FORMATS, "The triples added and removed")
    diff["content"]["application/json"] = {"schema": ref("schemas", "Diff")}
    one = representations(READ_FORMATS, "The register as it was")
    negotiated = answers(one, "503", problems=("404", "406"))
    by_extension = answers(one, "503", problems=("404",))
    agreement = path(
        "slug",
        "The agreement's identifier",
        {"type": "string", "pattern": SLUG_PATTERN},
        "north-west-rocu",
    )
    paths: Schema = {
        "/registers/{force}/versions": {
            "get": operation(
                "Every accepted version of the register, and refused attempts",
                answers(versions, "503", problems=("404", "406")),
                FORCE,
                format_param(LIST_FORMATS),
                tag="history",
                op="versions",
            )
        },
        "/registers/{force}/versions/{number}": {
            "get": operation(
                "One version of the register",
                negotiated,
                FORCE,
                number,
                format_param(READ_FORMATS),
                tag="history",
                op="version",
            )
        },
        "/registers/{force}/versions/{number}.{ext}": {
            "get": operation(
                "One version of the register, in the format its extension names",
                by_extension,
                FORCE,
                number,
                read_ext,
                tag="history",
                op="version_ext",
            )
        },
        "/registers/{force}/diff/{older}/{newer}": {
            "get": operation(
                "What changed from one version to another",
                answers(diff, "503", problems=("404", "406")),
                FORCE,
                path("older", "The earlier version", NUMBER, 1),
                path("newer", "The later version", NUMBER, 1),
                format_param(DIFF_FORMATS),
                tag="history",
                op="diff",
            )
        },
    }
    for prefix, param, what in (
        ("register/{force}", FORCE, "A register"),
        ("agreement/{slug}", agreement, "What each register said of an agreement"),
    ):
        op = prefix.split("/")[0] + "_day"
        paths[f"/doc/{prefix}/{{day}}"] = {
            "get": operation(
                f"{what} at the end of a day",
                negotiated,
                param,
                DAY,
                format_param(READ_FORMATS),
                tag="history",
                op=op,
            )
        }
        paths[f"/doc/{prefix}/{{day}}.{{ext}}"] = {
            "get": operation(
                f"{what} at the end of a day, in the format its extension names",
                by_extension,
                param,
                DAY,
                read_ext,
                tag="history",
                op=f"{op}_ext",
            )
        }
    return paths


def _feeds() -> Schema:
    atom = response(
        "The Atom feed (RFC 4287)",
        ["application/atom+xml"],
        headers={"ETag": header("The feed's weak entity tag", True)},
    )
    return {
        "/feed.atom": {
            "get": operation(
                "Changes to every register",
                answers(atom, "304", "503"),
                CONDITIONAL,
                tag="feeds",
                op="feed",
            )
        },
        "/registers/{force}/feed.atom": {
            "get": operation(
                "Changes to one register",
                answers(atom, "304", "503", problems=("404",)),
                FORCE,
                CONDITIONAL,
                tag="feeds",
                op="register_feed",
            )
        },
    }


def _publish() -> Schema:
    page = response("The form", PAGE)
    done = {
        "200": response("The report (or where the text cannot be read)", PAGE),
        "400": response("The form needs correcting: the messages say what", PAGE),
        "413": response("The file is over the upload limit", PAGE),
    }
    upload = {"type": "string", "contentMediaType": "application/octet-stream"}
    validate = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "turtle": {**STRING, "description": "A register, pasted"},
                        "file": {
                            **upload,
                            "description": "Or a register's file (Turtle, N-Triples, "
                            "JSON-LD, RDF/XML), not both",
                        },
                    },
                },
                "encoding": {"file": {"contentType": "text/turtle"}},
            },
            FORM: {"schema": {"type": "object", "properties": {"turtle": STRING}}},
        },
    }
    force = open_enum(
        ["merseyside", "cheshire", "lancashire"], {"type": "string", "pattern": SLUG_PATTERN}
    )
    table = {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["force", "file"],
                    "properties": {
                        "force": {**force, "description": "The force whose register it is"},
                        "file": {**upload, "description": "The table (CSV, with headings)"},
                    },
                },
                "encoding": {"file": {"contentType": "text/csv"}},
            }
        },
    }
    return {
        "/publish": {
            "get": operation(
                "How to publish a register", {"200": page}, tag="publish", op="publish"
            )
        },
        "/publish/validate": {
            "get": operation(
                "The form to check a register", {"200": page}, tag="publish", op="validate_form"
            ),
            "post": operation(
                "Check a pasted or uploaded register; nothing is stored",
                done,
                body=validate,
                tag="publish",
                op="validate",
            ),
        },
        "/publish/csv": {
            "get": operation(
                "The form to convert a table", {"200": page}, tag="publish", op="csv_form"
            ),
            "post": operation(
                "Convert a CSV table into a register; nothing is stored",
                {**done, "503": ref("responses", "Unavailable")},
                body=table,
                tag="publish",
                op="csv",
            ),
        },
    }


def _api() -> Schema:
    ok = response(
        "This document",
        ["application/json"],
        {"application/json": {"type": "object", "required": ["openapi", "info", "paths"]}},
    )
    return {
        "/openapi.json": {
            "get": operation(
                "The OpenAPI document of this interface", {"200": ok}, tag="api", op="openapi"
            )
        }
    }


def document(server: str = "/") -> Schema:
    """The OpenAPI 3.1 document, for a server whose root is at `server`."""
    paths: Schema = {}
    for part in (_pages, _documents, _sparql, _registers, _history, _feeds, _publish, _api):
        paths.update(part())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Section 22A Collaboration Register",
            "version": __version__,
            "summary": "UK police collaboration agreements as linked open data",
            "description": "Pages for people, RDF for machines (/id/ IRIs answer 303 to /doc/ "
            "documents, which negotiate their format), a SPARQL 1.1 endpoint, "
            "and each force's register over the SPARQL 1.1 Graph Store "
            "HTTP Protocol, with its versions, differences and change feeds.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": tag}
            for tag in (
                "pages",
                "documents",
                "sparql",
                "registers",
                "history",
                "feeds",
                "publish",
                "api",
            )
        ],
        "paths": paths,
        "components": components(),
    }
