"""Time travel (Memento, RFC 7089) at version granularity.

Originals: every document (`/doc/{kind}/{slug}`) and every register (`/registers/{force}`).
Each is its own TimeGate (RFC 7089 section 4.1, pattern 1.1): a request with Accept-Datetime is
answered 302 to the memento that stood at that instant, with `Vary: accept-datetime`; without
it, the current representation, with the same Vary and Link relations.
Mementos: `/doc/{kind}/{slug}/{yyyymmddhhmmss}` (the document as the registers stood at that
second), `/registers/{force}/versions/{n}` (a register's version, at the instant it was
accepted), and the day pages `/doc/register/{force}/{yyyy-mm-dd}` and
`/doc/agreement/{slug}/{yyyy-mm-dd}` (what stood at the end of the day). Each carries
Memento-Datetime and links to its original, TimeGate and TimeMap.
TimeMaps: `/timemap/doc/{kind}/{slug}` and `/timemap/registers/{force}` in the link format,
or as a page.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Blueprint, Response, g, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from s22a.history import asof
from s22a.namespaces import TYPES, is_slug, register_iri
from s22a.read import describe, mementos
from s22a.store import get_store
from s22a.views.documents import render_document, split_extension
from s22a.web import http
from s22a.web.conneg import HTML, Format, negotiate
from s22a.web.memento import (
    LINK_FORMAT,
    BadDatetime,
    Memento,
    http_date,
    links,
    parse_http_date,
    stamp,
    timemap,
)

bp = Blueprint("memento", __name__)
LINK = Format("link", LINK_FORMAT, "Link format (TimeMap)")
TIMEMAP_FORMATS = (LINK, HTML)
_DOCUMENT = re.compile(r"^/doc/([a-z]+)/([a-z0-9]+(?:-[a-z0-9]+)*)(?:\.([a-z]+))?$")
_REGISTER = re.compile(r"^/registers/([a-z0-9]+(?:-[a-z0-9]+)*)$")
_VERSION = re.compile(r"^/registers/([a-z0-9]+(?:-[a-z0-9]+)*)/versions/(\d+)(?:\.[a-z]+)?$")
_DAY = re.compile(r"^/doc/(register|agreement)/([a-z0-9]+(?:-[a-z0-9]+)*)/(\d{4}-\d{2}-\d{2})")


def _original(path: str) -> tuple[str, str, str | None] | None:
    """("doc", kind, slug) or ("register", force, None) when `path` is an original."""
    if match := _DOCUMENT.match(path):
        kind, slug, _ = match.groups()
        return ("doc", kind, slug) if kind in TYPES else None
    if match := _REGISTER.match(path):
        return ("register", match.group(1), None)
    return None


def _mementos(what: tuple[str, str, str | None]) -> list[Memento]:
    """The mementos of an original, oldest first."""
    store = get_store()
    kind, name, slug = what
    if kind == "register":
        return [
            Memento(url_for("history.version", force=name, number=v.number, _external=True), m)
            for m, v in mementos.register_mementos(store, register_iri(name))
        ]
    iri = describe.canonical(name, slug or "")
    return [
        Memento(url_for("memento.document", kind=name, slug=slug, moment=m, _external=True), m)
        for m in mementos.document_mementos(store, iri)
    ]


def _original_url(what: tuple[str, str, str | None]) -> str:
    kind, name, slug = what
    if kind == "register":
        return url_for("registers.graph", force=name, _external=True)
    return url_for("documents.document", kind=name, name=slug, _external=True)


def _timemap_url(what: tuple[str, str, str | None]) -> str:
    kind, name, slug = what
    path = f"registers/{name}" if kind == "register" else f"doc/{name}/{slug}"
    return url_for("memento.map", path=path, _external=True)


@bp.before_app_request
def timegate() -> BaseResponse | None:
    """An original asked for with Accept-Datetime: 302 to the memento that stood then."""
    wanted = request.headers.get("Accept-Datetime")
    if not wanted or request.method not in ("GET", "HEAD"):
        return None
    what = _original(request.path)
    if what is None:
        return None
    try:
        moment = parse_http_date(wanted)
    except BadDatetime as error:
        return http.problem(400, "Accept-Datetime is not a date", str(error))
    found = _mementos(what)
    chosen = mementos.standing([m.moment for m in found], moment)
    if chosen is None:
        return http.problem(404, "No memento", "There is no version of this resource yet.")
    target = next(m for m in found if m.moment == chosen)
    response = redirect(target.url, code=302)
    http.add_vary(response, "Accept-Datetime")
    response.headers["Link"] = ", ".join(links(_original_url(what), _timemap_url(what)))
    return response


@bp.after_app_request
def memento_headers(response: Response) -> Response:
    """Originals say they are TimeGates; mementos say when they stood."""
    if response.status_code >= 400 or request.method not in ("GET", "HEAD"):
        return response
    path, related, moment = request.path, None, None
    if what := _original(path):
        related = what
        http.add_vary(response, "Accept-Datetime")
    elif match := _VERSION.match(path):
        force, number = match.group(1), int(match.group(2))
        related = ("register", force, None)
        stood = dict(
            (v.number, m) for m, v in mementos.register_mementos(get_store(), register_iri(force))
        )
        moment = stood.get(number)
    elif match := _DAY.match(path):
        kind, slug, day = match.groups()
        related = ("register", slug, None) if kind == "register" else ("doc", "agreement", slug)
        end = asof.as_instant(date.fromisoformat(day))
        moment = mementos.standing([m.moment for m in _mementos(related)], end)
        moment = moment if moment is not None and moment <= end else None
    elif "memento_moment" in g:
        related, moment = g.memento_of, g.memento_moment
    if related is None:
        return response
    if moment is not None:
        response.headers["Memento-Datetime"] = http_date(moment)
    extra = links(_original_url(related), _timemap_url(related))
    existing = response.headers.get("Link")
    response.headers["Link"] = ", ".join([*([existing] if existing else []), *extra])
    return response


@bp.get("/doc/<kind>/<slug>/<stamp:moment>")
@bp.get("/doc/<kind>/<slug>/<stamp:moment>.<ext>")
def document(kind: str, slug: str, moment: datetime, ext: str | None = None) -> BaseResponse:
    """The document about a thing as the registers stood at `moment` (a memento)."""
    if kind not in TYPES or not is_slug(slug):
        return http.problem(404, "No such document", f"There is no {kind} called “{slug}”.")
    what = ("doc", kind, slug)
    found = [m.moment for m in _mementos(what)]
    chosen = mementos.standing(found, moment)
    if chosen is None or chosen > moment:
        return http.problem(404, "No memento", f"“{slug}” had no document at {http_date(moment)}.")
    if chosen != moment:  # the URL of the memento that stood then
        target = url_for("memento.document", kind=kind, slug=slug, moment=chosen, ext=ext)
        return redirect(target, code=302)
    g.memento_of, g.memento_moment = what, chosen
    g.memento_current = url_for("documents.document", kind=kind, name=slug)
    then = asof.dataset_at(get_store(), mementos.end_of_second(chosen))
    return render_document(then, kind, slug, ext, f"/doc/{kind}/{slug}/{stamp(chosen)}")


@bp.get("/timemap/<path:path>")
def map(path: str) -> Response:
    """The TimeMap of an original: every memento with its datetime."""
    stem, ext = split_extension("/" + path)
    what = _original(stem)
    if what is None:
        return http.problem(404, "No such original", f"/{path} has no versions kept here.")
    fmt = negotiate(
        extension=ext,
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=TIMEMAP_FORMATS,
    )
    if fmt is None:
        return http.problem(406, "No format you accept", "Available as link format or HTML.")

    def build() -> Response:
        found = _mementos(what)
        if fmt is LINK:
            body = timemap(_original_url(what), _timemap_url(what), found)
            return Response(body, content_type=f"{LINK_FORMAT}; charset=utf-8")
        title = describe.labels(get_store(), [describe.canonical(what[1], what[2] or "")]).get(
            describe.canonical(what[1], what[2] or ""), what[2] or what[1]
        ) if what[0] == "doc" else f"{what[1]} register"  # fmt: skip
        html = render_template(
            "memento/timemap.html",
            mementos=found,
            original=_original_url(what),
            title=title,
            timemap=_timemap_url(what),
            http_date=http_date,
        )
        return Response(html, content_type=HTML.content_type)

    return http.cached(http.variant_key(fmt), build)
