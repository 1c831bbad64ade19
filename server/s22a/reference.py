"""The project's own RDF, parsed once per process: the ontology with the reference data (what
a register is validated with, and where the names of forces come from), and the shapes."""

from __future__ import annotations

from functools import cache

from rdflib import Graph
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from s22a import resources
from s22a.namespaces import S22A, bind_prefixes


@cache
def context_graph() -> Graph:
    """The ontology and reference data a register is validated with (loaded once)."""
    graph = Graph()
    graph.parse(resources.ontology_path(), format="turtle")
    for path in resources.reference_paths():
        graph.parse(path, format="turtle")
    return graph


@cache
def shapes_graph() -> Graph:
    """Every SHACL shape, for the shapes' own document /def/shapes (loaded once)."""
    graph = Graph()
    for path in resources.shapes_paths():
        graph.parse(path, format="turtle")
    bind_prefixes(graph)
    return graph


@cache
def register_shapes() -> Graph:
    """The shapes a register is checked with together with the ontology and reference data."""
    graph = Graph()
    for path in resources.shapes_paths():
        if path != resources.statement_shapes_path():
            graph.parse(path, format="turtle")
    return graph


# What a shape keeps in the SPARQL half of the register shapes (`register_shape_halves`): what
# it is, what it targets and its SPARQL constraints; every other constraint stays in the core half.
_SPARQL_HALF_KEEPS = {
    RDF.type, RDFS.label, SH.sparql, SH.deactivated, SH.severity, SH.message,
    SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target,
}  # fmt: skip
_TARGETS = {SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf, SH.target}


@cache
def register_shape_halves() -> tuple[Graph, Graph]:
    """The register shapes split in two that together check what they check: the SHACL Core
    constraints (run by pySHACL on rdflib's in-memory graph, where its many small lookups are
    fast) and the SHACL-SPARQL constraints with their targets (run where the data is held by
    Oxigraph, whose SPARQL is hundreds of times faster than rdflib's)."""
    shapes = register_shapes()
    core = Graph()
    core += shapes
    core.remove((None, SH.sparql, None))
    with_sparql = set(shapes.subjects(SH.sparql, None))
    sparql = Graph()
    sparql += shapes
    for shape in {s for p in _TARGETS for s in shapes.subjects(p, None)} - with_sparql:
        for target in _TARGETS:
            sparql.remove((shape, target, None))  # a shape without SPARQL is not run at all
    for shape in with_sparql:
        keeps = set(_SPARQL_HALF_KEEPS)
        if all((c, SH.message, None) in shapes for c in shapes.objects(shape, SH.sparql)):
            # A shape's own message is for its Core constraints: pySHACL would add it to each
            # SPARQL result beside the constraint's message, and the report would read it first.
            keeps.discard(SH.message)
        for predicate, value in shapes.predicate_objects(shape):
            if predicate not in keeps:
                sparql.remove((shape, predicate, value))
    return core, sparql


@cache
def core_shape_parts() -> tuple[Graph, Graph]:
    """The Core half of the register shapes split by what they target: the register (run on
    the whole register each time) and each listed agreement (the shapes targeting the objects
    of s22a:lists, with the shapes they refer to), which validation runs on the agreements the
    screen flags only (`s22a.ingest.screen`)."""
    core, _sparql = register_shape_halves()
    per_agreement = agreement_shapes()
    register_part = Graph()
    register_part += core
    agreement_part = Graph()
    agreement_part += core
    for predicate in _TARGETS:
        for shape, target in core.subject_objects(predicate):
            part = register_part if shape in per_agreement else agreement_part
            part.remove((shape, predicate, target))  # a shape without a target is not run
    return register_part, agreement_part


@cache
def agreement_shapes() -> frozenset[Node]:
    """The Core shapes that target each listed agreement (the objects of s22a:lists)."""
    core, _sparql = register_shape_halves()
    return frozenset(core.subjects(SH.targetObjectsOf, S22A.lists))


@cache
def statement_shapes() -> Graph:
    """The shapes a register is checked with on its own: whose statements it makes."""
    return Graph().parse(resources.statement_shapes_path(), format="turtle")
