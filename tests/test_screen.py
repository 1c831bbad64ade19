"""The screen (`s22a.ingest.screen`) flags every focus node pySHACL has a result for, and
validation with it reports exactly what pySHACL with every shape on every agreement does."""

from __future__ import annotations

import random

import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SH, XSD
from rdflib.term import Node

from bench.synthetic import register_turtle
from s22a import reference, resources
from s22a.ingest import parse, screen, shacl, validation
from s22a.namespaces import S22A, SCHEMA

AGREEMENTS = 12
REGISTER = URIRef("https://w3id.org/s22a/id/register/merseyside")
SHAPES = Namespace("https://w3id.org/s22a/def/shapes#")
COMMITTEE = URIRef("https://w3id.org/s22a/id/committee/synthetic-joint-committee")
FORCE = Namespace("https://w3id.org/s22a/id/force/")
# Damaged variants of each seed register and of a synthetic one checked on every run; a run with
# more (`damaged_variants(..., count)`) before a change to the screen or the shapes is cheap.
VARIANTS = 12


def agreement(n: int) -> URIRef:
    return URIRef(f"https://w3id.org/s22a/id/agreement/u-merseyside-{n}")


def merged(register: Graph) -> Graph:
    """A copy of the register with the ontology and reference data added."""
    data = Graph()
    data += reference.context_graph()
    data += register
    return data


def core_results(register: Graph) -> set[Node]:
    """The focus nodes of pySHACL's results for the register shapes' Core constraints, run on
    the whole register with the ontology and reference data (as validation did before)."""
    core, _sparql = reference.register_shape_halves()
    report = shacl.run(merged(register), core)
    return {report.value(r, SH.focusNode) for r in report.objects(None, SH.result)}


def suspects(register: Graph) -> set[Node]:
    compiled = screen.compile_screen(reference.register_shape_halves()[0])
    assert compiled is not None
    found = compiled.suspects(screen.Data(register, reference.context_graph()))
    return set().union(*found.values())


# Values a PCC office may write by mistake, and right ones in the wrong place.
ODD_VALUES: list[Node] = [
    Literal("abc", datatype=XSD.integer),
    Literal("-3", datatype=XSD.integer),
    Literal("12", datatype=XSD.integer),
    Literal("2.5", datatype=XSD.decimal),
    Literal("2022-13-01", datatype=XSD.date),
    Literal("2022-02-14", datatype=XSD.date),
    Literal("2022-02", datatype=XSD.gYearMonth),
    Literal("2022", datatype=XSD.gYear),
    Literal("2022-02-14"),
    Literal("GBP"),
    Literal("gbp"),
    Literal("A title", lang="en"),
    BNode(),
    FORCE.merseyside,
    FORCE.nowhere,
    S22A.Regional,
    S22A.Agreement,
    S22A.Signing,
    URIRef("http://www.legislation.gov.uk/id/ukpga/1996/16/section/22A"),
    URIRef("https://w3id.org/s22a/id/capability/air-support"),
    REGISTER,
]


def damaged_variants(register: Graph, count: int, seed: int) -> list[Graph]:
    """`count` copies of `register`, each with one to three random damages: a triple dropped, an
    object replaced, a statement added (with the predicates the shapes read)."""
    rng = random.Random(seed)
    triples = sorted(register, key=str)
    nodes = sorted({t for triple in triples for t in (triple[0], triple[2])}, key=str)
    predicates = sorted({p for _, p, _ in triples}, key=str)
    variants = []
    for _ in range(count):
        variant = Graph()
        variant += register
        for _ in range(rng.randint(1, 3)):
            s, p, o = rng.choice(triples)
            damage = rng.randrange(3)
            value = rng.choice(ODD_VALUES + nodes)
            if damage == 0:
                variant.remove((s, p, o))
            elif damage == 1:
                variant.remove((s, p, o))
                variant.add((s, p, value))
            else:
                variant.add((rng.choice(nodes), rng.choice(predicates), value))
        variants.append(variant)
    return variants


def registers() -> list[tuple[str, Graph]]:
    """The seed registers and a synthetic one."""
    found = [(p.name, parse.read_register(p)) for p in resources.register_paths()]
    synthetic = register_turtle("merseyside", AGREEMENTS, prefix="u").encode()
    found.append(("synthetic", parse.parse_register(synthetic, "r.ttl", "text/turtle")))
    return found


def test_the_register_shapes_compile_to_a_screen():
    # If a shape used what the screen cannot check, every agreement would go to pySHACL again:
    # validation would stay right, but as slow as before (bench/validate.py).
    assert screen.compile_screen(reference.register_shape_halves()[0]) is not None


@pytest.mark.parametrize(
    ("name", "register"), registers(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_every_focus_node_with_a_result_is_flagged(name, register):
    variants = damaged_variants(register, VARIANTS, seed=sum(map(ord, name)))
    with_results = 0
    for variant in [register, *variants]:
        found = core_results(variant)
        assert found <= suspects(variant), (name, found - suspects(variant))
        with_results += bool(found - core_results(register))
    assert with_results >= VARIANTS // 3, "most damages are ones the shapes find"


def test_agreements_without_findings_are_not_suspects():
    register = dict(registers())["synthetic"]
    # The one result is the register's (it names no publisher: a warning).
    assert core_results(register) == {REGISTER}
    assert suspects(register) == {REGISTER}
    assert validation.validate_graph(register).agreements_checked == 0


UNSUPPORTED = {
    "sh:not": "[ sh:not [ sh:datatype xsd:string ] ]",
    "sh:closed": "[ sh:closed true ]",
    "sh:xone": "[ sh:xone ( [ sh:datatype xsd:string ] [ sh:datatype xsd:integer ] ) ]",
    "a path with zeroOrMore": "[ sh:path [ sh:zeroOrMorePath rdf:rest ] ; sh:minCount 1 ]",
    "a property of a length": "[ sh:path dcterms:title ; sh:maxLength 10 ]",
}


@pytest.mark.parametrize("constraint", UNSUPPORTED.values(), ids=list(UNSUPPORTED))
def test_shapes_the_screen_cannot_check_are_not_compiled(constraint):
    shapes = Graph().parse(
        data=f"""
        @prefix sh: <http://www.w3.org/ns/shacl#> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        @prefix rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> .
        @prefix dcterms: <http://purl.org/dc/terms/> .
        <urn:shape> sh:targetSubjectsOf dcterms:title ; sh:property [
            sh:path dcterms:title ; sh:node {constraint} ] .
        """,
        format="turtle",
    )
    assert screen.compile_screen(shapes) is None


# What validation reports with the screen must be what it reports with pySHACL on everything.


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


def every_shape_on_everything(register: Graph) -> list[validation.Finding]:
    """Validation as the service ran it before the screen: pySHACL's Core constraints on the
    whole register with the ontology and reference data, the SPARQL constraints and the
    statement shapes on Oxigraph (bench/validate.py compares that with plain pySHACL)."""
    core, sparql = reference.register_shape_halves()
    union, alone = shacl.on_oxigraph_both(register)
    report = shacl.run(merged(register), core)
    report += shacl.run(union, sparql)
    report += shacl.run(alone, reference.statement_shapes())
    return validation._findings(report, register)


def what_a_reader_reads(findings: list[validation.Finding]) -> list[tuple[str | None, ...]]:
    """Each finding as the report shows it (a blank node's label differs from run to run)."""
    return sorted(
        (f.severity, f.message, f.agreement, f.path, None if f.focus.startswith("n") else f.focus)
        for f in findings
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


def blank_node_listed(graph: Graph) -> None:
    graph.add((REGISTER, S22A.lists, BNode()))


def register_without_force(graph: Graph) -> None:
    graph.remove((REGISTER, S22A.force, None))


def nothing(graph: Graph) -> None:
    pass


# (change, how many agreements pySHACL's agreement shapes must run on)
CHANGES = [
    (nothing, 0),
    (untitled, 1),
    (budget_in_pounds_sterling_as_text, 1),
    (committee_no_longer_a_committee, 1),
    (covering_agreement_dropped, 1),
    (new_agreement_without_parties, 1),
    (blank_node_listed, AGREEMENTS),  # not one the screen can tell: every agreement
    (register_without_force, 0),
]


@pytest.mark.parametrize(("change", "checked"), CHANGES, ids=[c.__name__ for c, _ in CHANGES])
def test_a_changed_register_is_reported_as_if_every_agreement_were_checked(change, checked):
    graph = version_one()
    change(graph)
    result = validation.validate_graph(graph)
    assert result.agreements_checked == checked
    assert what_a_reader_reads(result.findings) == what_a_reader_reads(
        every_shape_on_everything(graph)
    )
    if change is not nothing:
        assert result.findings, "each change is one a PCC office must be told about"


def test_blank_nodes_describing_each_other_or_a_deep_chain_are_read_safely():
    graph = version_one()
    first, second = BNode(), BNode()
    graph.add((agreement(5), S22A.contribution, first))
    graph.add((first, S22A.contributor, FORCE.merseyside))
    graph.add((first, S22A.officers, Literal("many")))  # a finding, so agreement 5 is checked
    graph.add((first, DCTERMS.relation, second))
    graph.add((second, DCTERMS.relation, first))
    chain = [BNode() for _ in range(3000)]  # deeper than Python's stack
    graph.add((agreement(5), DCTERMS.relation, chain[0]))
    graph.addN((a, DCTERMS.relation, b, graph) for a, b in zip(chain, chain[1:], strict=False))
    result = validation.validate_graph(graph)
    assert result.agreements_checked == 1
    assert what_a_reader_reads(result.findings) == what_a_reader_reads(
        every_shape_on_everything(graph)
    )


@pytest.mark.parametrize(
    ("name", "register"), registers()[-2:], ids=lambda v: v if isinstance(v, str) else ""
)
def test_pyshacl_reads_the_register_beside_the_context_as_a_merged_copy(name, register):
    core, _sparql = reference.register_shape_halves()
    for variant in damaged_variants(register, 4, seed=7):
        variant += sorted(reference.context_graph())[:5]  # triples both graphs hold
        beside = shacl.run(shacl.with_context(variant), core)
        copied = shacl.run(merged(variant), core)
        assert len(shacl.with_context(variant)) == len(merged(variant))
        assert validation._findings(beside, variant) == validation._findings(copied, variant)
