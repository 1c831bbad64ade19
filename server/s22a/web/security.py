"""Security headers on every response (OWASP secure headers; CSP Level 3)."""

from __future__ import annotations

from flask import Flask, Response

# No script at all: pages need none. Styles and images only from this origin (SVG is inline
# markup, not script). Forms post only here; nobody may frame the pages.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)


EVERY = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "strict-origin-when-cross-origin"),
)
# HTML and SVG documents carry every response's headers and these two as well.
DOCUMENT = EVERY + (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Frame-Options", "DENY"),
)


def secure_headers(response: Response) -> Response:
    """Add the headers every response carries, and the CSP on HTML, unless a view set them."""
    headers = response.headers
    present = {name.lower() for name, _ in headers.items()}  # one pass, not one per header
    wanted = DOCUMENT if response.mimetype in ("text/html", "image/svg+xml") else EVERY
    headers.extend((name, value) for name, value in wanted if name.lower() not in present)
    return response


def init_app(app: Flask) -> None:
    """Install the security headers on `app`."""
    app.after_request(secure_headers)
