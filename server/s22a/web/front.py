"""What every request passes before Flask: its canonical address, and the access log.

* **Canonical URLs** (`S22A_PUBLIC_URL`): absolute URLs (Location, Content-Location, Link,
  feeds, version JSON, the service description) are built by Flask from the WSGI environ, so
  the environ is set here from configuration, never from the request's `Host`: the public URL
  when one is set, else the address the server itself listens on. `X-Forwarded-Proto`,
  `-Host` and `-For` are honoured only from the proxies listed in `S22A_TRUSTED_PROXIES`, and
  otherwise dropped, so nothing downstream can read them by mistake.
* **The access log** records the client, the request line, the status, the size and the time;
  an `access_token` in the query string is written as `[redacted]`, and headers never are.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WSGIApp = Callable[[Environ, StartResponse], Iterable[bytes]]

ACCESS_LOG = logging.getLogger("s22a.access")
_TOKEN_IN_QUERY = re.compile(r"(?i)((?:^|&)access_token=)[^&]*")
_FORWARDED = (
    "HTTP_X_FORWARDED_PROTO",
    "HTTP_X_FORWARDED_HOST",
    "HTTP_X_FORWARDED_FOR",
    "HTTP_X_FORWARDED_PORT",
    "HTTP_X_FORWARDED_PREFIX",
    "HTTP_FORWARDED",
)


def parse_public_url(url: str) -> tuple[str, str, str]:
    """(scheme, host[:port], path prefix) of a public base URL; raises ValueError if unusable."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(
            f"S22A_PUBLIC_URL must be an http(s) URL such as https://register.example.org/, "
            f"not {url!r}"
        )
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def redact(query: str) -> str:
    """A query string with the value of any `access_token` parameter replaced."""
    return _TOKEN_IN_QUERY.sub(r"\1[redacted]", query)


def trusted_set(proxies: Iterable[str]) -> frozenset[str]:
    """The trusted proxies' addresses (`S22A_TRUSTED_PROXIES` split at commas; blanks dropped)."""
    return frozenset(p.strip() for p in proxies if p.strip())


def client_address(remote: str, forwarded_for: str, trusted: frozenset[str]) -> str:
    """The client's address: a trusted proxy's view of it (its last hop), else the peer's."""
    if remote in trusted and forwarded_for:
        return forwarded_for.split(",")[-1].strip()
    return remote


def log_line(
    remote: str, method: str, path: str, query: str, protocol: str, status: str, size: str,
    ms: float,
) -> str:  # fmt: skip
    """One access log line (an `access_token` in the query redacted; no header ever); `ms`,
    the milliseconds from the request's arrival to its answer."""
    line = f"{method} {path}{'?' + redact(query) if query else ''}"
    return f'{remote} "{line} {protocol}" {status} {size} {ms:.0f}ms'


class Front:
    """WSGI middleware: canonical host and scheme, forwarded headers, the access log."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        public_url: str = "",
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        """Wrap `app`."""
        self.app = app
        self.public = parse_public_url(public_url) if public_url else None
        self.trusted = trusted_set(trusted_proxies)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        """Handle one request."""
        # The log says how long the client waited: from the request's arrival (at the bridge,
        # before its body was read), also for one the bridge tried to answer first.
        arrived = environ.setdefault("s22a.arrived", time.monotonic())
        self.canonical(environ)
        seen: dict[str, Any] = {}

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status.split(" ", 1)[0]
            seen["size"] = next((v for k, v in headers if k.lower() == "content-length"), "-")
            return start_response(status, headers, exc_info)

        body = self.app(environ, recording)
        return self._finish(body, environ, seen, arrived)

    def _finish(
        self, body: Iterable[bytes], environ: Environ, seen: dict[str, Any], t: float
    ) -> Iterator[bytes]:
        try:
            yield from body
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
            self._log(environ, seen.get("status", "-"), seen.get("size", "-"), t)

    def canonical(self, environ: Environ) -> None:
        """Set the scheme, host and prefix Flask builds absolute URLs from."""
        remote = str(environ.get("REMOTE_ADDR") or "")
        if remote in self.trusted:
            environ["REMOTE_ADDR"] = client_address(
                remote, environ.get("HTTP_X_FORWARDED_FOR", ""), self.trusted
            )
            if self.public is None:
                proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[-1].strip()
                if proto in ("http", "https"):
                    environ["wsgi.url_scheme"] = proto
                host = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[-1].strip()
                if host:
                    environ["HTTP_HOST"] = host
        elif self.public is None:
            # Not from a proxy we trust: the client's Host header names no address of ours.
            name, port = environ.get("SERVER_NAME", "localhost"), environ.get("SERVER_PORT")
            scheme = environ.get("wsgi.url_scheme", "http")
            default = {"http": "80", "https": "443"}.get(scheme)
            environ["HTTP_HOST"] = name if not port or port == default else f"{name}:{port}"
        for key in _FORWARDED:
            environ.pop(key, None)
        if self.public is not None:
            scheme, host, prefix = self.public
            environ["wsgi.url_scheme"] = scheme
            environ["HTTP_HOST"] = host
            if prefix and environ.get("PATH_INFO", "").startswith(prefix + "/"):
                environ["PATH_INFO"] = environ["PATH_INFO"][len(prefix) :]
            environ["SCRIPT_NAME"] = prefix

    def _log(self, environ: Environ, status: str, size: str, arrived: float) -> None:
        ACCESS_LOG.info(
            "%s",
            log_line(
                environ.get("REMOTE_ADDR", "-"),
                environ.get("REQUEST_METHOD", "-"),
                environ.get("SCRIPT_NAME", "") + environ.get("PATH_INFO", ""),
                environ.get("QUERY_STRING", ""),
                environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                status,
                size,
                (time.monotonic() - arrived) * 1000,
            ),
        )


def init_app(app: Flask) -> None:
    """Put `Front` in front of `app`'s WSGI callable, with the app's settings."""
    config = app.config
    app.wsgi_app = Front(  # type: ignore[method-assign]
        app.wsgi_app,
        public_url=config.get("S22A_PUBLIC_URL") or "",
        trusted_proxies=(config.get("S22A_TRUSTED_PROXIES") or "").split(","),
    )
