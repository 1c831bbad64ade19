"""RDF serialization for documents: Turtle, N-Triples and RDF/XML written by Oxigraph, JSON-LD
with the register's context (`s22a.jsonld`)."""

from __future__ import annotations

import json

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal
from rdflib.term import Node

from s22a.jsonld import to_jsonld
from s22a.namespaces import PREFIXES
from s22a.web.conneg import JSONLD, Format

_OXIGRAPH_FORMATS = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "rdf": ox.RdfFormat.RDF_XML,
}


_OX_PREFIXES = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}


def to_oxigraph(term: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The pyoxigraph term for an rdflib term."""
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        datatype = ox.NamedNode(str(term.datatype)) if term.datatype else None
        return ox.Literal(str(term), datatype=datatype)
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    return ox.NamedNode(str(term))


def serialize(graph: Graph, fmt: Format) -> bytes:
    """`graph` in RDF format `fmt`; JSON-LD is compacted and names the context by URL.

    Turtle, N-Triples and RDF/XML are written by Oxigraph (several times faster than rdflib's
    writers), subjects in order so that Turtle groups each one's statements.
    """
    if fmt is JSONLD:
        return json.dumps(to_jsonld(graph), indent=2, ensure_ascii=False).encode("utf-8")
    triples = [
        ox.Triple(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o))  # type: ignore[arg-type]
        for s, p, o in sorted(graph, key=lambda t: (isinstance(t[0], BNode), t))
    ]
    prefixes = _OX_PREFIXES if fmt.key != "nt" else None
    data = ox.serialize(triples, format=_OXIGRAPH_FORMATS[fmt.key], prefixes=prefixes)
    assert data is not None  # pyoxigraph returns the bytes when given no output
    return data


def serialize_dataset(graphs: dict[str, Graph], fmt: Format) -> bytes:
    """Named graphs (name: graph) as TriG or N-Quads, written by Oxigraph (rdflib's TriG writer
    is deprecated); each graph's blank nodes are kept apart from the others'."""
    quads = []
    for index, (name, graph) in enumerate(graphs.items()):
        graph_name = ox.NamedNode(name)

        def term(node: Node, index: int = index) -> ox.NamedNode | ox.BlankNode | ox.Literal:
            return ox.BlankNode(f"g{index}{node}") if isinstance(node, BNode) else to_oxigraph(node)

        quads += [
            ox.Quad(term(s), term(p), term(o), graph_name)  # type: ignore[arg-type]
            for s, p, o in graph
        ]
    if fmt.key == "nq":
        data = ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    else:
        data = ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=_OX_PREFIXES)
    assert data is not None  # pyoxigraph returns the bytes when given no output
    return data
