"""Rendered pages and documents kept in memory for the current dataset version.

The data changes a few times a year; a page or document is a function of the data and of its
variant (path, query, format, host and mount point: what `s22a.web.http.cached` hashes into
the ETag). So the first request of a variant builds it and the others get the same bytes. The
cache holds one dataset version: the first request that sees a new version (`http.state`,
which the store's change clock keeps current without a query) empties it. Entries are kept
least recently used first out, within `S22A_PAGE_CACHE_BYTES` (cachetools' LRU, sized in
bytes); one entry may use an eighth of that, so one huge document cannot flush the rest.
Only whole 200 answers without cookies are kept (not streamed dumps).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from cachetools import LRUCache
from flask import Response

# Headers not kept: the server writes the date and length of each answer; no cookie is shared.
_PER_REQUEST = {"set-cookie", "date", "content-length"}


@dataclass(frozen=True)
class Stored:
    """One built answer: its status, headers and body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def size(self) -> int:
        """About the memory it holds, in bytes."""
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200

    def response(self) -> Response:
        """A fresh response with this answer (hooks may change it freely)."""
        return Response(self.body, status=self.status, headers=list(self.headers))


def keepable(response: Response) -> bool:
    """Whether `response` is the same for every request of its variant and can be kept."""
    return (
        response.status_code == 200
        and not response.is_streamed
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
    )


class PageCache:
    """Built answers by variant, for one dataset version at a time."""

    def __init__(self, max_bytes: int) -> None:
        """Hold at most `max_bytes` bytes of answers (0: keep nothing)."""
        self.max_bytes = max_bytes
        self.token: str | None = None
        self._entries: LRUCache[str, Stored] = self._empty()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _empty(self) -> LRUCache[str, Stored]:
        return LRUCache(maxsize=max(self.max_bytes, 1), getsizeof=lambda e: e.size)

    def get(self, token: str, key: str) -> Stored | None:
        """The answer kept for `key` on the data `token`, if any."""
        if self.max_bytes <= 0:
            return None
        with self._lock:
            if token != self.token:  # a new dataset version: nothing kept shows it
                self._entries = self._empty()
                self.token = token
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
            else:
                self.hits += 1
            return found

    def put(self, token: str, key: str, response: Response) -> None:
        """Keep `response` for `key` if it was built on the current version and may be kept."""
        if self.max_bytes <= 0 or not keepable(response):
            return
        headers = tuple(
            (k, v) for k, v in response.headers.items() if k.lower() not in _PER_REQUEST
        )
        stored = Stored(response.status_code, headers, response.get_data())
        if stored.size > self.max_bytes // 8:
            return
        with self._lock:
            # Built while the data changed (`token` no longer current): never kept.
            if token == self.token:
                self._entries[key] = stored

    def __len__(self) -> int:
        return len(self._entries)
