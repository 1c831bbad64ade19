"""`/cover`: is there cover? Which agreements have all of some forces as parties and provide a
capability, on a day: a form and its answer for people, the same as JSON for programs."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import Blueprint, Response, render_template, request

from s22a.namespaces import is_slug
from s22a.read import cover as answer
from s22a.read import describe
from s22a.store import get_store
from s22a.web import http
from s22a.web.conneg import ANSWER_FORMATS, HTML, JSON, negotiate
from s22a.web.forms import Form

bp = Blueprint("cover", __name__)


def _read(
    form: Form, choices: dict[str, list[tuple[str, str]]]
) -> tuple[list[str], str | None, date | None]:
    """The forces, capability and day asked about, as IRIs and a date; errors go on `form`."""
    known_forces = {slug for slug, _ in choices["forces"]}
    known_capabilities = {slug for slug, _ in choices["capabilities"]}
    forces = [f for f in request.args.getlist("force") if f]
    form.values["force"] = ",".join(forces)
    unknown = [f for f in forces if not is_slug(f) or f not in known_forces]
    if unknown:
        form.errors.append(("force", f"There is no police force called “{unknown[0]}”."))
    elif len(forces) > answer.MAX_FORCES:
        form.errors.append(("force", f"Choose at most {answer.MAX_FORCES} forces."))
    capability = request.args.get("capability") or None
    form.values["capability"] = capability or ""
    if capability and (not is_slug(capability) or capability not in known_capabilities):
        form.errors.append(("capability", f"There is no capability called “{capability}”."))
    day = None
    text = request.args.get("date") or ""
    form.values["date"] = text
    if text:
        try:
            day = date.fromisoformat(text)
        except ValueError:
            form.errors.append(("date", "Enter the date as yyyy-mm-dd, such as 2020-04-01."))
    return (
        [answer.force_iri(f) for f in forces],
        answer.capability_iri(capability) if capability else None,
        day,
    )


def _json(
    result: answer.Cover, status: int = 200, errors: list[tuple[str, str]] | None = None
) -> Response:
    body: dict[str, Any] = {
        "forces": result.forces,
        "capability": result.capability,
        "date": result.day.isoformat() if result.day else None,
        "agreements": result.agreements,
    }
    if errors:
        body = {
            "status": status,
            "title": "The question cannot be answered",
            "errors": [{"parameter": name, "detail": message} for name, message in errors],
        }
    response = Response(
        json.dumps(body, indent=2, ensure_ascii=False), status, content_type=JSON.content_type
    )
    response.access_control_allow_origin = "*"
    return response


@bp.get("/cover")
@bp.get("/cover.<ext>")
def cover(ext: str | None = None) -> Response:
    """The cover question and its answer, negotiated (HTML or JSON)."""
    fmt = negotiate(
        extension=ext,
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=ANSWER_FORMATS,
    )
    if fmt is None:
        return http.problem(406, "No format you accept", "Available as HTML or JSON.")

    def build() -> Response:
        store = get_store()
        choices = answer.choices(store)
        form = Form()
        forces, capability, day = _read(form, choices)
        result = answer.Cover(forces, capability, day)
        status = 400 if form.errors else 200
        if not form.errors:
            result = answer.cover(store, forces, capability, day)
        if fmt is not HTML:
            return _json(result, status, form.errors)
        iris = [a["iri"] for a in result.agreements]
        iris += [p for a in result.agreements for p in a["parties"] + a["listed_by"]]
        html = render_template(
            "cover/cover.html",
            form=form,
            choices=choices,
            chosen=request.args.getlist("force"),
            result=result,
            asked=bool(forces) and not form.errors,
            labels=describe.labels(store, iris + forces + ([capability] if capability else [])),
        )
        return Response(html, status, content_type=HTML.content_type)

    return http.cached(http.variant_key(fmt), build)
