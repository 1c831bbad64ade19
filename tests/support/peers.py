"""Peers on 127.0.0.1 for the tests: TCP listeners that count connections and then answer,
hang, drip-feed or hang up, as the test needs."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable

Handler = Callable[["Peer", socket.socket], None]


class Peer:
    """Accepts connections on 127.0.0.1 and hands each to `handler` in a thread of its own.

    Without a handler a connection is held open and never answered (a peer that hangs).
    `connections` counts what was accepted: a test that must cause no connection checks it
    stays 0. Close the peer to drop every connection it holds.
    """

    def __init__(self, handler: Handler | None = None, path: str = "/sparql") -> None:
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}{path}"
        self.handler = handler
        self.connections = 0
        self.held: list[socket.socket] = []
        self.stopping = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self.held.append(connection)
            if self.handler is not None:
                threading.Thread(target=self._handle, args=(connection,), daemon=True).start()

    def _handle(self, connection: socket.socket) -> None:
        assert self.handler is not None
        with contextlib.suppress(OSError):
            self.handler(self, connection)

    def close(self) -> None:
        """Stop accepting and close every connection."""
        self.stopping.set()
        self._thread.join(timeout=5)
        for connection in self.held:
            connection.close()
        self.sock.close()


def hang_up(peer: Peer, connection: socket.socket) -> None:
    """Close the connection at once."""
    connection.close()


def answer(reply: bytes) -> Handler:
    """Read the request, send `reply` (a whole HTTP response) and close."""

    def handler(peer: Peer, connection: socket.socket) -> None:
        with connection:
            connection.settimeout(2)
            connection.recv(65536)
            connection.sendall(reply)

    return handler


def drip(peer: Peer, connection: socket.socket) -> None:
    """Answer 200 at once, then send the body a byte every 0.2 s for up to a minute, so no
    single read waits long enough to time out."""
    connection.settimeout(1)
    connection.recv(65536)
    connection.sendall(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/turtle\r\nContent-Length: 1000000\r\n\r\n"
    )
    for _ in range(300):
        if peer.stopping.wait(0.2):
            return
        connection.sendall(b"#")


def _read_request(connection: socket.socket, pending: bytes) -> tuple[bytes, bytes] | None:
    """One request's head and body from `connection` (after `pending`, bytes already read),
    and what came after it; None if the client closed the connection first."""
    while b"\r\n\r\n" not in pending:
        data = connection.recv(65536)
        if not data:
            return None
        pending += data
    head, _, rest = pending.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        data = connection.recv(65536)
        if not data:
            return None
        rest += data
    return head, rest[length:]


def keep_alive(reply: bytes | Callable[[bytes], bytes], answers: int = 1_000) -> Handler:
    """Answer each request on the connection with `reply` (or `reply(head)`, given the
    request's head), keeping it open (HTTP/1.1), up to `answers` times; after that, read the
    next request and hang (never answer it)."""

    def handler(peer: Peer, connection: socket.socket) -> None:
        connection.settimeout(60)
        pending = b""
        for _ in range(answers):
            request = _read_request(connection, pending)
            if request is None:
                return
            head, pending = request
            connection.sendall(reply(head) if callable(reply) else reply)
        _read_request(connection, pending)
        peer.stopping.wait(60)

    return handler


def _request_line(head: bytes) -> bytes:
    line = head.split(b"\r\n", 1)[0]
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(line), line)


# Answers each request on the connection with its own request line, keeping it open.
echo = keep_alive(_request_line)
