"""Between the HTTP server and the app: each request is read whole, within deadlines and a size
cap, before a thread runs the (WSGI) app; and one client address may have only so many
requests in progress at once.

Granian's own WSGI interface hands a request to a Python thread as soon as its headers are
in, so a client that drips its body one byte a second holds that thread for as long as it
likes: measured, 16 such clients stopped a server of 8 threads answering anyone. Here Granian
serves its native (RSGI) interface instead: its event loop awaits each body in Rust, at no
thread's cost, and only a complete request goes to the pool of threads that run the app.

* Headers must arrive within `S22A_HEADER_TIMEOUT` (Granian closes the connection), the body
  within `S22A_BODY_TIMEOUT` of them (408, connection closed).
* A body is read up to `max_body` + 1 bytes, the most any route accepts; what is past that
  is never read: the app sees a body over its limit and answers 413 in its own format, and
  the connection is closed.
* One client address may have `S22A_CLIENT_REQUESTS` requests being read or handled at once;
  the next is answered 503 with Retry-After at once, so one client cannot hold every thread.
* Responses up to `STREAM_AFTER` bytes are sent in one piece; longer ones (the dumps) are
  streamed, a chunk at a time from the thread pool.
* With a `memo` (`s22a.web.memo`), a request whose whole answer the app allowed to be kept is
  answered from it on the event loop, without a thread, an environ or the app, while that
  answer holds; after the per-address count above, which applies to it like any request.
* With `direct` (`s22a.web.direct`), a plain `/sparql` query is answered on the event loop
  too, waiting for its query worker there; anything else it leaves to the app.
"""

from __future__ import annotations

import asyncio
import io
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from s22a.web.hangups import LEFT
from s22a.web.memo import AnswerMemo

if TYPE_CHECKING:
    from s22a.web.direct import DirectQueries

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
STREAM_AFTER = 1 << 20
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
BUSY = b"Too many requests from your address are in progress at once; try again shortly.\n"
SLOW = b"The request's body did not arrive in time.\n"


def _host(address: str) -> tuple[str, str]:
    """('127.0.0.1', '5000') from '127.0.0.1:5000'; IPv6 addresses come in brackets."""
    host, _, port = address.rpartition(":")
    if not host:
        return address, ""
    return host.strip("[]"), port


def request_environ(scope: Any, client: str) -> dict[str, Any]:
    """The part of a request's WSGI environ (PEP 3333) that says what was asked, by whom and
    of which address: method, path, query, server, protocol, scheme, peer and headers (a
    repeated header joined into one, as PEP 3333 has it). `Bridge` adds the body and the
    rest; `s22a.web.direct` needs no more."""
    server, server_port = _host(scope.server or "")
    environ: dict[str, Any] = {
        "REQUEST_METHOD": scope.method,
        "SCRIPT_NAME": "",
        # PEP 3333: the path as bytes in a latin-1 string (RSGI gives it decoded as UTF-8).
        "PATH_INFO": scope.path.encode("utf-8", "surrogateescape").decode("latin-1"),
        "QUERY_STRING": scope.query_string,
        "SERVER_NAME": server,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
        "REMOTE_ADDR": client,
        "wsgi.url_scheme": scope.scheme,
    }
    for name, value in scope.headers.items():
        key = name.upper().replace("-", "_")
        if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            environ[key] = value
            continue
        key = "HTTP_" + key
        if key in environ:
            environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
        else:
            environ[key] = value
    return environ


def _next(iterator: Iterator[bytes]) -> bytes | None:
    """The next chunk, or None at the end (StopIteration does not cross a Future)."""
    return next(iterator, None)


class Bridge:
    """An RSGI application (Granian's native interface) that runs a WSGI app in threads."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        threads: int,
        max_body: int,
        body_timeout: float,
        client_requests: int,
        memo: AnswerMemo | None = None,
        direct: DirectQueries | None = None,
    ) -> None:
        """Run `app` in `threads` threads; see the module docstring for the other limits."""
        self.app = app
        self.memo = memo
        self.direct = direct
        self.threads = threads
        self.max_body = max_body
        self.body_timeout = body_timeout
        self.client_requests = client_requests
        self._pool: ThreadPoolExecutor | None = None
        self._in_progress: dict[str, int] = {}

    def pool(self) -> ThreadPoolExecutor:
        """The threads that run the app (started in the worker, after the fork)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="s22a")
        return self._pool

    async def __rsgi__(self, scope: Any, protocol: Any) -> None:
        """Handle one HTTP request (RSGI: `scope` describes it, `protocol` reads and answers)."""
        arrived = time.monotonic()
        client, client_port = _host(scope.client or "")
        count = self._in_progress.get(client, 0)  # the event loop is one thread: no lock
        if self.client_requests and count >= self.client_requests:
            protocol.response_bytes(
                503, [("content-type", "text/plain; charset=utf-8"), ("retry-after", "1")], BUSY
            )
            return
        self._in_progress[client] = count + 1
        try:
            await self._handle(scope, protocol, client, client_port, arrived)
        finally:
            left = self._in_progress[client] - 1
            if left:
                self._in_progress[client] = left
            else:
                del self._in_progress[client]

    async def _handle(
        self, scope: Any, protocol: Any, client: str, client_port: str, arrived: float
    ) -> None:
        headers = scope.headers
        truncated = False
        key = None
        if scope.method in _NO_BODY and not (
            headers.get("content-length") or headers.get("transfer-encoding")
        ):
            body = b""
            memo = self.memo
            if memo is not None and (key := memo.key(scope, client)) is not None:
                kept = memo.answer(key)
                if kept is not None:
                    protocol.response_bytes(*kept)
                    memo.log(scope, client, kept, arrived)
                    return
        else:
            try:
                body, truncated = await asyncio.wait_for(self._read(protocol), self.body_timeout)
            except TimeoutError:
                protocol.response_bytes(
                    408, [("content-type", "text/plain; charset=utf-8"), ("connection", "close")],
                    SLOW,
                )  # fmt: skip
                return
            declared = headers.get("content-length")
            if declared and declared.isdigit() and len(body) < int(declared) and not truncated:
                return  # the client went away before sending it all: nobody to answer
        handed: dict[str, Any] = {}
        if self.direct is not None and not truncated:
            answer, holds, handed = await self.direct.answer(
                scope, protocol, body, client, arrived, self.pool()
            )
            if answer is LEFT:
                return  # the client disconnected: nobody to answer
            if answer is not None:
                protocol.response_bytes(*answer)
                if key is not None and holds is not None and self.memo is not None:
                    self.memo.keep(key, answer, holds)
                return
        environ = self._environ(scope, body, client, client_port, arrived, truncated)
        environ.update(handed)
        loop = asyncio.get_running_loop()
        status, response_headers, chunks, rest = await loop.run_in_executor(
            self.pool(), self._call, environ
        )
        if truncated:  # the unread rest of the body must not be read as the next request
            response_headers.append(("connection", "close"))
        if rest is None:
            protocol.response_bytes(status, response_headers, b"".join(chunks))
            if key is not None and self.memo is not None:
                self.memo.offer(key, environ, status, response_headers, chunks)
            return
        await self._stream(protocol, status, response_headers, chunks, rest)

    async def _stream(
        self,
        protocol: Any,
        status: int,
        headers: list[tuple[str, str]],
        chunks: list[bytes],
        rest: tuple[Any, Iterator[bytes]],
    ) -> None:
        """Send a long answer: its first chunks, then the rest as the app's iterator gives it."""
        loop = asyncio.get_running_loop()
        result, iterator = rest
        try:
            transport = protocol.response_stream(status, headers)
            for chunk in chunks:
                await transport.send_bytes(chunk)
            while True:
                piece = await loop.run_in_executor(self.pool(), _next, iterator)
                if piece is None:
                    break
                if piece:
                    await transport.send_bytes(piece)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                await loop.run_in_executor(self.pool(), close)

    async def _read(self, protocol: Any) -> tuple[bytes, bool]:
        """The body, up to `max_body` + 1 bytes; and whether more was left unread."""
        parts, size = [], 0
        async for chunk in protocol:
            parts.append(chunk)
            size += len(chunk)
            if size > self.max_body:
                return b"".join(parts)[: self.max_body + 1], True
        return b"".join(parts), False

    def _environ(
        self,
        scope: Any,
        body: bytes,
        client: str,
        client_port: str,
        arrived: float,
        truncated: bool,
    ) -> dict[str, Any]:
        """The WSGI environ (PEP 3333) of a request."""
        environ = request_environ(scope, client)
        environ.update(
            {
                "REMOTE_PORT": client_port,
                "wsgi.version": (1, 0),
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "wsgi.input_terminated": True,
                "s22a.arrived": arrived,
            }
        )
        if not truncated:  # else the declared length, so that the app refuses it at once
            environ["CONTENT_LENGTH"] = str(len(body))
            environ.pop("HTTP_TRANSFER_ENCODING", None)
        return environ

    def _call(
        self, environ: dict[str, Any]
    ) -> tuple[int, list[tuple[str, str]], list[bytes], tuple[Any, Iterator[bytes]] | None]:
        """Run the app in this thread: its status, headers, first chunks and the rest."""
        started: list[Any] = []
        written: list[bytes] = []

        def start_response(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            if exc_info and started:
                raise exc_info[1].with_traceback(exc_info[2])
            started[:] = [status, headers]
            return written.append

        result = self.app(environ, start_response)
        iterator = iter(result)
        chunks, size = written, sum(len(w) for w in written)
        try:
            for chunk in iterator:
                if chunk:
                    chunks.append(chunk)
                    size += len(chunk)
                if size > STREAM_AFTER:
                    status, headers = started
                    return int(status.split(" ", 1)[0]), list(headers), chunks, (result, iterator)
        except BaseException:
            getattr(result, "close", lambda: None)()
            raise
        getattr(result, "close", lambda: None)()
        status, headers = started
        return int(status.split(" ", 1)[0]), list(headers), chunks, None
