"""The `/sparql` result cache and ETags, both keyed by the dataset token.

The data changes only when a register changes, so a result is reusable until then: entries are
keyed by (dataset token, query, dataset, formats) and the whole cache is dropped the first time
a request sees a new token. The token (`dataset_token`) reads the meta graph: the count and
the latest time of accepted register versions (what `versions.dataset_version` reads), of
load attempts, and the latest `dcterms:modified` of a graph (set when the reference data and
ontology are reloaded). So every write `sources` records, refused attempts included, shows in
`/sparql` at once. A write that records nothing in the meta graph is not seen until the next
one that does. It costs one small query per request (about 0.2 ms).

Queries whose results may differ on the same data (RAND, NOW, UUID, STRUUID) and queries with
SERVICE clauses (the remote data is not ours) are never cached.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable

from s22a.namespaces import GRAPH_META
from s22a.sparql.engine import QueryResult
from s22a.store import Store

# One pattern per branch, each read straight from an index: versions (prov:generatedAtTime),
# load attempts (prov:startedAtTime) and graphs whose content is recorded (dcterms:modified).
_TOKEN_QUERY = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT (COUNT(?generated) AS ?versions) (MAX(?generated) AS ?latest)
       (COUNT(?started) AS ?attempts) (MAX(?started) AS ?lastAttempt) (MAX(?modified) AS ?graphs)
WHERE {
  { ?version prov:generatedAtTime ?generated }
  UNION { ?attempt prov:startedAtTime ?started }
  UNION { ?graph dcterms:modified ?modified }
}"""


def dataset_token(store: Store) -> str:
    """A short token that changes whenever the data `/sparql` serves changes."""
    body, _ = store.query_serialized(_TOKEN_QUERY, "text/csv", default_graph=[GRAPH_META])
    return hashlib.sha256(body).hexdigest()[:20]


def etag(token: str, *parts: object) -> str:
    """The weak ETag of a response: the same request on the same data gets the same one."""
    text = "\0".join([token, *(str(p) for p in parts)])
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f'W/"{digest}"'


def etag_matches(if_none_match: str | None, tag: str) -> bool:
    """Whether an If-None-Match header matches `tag` (weak comparison, RFC 9110 13.1.2)."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    bare = tag.removeprefix("W/")
    return any(c.strip().removeprefix("W/") == bare for c in if_none_match.split(","))


class ResultCache:
    """A least-recently-used cache of query results for the current dataset token."""

    def __init__(self, max_bytes: int) -> None:
        """Hold at most `max_bytes` bytes of results; one result may use an eighth of that."""
        self.max_bytes = max_bytes
        self.token: str | None = None
        self._entries: OrderedDict[Hashable, QueryResult] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _switch(self, token: str) -> None:
        if token != self.token:
            self._entries.clear()
            self._size = 0
            self.token = token

    def get(self, token: str, key: Hashable) -> QueryResult | None:
        """The cached result for `key` on the data `token`, if any."""
        with self._lock:
            self._switch(token)
            result = self._entries.get(key)
            if result is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return result

    def put(self, token: str, key: Hashable, result: QueryResult) -> None:
        """Remember `result`, evicting the least recently used entries to make room."""
        size = len(result.body)
        if size > self.max_bytes // 8:
            return
        with self._lock:
            self._switch(token)
            old = self._entries.pop(key, None)
            if old is not None:
                self._size -= len(old.body)
            self._entries[key] = result
            self._size += size
            while self._size > self.max_bytes and self._entries:
                _, evicted = self._entries.popitem(last=False)
                self._size -= len(evicted.body)

    def __len__(self) -> int:
        return len(self._entries)
