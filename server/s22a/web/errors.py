"""Error pages: a 404 that suggests what was meant, a 406 that lists the formats, no tracebacks."""

from __future__ import annotations

from collections.abc import Sequence

from flask import Flask, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError, NotAcceptable, NotFound

from s22a.namespaces import TYPES, is_slug
from s22a.read import describe
from s22a.store import StoreError, StoreUnavailable, get_store
from s22a.web.conneg import Format
from s22a.web.http import add_vary


class ThingNotFound(NotFound):
    """No document for this path; `suggestions` are (kind, slug) pairs that exist."""

    def __init__(self, kind: str, slug: str, suggestions: list[tuple[str, str]]) -> None:
        super().__init__(
            f"There is no {TYPES.get(kind, 'thing').lower()} called “{slug}” in the register."
        )
        self.kind, self.slug, self.suggestions = kind, slug, suggestions


class NoAcceptableFormat(NotAcceptable):
    """Nothing the client accepts is offered; `formats` are what is, `base` their path."""

    def __init__(self, base: str, formats: Sequence[Format]) -> None:
        super().__init__("This document is not available in a format you accept.")
        self.base, self.formats = base, list(formats)


def not_found(kind: str, slug: str) -> ThingNotFound:
    """The 404 for an unknown thing, with close matches from the store."""
    return ThingNotFound(kind, slug, describe.suggestions(get_store(), kind, slug))


def _page(status: int, heading: str, **context: object) -> Response:
    html = render_template("error.html", status=status, heading=heading, **context)
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    add_vary(response, "Accept")
    return response


def handle_http(error: HTTPException) -> Response:
    """Any HTTP error as a page (404 with suggestions, 406 with the formats)."""
    status = error.code or 500
    if isinstance(error, ThingNotFound):
        return _page(
            404, "Page not found", message=error.description, suggestions=error.suggestions
        )
    if status == 404:
        last = request.path.rstrip("/").rsplit("/", 1)[-1].split(".")[0].lower()
        found = []
        if is_slug(last):
            try:
                found = describe.suggestions(get_store(), "", last)
            except StoreError:
                found = []
        return _page(
            404,
            "Page not found",
            suggestions=found,
            message="If you typed the web address, check it is correct. "
            "If you pasted it, check you copied all of it.",
        )
    if isinstance(error, NoAcceptableFormat):
        return _page(
            406,
            "No format you accept",
            message=error.description,
            formats=error.formats,
            base=error.base,
        )
    response = _page(status, error.name, message=error.description)
    if status == 405 and error.valid_methods:  # type: ignore[attr-defined]
        response.allow.update(error.valid_methods)  # type: ignore[attr-defined]
    return response


def handle_unavailable(error: StoreUnavailable) -> Response:
    """The store cannot be reached: 503, and try again later."""
    current_app.logger.error("store unavailable: %s", error)
    response = _page(
        503,
        "Sorry, the service is unavailable",
        message="The register cannot be read at the moment. Try again later.",
    )
    response.retry_after = 30
    return response


def handle_internal(error: InternalServerError) -> Response:
    """Anything unexpected (Flask has logged it): a plain 500 page, never a traceback."""
    return _page(
        500,
        "Sorry, there is a problem with the service",
        message="Try again later. The problem has been logged.",
    )


def init_app(app: Flask) -> None:
    """Answer every error of `app` with a page: no traceback ever reaches a reader."""
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(StoreUnavailable, handle_unavailable)
    app.register_error_handler(InternalServerError, handle_internal)
