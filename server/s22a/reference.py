"""The project's own RDF, parsed once per process: the ontology with the reference data (what
a register is validated with, and where the names of forces come from), and the shapes."""

from __future__ import annotations

from functools import cache

from rdflib import Graph

from s22a import resources
from s22a.namespaces import bind_prefixes


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


@cache
def statement_shapes() -> Graph:
    """The shapes a register is checked with on its own: whose statements it makes."""
    return Graph().parse(resources.statement_shapes_path(), format="turtle")
