"""The change feeds: `/feed.atom` (every register) and `/registers/{force}/feed.atom`.

Atom (RFC 4287), built by `s22a.feed` from the differences between consecutive versions;
links point at the server the reader is on. Each feed has an ETag from the dataset's
version, so a reader polling it gets 304 Not Modified until a register changes.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from flask import Blueprint, Response, request, url_for

from s22a.history import changes, feed, versions
from s22a.namespaces import BASE, FORCE, is_slug, register_iri
from s22a.read.rows import reference_labels, register_name
from s22a.store import get_store
from s22a.web.http import local, problem, version_url

bp = Blueprint("feeds", __name__)
FEED_SECONDS = 300


def _feed(registers: list[str], feed_id: str, title: str, alternate: str) -> Response:
    store = get_store()
    state = versions.dataset_version(store)
    tag = hashlib.sha256(f"{state}|{request.host}|{request.path}".encode()).hexdigest()[:32]
    if request.if_none_match.contains_weak(tag):
        response = Response(status=304)
    else:
        found = feed.entries(store, registers)
        forces = sorted({e.force for e in found})
        names = reference_labels(store, [str(FORCE[f]) for f in forces])
        root = request.host_url.rstrip("/") + request.script_root

        def links(entry: feed.Entry) -> list[feed.Link]:
            """The entry's links: the agreement, the version, the difference it made."""
            older, newer = entry.previous.number, entry.version.number
            agreement = entry.change.agreement
            page = (
                root + local(agreement)[len(request.script_root) :]
                if agreement.startswith(BASE)
                else agreement
            )
            return [
                ("alternate", page, "text/html"),
                ("related", version_url(entry.force, newer), "text/html"),
                (
                    "related",
                    url_for(
                        "history.diff", force=entry.force, older=older, newer=newer, _external=True
                    ),
                    "text/html",
                ),
            ]

        updated = max(
            (v.generated for r in registers for v in versions.history(store, r)[-1:]),
            default=datetime(2000, 1, 1, tzinfo=UTC),
        )
        body = feed.atom(
            found,
            feed_id=feed_id,
            title=title,
            self_url=request.base_url,
            alternate_url=alternate,
            updated=updated,
            links=links,
            names={register_iri(f): f"{names.get(str(FORCE[f]), f)} register" for f in forces},
        )
        response = Response(body, content_type=f"{feed.MEDIA_TYPE}; charset=utf-8")
        response.access_control_allow_origin = "*"
    response.set_etag(tag, weak=True)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_SECONDS
    return response


@bp.get("/feed.atom")
def all_feed() -> Response:
    """The change feed of every register."""
    store = get_store()
    return _feed(
        changes.registers_with_history(store),
        f"{BASE}feed.atom",
        "Section 22A collaboration agreements: changes",
        request.url_root,
    )


@bp.get("/registers/<force>/feed.atom")
def register_feed(force: str) -> Response:
    """The change feed of one force's register."""
    store = get_store()
    register = register_iri(force)
    if not is_slug(force) or not versions.history(store, register):
        return problem(404, "No such register", f"“{force}” has no register versions.")
    return _feed(
        [register],
        f"{BASE}registers/{force}/feed.atom",
        f"{register_name(store, force)}: changes",
        url_for("history.versions_list", force=force, _external=True),
    )
