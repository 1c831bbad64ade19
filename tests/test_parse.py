"""Parsing a register: Turtle and N-Triples naming every IRI in full are read by Oxigraph's
parser and made into the graph rdflib's parser makes of them; anything else is rdflib's."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from bench.synthetic import register_turtle
from s22a import resources
from s22a.ingest import parse

FILES = sorted(
    [*resources.register_paths(), *Path(__file__).parent.glob("fixtures/**/*.ttl")], key=str
)


def by_rdflib(data: bytes) -> Graph:
    graph = Graph()
    graph.parse(data=data.decode("utf-8-sig"), format="turtle", publicID="urn:s22a:upload")
    return graph


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_register_parses_to_the_graph_rdflibs_parser_makes(path):
    data = path.read_bytes()
    try:
        expected = by_rdflib(data)
    except Exception:  # a fixture that is not Turtle, or not well-formed: refused either way
        with pytest.raises(parse.RegisterUnreadable):
            parse.parse_register(data, path.name)
        return
    assert isomorphic(parse.parse_register(data, path.name), expected)


def test_literals_are_made_as_rdflibs_parser_makes_them():
    data = b"""<urn:a> <urn:b> 05, "2.50"^^<http://www.w3.org/2001/XMLSchema#decimal>, 1E3,
        "y"@en, true, "z" ."""
    graph = parse.parse_register(data, "r.ttl")
    assert sorted(graph) == sorted(by_rdflib(data))
    assert Literal("5", datatype=XSD.integer) in set(graph.objects())


def test_a_literal_typed_xsd_string_is_the_plain_literal():
    # One term in RDF 1.1, and the one the store gives back; rdflib's parser keeps the type.
    graph = parse.parse_register(
        b'<urn:a> <urn:b> "x"^^<http://www.w3.org/2001/XMLSchema#string> .'
    )
    assert set(graph.objects()) == {Literal("x")}


def test_a_blank_node_label_is_new_in_each_parse():
    data = b"_:b0 <urn:p> <urn:o> ."
    first, second = (parse.parse_register(data, "r.nt") for _ in range(2))
    (one,), (other,) = first.subjects(), second.subjects()
    assert isinstance(one, BNode) and one != other


def test_relative_iris_are_resolved_or_refused_as_before():
    graph = parse.parse_register(b"<#x> <urn:p> <> .", "r.ttl")
    assert set(graph.subjects()) == {URIRef("urn:s22a:upload#x")}
    with pytest.raises(parse.RegisterSyntaxError, match="has no slash after colon"):
        parse.parse_register(b"<x> <urn:p> <urn:o> .", "r.ttl")


def test_the_files_prefixes_are_bound():
    graph = parse.parse_register(
        b"@prefix ex: <http://example.org/ns#> . ex:a ex:b ex:c .", "r.ttl"
    )
    assert ("ex", URIRef("http://example.org/ns#")) in set(graph.namespaces())


def test_a_register_past_the_triple_limit_is_refused(monkeypatch):
    monkeypatch.setattr(parse, "MAX_TRIPLES", 100)
    with pytest.raises(parse.RegisterUnreadable, match="more than 100 triples"):
        parse.parse_register(register_turtle("merseyside", 20).encode(), "r.ttl")
