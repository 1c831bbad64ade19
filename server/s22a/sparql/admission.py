"""Admission control for `/sparql`: a bounded number of queries running and waiting, and a fair
share of them per client address.

A query the cache cannot answer needs a query worker (or the remote store). At most
`capacity` such queries are admitted at once (the workers' number plus the waiting places);
one client address may hold at most `per_client` of them. A query over either bound is refused
at once (503 with Retry-After) instead of waiting: a request thread is never tied up by a query
that could not start within its time limit anyway, so pages and documents keep their threads
(the server has more threads than `capacity`; `s22a serve` checks it). Admitted queries wait
for a worker until their deadline, which counts from the request's arrival.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from s22a.sparql.errors import QueryRefused


class Admission:
    """Counts the queries admitted, in all and per client address."""

    def __init__(self, capacity: int, per_client: int) -> None:
        """At most `capacity` queries at once, `per_client` of them from one address (0: any)."""
        self.capacity = max(1, capacity)
        self.per_client = per_client if per_client > 0 else self.capacity
        self._total = 0
        self._by_client: dict[str, int] = {}
        self._lock = threading.Lock()
        self.refused = 0

    @contextmanager
    def admit(self, client: str) -> Iterator[None]:
        """Hold a place for one query of `client`; raise `QueryRefused` if there is none."""
        with self._lock:
            mine = self._by_client.get(client, 0)
            if self._total >= self.capacity or mine >= self.per_client:
                self.refused += 1
                whose = "yours" if mine >= self.per_client else "everyone's"
                raise QueryRefused(
                    f"too many queries are running or waiting ({whose}: the limit is "
                    f"{self.per_client if whose == 'yours' else self.capacity})"
                )
            self._total += 1
            self._by_client[client] = mine + 1
        try:
            yield
        finally:
            with self._lock:
                self._total -= 1
                left = self._by_client[client] - 1
                if left:
                    self._by_client[client] = left
                else:
                    del self._by_client[client]

    def admitted(self) -> int:
        """How many queries hold a place now."""
        with self._lock:
            return self._total
