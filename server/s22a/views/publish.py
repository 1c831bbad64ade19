"""Tools for PCC offices, in the browser: check a register, and convert a spreadsheet.

`/publish/validate` takes pasted or uploaded RDF and shows the validation report (the
same shapes and code as `s22a validate`); `/publish/csv` takes a CSV table and a force
and shows the register in Turtle, the cells it could not match, and the report. Anyone may
post them, so they take smaller files than a force's write (S22A_ANONYMOUS_MAX_UPLOAD) and
run in a process of their own with a time and a memory limit (`s22a.ingest.sandbox`): a
force's write never waits behind them. Nothing is stored: the pages only compute and show,
so they work without JavaScript and carry no CSRF token. A cross-site request could only make
a browser compute a report that the other site cannot read (the same-origin policy), and
these forms use no cookies or sessions; publishing itself needs a bearer token, which
browsers never send on their own.
"""

from __future__ import annotations

import base64

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import RequestEntityTooLarge

from s22a import reference
from s22a.ingest import csv_table, parse
from s22a.ingest.names import police_forces
from s22a.ingest.sandbox import SandboxBusy, SandboxError, SandboxTimeout, get_sandbox
from s22a.namespaces import register_iri
from s22a.store import get_store
from s22a.web.forms import Form

bp = Blueprint("publish", __name__)
MULTIPART_OVERHEAD = 64 * 1024


def max_upload() -> int:
    """The largest file the anonymous forms accept, in bytes (S22A_ANONYMOUS_MAX_UPLOAD)."""
    return int(current_app.config["S22A_ANONYMOUS_MAX_UPLOAD"])


def _unavailable(template: str, form: Form, error: SandboxError, **context: object) -> Response:
    """The form again, saying why the check could not be run now."""
    if isinstance(error, SandboxBusy | SandboxTimeout):
        status, hint = 503, " Try again in a minute, or run `s22a validate` on your own machine."
    else:
        status, hint = 422, " Try a smaller file, or run `s22a validate` on your own machine."
    form.errors.append(("file", f"The check could not be run: {error}.{hint}"))
    response = _page(template, status, form=form, **context)
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


def _page(template: str, status: int = 200, **context: object) -> Response:
    response = Response(
        render_template(template, **context), status=status, content_type="text/html; charset=utf-8"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


def _too_large(template: str, form: Form, **context: object) -> Response:
    form.errors.append(("file", f"The file is too large: the limit is {max_upload()} bytes."))
    return _page(template, 413, form=form, **context)


def _read_form() -> tuple[dict[str, str], FileStorage | None]:
    """The submitted fields and file, within the upload limit (raises RequestEntityTooLarge)."""
    limit = max_upload()
    request.max_content_length = limit + MULTIPART_OVERHEAD
    request.max_form_memory_size = limit
    if request.content_length is not None and request.content_length > limit + MULTIPART_OVERHEAD:
        raise RequestEntityTooLarge()
    upload = request.files.get("file")
    if upload is not None and not upload.filename:
        upload = None
    fields = dict(request.form.items())
    # Werkzeug applies max_form_memory_size to multipart fields only (3.1.9 and later), so the
    # limit is checked here for every body type: a pasted register is held to the upload's.
    if any(len(value.encode("utf-8")) > limit for value in fields.values()):
        raise RequestEntityTooLarge()
    return fields, upload


def _read_upload(upload: FileStorage) -> bytes:
    data = upload.stream.read(max_upload() + 1)
    if len(data) > max_upload():
        raise RequestEntityTooLarge()
    return data


@bp.get("/publish")
def index() -> Response:
    """How to publish a register, and the tools that help."""
    return _page("publish/index.html")


@bp.route("/publish/validate", methods=["GET", "POST"])
def validate() -> Response:
    """Check a register pasted or uploaded: its syntax, then the shapes. Nothing is stored."""
    form = Form()
    if request.method != "POST":  # GET, and HEAD (which Flask answers as GET without a body)
        return _page("publish/validate.html", form=form)
    try:
        fields, upload = _read_form()
        data = _read_upload(upload) if upload else None
    except RequestEntityTooLarge:
        return _too_large("publish/validate.html", form)
    text = fields.get("turtle", "")
    form.values["turtle"] = text
    if data is not None and text.strip():
        form.errors.append(("turtle", "Paste a register or choose a file, not both."))
    elif data is None and not text.strip():
        form.errors.append(("turtle", "Paste a register in Turtle, or choose a file."))
    if form.errors:
        return _page("publish/validate.html", 400, form=form)
    name = upload.filename if upload and data is not None else "pasted.ttl"
    payload = data if data is not None else text.encode("utf-8")
    try:
        report = get_sandbox().validate(payload, name or "upload.ttl", request.remote_addr or "")
    except SandboxError as error:
        return _unavailable("publish/validate.html", form, error)
    except parse.RegisterUnreadable as error:
        line = _line(payload, error.line)
        return _page("publish/validate.html", form=form, unreadable=error, line=line, name=name)
    return _page("publish/validate.html", form=form, report=report, name=name)


def _line(data: bytes, number: int | None) -> str | None:
    """The text of line `number` of `data`, to show where a syntax error is."""
    if not number:
        return None
    lines = data.decode("utf-8", "replace").splitlines()
    return lines[number - 1][:300] if 0 < number <= len(lines) else None


def forces() -> list[tuple[str, str]]:
    """(slug, name) of every police force in the reference data, by name."""
    return list(police_forces(reference.context_graph()).items())


@bp.route("/publish/csv", methods=["GET", "POST"])
def convert_csv() -> Response:
    """Turn a CSV table into a register: the Turtle, the cells not matched, the report."""
    form = Form()
    choices = forces()
    if request.method != "POST":  # GET, and HEAD
        return _page("publish/csv.html", form=form, forces=choices)
    try:
        fields, upload = _read_form()
        data = _read_upload(upload) if upload else None
    except RequestEntityTooLarge:
        return _too_large("publish/csv.html", form, forces=choices)
    force = fields.get("force", "")
    form.values["force"] = force
    if force not in {slug for slug, _ in choices}:
        form.errors.append(("force", "Choose the force whose register this is."))
    if data is None:
        form.errors.append(("file", "Choose a CSV file."))
    if form.errors:
        return _page("publish/csv.html", 400, form=form, forces=choices)
    assert upload is not None and data is not None
    store = get_store()
    previous = store.graph_triples(register_iri(force))
    try:
        result, turtle, report = get_sandbox().convert_csv(
            data,
            force,
            previous.serialize(format="nt", encoding="utf-8") if len(previous) else b"",
            upload.filename or "table.csv",
            request.remote_addr or "",
        )
    except SandboxError as error:
        return _unavailable("publish/csv.html", form, error, forces=choices)
    except csv_table.CsvImportError as error:
        form.errors.append(("file", f"The file cannot be converted: {error}."))
        return _page("publish/csv.html", 400, form=form, forces=choices)
    download = "data:text/turtle;charset=utf-8;base64," + base64.b64encode(
        turtle.encode("utf-8")
    ).decode("ascii")
    return _page(
        "publish/csv.html",
        form=form,
        forces=choices,
        result=result,
        turtle=turtle,
        report=report,
        download=download,
        filename=f"{force}.ttl",
    )
