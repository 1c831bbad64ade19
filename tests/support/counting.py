"""A real HTTP proxy in front of a real store server that counts the requests it passes on.

    with OxigraphServer() as oxigraph, CountingProxy(oxigraph.url) as proxy:
        ServerProcess(folder, store=f"sparql:{proxy.url}")  # then read proxy.count()

It is how a test sees how many store queries a server process makes (a query is a request to
the store's `/query`), without mocking anything in the app: the app talks HTTP to the proxy
as it would to the store.
"""

from __future__ import annotations

import http.client
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from tests.support.processes import Service

__all__ = ["CountingProxy"]

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


class CountingProxy(Service):
    """Forwards every request to `target` (http://127.0.0.1:PORT) and counts them by path."""

    def __init__(self, target: str) -> None:
        """Prepare (not start) a proxy to `target`."""
        self.target = urlsplit(target)
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def count(self, path: str = "/query") -> int:
        """How many requests to `path` have been passed on so far."""
        with self._lock:
            return self.counts[path]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass  # quiet: the test reads the counts

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                with proxy._lock:
                    proxy.counts[urlsplit(self.path).path] += 1
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                upstream = http.client.HTTPConnection(
                    proxy.target.hostname, proxy.target.port, timeout=120
                )
                try:
                    upstream.request(self.command, self.path, body=body, headers=headers)
                    answer = upstream.getresponse()
                    data = answer.read()
                    self.send_response(answer.status, answer.reason)
                    for key, value in answer.getheaders():
                        if key.lower() not in _HOP:
                            self.send_header(key, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    upstream.close()

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        return Handler

    @property
    def url(self) -> str:
        """Where the proxy listens."""
        assert self._server is not None, "start the proxy first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> CountingProxy:
        """Listen on a free 127.0.0.1 port, serving from a thread."""
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
