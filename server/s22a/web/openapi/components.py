"""The parts the OpenAPI document is built from: schemas, shared responses and parameters.

OpenAPI Specification 3.1.0, sections 4.8.7 (components) and 4.8.12 to 4.8.17 (parameters,
request bodies, responses); schemas are JSON Schema 2020-12. `s22a.openapi` assembles them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from s22a.web.conneg import PROBLEM_FORMATS, Format

SLUG_PATTERN = "^[a-z0-9]+(-[a-z0-9]+)*$"
JSON_TYPE = "application/json"
Schema = dict[str, Any]

# ---------------------------------------------------------------------------
# Schemas of the JSON the service writes

STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
PROBLEM: Schema = {
    "type": "object",
    "required": ["status", "title", "detail"],
    "properties": {"status": INTEGER, "title": STRING, "detail": STRING},
    "description": "What went wrong and what to do; some add fields (line, column, limit).",
}
WRITE_SUMMARY: Schema = {
    "type": "object",
    "required": ["register", "outcome", "version", "agreements", "changes"],
    "properties": {
        "register": STRING,
        "outcome": {"enum": ["created", "updated", "unchanged", "retired"]},
        "version": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["number", "iri", "url", "generated"],
                    "properties": {
                        "number": INTEGER,
                        "iri": STRING,
                        "url": STRING,
                        "generated": STRING,
                    },
                },
            ]
        },
        "agreements": {"type": "object", "additionalProperties": INTEGER},
        "changes": {"type": "array", "items": {"type": "object"}},
        "warnings": {"type": "array", "items": STRING},
    },
}
INVALID_REPORT: Schema = {
    "allOf": [
        {"$ref": "#/components/schemas/Problem"},
        {
            "type": "object",
            "required": ["conforms", "results"],
            "properties": {"conforms": {"const": False}, "results": {"type": "array"}},
        },
    ],
}
VERSION_LIST: Schema = {
    "type": "object",
    "required": ["register", "versions"],
    "properties": {
        "register": STRING,
        "versions": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["number", "iri", "url", "generated"],
                "properties": {
                    "number": INTEGER,
                    "iri": STRING,
                    "url": STRING,
                    "generated": STRING,
                    "agreements": INTEGER,
                    "triples": INTEGER,
                    "retired": {"type": "boolean"},
                },
            },
        },
    },
}
DIFF: Schema = {
    "type": "object",
    "required": ["register", "from", "to", "added", "removed", "agreements"],
    "properties": {
        "register": STRING,
        "from": STRING,
        "to": STRING,
        "added": {"type": "array", "items": STRING},
        "removed": {"type": "array", "items": STRING},
        "agreements": {"type": "array", "items": {"type": "object"}},
    },
}
JSONLD_DOCUMENT: Schema = {
    "type": "object",
    "required": ["@context", "@graph"],
    "properties": {
        # The register's context inline (the one served at /context.jsonld), so that clients
        # read the document with no network.
        "@context": {"type": "object", "required": ["@language"]},
        "@graph": {"type": "array"},
    },
}
SPARQL_JSON: Schema = {
    "description": "SPARQL 1.1 Query Results JSON Format",
    "type": "object",
    "required": ["head"],
    "anyOf": [{"required": ["results"]}, {"required": ["boolean"]}],
    "properties": {
        "head": {"type": "object"},
        "boolean": {"type": "boolean"},
        "results": {"type": "object", "required": ["bindings"]},
    },
}
SCHEMAS = {
    "Problem": PROBLEM,
    "WriteSummary": WRITE_SUMMARY,
    "InvalidReport": INVALID_REPORT,
    "VersionList": VERSION_LIST,
    "Diff": DIFF,
    "JsonLdDocument": JSONLD_DOCUMENT,
    "SparqlResultsJson": SPARQL_JSON,
}


def ref(kind: str, name: str) -> Schema:
    """A reference to a component: ref("schemas", "Problem")."""
    return {"$ref": f"#/components/{kind}/{name}"}


# ---------------------------------------------------------------------------
# Responses

JSON_SCHEMAS = {
    "application/json": ref("schemas", "Problem"),
    "application/ld+json": ref("schemas", "JsonLdDocument"),
}


def content(media_types: Iterable[str], schemas: dict[str, Schema] | None = None) -> Schema:
    """A content map of `media_types`, each with its schema from `schemas` if it has one."""
    return {
        t: ({"schema": schemas[t]} if schemas and t in schemas else {})
        for t in dict.fromkeys(media_types)
    }


def types(formats: Sequence[Format]) -> list[str]:
    """The media types of `formats`."""
    return [f.media_type for f in formats]


def response(
    description: str,
    media_types: Iterable[str] = (),
    schemas: dict[str, Schema] | None = None,
    headers: Schema | None = None,
) -> Schema:
    """A response object."""
    answer: Schema = {"description": description}
    body = content(media_types, schemas)
    if body:
        answer["content"] = body
    if headers:
        answer["headers"] = headers
    return answer


def header(description: str, required: bool = False) -> Schema:
    """A response header (a string)."""
    return {"description": description, "required": required, "schema": STRING}


PAGE = ("text/html",)
RESPONSES: dict[str, Schema] = {
    "NotModified": response("Not Modified: the copy named by If-None-Match is current"),
    "PageNotFound": response("No such thing: a page suggesting what was meant", PAGE),
    "PageNotAcceptable": response("No format you accept: a page listing the formats", PAGE),
    "Unavailable": response(
        "The store cannot be reached: try again later",
        PAGE,
        headers={"Retry-After": header("Seconds to wait")},
    ),
    "Problem": response(
        "An error, as JSON, HTML or text by Accept", types(PROBLEM_FORMATS), JSON_SCHEMAS
    ),
    "Unauthorised": response(
        "No valid token: send the force's token as a bearer token",
        types(PROBLEM_FORMATS),
        JSON_SCHEMAS,
        headers={"WWW-Authenticate": header("The Bearer challenge", True)},
    ),
    "Forbidden": response(
        "Another force's token: a token writes its own force's register",
        types(PROBLEM_FORMATS),
        JSON_SCHEMAS,
        headers={"WWW-Authenticate": header('error="insufficient_scope"', True)},
    ),
    "SeeOther": response(
        "See Other: the document about the thing (the query is kept)",
        PAGE,
        headers={"Location": header("The document's URL", required=True)},
    ),
}


def answers(
    ok: Schema | None, *others: str, problems: Iterable[str] = (), extra: Schema | None = None
) -> Schema:
    """Responses: `ok` as 200, the shared `others` ("304", "404"...), `problems` as Problem."""
    names = {
        "303": "SeeOther",
        "304": "NotModified",
        "404": "PageNotFound",
        "406": "PageNotAcceptable",
        "503": "Unavailable",
        "401": "Unauthorised",
        "403": "Forbidden",
    }
    result: Schema = {"200": ok} if ok else {}
    result.update({status: ref("responses", names[status]) for status in others})
    result.update({status: ref("responses", "Problem") for status in problems})
    result.update(extra or {})
    return dict(sorted(result.items()))


# ---------------------------------------------------------------------------
# Parameters


def path(name: str, description: str, schema: Schema, *examples: object) -> Schema:
    """A path parameter."""
    if examples:
        schema = {**schema, "examples": list(examples)}
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def query(name: str, description: str, schema: Schema = STRING, **more: object) -> Schema:
    """A query parameter (optional unless `required=True` is given)."""
    return {"name": name, "in": "query", "description": description, "schema": schema, **more}


def open_enum(values: Iterable[str], base: Schema = STRING) -> Schema:
    """A string that is usually one of `values`; others are answered too (404, 406, ignored)."""
    return {"anyOf": [{"enum": list(dict.fromkeys(values))}, base]}


def format_keys(formats: Sequence[Format]) -> list[str]:
    """The `_format=` values and extensions that name `formats`."""
    return [k for f in formats for k in (f.key, f.media_type)]


def format_param(formats: Sequence[Format], name: str = "_format") -> Schema:
    """The `_format` parameter: a format key or media type; it wins over Accept."""
    return query(
        name,
        "The format, by key or media type (wins over Accept; unknown: 406)",
        open_enum(format_keys(formats)),
    )


def ext_param(formats: Sequence[Format]) -> Schema:
    """The file extension of a document URL (unknown: 404)."""
    return path(
        "ext",
        "A format's extension (unknown: 404)",
        open_enum([f.key for f in formats], {"type": "string", "pattern": "^[a-z0-9]+$"}),
        formats[0].key,
    )


# Operations name the shared parameters by reference.
FORCE, DAY = ref("parameters", "Force"), ref("parameters", "Day")

FORCE_PARAMETER = path(
    "force",
    "A force's identifier",
    {"type": "string", "pattern": SLUG_PATTERN},
    "merseyside",
    "cheshire",
)
DAY_PARAMETER = path(
    "day",
    "A day, yyyy-mm-dd: what stood at its end (UTC)",
    {"type": "string", "format": "date"},
    "2030-01-01",
)
NUMBER = {"type": "integer", "minimum": 0}
PARAMETERS: dict[str, Schema] = {
    "IfNoneMatch": {
        "name": "If-None-Match",
        "in": "header",
        "schema": STRING,
        "description": "Entity tags of copies held: 304 if one is current",
    },
    "Page": query("page", "The page number, from 1 (others: 1)", {"type": "integer"}),
    "Size": query("size", "Rows a page, 1 to 50 (others: 50)", {"type": "integer"}),
    "Force": FORCE_PARAMETER,
    "Day": DAY_PARAMETER,
}
CONDITIONAL = ref("parameters", "IfNoneMatch")


# ---------------------------------------------------------------------------
# Operations


def operation(
    summary: str,
    responses: Schema,
    *parameters: Schema,
    tag: str,
    op: str,
    body: Schema | None = None,
    secured: bool = False,
) -> Schema:
    """An operation: what it does, its parameters, request body, security and responses."""
    result: Schema = {"tags": [tag], "summary": summary, "operationId": op}
    if parameters:
        result["parameters"] = list(parameters)
    if body:
        result["requestBody"] = body
    if secured:
        result["security"] = [{"bearerAuth": []}]
    result["responses"] = responses
    return result


def representations(formats: Sequence[Format], description: str, *required: str) -> Schema:
    """A 200 response in any of `formats`, with the `required` headers of `HEADERS`."""
    return response(
        description,
        types(formats),
        JSON_SCHEMAS,
        headers={name: header(HEADERS[name], True) for name in required} or None,
    )


HEADERS = {
    "ETag": "The representation's weak entity tag",
    "Link": "Alternates, the canonical IRI, or the version history",
    "Content-Location": "The URL of the variant chosen, or of the new version",
    "Location": "The URL of the new version",
}


def components() -> Schema:
    """The shared schemas, responses, parameters and the bearer security scheme."""
    return {
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "parameters": PARAMETERS,
        "securitySchemes": {
            "bearerAuth": {
                "type": "http",
                "scheme": "bearer",
                "description": "A force's write token (`s22a token create --force FORCE`): "
                "401 without a valid one, 403 with another force's",
            }
        },
    }
