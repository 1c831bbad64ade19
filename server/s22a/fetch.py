"""The one HTTP client of the service: every outgoing request has a deadline, a byte cap and,
where it says so, a list of the hosts it may reach.

Used to harvest registers (`s22a.ingest.harvest`), to call federated SERVICE endpoints
(`s22a.sparql.federation`, which also pins the address it checked), and to talk to a remote
store (`s22a.store.remote`, `s22a.sparql.remote`). A socket timeout bounds each read only, so
a peer that sends a byte now and then would hold a request for as long as it liked: here the
whole exchange is bounded, and at the deadline the socket is shut down.

Answers of any status are returned (`Answer.status`); only what stops an answer from being
read raises `FetchError`, whose `kind` says which: "timeout", "unreachable", "too_large" or
"refused" (a redirect to a host not allowed).
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import heapq
import http.client
import itertools
import os
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from email.message import Message

MAX_REDIRECTS = 5


class FetchError(Exception):
    """No answer could be read; `kind` is timeout, unreachable, too_large or refused, and
    `answering` whether the peer had begun to answer (sent its status line), `media_type` what
    it said it was sending, if it had."""

    def __init__(
        self, kind: str, message: str, answering: bool = False, media_type: str | None = None
    ) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.answering = answering
        self.media_type = media_type


@dataclass
class Answer:
    """An HTTP answer read whole: its status, headers, body and the URL that gave it."""

    status: int
    headers: Message
    body: bytes
    url: str

    @property
    def media_type(self) -> str:
        """The media type of the body, without parameters, in lower case."""
        return self.headers.get_content_type()


class _Watch:
    """One exchange's deadline: `action` runs then unless `cancel` came first."""

    __slots__ = ("action", "cancelled")

    def __init__(self, action: Callable[[], None]) -> None:
        self.action = action
        self.cancelled = False

    def cancel(self) -> None:
        """The exchange ended: its action must not run."""
        self.cancelled = True


class _Watchdog:
    """One thread that runs the actions of the exchanges whose deadline has passed.

    A `threading.Timer` per request starts and ends a thread each time: about 0.2 ms of CPU,
    a sixth of a `/sparql` query sent to a remote store. Here deadlines wait in a heap; a
    cancelled one stays there until it is due (it is then dropped), so a new deadline wakes
    the thread only when it is the earliest.
    """

    def __init__(self) -> None:
        self._ready = threading.Condition()
        self._due: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, deadline: float, action: Callable[[], None]) -> _Watch:
        """Run `action` at `deadline` (time.monotonic) unless the returned watch is cancelled."""
        watch = _Watch(action)
        with self._ready:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="s22a-fetch-deadlines",
                                                daemon=True)  # fmt: skip
                self._thread.start()
            heapq.heappush(self._due, (deadline, next(self._order), watch))
            if self._due[0][2] is watch:
                self._ready.notify()
        return watch

    def _run(self) -> None:
        while True:
            with self._ready:
                now = time.monotonic()
                fired = []
                while self._due and (self._due[0][2].cancelled or self._due[0][0] <= now):
                    _, _, watch = heapq.heappop(self._due)
                    if not watch.cancelled:
                        fired.append(watch)
                if not fired:
                    self._ready.wait(self._due[0][0] - now if self._due else None)
            for watch in fired:
                watch.action()


_WATCHDOG = _Watchdog()


class _Idle:
    """Connections kept open after an exchange (HTTP/1.1 keep-alive), for requests that may be
    sent twice: a query to the store goes on a connection an earlier one left, without a new
    TCP handshake (and without a port left in TIME_WAIT per query, which at a thousand queries
    a second could use up the client's ports towards a store on another machine).

    Per origin (scheme, host, port and pinned address) at most `MAX_PER_ORIGIN` wait, the most
    recently used first; one idle for `MAX_IDLE_SECONDS` is closed rather than used. Servers
    close idle connections when they choose (Oxigraph's server still answered on one after
    40 s idle); a request on one closed meanwhile fails before any answer comes and is sent
    again on a new connection.
    """

    MAX_PER_ORIGIN = 32
    MAX_IDLE_SECONDS = 10.0

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple[object, ...], list[tuple[float, http.client.HTTPConnection]]] = {}

    def take(self, origin: tuple[object, ...]) -> http.client.HTTPConnection | None:
        """An open connection to `origin` that is not too old, if one is waiting."""
        oldest = time.monotonic() - self.MAX_IDLE_SECONDS
        stale = []
        found = None
        with self._lock:
            waiting = self._idle.get(origin)
            while waiting:
                since, connection = waiting.pop()
                if since >= oldest:
                    found = connection
                    break
                stale.append(connection)
        for connection in stale:
            connection.close()
        return found

    def give(self, origin: tuple[object, ...], connection: http.client.HTTPConnection) -> None:
        """Keep `connection`, whose last answer was read whole, for the next request."""
        now = time.monotonic()
        stale = []
        with self._lock:
            waiting = self._idle.setdefault(origin, [])
            while waiting and waiting[0][0] < now - self.MAX_IDLE_SECONDS:
                stale.append(waiting.pop(0)[1])
            if len(waiting) < self.MAX_PER_ORIGIN:
                waiting.append((now, connection))
            else:
                stale.append(connection)
        for old in stale:
            old.close()

    def discard(self) -> None:
        """Close every waiting connection (in a forked child: its copies of the parent's).
        Takes no lock (a fork may have left it held): the table is swapped out first."""
        idle, self._idle = self._idle, {}
        for waiting in idle.values():
            for _, connection in list(waiting):
                connection.close()


_IDLE = _Idle()


def _forked() -> None:
    global _WATCHDOG
    _WATCHDOG = _Watchdog()  # the thread does not cross a fork (Granian forks its workers)
    _IDLE.discard()  # nor do connections: parent and child must not talk on one socket


os.register_at_fork(after_in_child=_forked)
atexit.register(lambda: _IDLE.discard())  # closed, not left to the collector at exit


class _Stale(Exception):
    """A kept connection failed before anything of an answer came: the peer had closed it."""


def _connect(parts: urllib.parse.SplitResult, address: str | None, timeout: float) -> socket.socket:
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    sock = socket.create_connection((address or host, port), timeout=timeout)
    # http.client writes a request's head and body apart: on a kept connection Nagle's
    # algorithm would hold the body until the peer's delayed ACK (40 ms a query, measured).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if parts.scheme == "https":
        try:
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        except (OSError, ssl.SSLError):
            sock.close()
            raise
    return sock


def _open(
    url: str, parts: urllib.parse.SplitResult, address: str | None, remaining: float
) -> http.client.HTTPConnection:
    try:
        sock = _connect(parts, address, remaining)
    except TimeoutError:
        raise FetchError("timeout", f"{url} did not answer in time") from None
    except OSError as error:
        raise FetchError("unreachable", f"{url} cannot be reached: {error}") from None
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname or "", parts.port, timeout=remaining)
    connection.sock = sock  # already connected (to the pinned address, if one was given)
    return connection


def _exchange(
    url: str,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
    deadline: float,
    max_bytes: int,
    address: str | None,
    reuse: bool,
) -> Answer:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError("refused", f"{url} is not an http(s) URL")
    origin = (parts.scheme, parts.hostname, parts.port, address)
    kept = _IDLE.take(origin) if reuse else None
    if kept is not None:
        try:
            return _send(kept, True, url, parts, method, body, headers, deadline, max_bytes,
                         origin)  # fmt: skip
        except _Stale:
            pass  # the peer had closed it while it waited: the request goes on a new one
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("timeout", f"{url}: no time left")
    connection = _open(url, parts, address, remaining)
    return _send(connection, False, url, parts, method, body, headers, deadline, max_bytes,
                 origin if reuse else None)  # fmt: skip


def _send(
    connection: http.client.HTTPConnection,
    kept: bool,
    url: str,
    parts: urllib.parse.SplitResult,
    method: str,
    body: bytes | None,
    headers: dict[str, str],
    deadline: float,
    max_bytes: int,
    keep_for: tuple[object, ...] | None,
) -> Answer:
    """One request and its answer on `connection` (`kept`: one an earlier exchange left open,
    on which a failure before any answer raises `_Stale`), which is then kept for `keep_for`
    (if the answer was read whole and the peer keeps it open) or closed."""
    sock = connection.sock
    cut = threading.Event()
    guard = threading.Lock()
    ended = False

    def shut_down() -> None:
        with guard:  # never a socket that has gone back to the idle connections
            if ended:
                return
            cut.set()
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    remaining = deadline - time.monotonic()
    watchdog = _WATCHDOG.watch(deadline, shut_down)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    response = None
    keep = False
    try:
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(
                "too_large",
                f"{url} is {declared} bytes, over {max_bytes}",
                True,
                response.headers.get_content_type(),
            )
        data = response.read(max_bytes + 1)
        keep = keep_for is not None and response.isclosed() and not response.will_close
    except TimeoutError:
        raise FetchError("timeout", f"{url} did not answer in time", response is not None) from None
    except (OSError, http.client.HTTPException) as error:
        if cut.is_set():
            raise FetchError(
                "timeout", f"{url} did not answer in time", response is not None
            ) from None
        if kept and response is None:
            raise _Stale from None
        raise FetchError("unreachable", f"{url} failed: {error}") from None
    finally:
        with guard:
            ended = True
        watchdog.cancel()
        if keep and not cut.is_set():
            _IDLE.give(keep_for, connection)  # type: ignore[arg-type]
        else:
            connection.close()
    if cut.is_set():
        raise FetchError("timeout", f"{url} did not finish answering in time", True)
    if len(data) > max_bytes:
        raise FetchError(
            "too_large",
            f"{url} answered more than {max_bytes} bytes",
            True,
            response.headers.get_content_type(),
        )
    return Answer(response.status, response.headers, data, url)


@functools.lru_cache(maxsize=4096)
def _form_pair(name: str, value: str) -> str:
    return f"{urllib.parse.quote_plus(name)}={urllib.parse.quote_plus(value)}"


def form(params: list[tuple[str, str]]) -> bytes:
    """`params` as an ``application/x-www-form-urlencoded`` body (as `urllib.parse.urlencode`
    writes it). Every pair but the query is remembered encoded: a query to the store names
    the same graphs each time (65 us to encode them all with the query, 12 us without)."""
    return "&".join(
        f"query={urllib.parse.quote_plus(value)}" if name == "query" else _form_pair(name, value)
        for name, value in params
    ).encode()


def request(
    url: str,
    *,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float,
    max_bytes: int,
    allowed_hosts: set[str] | None = None,
    follow_redirects: bool = False,
    address: str | None = None,
    reuse: bool = False,
) -> Answer:
    """Send one request and read its answer whole within `timeout` seconds in all.

    `allowed_hosts` (host[:port] as URLs write them) limits where redirects may lead (and the
    first URL too); `address` connects to that IP address instead of resolving the host.
    `reuse` says the request may be sent twice (a query, not an update): it goes on a
    connection an earlier such request left open, if one waits, and again on a new connection
    if the peer had closed that one; the connection is then kept for the next.
    """
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        if allowed_hosts is not None and urllib.parse.urlsplit(url).netloc not in allowed_hosts:
            raise FetchError("refused", f"{url} is on a host that is not allowed")
        answer = _exchange(
            url, method, body, dict(headers or {}), deadline, max_bytes, address, reuse
        )
        location = answer.headers.get("Location")
        if not (follow_redirects and answer.status in (301, 302, 303, 307, 308) and location):
            return answer
        target = urllib.parse.urljoin(url, location)
        if allowed_hosts is not None and urllib.parse.urlsplit(target).netloc not in allowed_hosts:
            raise FetchError(
                "refused", f"{url} redirects to {target}, a host that is not in the catalogue"
            )
        url, address = target, None
        if answer.status == 303:
            method, body = "GET", None
    raise FetchError("refused", f"{url}: more than {MAX_REDIRECTS} redirects")
