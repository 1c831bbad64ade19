"""Validation runs the agreement shapes only on agreements not already found clean as they are
described now (`s22a.ingest.unchanged`), and reports exactly what validating all of them does."""

from __future__ import annotations

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH

from bench.synthetic import register_turtle
from s22a import reference
from s22a.ingest import parse, unchanged, validation
from s22a.namespaces import S22A, SCHEMA

AGREEMENTS = 12
REGISTER = URIRef("https://w3id.org/s22a/id/register/merseyside")
SHAPES = Namespace("https://w3id.org/s22a/def/shapes#")
COMMITTEE = URIRef("https://w3id.org/s22a/id/committee/synthetic-joint-committee")


def agreement(n: int) -> URIRef:
    return URIRef(f"https://w3id.org/s22a/id/agreement/u-merseyside-{n}")


def version_one() -> Graph:
    """A register whose agreement 0 has an oversight committee the register describes (which
    the statement shapes refuse, but not the agreement shapes) and agreement 1 is covered by
    agreement 2: what the agreement shapes find of them depends on other resources."""
    graph = parse.parse_register(
        register_turtle("merseyside", AGREEMENTS, prefix="u").encode(), "r.ttl", "text/turtle"
    )
    graph.add((agreement(0), S22A.oversightCommittee, COMMITTEE))
    graph.add((COMMITTEE, RDF.type, S22A.Committee))
    graph.add((agreement(1), S22A.coveredBy, agreement(2)))
    return graph


def agreement_shapes() -> set[str]:
    """The shapes whose results are about one listed agreement's own description."""
    _register_part, agreement_part = reference.core_shape_parts()
    top = SHAPES.Agreement
    return {str(top)} | {str(s) for s in agreement_part.objects(top, SH.property)}


def reparsed(graph: Graph) -> Graph:
    """The same register read again from its Turtle: new blank node labels."""
    return parse.parse_register(graph.serialize(format="turtle").encode(), "r.ttl", "text/turtle")


def what_a_reader_reads(result: validation.ValidationResult) -> list[tuple[str | None, ...]]:
    """Each finding as the report shows it (a blank node's label differs from run to run)."""
    return sorted(
        (f.severity, f.message, f.agreement, f.path, None if f.focus.startswith("n") else f.focus)
        for f in result.findings
    )


def untitled(graph: Graph) -> None:
    graph.remove((agreement(3), DCTERMS.title, None))


def budget_in_pounds_sterling_as_text(graph: Graph) -> None:
    budget = graph.value(agreement(4), S22A.budget)
    graph.set((budget, SCHEMA.currency, Literal("pounds")))


def committee_no_longer_a_committee(graph: Graph) -> None:
    graph.remove((COMMITTEE, RDF.type, S22A.Committee))  # agreement 0's own triples unchanged


def covering_agreement_dropped(graph: Graph) -> None:
    # Agreement 1's own triples are unchanged; what it is covered by is no longer listed or
    # described, so it is no longer known to be an agreement.
    graph.remove((REGISTER, S22A.lists, agreement(2)))
    for blank in [o for o in graph.objects(agreement(2), None) if isinstance(o, BNode)]:
        graph.remove((blank, None, None))
    graph.remove((agreement(2), None, None))


def new_agreement_without_parties(graph: Graph) -> None:
    new = URIRef("https://w3id.org/s22a/id/agreement/u-merseyside-new")
    graph.add((REGISTER, S22A.lists, new))
    graph.add((new, RDF.type, S22A.Agreement))
    graph.add((new, DCTERMS.title, Literal("A new one", lang="en")))


def nothing(graph: Graph) -> None:
    pass


# (change, how many agreements must be checked again)
CHANGES = [
    (nothing, 0),
    (untitled, 1),
    (budget_in_pounds_sterling_as_text, 1),
    (committee_no_longer_a_committee, 1),
    (covering_agreement_dropped, 1),
    (new_agreement_without_parties, 1),
]


@pytest.mark.parametrize(("change", "checked"), CHANGES, ids=[c.__name__ for c, _ in CHANGES])
def test_a_changed_register_is_reported_as_if_every_agreement_were_checked(change, checked):
    unchanged.forget()
    first = validation.validate_graph(version_one())
    assert first.agreements_checked == AGREEMENTS
    assert not [f for f in first.findings if f.shape in agreement_shapes()], first.findings
    second = reparsed(version_one())
    change(second)

    again = validation.validate_graph(second)
    unchanged.forget()
    everything = validation.validate_graph(reparsed(second))

    assert everything.agreements_checked == len(set(second.objects(REGISTER, S22A.lists)))
    assert again.agreements_checked == checked
    assert what_a_reader_reads(again) == what_a_reader_reads(everything)
    if change is not nothing:
        assert again.findings, "each change is one a PCC office must be told about"


def test_agreements_with_findings_are_checked_every_time():
    unchanged.forget()
    graph = version_one()
    untitled(graph)
    first = validation.validate_graph(graph)
    again = validation.validate_graph(reparsed(graph))
    assert again.agreements_checked == 1
    assert what_a_reader_reads(again) == what_a_reader_reads(first)
    assert any("no title" in f.message for f in again.violations)


def test_blank_nodes_describing_each_other_or_a_deep_chain_are_always_checked():
    graph = version_one()
    first, second = BNode(), BNode()
    graph.add((agreement(5), S22A.contribution, first))
    graph.add((first, S22A.contributor, URIRef("https://w3id.org/s22a/id/force/merseyside")))
    graph.add((first, RDFS.seeAlso, second))
    graph.add((second, RDFS.seeAlso, first))
    chain = [BNode() for _ in range(3000)]  # deeper than Python's stack
    graph.add((agreement(7), RDFS.seeAlso, chain[0]))
    graph.addN((a, RDFS.seeAlso, b, graph) for a, b in zip(chain, chain[1:], strict=False))
    descriptions = unchanged.Descriptions(graph)
    assert descriptions.digest(agreement(5)) is None
    assert descriptions.digest(agreement(7)) is None
    assert descriptions.digest(agreement(6)) is not None
    assert not unchanged.already_clean(None)
