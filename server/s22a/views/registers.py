"""Each force's register as a graph to read and write: the SPARQL 1.1 Graph Store HTTP Protocol.

`/registers/{force}` names the graph `https://w3id.org/s22a/id/register/{force}` directly
(GSP section 4.1). GET reads it (section 5.2); PUT replaces it (5.3: 201 Created when it
did not exist, 200 otherwise); POST merges into it (5.5: the merged register must itself be
valid); DELETE retires it (5.4: the graph is dropped, a retiring version is recorded, its
register items become retired, and GET then answers 404).

A write needs the force's bearer token (RFC 6750): 401 without a valid one, 403 with
another force's. Before anything changes the body is checked in this order: media type
(415), size (413, `S22A_MAX_UPLOAD`), syntax (400, with line and column), then the shapes
(422, with the SHACL report as JSON, Turtle or HTML by Accept). A write that fails changes
no register; its attempt is recorded. Success answers with what changed and links to the
new version (Location on 201, Content-Location always). Tokens never reach the logs.
"""

from __future__ import annotations

import json

from flask import Blueprint, Response, current_app, render_template, request, url_for
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, SH

from s22a.history import versions
from s22a.ingest import writes
from s22a.namespaces import FORCE, bind_prefixes, is_slug, register_iri
from s22a.read.rows import register_name
from s22a.store import StoreError, StoreFull, StoreUnavailable, get_store
from s22a.web import conneg, rdf
from s22a.web.conneg import (
    HTML,
    JSON,
    READ_FORMATS,
    REPORT_FORMATS,
    TURTLE,
    WRITE_TYPES,
)
from s22a.web.http import add_vary, max_upload, preferred, problem, version_url
from s22a.web.tokens import TokenRecord, app_tokens

bp = Blueprint("registers", __name__)


REALM = 'Bearer realm="s22a register"'


def unknown_register(force: str) -> Response:
    """404: there is no register for this force."""
    return problem(
        404,
        "No such register",
        f"There is no register for “{force}”. Its force can create it with PUT.",
    )


# ---------------------------------------------------------------------------
# Who is writing, and what


def bearer_token() -> str | None:
    """The bearer token of the request's Authorization header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authorise(force: str) -> TokenRecord | Response:
    """The token record allowed to write `force`'s register, or the 401/403 answer."""
    token = bearer_token()
    if token is None:
        response = problem(
            401,
            "A token is needed",
            "Writing a register needs its force's token: send the header "
            "“Authorization: Bearer TOKEN” (ask for a token with "
            "`s22a token create --force FORCE`).",
        )
        response.headers["WWW-Authenticate"] = REALM
        return response
    record = app_tokens().verify(token)
    if record is None:
        response = problem(
            401, "The token is not valid", "The token is unknown, mistyped or revoked."
        )
        response.headers["WWW-Authenticate"] = f'{REALM}, error="invalid_token"'
        return response
    if record.force != force:
        current_app.logger.warning(
            "token %s (%s) refused for the register of %s", record.id, record.force, force
        )
        response = problem(
            403, "Not this force's token", f"This token writes the register of {record.force} only."
        )
        response.headers["WWW-Authenticate"] = f'{REALM}, error="insufficient_scope"'
        return response
    return record


def read_body() -> tuple[bytes, str] | Response:
    """The request body and its media type, or the 415/413 answer."""
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in ("", "identity"):
        # Never decompressed, so no gzip bomb: RFC 9110 section 15.5.16, RFC 7694.
        response = problem(
            415,
            "Compressed bodies are not accepted",
            f"Send the register uncompressed (this request says "
            f"“Content-Encoding: {encoding}”); a register may be at most "
            f"{max_upload()} bytes.",
        )
        response.headers["Accept-Encoding"] = "identity"
        return response
    media_type = (request.mimetype or "").lower()
    if media_type not in WRITE_TYPES:
        response = problem(
            415,
            "Unsupported media type",
            f"Send the register as one of {', '.join(WRITE_TYPES)} "
            f"(this request says “{media_type or 'nothing'}”).",
            accepted=list(WRITE_TYPES),
        )
        response.headers["Accept-Post"] = ", ".join(WRITE_TYPES)
        return response
    limit = max_upload()
    too_large = problem(413, "Too large", f"A register may be at most {limit} bytes.", limit=limit)
    if request.content_length is not None and request.content_length > limit:
        return too_large
    data = request.stream.read(limit + 1)
    if len(data) > limit:
        return too_large
    return data, media_type


# ---------------------------------------------------------------------------
# Answers to writes


def _refusal_report(register: str, reason: str) -> Graph:
    """A SHACL validation report with one violation, for refusals the shapes do not make."""
    report = Graph()
    bind_prefixes(report)
    node, result = BNode(), BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    report.add((node, SH.conforms, Literal(False)))
    report.add((node, SH.result, result))
    report.add((result, RDF.type, SH.ValidationResult))
    report.add((result, SH.resultSeverity, SH.Violation))
    report.add((result, SH.focusNode, URIRef(register)))
    report.add((result, SH.resultMessage, Literal(reason, lang="en")))
    return report


def invalid(result: writes.WriteResult, force: str) -> Response:
    """422 with the validation report, as JSON, Turtle or HTML."""
    fmt = preferred(REPORT_FORMATS)
    title = "The register is not valid"
    detail = f"Nothing was changed: {result.reason}"
    report = result.validation
    if fmt is TURTLE:
        graph = report.report if report else _refusal_report(result.register, result.reason)
        body: str | bytes = graph.serialize(format="turtle", encoding="utf-8")
    elif fmt is HTML:
        body = render_template(
            "registers/invalid.html", force=force, title=title, detail=detail, report=report
        )
    else:
        summary = (
            report.as_dict()
            if report
            else {
                "conforms": False,
                "results": [
                    {"severity": "violation", "message": result.reason, "focus": result.register}
                ],
            }
        )
        body = json.dumps(
            {"status": 422, "title": title, "detail": detail, **summary},
            indent=2,
            ensure_ascii=False,
        )
    response = Response(body, status=422, content_type=fmt.content_type)
    add_vary(response, "Accept")
    return response


def written(result: writes.WriteResult, force: str) -> Response:
    """The answer to a write that succeeded: what changed, and where the new version is."""
    version = result.version
    url = version_url(force, version.number) if version else None
    summary = {
        "register": result.register,
        "outcome": result.status,
        "version": None
        if version is None
        else {
            "number": version.number,
            "iri": version.iri,
            "url": url,
            "generated": version.generated.isoformat(),
        },
        "agreements": result.counts(),
        "changes": [
            {"agreement": c.agreement, "title": c.title, "effect": c.effect, "kind": c.kind}
            for c in result.changes
        ],
        "warnings": [w.message for w in result.warnings],
    }
    fmt = preferred((JSON, HTML))
    if fmt is HTML:
        body = render_template(
            "registers/written.html", force=force, result=result, summary=summary, url=url
        )
    else:
        body = json.dumps(summary, indent=2, ensure_ascii=False)
    status = 201 if result.status == "created" else 200
    response = Response(body, status=status, content_type=fmt.content_type)
    if url:
        response.headers["Content-Location"] = url
        if status == 201:
            response.headers["Location"] = url
        history = url_for("history.versions_list", force=force, _external=True)
        response.headers["Link"] = (
            f'<{url}>; rel="latest-version", <{history}>; rel="version-history"'
        )
    add_vary(response, "Accept")
    return response


def _answer(result: writes.WriteResult, force: str, method: str, record: TokenRecord) -> Response:
    current_app.logger.info(
        "%s register %s by token %s: %s%s",
        method,
        force,
        record.id,
        result.status,
        f" ({result.reason})" if result.reason else "",
    )
    if result.status == "unreadable":
        error = result.syntax_error
        assert error is not None
        return problem(
            400,
            "The register cannot be read",
            f"Nothing was changed: {error.message}",
            line=error.line,
            column=error.column,
        )
    if result.status in ("invalid", "refused"):
        return invalid(result, force)
    return written(result, force)


# ---------------------------------------------------------------------------
# The routes


@bp.route("/registers/<force>", methods=["GET", "HEAD", "PUT", "POST", "DELETE"])
def graph(force: str) -> Response:
    """A force's register graph: read it, replace it, add to it, or retire it."""
    if not is_slug(force):
        return unknown_register(force)
    if request.method in ("GET", "HEAD"):
        return read(force)
    record = authorise(force)
    if isinstance(record, Response):
        return record
    try:
        store = get_store()
        register = register_iri(force)
        source = f"{request.method} /registers/{force} with token {record.id}"
        if request.method == "DELETE":
            retired = writes.retire(store, register, source=source)
            if retired is None:
                return unknown_register(force)
            return _answer(retired, force, "DELETE", record)
        body = read_body()
        if isinstance(body, Response):
            return body
        data, media_type = body
        result = writes.write(
            store,
            register,
            data,
            media_type,
            source=source,
            merge=request.method == "POST",
            force=str(FORCE[record.force]),
        )
    except StoreError as error:
        return store_failed(error, force)
    return _answer(result, force, request.method, record)


def store_failed(error: StoreError, force: str) -> Response:
    """507, 503 or 500 for a write the store could not do: what happened, never a traceback."""
    if isinstance(error, StoreFull):
        current_app.logger.error("write to the register of %s failed: %s", force, error)
        return problem(
            507,
            "The server's disk is full",
            "The register could not be stored because the server has run out of "
            "disk space. Nothing was changed: the previous version stands. Try "
            "again later.",
        )
    if isinstance(error, StoreUnavailable):
        current_app.logger.error("write to the register of %s failed: %s", force, error)
        response = problem(
            503,
            "The store is unavailable",
            "The store cannot be reached, so the write was not done (or not "
            f"confirmed: see /registers/{force}/versions once the service is "
            "back). Try again later.",
        )
        response.retry_after = 30
        return response
    current_app.logger.exception("write to the register of %s failed", force)
    return problem(
        500,
        "The register could not be stored",
        f"The store failed during the write (see /registers/{force}/versions for "
        "whether it was stored). The problem has been logged; try again later.",
    )


def read(force: str) -> Response:
    """GET: the current register in the negotiated format (HTML for browsers)."""
    store = get_store()
    register = register_iri(force)
    if register not in store.graphs():
        return unknown_register(force)
    fmt = conneg.negotiate(
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=READ_FORMATS,
    )
    if fmt is None:
        offered = ", ".join(f.media_type for f in READ_FORMATS)
        return problem(406, "No format you accept", f"This register is served as {offered}.")
    latest = versions.latest(store, register)
    tag = f"{latest.content_hash[7:39] if latest else 'none'}-{fmt.key}"
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    elif fmt is HTML:
        response = Response(
            render_template(
                "registers/graph.html",
                force=force,
                name=register_name(store, force),
                register=register,
                latest=latest,
                formats=READ_FORMATS,
            ),
            content_type=fmt.content_type,
        )
    else:
        content = store.graph_triples(register)
        bind_prefixes(content)
        response = Response(rdf.serialize(content, fmt), content_type=fmt.content_type)
        response.access_control_allow_origin = "*"
    response.set_etag(tag, weak=True)
    add_vary(response, "Accept")
    response.headers["Link"] = (
        f"<{url_for('history.versions_list', force=force, _external=True)}>; "
        f'rel="version-history", '
        f"<{url_for('feeds.register_feed', force=force, _external=True)}>; "
        f'rel="alternate"; type="application/atom+xml"'
    )
    return response
