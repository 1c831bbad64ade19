"""The cache of versions' contents is bounded by the triples it holds, not by how many
graphs (`s22a.history.changes._Cache`, `_SNAPSHOTS`)."""

from __future__ import annotations

from rdflib import Graph, Literal, Namespace

from s22a.history import changes
from s22a.ingest.parse import MAX_TRIPLES

EX = Namespace("http://example.org/")


def graph(triples: int) -> Graph:
    made = Graph()
    for n in range(triples):
        made.add((EX.register, EX.says, Literal(n)))
    return made


def weighed_cache(size: int) -> changes._Cache:
    return changes._Cache(size, weigh=lambda g: max(1, len(g)))


def test_the_least_recently_used_graphs_go_when_the_triples_pass_the_budget():
    cache = weighed_cache(100)
    made: list[str] = []

    def make(key: str, triples: int):
        def build() -> Graph:
            made.append(key)
            return graph(triples)

        return cache.get(key, build)

    make("a", 40)
    make("b", 40)
    make("a", 40)  # a used again: b is now the least recently used
    assert made == ["a", "b"]
    make("c", 40)  # 120 triples: b goes
    assert list(cache.items) == ["a", "c"] and cache.weight == 80
    make("b", 40)
    assert made == ["a", "b", "c", "b"]  # made again, not found
    assert list(cache.items) == ["c", "b"] and cache.weight == 80


def test_a_graph_over_the_budget_is_returned_but_not_kept():
    cache = weighed_cache(10)
    small = cache.get("small", lambda: graph(5))
    big = cache.get("big", lambda: graph(11))
    assert len(big) == 11 and len(small) == 5
    assert list(cache.items) == ["small"] and cache.weight == 5


def test_empty_graphs_count_one_each():
    cache = weighed_cache(3)
    for key in "abcd":
        cache.get(key, Graph)
    assert list(cache.items) == ["b", "c", "d"] and cache.weight == 3


def test_an_unweighed_cache_holds_its_size_in_items():
    cache = changes._Cache(2)
    for key in "abc":
        cache.get(key, key.upper)
    assert list(cache.items) == ["b", "c"]


def test_the_snapshot_cache_holds_a_register_at_the_upload_cap():
    # The next write of the register being uploaded reads its version before from the cache.
    assert changes._SNAPSHOTS.size >= MAX_TRIPLES
    assert changes._SNAPSHOTS.weigh(graph(7)) == 7
