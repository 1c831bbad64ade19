"""The publishing side of the OpenAPI document: registers, their history, feeds, the forms."""

from __future__ import annotations

from s22a.sparql.protocol import FORM
from s22a.web.conneg import (
    DIFF_FORMATS,
    LIST_FORMATS,
    READ_FORMATS,
    REPORT_FORMATS,
    WRITE_TYPES,
)
from s22a.web.openapi.components import (
    CONDITIONAL,
    DAY,
    FORCE,
    NUMBER,
    PAGE,
    SLUG_PATTERN,
    STRING,
    Schema,
    answers,
    ext_param,
    format_param,
    header,
    open_enum,
    operation,
    path,
    ref,
    representations,
    response,
    types,
)


def registers_paths() -> Schema:
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


def history_paths() -> Schema:
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


def feeds_paths() -> Schema:
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


def publish_paths() -> Schema:
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


def api_paths() -> Schema:
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
