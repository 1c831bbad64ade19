"""Blank nodes told apart by what they say, for comparing graphs whose blank node labels differ
(two parses of one file): each blank node's digest is the SHA-256 of its own triples, its blank
objects by their digests in turn. Linear in the graph's size, where rdflib's canonical form
took minutes for a register of a few hundred budgets (`same_triples`, bench/upload.py).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable

from rdflib import BNode, Graph
from rdflib.term import Node

Triple = tuple[Node, Node, Node]


class Cycle(Exception):
    """Blank nodes that lead back to themselves: they have no digest here."""


class Digests:
    """The digests of one graph's blank nodes, each computed once; literals written by
    `literal` (e.g. in canonical form) before they are hashed."""

    def __init__(self, graph: Graph, literal: Callable[[Node], Node] | None = None) -> None:
        self.literal = literal or _same
        # What the graph says of each subject, read in one pass (faster than a look-up each).
        self.about: dict[Node, list[tuple[Node, Node]]] = defaultdict(list)
        for s, p, o in graph:
            self.about[s].append((p, o))
        self._blank: dict[BNode, bytes] = {}
        self._written: dict[Node, bytes] = {}

    def values(self, node: Node) -> list[tuple[Node, Node]]:
        """The predicates and objects of the graph's triples about `node`."""
        return self.about.get(node, [])

    def term(self, node: Node) -> bytes:
        """`node` written for hashing: N-Triples, a blank node by its digest."""
        return self._term(node, frozenset())

    def statements(self, node: Node) -> bytes:
        """What the graph says of `node` (predicate and object per line, sorted)."""
        return self._statements(node, frozenset())

    def blank(self, node: BNode) -> bytes:
        """The digest of a blank node; raises Cycle if it leads back to itself."""
        return self._digest(node, frozenset())

    def _statements(self, node: Node, within: frozenset[BNode]) -> bytes:
        lines = sorted(
            self._write(predicate) + b" " + self._term(value, within)
            for predicate, value in self.about.get(node, ())
        )
        return b"\n".join(lines)

    def _term(self, value: Node, within: frozenset[BNode]) -> bytes:
        if isinstance(value, BNode):
            return b"_:" + self._digest(value, within).hex().encode()
        return self._write(value)

    def _write(self, term: Node) -> bytes:
        written = self._written.get(term)
        if written is None:
            written = self._written[term] = self.literal(term).n3().encode()
        return written

    def _digest(self, node: BNode, within: frozenset[BNode]) -> bytes:
        if node in within:
            raise Cycle
        if node not in self._blank:
            statements = self._statements(node, within | {node})
            self._blank[node] = hashlib.sha256(b"[" + statements + b"]").digest()
        return self._blank[node]


def placed(graph: Graph, literal: Callable[[Node], Node]) -> dict[bytes, list[Triple]] | None:
    """The graph's triples by their line in its `signature` (interchangeable blank nodes give
    several triples one line); None where it has no signature."""
    digests = Digests(graph, literal)
    triples = [(s, p, o) for s, values in digests.about.items() for p, o in values]
    parent: dict[BNode, tuple[Node, Node]] = {}
    for s, p, o in triples:
        if isinstance(o, BNode):
            if o in parent:
                return None  # shared by two triples: no place of its own
            parent[o] = (s, p)
    places: dict[BNode, bytes] = {}

    def place(node: Node) -> bytes:
        if not isinstance(node, BNode):
            return digests.term(node)
        if node not in places:
            above = parent.get(node)
            where = b"root" if above is None else place(above[0]) + above[1].n3().encode()
            places[node] = hashlib.sha256(where + b"|" + digests.blank(node)).digest()
        return places[node]

    lines: dict[bytes, list[Triple]] = defaultdict(list)
    try:
        for s, p, o in triples:
            lines[place(s) + b" " + digests.term(p) + b" " + place(o)].append((s, p, o))
    except (Cycle, RecursionError):  # a cycle, or a chain deeper than Python's stack
        return None
    return lines


def signature(graph: Graph, literal: Callable[[Node], Node]) -> Counter[bytes] | None:
    """The graph's triples with each blank node written by its place and content, counted:
    two graphs with equal signatures are isomorphic, and isomorphic graphs have equal ones.

    A blank node's place is the triple that leads to it (its subject's place in turn), so a
    signature exists only where every blank node is the object of at most one triple and none
    leads back to itself (registers' budgets, events and contributions are such trees); None
    otherwise. Blank nodes with the same place and content are interchangeable, hence counted.
    """
    lines = placed(graph, literal)
    return None if lines is None else Counter({line: len(t) for line, t in lines.items()})


def difference(old: Graph, new: Graph) -> tuple[Graph, Graph] | None:
    """The triples added to `old` and removed from it to make `new`, whatever their blank node
    labels (a changed blank node: all its triples); None where either has no signature."""
    before, after = placed(old, _same), placed(new, _same)
    if before is None or after is None:
        return None
    added, removed = Graph(), Graph()
    for lines, other, into in ((after, before, added), (before, after, removed)):
        for line, triples in lines.items():
            for triple in triples[len(other.get(line, ())) :]:
                into.add(triple)
    return added, removed


def _same(term: Node) -> Node:
    return term
