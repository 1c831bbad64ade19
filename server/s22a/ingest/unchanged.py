"""Which listed agreements validation may skip, for `s22a.ingest.validation`: those described
exactly as one already found without findings by the agreement shapes in this process.

The agreement shapes (shapes/register.ttl's `shape:Agreement`, targeting every object of
s22a:lists, and the shapes it refers to) follow paths forward from the agreement only: its own
values, the blank nodes and resources they lead to and those resources' types and classes. So
what they find for an agreement is a function of the triples reachable from it in the register
(its *description* here), the ontology and reference data, and the shapes; the last two are
fixed for the life of a process. A register uploaded again with a few agreements changed is
then checked for those few: bench/upload.py measures it. Agreements with findings are always
checked again, so the report carries every finding each time.

The description is compared by digest: each resource's own triples, blank nodes by what they
say (`s22a.history.digests`: their labels differ between two parses of one file).
"""

from __future__ import annotations

import functools
import hashlib
import threading
from collections.abc import Iterable

from cachetools import LRUCache
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from s22a import resources
from s22a.history import digests

# Digests of descriptions found clean, least recently seen first out: a digest and its key are
# about 150 bytes, so the bound is about 30 MiB (enough for ten 20,000-agreement unions).
SIZE = 200_000

_clean: LRUCache[bytes, bool] = LRUCache(maxsize=SIZE)
_guard = threading.Lock()


class Descriptions:
    """Digests of what is reachable from each node of one register graph."""

    def __init__(self, register: Graph) -> None:
        self.generation = _generation()
        self._digests = digests.Digests(register)
        self._own: dict[Node, bytes] = {}

    def digest(self, agreement: URIRef) -> bytes | None:
        """The digest of the agreement's description; None where blank nodes in it lead back
        to themselves or form a chain thousands deep (such an agreement is always checked)."""
        try:
            parts = sorted(self._own_digest(node) for node in self.reachable(agreement))
        except (digests.Cycle, RecursionError):  # a cycle, or a chain deeper than the stack
            return None
        return hashlib.sha256(self.generation + agreement.n3().encode() + b"".join(parts)).digest()

    def reachable(self, start: Node) -> list[Node]:
        """`start` and every resource or blank node reachable from it, each once."""
        seen = {start}
        queue = [start]
        for node in queue:
            for _predicate, value in self._digests.values(node):
                if not isinstance(value, Literal) and value not in seen:
                    seen.add(value)
                    queue.append(value)
        return queue

    def triples(self, nodes: Iterable[Node]) -> Iterable[tuple[Node, Node, Node]]:
        """The register's triples about `nodes`."""
        for node in nodes:
            for predicate, value in self._digests.values(node):
                yield node, predicate, value

    def _own_digest(self, node: Node) -> bytes:
        if node not in self._own:
            if isinstance(node, BNode):
                self._own[node] = self._digests.blank(node)
            else:
                statements = self._digests.statements(node)
                self._own[node] = hashlib.sha256(node.n3().encode() + statements).digest()
        return self._own[node]


@functools.cache
def _generation() -> bytes:
    """The ontology, reference data and shapes this process validates with: a digest of them
    is part of every description's, so that another set of them finds nothing remembered."""
    paths = [resources.ontology_path(), *resources.reference_paths(), *resources.shapes_paths()]
    return hashlib.sha256(b"".join(path.read_bytes() for path in paths)).digest()


def already_clean(digest: bytes | None) -> bool:
    """True if a description with this digest was found without findings before."""
    if digest is None:
        return False
    with _guard:
        return _clean.get(digest, False)


def remember_clean(digests: Iterable[bytes | None]) -> None:
    """Remember descriptions found without findings."""
    with _guard:
        for digest in digests:
            if digest is not None:
                _clean[digest] = True


def forget() -> None:
    """Forget every description (the shapes or reference data changed in this process)."""
    with _guard:
        _clean.clear()
