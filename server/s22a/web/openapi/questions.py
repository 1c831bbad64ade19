"""The national picture in the OpenAPI document: is there cover, publication health, badges,
the feeds of agreements to confirm, and the example queries as RDF."""

from __future__ import annotations

from s22a.web.conneg import ANSWER_FORMATS, DOCUMENT_FORMATS
from s22a.web.openapi.components import (
    CONDITIONAL,
    FORCE,
    STRING,
    Schema,
    answers,
    ext_param,
    format_param,
    path,
    query,
    representations,
    response,
    types,
)

IRIS: Schema = {"type": "array", "items": STRING}
COVER: Schema = {
    "type": "object",
    "required": ["forces", "capability", "date", "agreements"],
    "properties": {
        "forces": IRIS,
        "capability": {"type": ["string", "null"]},
        "date": {"type": ["string", "null"], "format": "date"},
        "agreements": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["iri", "title", "parties", "listed_by", "confirmation"],
                "properties": {
                    "iri": STRING,
                    "title": STRING,
                    "dates": IRIS,
                    "parties": IRIS,
                    "listed_by": IRIS,
                    "confirmed_by": IRIS,
                    "confirmation": {"enum": ["all", "some", "none"]},
                },
            },
        },
    },
}
COVER_REFUSED: Schema = {
    "type": "object",
    "required": ["status", "errors"],
    "properties": {"status": {"type": "integer"}, "errors": {"type": "array"}},
}
HEALTH: Schema = {
    "type": "object",
    "required": ["force", "status", "rule", "versions", "toConfirm", "disagreements"],
    "properties": {
        "force": STRING,
        "register": {"type": ["string", "null"]},
        "status": {"enum": ["green", "amber", "red"]},
        "rule": STRING,
        "published": {"type": ["string", "null"]},
        "versions": {"type": "integer"},
        "warnings": {"type": "integer"},
        "toConfirm": IRIS,
        "disagreements": {"type": "array"},
    },
}
NATIONAL: Schema = {
    "type": "object",
    "required": ["rule", "forces"],
    "properties": {"rule": STRING, "forces": {"type": "array", "items": HEALTH}},
}


def _answer(description: str, schema: Schema) -> Schema:
    return response(description, types(ANSWER_FORMATS), {"application/json": schema})


def questions_paths() -> Schema:
    """Paths of /cover, /health and /sparql/examples."""
    cover_params = (
        query("force", "A police force that must be a party (repeat for several, up to 10)",
              {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}),
        query("capability", "A capability the agreement provides (narrower ones count)",
              {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}),
        query("date", "As the registers stood at the end of this day (yyyy-mm-dd)",
              {"type": "string", "format": "date"}),
        format_param(ANSWER_FORMATS),
        CONDITIONAL,
    )  # fmt: skip
    cover_answers = answers(
        _answer("The agreements that cover the question", COVER),
        "304",
        problems=("406",),
        extra={"400": response("The question names an unknown force, capability or date",
                               types(ANSWER_FORMATS), {"application/json": COVER_REFUSED})},
    )  # fmt: skip
    health = _answer("One force's publication health, with the rule for its status", HEALTH)
    examples = representations(DOCUMENT_FORMATS, "The example queries as SHACL executables")
    return {
        "/cover": {"get": operation_("Is there cover? Agreements with all of some forces as "
                                     "parties, providing a capability, on a day",
                                     cover_answers, *cover_params, op="cover")},
        "/cover.{ext}": {"get": operation_("The cover question, in the format its extension "
                                           "names", cover_answers, ext_param(ANSWER_FORMATS),
                                           *cover_params[:3], CONDITIONAL, op="coverByExtension")},
        "/health": {"get": operation_(
            "Every police force's publication health", answers(
                _answer("The national dashboard", NATIONAL), "304", problems=("406",)),
            format_param(ANSWER_FORMATS), CONDITIONAL, op="health")},
        "/health.{ext}": {"get": operation_(
            "The national dashboard, in the format its extension names",
            answers(_answer("The national dashboard", NATIONAL), "304", problems=("406",)),
            ext_param(ANSWER_FORMATS), CONDITIONAL, op="healthByExtension")},
        "/health/{force}": {"get": operation_(
            "One force's publication health", answers(health, "304", problems=("404", "406")),
            FORCE, format_param(ANSWER_FORMATS), CONDITIONAL, op="forceHealth")},
        "/health/{force}.{ext}": {"get": operation_(
            "One force's publication health, in the format its extension names",
            answers(health, "304", problems=("404", "406")), FORCE, ext_param(ANSWER_FORMATS),
            CONDITIONAL, op="forceHealthByExtension")},
        "/health/{force}/feed.atom": {"get": operation_(
            "The agreements the force has to confirm, as an Atom feed",
            answers(response("An Atom feed", ["application/atom+xml"]), "304",
                    problems=("404",)), FORCE, CONDITIONAL, op="forceToConfirmFeed")},
        "/health/{force}/badge.svg": {"get": operation_(
            "A badge of the force's status, to embed on its own site",
            answers(response("An SVG image", ["image/svg+xml"]), "304", problems=("404",)),
            FORCE, CONDITIONAL, op="forceBadge")},
        "/sparql/examples": {"get": operation_(
            "The example queries, as RDF (sh:SPARQLExecutable with schema:target)",
            answers(examples, "304", "406"), format_param(DOCUMENT_FORMATS), CONDITIONAL,
            op="sparqlExamples")},
        "/sparql/examples.{ext}": {"get": operation_(
            "The example queries, in the format the extension names",
            answers(examples, "304", "406"), ext_param(DOCUMENT_FORMATS), CONDITIONAL,
            op="sparqlExamplesByExtension")},
    }  # fmt: skip


def operation_(summary: str, responses: Schema, *parameters: Schema, op: str) -> Schema:
    """An operation of the national picture."""
    from s22a.web.openapi.components import operation

    return operation(summary, responses, *parameters, tag="national", op=op)


def memento_paths() -> Schema:
    """Paths of the mementos and TimeMaps (Memento, RFC 7089)."""
    moment = path(
        "moment",
        "The memento's instant, yyyymmddhhmmss (UTC); another instant redirects (302) to the "
        "memento that stood then",
        {"type": "string", "pattern": "^[0-9]{14}$"},
        "20261201120000",
    )
    kind = path("kind", "The kind of thing", {"type": "string", "pattern": "^[a-z]+$"}, "agreement")
    slug = path(
        "slug", "Its identifier", {"type": "string", "pattern": "^[a-z0-9-]+$"}, "north-west-rocu"
    )
    memento = representations(
        DOCUMENT_FORMATS, "The document as it stood (Memento-Datetime says when)", "Link"
    )
    redirect = {"302": response("To the memento that stood at that instant")}
    timemaps = response("The TimeMap (link format, RFC 7089 section 5) or a page of it",
                        ["application/link-format", "text/html"])  # fmt: skip
    target = path(
        "path",
        "The original's path: doc/{kind}/{slug} or registers/{force}, with an extension "
        "(.link, .html) if wanted",
        {"type": "string"},
        "registers/merseyside",
    )
    return {
        "/doc/{kind}/{slug}/{moment}": {"get": operation_(
            "A memento of a document: as the registers stood at an instant",
            answers(memento, "304", problems=("404", "406"), extra=redirect),
            kind, slug, moment, format_param(DOCUMENT_FORMATS), CONDITIONAL, op="documentMemento")},
        "/doc/{kind}/{slug}/{moment}.{ext}": {"get": operation_(
            "A memento of a document, in the format its extension names",
            answers(memento, "304", problems=("404", "406"), extra=redirect),
            kind, slug, moment, ext_param(DOCUMENT_FORMATS), CONDITIONAL,
            op="documentMementoByExtension")},
        "/timemap/{path}": {"get": operation_(
            "The TimeMap of a document or a register: every memento with its datetime",
            answers(timemaps, "304", problems=("404", "406")), target, CONDITIONAL,
            op="timemap")},
    }  # fmt: skip
