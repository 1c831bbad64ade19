"""Which focus nodes of the register shapes' SHACL Core constraints may have findings, for
`s22a.ingest.validation`: a screen that passes a node only where every constraint it is under
certainly holds, so that pySHACL looks at the others only.

pySHACL evaluates about twenty property shapes and five nested shapes for each listed agreement
in general-purpose Python, several milliseconds an agreement: most of the time a big register
took to validate (bench/validate.py), although most agreements have no findings at all. The
screen compiles the same shapes once into plain checks over the register's triples and the
ontology and reference data. It is conservative: a check is true only where the constraint's
definition in W3C SHACL (section 4, Core Constraint Components) holds as pySHACL evaluates it,
and false where it fails or where the screen cannot tell (a value it cannot compare). A shapes
graph using anything the screen does not know (sh:not, sh:closed, sh:xone, paths other than a
predicate, an inverse, an alternative or a sequence, SPARQL-based targets or constraint
components) is not compiled at all: `compile_screen` returns None and every node goes to
pySHACL, as before.

pySHACL still writes every finding; the screen only decides what it need not read.
tests/test_screen.py checks, for the seed registers and thousands of damaged variants of them,
that every focus node with a result in pySHACL's report is one the screen flags.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

_NONE: frozenset[Node] = frozenset()


class Unsupported(Exception):
    """The shapes use something the screen cannot check soundly."""


def nodes_of(graph: Graph) -> frozenset[Node]:
    """Every subject and object of `graph`."""
    return frozenset(graph.subjects()) | frozenset(graph.objects())


class Data:
    """A register and the ontology and reference data, read as one graph (pySHACL validates
    the register with both added to it)."""

    def __init__(
        self, register: Graph, context: Graph, in_context: AbstractSet[Node] | None = None
    ) -> None:
        """`in_context`: every subject and object of `context`, if the caller keeps them."""
        self._register = register
        self._context = context
        self._in_context = in_context if in_context is not None else nodes_of(context)
        self._about: dict[Node, dict[Node, set[Node]]] = {}
        self._superclasses: dict[Node, set[Node]] = {}

    def graphs(self, node: Node) -> Iterator[Graph]:
        """The graphs that may hold triples about `node`."""
        yield self._register
        if node in self._in_context:
            yield self._context

    def values(self, node: Node, predicate: URIRef) -> AbstractSet[Node]:
        """The objects of `node`'s `predicate` triples."""
        about = self._about.get(node)
        if about is None:
            # Each node's statements read once: its twenty-odd property shapes each ask for one
            # predicate, and a look-up per predicate costs rdflib several times as much.
            about = self._about[node] = {}
            for graph in self.graphs(node):
                for p, o in graph.predicate_objects(node):
                    about.setdefault(p, set()).add(o)
        return about.get(predicate, _NONE)

    def subjects(self, predicate: URIRef, node: Node) -> set[Node]:
        """The subjects of the `predicate` triples whose object is `node`."""
        return {s for graph in self.graphs(node) for s in graph.subjects(predicate, node)}

    def objects_of(self, predicate: URIRef) -> set[Node]:
        """Every object of a `predicate` triple."""
        return {o for g in (self._register, self._context) for o in g.objects(None, predicate)}

    def subjects_of(self, predicate: URIRef) -> set[Node]:
        """Every subject of a `predicate` triple."""
        return {s for g in (self._register, self._context) for s in g.subjects(predicate, None)}

    def superclasses(self, cls: Node) -> set[Node]:
        """`cls` and every class it is a subclass of (rdfs:subClassOf, transitively)."""
        found = self._superclasses.get(cls)
        if found is None:
            found = {cls}
            queue = [cls]
            for node in queue:
                for parent in self.values(node, RDFS.subClassOf):
                    if parent not in found:
                        found.add(parent)
                        queue.append(parent)
            self._superclasses[cls] = found
        return found

    def instances(self, cls: Node) -> set[Node]:
        """Every node typed `cls` or one of its subclasses."""
        classes = {cls}
        queue = [cls]
        for node in queue:
            for child in self.subjects(RDFS.subClassOf, node):
                if child not in classes:
                    classes.add(child)
                    queue.append(child)
        return {s for c in classes for s in self.subjects(RDF.type, c)}

    def has_type(self, node: Node, cls: Node) -> bool:
        """True if `node` is typed `cls` or one of its subclasses (SHACL 4.1.1, sh:class)."""
        return any(cls in self.superclasses(t) for t in self.values(node, RDF.type))


# A check of a focus node against a shape: True only if the node certainly conforms.
Check = Callable[[Data, Node], bool]
# A check of a shape's value nodes against one constraint.
ValuesCheck = Callable[[Data, AbstractSet[Node]], bool]
Path = Callable[[Data, Node], AbstractSet[Node]]


@dataclass(frozen=True)
class Screen:
    """The targeted shapes of a shapes graph, each with its targets and its check."""

    shapes: tuple[tuple[Node, Callable[[Data], set[Node]], Check], ...]

    def suspects(self, data: Data) -> dict[Node, set[Node]]:
        """For each targeted shape, its focus nodes that may not conform to it."""
        return {
            shape: {focus for focus in targets(data) if not check(data, focus)}
            for shape, targets, check in self.shapes
        }


def compile_screen(shapes: Graph) -> Screen | None:
    """The screen of `shapes`' Core constraints; None where they use anything it cannot check."""
    try:
        return _Compiler(shapes).screen()
    except Unsupported:
        return None


_TARGETS = (SH.targetNode, SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf)
# What a shape may say that constrains nothing (pySHACL reads them for reports only).
_DESCRIPTIVE = {
    RDF.type,
    SH.message,
    SH.severity,
    SH.name,
    SH.description,
    SH.order,
    SH.group,
    SH.defaultValue,
    SH.path,
    SH.flags,  # read with sh:pattern
    *_TARGETS,
}
# The datatypes whose value pySHACL also checks for its Python type (pyshacl's
# DatatypeConstraintComponent); for any other, a literal of the datatype that is not ill-typed
# conforms.
_VALUE_TYPES: dict[URIRef, type | tuple[type, ...]] = {
    XSD.string: (str, bytes),
    RDF.langString: (str, bytes),
    XSD.integer: int,
    XSD.float: float,
    XSD.decimal: Decimal,
    XSD.boolean: bool,
    XSD.date: date,
    XSD.time: time,
    XSD.dateTime: datetime,
}
_NODE_KINDS: dict[Node, tuple[type, ...]] = {
    SH.IRI: (URIRef,),
    SH.BlankNode: (BNode,),
    SH.Literal: (Literal,),
    SH.BlankNodeOrIRI: (BNode, URIRef),
    SH.BlankNodeOrLiteral: (BNode, Literal),
    SH.IRIOrLiteral: (URIRef, Literal),
}
_NUMBERS = (int, Decimal, float)


class _Compiler:
    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self._checks: dict[Node, Check] = {}
        self._compiling: set[Node] = set()
        if (None, RDF.type, SH.ConstraintComponent) in shapes or (None, SH.target, None) in shapes:
            raise Unsupported("constraint components or targets of SHACL-SPARQL")

    def screen(self) -> Screen:
        targeted = sorted({s for p in _TARGETS for s in self.graph.subjects(p, None)}, key=str)
        return Screen(tuple((shape, self.targets(shape), self.check(shape)) for shape in targeted))

    def targets(self, shape: Node) -> Callable[[Data], set[Node]]:
        """The focus nodes of `shape` (SHACL 2.1.3, targets)."""
        if {RDFS.Class, OWL.Class} & set(self.graph.objects(shape, RDF.type)):
            raise Unsupported("implicit class targets")
        nodes = set(self.graph.objects(shape, SH.targetNode))
        classes = list(self.graph.objects(shape, SH.targetClass))
        objects_of = [self.iri(p) for p in self.graph.objects(shape, SH.targetObjectsOf)]
        subjects_of = [self.iri(p) for p in self.graph.objects(shape, SH.targetSubjectsOf)]

        def focus_nodes(data: Data) -> set[Node]:
            found = set(nodes)
            for cls in classes:
                found |= data.instances(cls)
            for predicate in objects_of:
                found |= data.objects_of(predicate)
            for predicate in subjects_of:
                found |= data.subjects_of(predicate)
            return found

        return focus_nodes

    def check(self, shape: Node) -> Check:
        """The check of a focus node against `shape`: its value nodes (the node itself, or
        its path's values) against each constraint of the shape."""
        if shape in self._checks:
            return self._checks[shape]
        if shape in self._compiling:
            raise Unsupported("recursive shapes")
        self._compiling.add(shape)
        path = (
            self.path(self.graph.value(shape, SH.path))
            if (shape, SH.path, None) in self.graph
            else None
        )
        checks = [
            self.constraint(shape, predicate, value, path is not None)
            for predicate, value in self.graph.predicate_objects(shape)
            # pySHACL reads nothing but SHACL's own parameters (custom components are refused).
            if predicate not in _DESCRIPTIVE and str(predicate).startswith(str(SH))
        ]
        self._compiling.discard(shape)

        def conforms(data: Data, focus: Node) -> bool:
            values = path(data, focus) if path is not None else {focus}
            return all(each(data, values) for each in checks)

        self._checks[shape] = conforms
        return conforms

    def constraint(
        self, shape: Node, predicate: Node, value: Node, is_property: bool
    ) -> ValuesCheck:
        """The check of one constraint parameter (SHACL 4) on a shape's value nodes."""
        if predicate == SH.deactivated:
            raise Unsupported("sh:deactivated")
        if predicate in (SH.minCount, SH.maxCount):
            if not is_property:
                raise Unsupported(f"{predicate} on a node shape")
            bound = self.integer(value)
            if predicate == SH.minCount:
                return lambda _data, values: len(values) >= bound
            return lambda _data, values: len(values) <= bound
        if predicate == SH.hasValue:
            return lambda _data, values: value in values
        if predicate == SH.property:
            nested = self.check(value)
            return lambda data, values: all(nested(data, v) for v in values)
        each = self.value_check(shape, predicate, value)
        return lambda data, values: all(each(data, v) for v in values)

    def value_check(self, shape: Node, predicate: Node, value: Node) -> Check:
        """The check of each value node against one value constraint (SHACL 4.1-4.6)."""
        if predicate == SH["class"]:
            return lambda data, v: not isinstance(v, Literal) and data.has_type(v, value)
        if predicate == SH.datatype:
            value_type = _VALUE_TYPES.get(value)  # type: ignore[call-overload]
            return lambda _data, v: (
                isinstance(v, Literal)
                and v.datatype == value
                and getattr(v, "ill_typed", None) is not True
                and (value_type is None or isinstance(v.value, value_type))
            )
        if predicate == SH.nodeKind:
            kinds = _NODE_KINDS.get(value)
            if kinds is None:
                raise Unsupported(f"node kind {value}")
            return lambda _data, v: isinstance(v, kinds)
        if predicate == SH.pattern:
            flags = self.graph.value(shape, SH.flags)
            if flags is not None and set(str(flags)) - {"i"}:
                raise Unsupported(f"pattern flags {flags}")
            pattern = re.compile(str(value), re.I if flags is not None else 0)
            return lambda _data, v: not isinstance(v, BNode) and pattern.search(str(v)) is not None
        if predicate == SH["in"]:
            allowed = set(self.members(value))
            return lambda _data, v: v in allowed
        if predicate in (SH.minInclusive, SH.maxInclusive, SH.minExclusive, SH.maxExclusive):
            return self.range_check(predicate, value)
        if predicate == SH.node:
            return self.check(value)
        if predicate == SH["or"]:
            alternatives = [self.check(s) for s in self.members(value)]
            return lambda data, v: any(alternative(data, v) for alternative in alternatives)
        if predicate == SH["and"]:
            parts = [self.check(s) for s in self.members(value)]
            return lambda data, v: all(part(data, v) for part in parts)
        raise Unsupported(str(predicate))

    def range_check(self, predicate: Node, bound: Node) -> Check:
        """A numeric bound (SHACL 4.3): passed by numbers only, compared by value."""
        if not isinstance(bound, Literal) or type(bound.value) not in _NUMBERS:
            raise Unsupported(f"a bound that is not a number: {bound}")
        limit = bound.value
        compare: Callable[[object], bool] = {
            SH.minInclusive: lambda n: n >= limit,
            SH.maxInclusive: lambda n: n <= limit,
            SH.minExclusive: lambda n: n > limit,
            SH.maxExclusive: lambda n: n < limit,
        }[predicate]  # type: ignore[index]
        return lambda _data, v: (
            isinstance(v, Literal)
            and getattr(v, "ill_typed", None) is not True
            and type(v.value) in _NUMBERS
            and bool(compare(v.value))
        )

    def path(self, path: Node | None) -> Path:
        """The values of a property path (SHACL 2.3.1) from a focus node."""
        g = self.graph
        if isinstance(path, URIRef):
            return lambda data, focus: data.values(focus, path)
        if path is None or not isinstance(path, BNode):
            raise Unsupported(f"path {path}")
        inverse = g.value(path, SH.inversePath)
        if isinstance(inverse, URIRef):
            return lambda data, focus: data.subjects(inverse, focus)
        alternatives = g.value(path, SH.alternativePath)
        if alternatives is not None:
            paths = [self.path(p) for p in self.members(alternatives)]
            return lambda data, focus: set().union(*(p(data, focus) for p in paths))
        if (path, RDF.first, None) in g:
            steps = [self.path(p) for p in self.members(path)]

            def sequence(data: Data, focus: Node) -> AbstractSet[Node]:
                nodes: AbstractSet[Node] = {focus}
                for step in steps:
                    nodes = set().union(*(step(data, n) for n in nodes))
                return nodes

            return sequence
        raise Unsupported(f"path {path}")

    def members(self, head: Node) -> Iterable[Node]:
        """The members of an RDF list in the shapes graph."""
        members = []
        node: Node | None = head
        while node != RDF.nil:
            first = None if node is None else self.graph.value(node, RDF.first)
            if first is None:
                raise Unsupported(f"a malformed list at {head}")
            members.append(first)
            node = self.graph.value(node, RDF.rest)
        return members

    def integer(self, value: Node) -> int:
        if not isinstance(value, Literal) or not isinstance(value.value, int):
            raise Unsupported(f"a count that is not an integer: {value}")
        return value.value

    def iri(self, value: Node) -> URIRef:
        if not isinstance(value, URIRef):
            raise Unsupported(f"a target predicate that is not an IRI: {value}")
        return value
