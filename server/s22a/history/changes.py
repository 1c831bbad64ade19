"""What changed between two versions of a register, and what stood on a given day.

Agreements are compared by their descriptions: every triple about the
agreement, with blank nodes (governance arrangements, budgets, events) written
out by their content, so re-uploading the same register with fresh blank-node
labels changes nothing. Triple-level diffs (added and removed triples) use
rdflib's canonical graph comparison for the same reason.

An agreement that appears in a later version was signed (or replaced an earlier
one, if it says so); one that changed was amended (or renewed, replaced or
terminated, if it gained such a lifecycle event); one that disappeared was
retired. The first version of a register is the baseline: it says which
agreements exist, not that they were just signed, so it yields no changes.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import graph_diff, isomorphic
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import Node

from s22a.history import digests, versions
from s22a.namespaces import GRAPH_META, S22A
from s22a.store import Store

# An agreement a register newly lists is "listed" (or "listed again"), not "signed": only a
# lifecycle event the register states says it was signed; one it stops listing is "no longer
# listed" unless the register records its termination.
KINDS = {
    "listed": "Listed",
    "listed-again": "Listed again",
    "unlisted": "No longer listed",
    "signed": "Signed",
    "amended": "Amended",
    "renewed": "Renewed",
    "replaced": "Replaced",
    "retired": "Retired",
}
# A lifecycle event an agreement gains, and the kind of change it makes.
EVENT_KINDS = {
    S22A.Renewal: "renewed",
    S22A.Replacement: "replaced",
    S22A.Termination: "retired",
}


@dataclass(frozen=True)
class Change:
    """One agreement listed, amended, renewed, replaced, retired... between two versions."""

    kind: str  # a key of KINDS
    effect: str  # added, changed or removed: what happened in the register
    agreement: str
    title: str
    properties: tuple[str, ...] = ()  # the predicates whose values changed

    @property
    def label(self) -> str:
        """The kind of change, for people: 'Signed', 'Amended'..."""
        return KINDS[self.kind]


# ---------------------------------------------------------------------------
# Agreement descriptions


# Blank nodes written out per agreement description, and how deep. Real descriptions are small
# trees (a budget, an event); blank nodes that share children or form cliques have
# exponentially many paths, and chains can be thousands deep, so past these the rest is
# compared as "[...]".
MAX_BLANK_NODES_WRITTEN = 10_000
MAX_BLANK_NODE_DEPTH = 64


def _key(graph: Graph, node: Node, seen: frozenset[Node], budget: list[int]) -> str:
    """A term written out for comparison; blank nodes by their content."""
    if isinstance(node, BNode):
        budget[0] -= 1
        if node in seen or budget[0] < 0 or len(seen) >= MAX_BLANK_NODE_DEPTH:
            return "[...]"  # a cycle of blank nodes, or too many, or too deep: rare
        inner = sorted(
            f"{p.n3()} {_key(graph, o, seen | {node}, budget)}"
            for p, o in graph.predicate_objects(node)
        )
        return "[" + " ; ".join(inner) + "]"
    return node.n3()


def description(graph: Graph, agreement: Node) -> frozenset[str]:
    """Everything `graph` says about `agreement`, as comparable lines (one per triple)."""
    budget = [MAX_BLANK_NODES_WRITTEN]
    return frozenset(
        f"{p.n3()} {_key(graph, o, frozenset(), budget)}"
        for p, o in graph.predicate_objects(agreement)
    )


def listed(graph: Graph) -> list[URIRef]:
    """The agreements a register snapshot lists, sorted."""
    registers = list(graph.subjects(RDF.type, S22A.Register))
    found = {a for r in registers for a in graph.objects(r, S22A.lists) if isinstance(a, URIRef)}
    return sorted(found)


def title(graph: Graph, agreement: Node) -> str:
    """The agreement's title in this register (or a label, or its IRI's last part)."""
    for predicate in (DCTERMS.title, RDFS.label, SKOS.prefLabel):
        value = graph.value(agreement, predicate)
        if value is not None:
            return str(value)
    return str(agreement).rstrip("/").rsplit("/", 1)[-1]


def _events(graph: Graph, agreement: URIRef) -> set[Node]:
    """The types of the agreement's lifecycle events."""
    return {
        t for e in graph.objects(agreement, S22A.lifecycleEvent) for t in graph.objects(e, RDF.type)
    }


def agreement_changes(
    old: Graph, new: Graph, earlier: frozenset[str] = frozenset()
) -> list[Change]:
    """The agreements listed (again), amended, renewed, replaced, signed, terminated or no
    longer listed from `old` to `new`; `earlier`: those an earlier version listed."""
    before, after = set(listed(old)), set(listed(new))
    changes: list[Change] = []
    for agreement in sorted(after - before):
        events = _events(new, agreement)
        replaces = (agreement, DCTERMS.replaces, None) in new or S22A.Replacement in events
        kind = (
            "replaced"
            if replaces
            else "signed"
            if S22A.Signing in events
            else "listed-again"
            if str(agreement) in earlier
            else "listed"
        )
        changes.append(Change(kind, "added", str(agreement), title(new, agreement)))
    for agreement in sorted(before & after):
        was, now = description(old, agreement), description(new, agreement)
        if was == now:
            continue
        properties = tuple(sorted({line.split(" ", 1)[0][1:-1] for line in was ^ now}))
        kind = "amended"
        events = _events(new, agreement) - _events(old, agreement)
        for event, event_kind in EVENT_KINDS.items():
            if event in events:
                kind = event_kind
                break
        changes.append(Change(kind, "changed", str(agreement), title(new, agreement), properties))
    for agreement in sorted(before - after):
        changes.append(Change("unlisted", "removed", str(agreement), title(old, agreement)))
    return changes


# rdflib's canonical form takes time exponential in the number of blank nodes that look alike
# (same predicates and ground terms around them): about 0.3 s for 16, 25 s for 48, hours for
# a few hundred. Registers have none; graphs with more are compared with their labels as given.
MAX_ALIKE_BLANK_NODES = 16


def alike_blank_nodes(graph: Graph) -> int:
    """How many blank nodes of `graph` share their neighbourhood with another blank node."""
    around: dict[Node, list[tuple[str, Node, Node | None]]] = {}
    for s, p, o in graph:
        if isinstance(s, BNode):
            around.setdefault(s, []).append(("out", p, None if isinstance(o, BNode) else o))
        if isinstance(o, BNode):
            around.setdefault(o, []).append(("in", p, None if isinstance(s, BNode) else s))
    shapes: dict[tuple, int] = {}
    for edges in around.values():
        key = tuple(sorted(edges, key=repr))
        shapes[key] = shapes.get(key, 0) + 1
    return sum(n for n in shapes.values() if n > 1)


def _canonical_is_cheap(*graphs: Graph) -> bool:
    return all(alike_blank_nodes(g) <= MAX_ALIKE_BLANK_NODES for g in graphs)


def _canonical_literal(term: Node) -> Node:
    """`term`, or for a literal its canonical form: stores write some values in their own
    lexical form (Virtuoso: ``0.50`` as ``0.5``, ``+00:00`` as ``Z``, ``en-GB`` as ``en-gb``)."""
    if not isinstance(term, Literal):
        return term
    if term.language:
        return Literal(str(term), lang=term.language.lower())
    value = term.value
    if isinstance(value, Decimal) and value.is_finite():
        text = format(value.normalize(), "f")
        return Literal(text if "." in text else f"{text}.0", datatype=term.datatype)
    if isinstance(value, datetime) and value.tzinfo is not None:
        return Literal(value.astimezone(UTC).isoformat(), datatype=term.datatype)
    return term


def _same_ground_triples(first: Graph, second: Graph) -> bool:
    """Whether the triples without blank nodes are the same (literals in canonical form): a
    quick test that most different registers fail (isomorphism maps them to themselves)."""
    one, two = (
        {(s, p, o) for s, p, o in g if not isinstance(s, BNode) and not isinstance(o, BNode)}
        for g in (first, second)
    )
    if one == two:
        return True
    canonical = [
        {(s, p, _canonical_literal(o)) for s, p, o in side} for side in (one - two, two - one)
    ]
    return canonical[0] == canonical[1]


def same_triples(first: Graph, second: Graph) -> bool:
    """Whether two graphs are the same up to blank node labels (isomorphic), literals
    compared in canonical form.

    Where blank nodes are trees (a register's budgets and events), by the graphs' signatures
    (`digests.signature`, linear); else by rdflib's canonical form, and False without trying
    for graphs whose canonical form would take too long: at worst a write of the same register
    in other bytes is then stored as a new version.
    """
    if len(first) != len(second) or not _same_ground_triples(first, second):
        return False
    one, two = (digests.signature(g, _canonical_literal) for g in (first, second))
    if one is not None or two is not None:  # (only one: blank nodes shaped otherwise)
        return one == two
    if not _canonical_is_cheap(first, second):
        return False
    if isomorphic(first, second):
        return True
    canonical = [Graph(), Graph()]
    for graph, into in zip((first, second), canonical, strict=True):
        for s, p, o in graph:
            into.add((s, p, _canonical_literal(o)))
    return isomorphic(*canonical)


def triple_diff(old: Graph, new: Graph) -> tuple[Graph, Graph]:
    """The triples added to and removed from `old` to make `new` (blank nodes canonical,
    unless that would take too long: see `same_triples`)."""
    found = digests.difference(old, new)  # linear, where blank nodes are trees
    if found is not None:
        return found
    if not _canonical_is_cheap(old, new):
        return new - old, old - new
    _both, removed, added = graph_diff(old, new)  # canonicalizes both
    return added, removed


# ---------------------------------------------------------------------------
# Versions: snapshots, cached; what stood on a day; retirement


class _Cache:
    """A small thread-safe LRU cache for things computed from immutable versions, holding
    items weighing at most `size` in all (each 1 by default, so `size` items)."""

    def __init__(self, size: int, weigh: Callable[[Any], int] = lambda _value: 1) -> None:
        self.size = size
        self.weigh = weigh
        self.items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self.weight = 0
        self.lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        """The value for `key`, made (outside the lock) if it is not cached."""
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key][0]
        value = make()
        weight = self.weigh(value)
        with self.lock:
            if key not in self.items and weight <= self.size:
                self.items[key] = (value, weight)
                self.weight += weight
                while self.weight > self.size:
                    _key, (_value, dropped) = self.items.popitem(last=False)
                    self.weight -= dropped
        return value


# Keys carry the content hash, so a store rebuilt with other content never hits stale entries.
# Snapshots are weighed by their triples: 64 registers at the upload cap held as rdflib graphs
# would take gigabytes (a worker that took six big uploads in turn kept 580 MiB of them,
# bench/upload.py). The budget holds one register at the cap, so that the next write of the
# register a force is uploading finds its version before cached.
SNAPSHOT_TRIPLES = 150_000
_SNAPSHOTS = _Cache(SNAPSHOT_TRIPLES, weigh=lambda graph: max(1, len(graph)))
_CHANGES = _Cache(1024)


def snapshot(store: Store, version: versions.Version) -> Graph:
    """The content of `version` (cached; do not modify the graph returned)."""
    key = (version.iri, version.content_hash)
    return _SNAPSHOTS.get(key, lambda: versions.snapshot(store, version.iri))


def remember(version: versions.Version, graph: Graph) -> None:
    """Keep `graph` as the content of `version`, just stored from it (not to be modified
    after): the change record of a write then needs no parse of what it wrote."""
    _SNAPSHOTS.get((version.iri, version.content_hash), lambda: graph)


def changes_between(
    store: Store,
    previous: versions.Version | None,
    version: versions.Version,
    earlier: frozenset[str] = frozenset(),
) -> list[Change]:
    """The agreement changes `version` made to `previous` (none for a first version);
    `earlier`: the agreements versions before `previous` listed."""
    if previous is None:
        return []
    key = (previous.iri, previous.content_hash, version.iri, version.content_hash, earlier)
    return _CHANGES.get(
        key,
        lambda: agreement_changes(snapshot(store, previous), snapshot(store, version), earlier),
    )


def end_of(day: date) -> datetime:
    """The last moment of `day`, in UTC."""
    return datetime.combine(day, time.max, tzinfo=UTC)


def standing(history: list[versions.Version], day: date) -> versions.Version | None:
    """The version that stood at the end of `day` (None if the register was not yet there)."""
    moment = end_of(day)
    current = None
    for version in history:
        if version.generated <= moment:
            current = version
    return current


def retired_versions(store: Store, register: str) -> set[str]:
    """The IRIs of the versions of `register` that retired it."""
    rows = store.select(
        versions.PREFIXES
        + f"""SELECT ?v WHERE {{ GRAPH <{GRAPH_META}> {{
            ?v a s22a:RegisterVersion ; dcterms:isVersionOf <{register}> ;
               reg:status reg:statusRetired }} }}"""
    )
    return {str(r["v"]) for r in rows}


def registers_with_history(store: Store) -> list[str]:
    """Every register that has had at least one accepted version, sorted."""
    rows = store.select(
        versions.PREFIXES
        + f"""SELECT DISTINCT ?r WHERE {{ GRAPH <{GRAPH_META}> {{
            ?v a s22a:RegisterVersion ; dcterms:isVersionOf ?r }} }} ORDER BY ?r"""
    )
    return [str(r["r"]) for r in rows]


def mark_retired(store: Store, register: str, version: str) -> None:
    """Record that `version` retired `register`: the version and its items are retired."""
    store.update(
        versions.PREFIXES
        + "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
        + f"""
        DELETE {{ GRAPH <{GRAPH_META}> {{ <{version}> reg:status ?status }} }}
        INSERT {{ GRAPH <{GRAPH_META}> {{ <{version}> reg:status reg:statusRetired ;
            rdfs:comment "Its force retired {register}: the register is withdrawn."@en }} }}
        WHERE {{ GRAPH <{GRAPH_META}> {{ <{version}> reg:status ?status }} }}"""
    )


def closure(graph: Graph, node: Node) -> Graph:
    """The triples about `node` and, recursively, about the blank nodes it points at."""
    found = Graph()
    todo, seen = [node], set()
    while todo:
        subject = todo.pop()
        if subject in seen:
            continue
        seen.add(subject)
        for p, o in graph.predicate_objects(subject):
            found.add((subject, p, o))
            if isinstance(o, BNode):
                todo.append(o)
    return found
