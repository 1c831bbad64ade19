"""HTTP for every page: validators (ETag, Last-Modified), 304s, caching, Vary, Link, local URLs.

A representation's ETag is derived from the dataset's version (it changes whenever a register
version is accepted), the service's version and the variant (path, query, format), so a
conditional GET is answered 304 before any page is built (RFC 9110 sections 8.8 and 13).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, Response, current_app, g, render_template, request, url_for
from werkzeug.sansio.utils import get_current_url
from werkzeug.wrappers import Request as BaseRequest
from werkzeug.wrappers import Response as BaseResponse

from s22a.history.versions import DatasetState, current_state
from s22a.namespaces import BASE, TYPES
from s22a.store import get_store
from s22a.version import VERSION
from s22a.web import conneg
from s22a.web.conneg import HTML, PROBLEM_FORMATS, TEXT, Format
from s22a.web.pagecache import PageCache

CACHE_SECONDS = 300


def init_app(app: Flask) -> None:
    """Give `app` its cache of built pages and documents (`S22A_PAGE_CACHE_BYTES`)."""
    app.extensions["s22a_pages"] = PageCache(int(app.config["S22A_PAGE_CACHE_BYTES"]))


def page_cache() -> PageCache:
    """The current app's cache of built pages and documents."""
    extensions = current_app.extensions
    if "s22a_pages" not in extensions:  # an app made without create_app
        init_app(current_app)
    cache: PageCache = extensions["s22a_pages"]
    return cache


def _state() -> DatasetState:
    """The dataset's state, taken once per request from the store's change clock (a query
    only when the store may have changed since the last one: `s22a.store.changes`)."""
    if "s22a_state" not in g:
        g.s22a_state = current_state(get_store())
    return g.s22a_state


def state() -> str:
    """The dataset's version token, read once per request."""
    return _state().token


def last_modified() -> datetime | None:
    """When a register version was last accepted, to the second (None if never)."""
    moment = _state().modified
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).replace(microsecond=0)


def etag(variant: str) -> str:
    """The (weak) entity tag of one representation of the current dataset."""
    token = f"{state()}|{VERSION}|{request.host}|{variant}"
    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


def _fresh(tag: str, modified: datetime | None) -> bool:
    """Whether the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    if request.if_none_match:
        return request.if_none_match.contains_weak(tag)
    since = request.if_modified_since
    return bool(since and modified and modified <= since)


def base_url() -> str:
    """The request's URL without its query (`request.base_url`), built once per scheme, host,
    prefix and path: werkzeug quotes and decodes it again on every request otherwise."""
    return base_url_of(request)


def base_url_of(of: BaseRequest) -> str:
    """`base_url()` of a given request (a werkzeug one, outside Flask)."""
    return _base_url(of.scheme, of.host, of.root_path, of.path)


@lru_cache(maxsize=256)
def _base_url(scheme: str, host: str, root: str, path: str) -> str:
    return get_current_url(scheme, host, root, path)


def add_vary(response: BaseResponse, *names: str) -> None:
    """Name `names` in the response's Vary header, each once whatever its case, in one write.

    Werkzeug's `response.vary.add` parses the header and writes it back on every call; this
    runs on every response, so it reads it once and writes it at most once.
    """
    headers = response.headers
    current = headers.get("Vary")
    if not current:
        headers["Vary"] = ", ".join(dict.fromkeys(names))
        return
    named = {part.strip().lower() for part in current.split(",")}
    if "*" in named:  # varies on everything already
        return
    missing = [name for name in dict.fromkeys(names) if name.lower() not in named]
    if missing:
        headers["Vary"] = ", ".join([current, *missing])


def finish(response: Response, tag: str | None, modified: datetime | None) -> Response:
    """Add the validators, Cache-Control and Vary: Accept to a response."""
    if tag:
        response.set_etag(tag, weak=True)
    if modified:
        response.last_modified = modified
    response.cache_control.public = True
    response.cache_control.max_age = CACHE_SECONDS
    add_vary(response, "Accept")
    return response


def cached(
    variant: str, build: Callable[[], Response], check: Callable[[], None] | None = None
) -> Response:
    """`build()`'s response with validators, from the page cache when this variant was built
    on the current data, or 304 Not Modified without building it. `check` (which may raise,
    say a 404) runs before a 304 granted on a date alone (an ETag that matches was given for
    this variant of this data, so it needs no check); `build` must fail as `check` would, so
    that a cold build asks the store once whether the thing exists."""
    tag, modified = etag(variant), last_modified()
    reading = request.method in ("GET", "HEAD")
    matched = bool(request.if_none_match) and not request.if_none_match.star_tag
    if reading and _fresh(tag, modified) and (check is None or matched):
        return finish(Response(status=304), tag, modified)
    pages, token, key = page_cache(), state(), f"{tag}|{request.script_root}"
    kept = pages.get(token, key) if reading else None
    if reading and _fresh(tag, modified):  # on a date alone, once the variant is known to be
        if kept is None and check is not None:
            check()
        return finish(Response(status=304), tag, modified)
    if kept is not None:
        return finish(kept.response(), tag, modified)
    response = build()
    if reading:
        pages.put(token, key, response)
    return finish(response, tag, modified)


def variant_key(fmt: Format | None = None) -> str:
    """The variant a request asks for: path, sorted query (less _format) and format."""
    query = sorted((k, v) for k, v in request.args.items(multi=True) if k != "_format")
    return f"{request.path}?{query}#{fmt.key if fmt else ''}"


def root() -> str:
    """The path of the site root on the server the reader is on ('' or a mount point)."""
    return request.script_root


def local(iri: str) -> str:
    """Where a canonical IRI is read on this server; other IRIs are returned as they are.

    Things (`/id/{kind}/{slug}`) link straight to their documents (`/doc/...`), saving the
    303; other IRIs under /id/ (versions, register items) keep their paths.
    """
    if not iri.startswith(BASE):
        return iri
    path = iri[len(BASE) :]
    if path.startswith("id/") and path.count("/") == 2 and path.split("/")[1] in TYPES:
        return f"{root()}/doc/{path[3:]}"
    return f"{root()}/{path}"


def link_header(base_path: str, formats: Sequence[Format], canonical: str | None) -> str:
    """A Link header listing each format of a document as an alternate (RFC 8288)."""
    links = [
        f'<{root()}{base_path}.{f.key}>; rel="alternate"; type="{f.media_type}"' for f in formats
    ]
    if canonical:
        links.append(f'<{canonical}>; rel="canonical"')
    return ", ".join(links)


def max_upload() -> int:
    """The largest body a write may carry, in bytes (S22A_MAX_UPLOAD)."""
    return int(current_app.config["S22A_MAX_UPLOAD"])


def preferred(offered: Sequence[Format]) -> Format:
    """The format the client prefers among `offered`; the first when it accepts none."""
    chosen = conneg.negotiate(
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=offered,
    )
    return chosen or offered[0]


def problem(status: int, title: str, detail: str, **extra: object) -> Response:
    """An error answer as JSON, HTML or text, whichever the client prefers."""
    fmt = preferred(PROBLEM_FORMATS)
    if fmt is HTML:
        body = render_template(
            "registers/problem.html", status=status, title=title, detail=detail, extra=extra
        )
    elif fmt is TEXT:
        lines = [f"{status} {title}", detail, *(f"{k}: {v}" for k, v in extra.items())]
        body = "\n".join(lines) + "\n"
    else:
        body = json.dumps(
            {"status": status, "title": title, "detail": detail, **extra},
            indent=2,
            ensure_ascii=False,
        )
    response = Response(body, status=status, content_type=fmt.content_type)
    add_vary(response, "Accept")
    return response


def version_url(force: str, number: int) -> str:
    """The absolute URL of one version of a force's register."""
    return url_for("history.version", force=force, number=number, _external=True)
