"""Complete answers kept per request, given by the bridge before the app runs at all.

A `/sparql` query the result cache answers, and its 304 revalidation, are the same bytes for
as long as the dataset version stands; yet each one used to cost a hop to a thread, a WSGI
environ, Flask, the hooks, the protocol parsing, the negotiation and the ETag hash (about a
millisecond of Python). So the bridge (`s22a.web.bridge`) keeps the whole answer the app gave
(status, every header the hooks added, body) under the request that produced it, and gives it
again, on its event loop, to the same request, while the answer still holds:

* **Only what a view allows.** A view that knows its answer is a function of the request and
  of the dataset version says so with `allow(environ, still_current)`, where `still_current()`
  tells, without asking the store, whether that version still stands (`/sparql` passes its
  store's change clock, `s22a.store.changes`; volatile and SERVICE queries, `asOf` queries,
  POSTs, errors and HTML pages are never allowed). A write moves the clock, so the next
  request after a write goes to the app.
* **The same request, exactly.** The key is the method, the path, the raw query string, the
  scheme and listening address, whether the client is a trusted proxy (`S22A_TRUSTED_PROXIES`
  changes what `s22a.web.front` reads), and every request header in the order sent but
  those nothing in the app reads (`_IGNORED`). Only requests without a body.
* **Nothing else skipped.** The bridge still counts the request against its client address's
  share (`S22A_CLIENT_REQUESTS`) first, and the access log gets the same line, marked `memo`.

Entries are kept least recently used first out within `S22A_ANSWER_MEMO_BYTES` (one entry at
most an eighth of it; 0 turns the memo off). Everything here runs on the bridge's event loop;
the lock is for safety should another thread ever call in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from cachetools import LRUCache

from s22a.web.front import ACCESS_LOG, client_address, log_line, trusted_set

Key = tuple[Any, ...]
Answer = tuple[int, list[tuple[str, str]], bytes]

ENVIRON_KEY = "s22a.memo"
# Request headers the app never reads (no compression, no language negotiation, no cookies
# or sessions on the answers kept, CORS answers with `*` whatever the Origin); the forwarded
# client address only changes the log line and the admission of queries that run.
_IGNORED = frozenset(
    {
        "user-agent",
        "accept-encoding",
        "accept-language",
        "connection",
        "keep-alive",
        "referer",
        "origin",
        "cache-control",
        "pragma",
        "dnt",
        "priority",
        "upgrade-insecure-requests",
        "sec-fetch-dest",
        "sec-fetch-mode",
        "sec-fetch-site",
        "sec-fetch-user",
        "sec-ch-ua",
        "sec-ch-ua-mobile",
        "sec-ch-ua-platform",
        "x-forwarded-for",
    }
)
# Response headers that belong to one exchange, never kept.
_PER_EXCHANGE = frozenset({"set-cookie", "date", "connection"})


def allow(environ: dict[str, Any], still_current: Callable[[], bool]) -> None:
    """Let the bridge keep this request's answer while `still_current()` is true."""
    environ[ENVIRON_KEY] = still_current


class _Entry:
    __slots__ = ("answer", "size", "still_current")

    def __init__(self, answer: Answer, still_current: Callable[[], bool]) -> None:
        self.answer = answer
        self.still_current = still_current
        self.size = len(answer[2]) + sum(len(k) + len(v) for k, v in answer[1]) + 300


class AnswerMemo:
    """Whole answers per request, for as long as the view that made each says it holds."""

    def __init__(self, max_bytes: int, trusted_proxies: Iterable[str] = ()) -> None:
        """Hold at most `max_bytes` bytes; `trusted_proxies` as `s22a.web.front.Front`'s."""
        self.max_bytes = max_bytes
        self.trusted = trusted_set(trusted_proxies)
        self._entries: LRUCache[Key, _Entry] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=lambda entry: entry.size
        )
        self._lock = threading.Lock()
        self.hits = 0

    def key(self, scope: Any, client: str) -> Key | None:
        """The key of a request (an RSGI scope), or None if none of its kind is kept."""
        if not self.max_bytes or scope.method not in ("GET", "HEAD"):
            return None
        headers = tuple((k, v) for k, v in scope.headers.items() if k.lower() not in _IGNORED)
        return (
            scope.method,
            scope.path,
            scope.query_string,
            scope.scheme,
            scope.server,
            scope.http_version,
            client in self.trusted,
            headers,
        )

    def answer(self, key: Key) -> Answer | None:
        """The answer kept for `key`, if it still holds."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if not entry.still_current():
                del self._entries[key]
                return None
            self.hits += 1
            return entry.answer

    def offer(
        self,
        key: Key,
        environ: dict[str, Any],
        status: int,
        headers: list[tuple[str, str]],
        chunks: list[bytes],
    ) -> None:
        """Keep the app's answer to the request `key` if its view allowed it (`allow`)."""
        still_current = environ.get(ENVIRON_KEY)
        if still_current is not None:
            self.keep(key, (status, headers, b"".join(chunks)), still_current)

    def keep(self, key: Key, answer: Answer, still_current: Callable[[], bool]) -> None:
        """Keep `answer` to the request `key` while `still_current()` (a 200 or 304 only)."""
        status, headers, body = answer
        if status not in (200, 304):
            return
        if any(name.lower() == "set-cookie" for name, _ in headers):
            return
        kept = [(k, v) for k, v in headers if k.lower() not in _PER_EXCHANGE]
        entry = _Entry((status, kept, body), still_current)
        if entry.size > self.max_bytes // 8 or not still_current():
            return  # a write landed while it was built: its version is already gone
        with self._lock:
            self._entries[key] = entry

    def log(self, scope: Any, client: str, answer: Answer, arrived: float) -> None:
        """The access log line of an answer given from here (as `s22a.web.front` writes it),
        the request having `arrived` at `time.monotonic()`."""
        if not ACCESS_LOG.isEnabledFor(20):  # logging.INFO
            return
        headers = scope.headers
        remote = client_address(client, headers.get("x-forwarded-for", ""), self.trusted)
        size = next((v for k, v in answer[1] if k.lower() == "content-length"), "-")
        ACCESS_LOG.info(
            "%s memo",
            log_line(
                remote,
                scope.method,
                scope.path,
                scope.query_string,
                f"HTTP/{scope.http_version}",
                str(answer[0]),
                size,
                (time.monotonic() - arrived) * 1000,
            ),
        )
