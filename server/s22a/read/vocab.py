"""The ontology and the SHACL shapes as documentation: every term, and what constrains it.

The ontology is read from its graph in the store. The shapes are not loaded into the store
(validation reads them from the package), so they are parsed once from the packaged files
and kept: they change only with a new release of the service.
"""

from __future__ import annotations

from typing import Any

from rdflib import Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SH
from rdflib.term import BNode, Identifier, Node

from s22a import namespaces as ns
from s22a.namespaces import GRAPH_ONTOLOGY, S22A, SHAPE
from s22a.store import Store

ONTOLOGY = URIRef(str(S22A)[:-1])
SHAPES = URIRef(str(SHAPE)[:-1])
PROPERTY_KINDS = {
    OWL.ObjectProperty: "Object property",
    OWL.DatatypeProperty: "Datatype property",
    OWL.AnnotationProperty: "Annotation property",
    RDF.Property: "Property",
}
# Constraint parameters shown for each shape, in this order (W3C SHACL, section 4).
PARAMETERS = (
    SH.nodeKind,
    SH.datatype,
    SH["class"],
    SH.minCount,
    SH.maxCount,
    SH.minInclusive,
    SH.maxInclusive,
    SH.pattern,
    SH["in"],
    SH["or"],
    SH.node,
    SH.hasValue,
    SH.severity,
    SH.message,
)


def ontology_graph(store: Store) -> Graph:
    """The ontology, as its graph in the store holds it."""
    graph = store.graph_triples(GRAPH_ONTOLOGY)
    ns.bind_prefixes(graph)
    return graph


def curie(graph: Graph, node: Node) -> str:
    """A short name for `node`: prefix:local for IRIs, the lexical form for literals."""
    if isinstance(node, URIRef):
        short = graph.namespace_manager.normalizeUri(node)
        return short if not short.startswith("<") else str(node)
    return str(node)


def path_text(graph: Graph, path: Node) -> str:
    """A SHACL property path written as a SPARQL path (W3C SHACL, section 2.3.1)."""
    if isinstance(path, URIRef):
        return curie(graph, path)
    inverse = graph.value(path, SH.inversePath)
    if inverse is not None:
        return "^" + path_text(graph, inverse)
    alternatives = graph.value(path, SH.alternativePath)
    if alternatives is not None:
        return " | ".join(path_text(graph, p) for p in Collection(graph, alternatives))
    if (path, RDF.first, None) in graph:
        return " / ".join(path_text(graph, p) for p in Collection(graph, path))
    return str(path)


def path_predicates(graph: Graph, path: Node) -> set[URIRef]:
    """The predicates a property path goes through."""
    if isinstance(path, URIRef):
        return {path}
    found: set[URIRef] = set()
    if (path, RDF.first, None) in graph:
        for item in Collection(graph, path):
            found |= path_predicates(graph, item)
        return found
    for operator, inner in graph.predicate_objects(path):
        if operator in (
            SH.inversePath,
            SH.alternativePath,
            SH.zeroOrMorePath,
            SH.oneOrMorePath,
            SH.zeroOrOnePath,
        ):
            found |= path_predicates(graph, inner)
    return found


def _value_text(graph: Graph, value: Node) -> str:
    if isinstance(value, BNode) and (value, RDF.first, None) in graph:
        return ", ".join(_value_text(graph, v) for v in Collection(graph, value))
    if isinstance(value, BNode):
        return " ".join(
            f"{curie(graph, p)} {_value_text(graph, o)}"
            for p, o in sorted(graph.predicate_objects(value))
        )
    return curie(graph, value)


def _constraints(graph: Graph, shape: Node) -> list[tuple[str, str]]:
    return [
        (curie(graph, p).removeprefix("sh:"), _value_text(graph, v))
        for p in PARAMETERS
        for v in sorted(o for o in graph.objects(shape, p) if isinstance(o, Identifier))
    ]


def _anchor(node: Node) -> str | None:
    return str(node).rsplit("#", 1)[-1] if isinstance(node, URIRef) and "#" in node else None


def shapes_rules(shapes: Graph) -> list[str]:
    """The rules the shapes document states in words (its dcterms:description), for its page."""
    return sorted(
        str(d) for d in shapes.objects(URIRef(ns.BASE + "def/shapes"), DCTERMS.description)
    )


def shapes_doc(shapes: Graph) -> list[dict[str, Any]]:
    """Every node shape with its targets, constraints and property shapes."""
    result = []
    for shape in sorted(set(shapes.subjects(RDF.type, SH.NodeShape)), key=str):
        properties = []
        for prop in sorted(shapes.objects(shape, SH.property), key=str):
            path = shapes.value(prop, SH.path)
            properties.append(
                {
                    "iri": str(prop) if isinstance(prop, URIRef) else None,
                    "anchor": _anchor(prop),
                    "path": path_text(shapes, path) if path is not None else "",
                    "constraints": _constraints(shapes, prop),
                    "sparql": bool(shapes.value(prop, SH.sparql)),
                }
            )
        targets = [
            (curie(shapes, p).removeprefix("sh:"), curie(shapes, o))
            for p in (SH.targetClass, SH.targetNode, SH.targetObjectsOf, SH.targetSubjectsOf)
            for o in shapes.objects(shape, p)
        ]
        result.append(
            {
                "iri": str(shape),
                "anchor": _anchor(shape),
                "label": str(shapes.value(shape, RDFS.label) or _anchor(shape) or shape),
                "comment": str(shapes.value(shape, RDFS.comment) or ""),
                "targets": targets,
                "constraints": _constraints(shapes, shape),
                "sparql": [
                    str(shapes.value(c, SH.message) or "") for c in shapes.objects(shape, SH.sparql)
                ],
                "properties": properties,
            }
        )
    return result


def _constrained_by(shapes: Graph) -> dict[str, set[str]]:
    """For each term, the named shapes that constrain it (by path, target or sh:class)."""
    found: dict[str, set[str]] = {}

    def note(term: Node, shape: Node) -> None:
        found.setdefault(str(term), set()).add(str(shape))

    for shape in set(shapes.subjects(RDF.type, SH.NodeShape)):
        for p in (SH.targetClass, SH.targetObjectsOf, SH.targetSubjectsOf):
            for term in shapes.objects(shape, p):
                note(term, shape)
        for prop in shapes.objects(shape, SH.property):
            named = prop if isinstance(prop, URIRef) else shape
            path = shapes.value(prop, SH.path)
            for term in path_predicates(shapes, path) if path is not None else ():
                note(term, named)
            for cls in shapes.objects(prop, SH["class"]):
                note(cls, named)
    return found


def ontology_doc(ontology: Graph, shapes: Graph) -> dict[str, Any]:
    """Classes, properties and other terms of the ontology with the shapes that constrain them."""
    constrained = _constrained_by(shapes)
    namespace = str(S22A)

    def term(node: URIRef) -> dict[str, Any]:
        return {
            "iri": str(node),
            "name": str(node)[len(namespace) :],
            "label": str(ontology.value(node, RDFS.label) or ""),
            "comment": str(ontology.value(node, RDFS.comment) or ""),
            "types": sorted(str(t) for t in ontology.objects(node, RDF.type)),
            "super": sorted(str(x) for x in ontology.objects(node, RDFS.subClassOf))
            + sorted(str(x) for x in ontology.objects(node, RDFS.subPropertyOf)),
            "domain": sorted(str(x) for x in ontology.objects(node, RDFS.domain)),
            "range": sorted(str(x) for x in ontology.objects(node, RDFS.range)),
            "shapes": sorted(constrained.get(str(node), ())),
        }

    terms = sorted(
        {s for s in ontology.subjects() if isinstance(s, URIRef) and str(s).startswith(namespace)},
        key=str,
    )
    classes, properties, others = [], [], []
    for node in terms:
        kinds = set(ontology.objects(node, RDF.type))
        entry = term(node)
        if OWL.Class in kinds or RDFS.Class in kinds:
            entry["subclasses"] = sorted(str(x) for x in ontology.subjects(RDFS.subClassOf, node))
            entry["properties"] = sorted(str(x) for x in ontology.subjects(RDFS.domain, node))
            classes.append(entry)
        elif kinds & set(PROPERTY_KINDS):
            entry["kind"] = next(PROPERTY_KINDS[k] for k in PROPERTY_KINDS if k in kinds)
            properties.append(entry)
        else:
            others.append(entry)
    return {
        "iri": str(ONTOLOGY),
        "title": str(ontology.value(ONTOLOGY, RDFS.label) or "The s22a ontology"),
        "comment": str(ontology.value(ONTOLOGY, RDFS.comment) or ""),
        "version": str(ontology.value(ONTOLOGY, OWL.versionInfo) or ""),
        "classes": classes,
        "properties": properties,
        "others": others,
    }
