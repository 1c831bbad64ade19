"""Comparing RDF graphs in tests."""

from __future__ import annotations

import pyoxigraph as ox
from rdflib import Graph

from s22a.web.rdf import to_oxigraph


def canonical(graph: Graph) -> frozenset[str]:
    """The triples of `graph` with blank nodes canonically renamed (pyoxigraph's algorithm):
    two graphs are isomorphic exactly when these are equal. Much faster than rdflib's
    isomorphism test on the shapes' many blank nodes (5 s a comparison there, at load 4)."""
    dataset = ox.Dataset(
        ox.Quad(*(to_oxigraph(term) for term in triple))  # type: ignore[misc]
        for triple in graph
    )
    dataset.canonicalize(ox.CanonicalizationAlgorithm.UNSTABLE)
    return frozenset(str(quad) for quad in dataset)
