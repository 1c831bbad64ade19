"""Publication health: a national dashboard and a page per force (HTML or JSON), each force's
Atom feed of agreements to confirm, and an SVG badge a force can embed on its own site."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, Response, render_template, request, url_for

from s22a.history.feed import MEDIA_TYPE, ToConfirm, confirm_atom
from s22a.namespaces import is_slug
from s22a.read import describe
from s22a.read import health as status
from s22a.store import get_store
from s22a.web import http
from s22a.web.conneg import ANSWER_FORMATS, HTML, JSON, negotiate

bp = Blueprint("health", __name__)


def _format(ext: str | None) -> object:
    return negotiate(
        extension=ext,
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=ANSWER_FORMATS,
    )


def _json(data: object) -> Response:
    response = Response(
        json.dumps(data, indent=2, ensure_ascii=False), content_type=JSON.content_type
    )
    response.access_control_allow_origin = "*"
    return response


def _known(force: str) -> str | None:
    """The IRI of police force `force`, if the reference data has it."""
    if not is_slug(force):
        return None
    iri = status.force_iri(force)
    return iri if iri in status.police_forces(get_store()) else None


@bp.get("/health")
@bp.get("/health.<ext>")
def national(ext: str | None = None) -> Response:
    """Every force's publication health, with the rule for its status."""
    fmt = _format(ext)
    if fmt is None:
        return http.problem(406, "No format you accept", "Available as HTML or JSON.")

    def build() -> Response:
        store = get_store()
        rows = status.national(store)
        if fmt is not HTML:
            return _json({"rule": status.RULE, "forces": [h.as_dict() for h in rows]})
        labels = describe.labels(store, [h.force for h in rows])
        counts = {c: sum(1 for h in rows if h.status == c) for c in ("green", "amber", "red")}
        html = render_template(
            "health/national.html", rows=rows, labels=labels, rule=status.RULE, counts=counts
        )
        return Response(html, content_type=HTML.content_type)

    return http.cached(http.variant_key(fmt), build)  # type: ignore[arg-type]


@bp.get("/health/<force>")
@bp.get("/health/<force>.<ext>")
def force(force: str, ext: str | None = None) -> Response:
    """One force's publication health: when and how it published, what it has to confirm."""
    fmt = _format(ext)
    if fmt is None:
        return http.problem(406, "No format you accept", "Available as HTML or JSON.")
    iri = _known(force)
    if iri is None:
        return http.problem(404, "No such force", f"There is no police force called “{force}”.")

    def build() -> Response:
        store = get_store()
        result = status.health(store, iri)
        if fmt is not HTML:
            return _json(result.as_dict())
        iris = [iri, *result.to_confirm, *(str(x["agreement"]) for x in result.disagreements)]
        html = render_template(
            "health/force.html",
            slug=force,
            health=result,
            labels=describe.labels(store, iris),
            rule=status.RULE,
        )
        return Response(html, content_type=HTML.content_type)

    return http.cached(http.variant_key(fmt), build)  # type: ignore[arg-type]


@bp.get("/health/<force>/feed.atom")
def confirm_feed(force: str) -> Response:
    """The force's agreements to confirm, as an Atom feed."""
    iri = _known(force)
    if iri is None:
        return http.problem(404, "No such force", f"There is no police force called “{force}”.")

    def build() -> Response:
        store = get_store()
        result = status.health(store, iri)
        titles = describe.labels(store, [iri, *result.to_confirm])
        stated = status.stated_at(store, result.to_confirm, iri)
        updated = http.last_modified() or datetime.now(UTC)
        items = [
            ToConfirm(
                agreement,
                titles.get(agreement, agreement),
                stated.get(agreement, updated),
                url_for(
                    "documents.document",
                    kind="agreement",
                    name=agreement.rsplit("/", 1)[-1],
                    _external=True,
                ),
            )
            for agreement in result.to_confirm
        ]
        body = confirm_atom(
            items,
            feed_id=f"{iri}/to-confirm",
            title=f"{titles.get(iri, force)}: agreements to confirm",
            self_url=url_for("health.confirm_feed", force=force, _external=True),
            alternate_url=url_for("health.force", force=force, _external=True),
            updated=updated,
        )
        return Response(body, content_type=f"{MEDIA_TYPE}; charset=utf-8")

    return http.cached(http.variant_key(), build)


@bp.get("/health/<force>/badge.svg")
def badge(force: str) -> Response:
    """An SVG badge of the force's status, to embed on its own site."""
    iri = _known(force)
    if iri is None:
        return http.problem(404, "No such force", f"There is no police force called “{force}”.")

    def build() -> Response:
        result = status.health(get_store(), iri)
        response = Response(status.badge(result.status), content_type="image/svg+xml")
        response.access_control_allow_origin = "*"
        return response

    return http.cached(http.variant_key(), build)
