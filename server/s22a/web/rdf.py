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
    return ox.serialize(triples, format=_OXIGRAPH_FORMATS[fmt.key], prefixes=prefixes)
