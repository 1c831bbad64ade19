"""Documents as RDF: canonical IRIs, every format the same graph (rdflib and pyoxigraph agree),
the JSON-LD context, VoID, DCAT, the dumps, and the ontology and shapes documentation.

JSON-LD documents carry the context this server publishes at /context.jsonld inline, so they
parse with no network (tests/test_offline_clients.py checks every document with three parsers).
"""

from __future__ import annotations

import json
import re

import pyoxigraph as ox
import pytest
import rdflib
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, OWL, RDF, RDFS

from s22a.namespaces import GRAPH_ONTOLOGY, S22A, SHAPE, VOID
from s22a.store import get_store
from s22a.store.base import from_oxigraph
from tests.support.rdf import canonical

# rdflib 7.6's own JSON-LD parser builds a ConjunctiveGraph, which it has deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

DOCUMENTS = [
    "/doc/agreement/north-west-rocu",
    "/doc/agreement/national-police-air-service",
    "/doc/agreement/multi-force-shared-service",
    "/doc/force/merseyside",
    "/doc/body/north-west-joint-oversight-committee",
    "/doc/group/england-and-wales",
    "/doc/region/east-midlands",
    "/doc/capability/serious-organised-crime",
    "/doc/register/lancashire",
    "/doc/scheme/capabilities",
    "/def/s22a",
    "/def/shapes",
    "/void",
    "/catalog",
]
OXIGRAPH = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "rdf": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}
RDFLIB = {"ttl": "turtle", "nt": "nt", "rdf": "xml", "jsonld": "json-ld"}


def with_rdflib(data: bytes, key: str) -> Graph:
    return Graph().parse(data=data, format=RDFLIB[key])


def with_oxigraph(data: bytes, key: str) -> Graph:
    graph = Graph()
    for quad in ox.parse(data, format=OXIGRAPH[key]):
        graph.add(
            (from_oxigraph(quad.subject), from_oxigraph(quad.predicate), from_oxigraph(quad.object))
        )
    return graph


@pytest.mark.parametrize("path", DOCUMENTS)
def test_every_format_is_the_same_graph_to_both_parsers(client: FlaskClient, path: str) -> None:
    reference = with_rdflib(client.get(f"{path}.ttl").get_data(), "ttl")
    assert len(reference) > 5
    expected = canonical(reference)  # isomorphic graphs: equal canonical forms
    for key in OXIGRAPH:
        data = client.get(f"{path}.{key}").get_data()
        for parse in (with_rdflib, with_oxigraph):
            graph = parse(data, key)
            assert canonical(graph) == expected, f"{path}.{key} read by {parse.__name__}"


@pytest.mark.parametrize("path", DOCUMENTS)
def test_rdf_carries_canonical_iris_only(client: FlaskClient, path: str) -> None:
    for key in ("ttl", "nt", "jsonld"):
        text = client.get(f"{path}.{key}", base_url="http://127.0.0.1:5123").get_data(as_text=True)
        assert "127.0.0.1" not in text and "localhost" not in text
        assert "https://w3id.org/s22a/" in text


def test_jsonld_carries_the_context_and_uses_its_short_keys(client: FlaskClient) -> None:
    document = json.loads(client.get("/doc/agreement/north-west-rocu.jsonld").get_data())
    assert document["@context"] == json.loads(client.get("/context.jsonld").get_data())["@context"]
    text = json.dumps(document)
    for key in ('"title"', '"party"', '"leadForce"', '"purpose"', '"dateMade"', '"capability"'):
        assert key in text
    published = json.loads(client.get("/context.jsonld").get_data())["@context"]
    assert published["party"] == {"@id": "s22a:party", "@type": "@id"}
    assert published["s22a"] == str(S22A)


def test_agreement_graph_keeps_what_every_register_says(client: FlaskClient) -> None:
    graph = with_rdflib(client.get("/doc/agreement/north-west-rocu.ttl").get_data(), "ttl")
    rocu = URIRef("https://w3id.org/s22a/id/agreement/north-west-rocu")
    titles = {str(t) for t in graph.objects(rocu, DCTERMS.title)}
    assert {
        "TITAN",
        "North West Regional Organised Crime Unit - TITAN",
        "North West Regional & Organised Crime Unit",
    } <= titles
    listing = set(graph.subjects(S22A.lists, rocu))
    assert {
        URIRef(f"https://w3id.org/s22a/id/register/{r}")
        for r in ("cheshire", "lancashire", "merseyside")
    } == listing
    # Linked things are named, so an RDF reader can show them.
    assert graph.value(URIRef("https://w3id.org/s22a/id/force/cumbria"), RDFS.label)
    # Blank nodes (budgets, governance terms) come with their content.
    budget = graph.value(rocu, S22A.budget)
    assert graph.value(budget, URIRef("https://schema.org/value")) is not None


def test_void_describes_the_dataset_and_each_register(
    loaded_app: Flask, client: FlaskClient
) -> None:
    graph = with_rdflib(client.get("/void.ttl").get_data(), "ttl")
    dataset = URIRef("https://w3id.org/s22a/id/dataset")
    assert (dataset, RDF.type, VOID.Dataset) in graph
    assert graph.value(dataset, VOID.sparqlEndpoint) == URIRef("https://w3id.org/s22a/sparql")
    assert {str(d) for d in graph.objects(dataset, VOID.dataDump)} == {
        "https://w3id.org/s22a/dump.nq",
        "https://w3id.org/s22a/dump.trig",
    }
    with loaded_app.app_context():
        store = get_store()
        registers = [g for g in store.graphs() if "/id/register/" in g]
        for register in registers:
            subset = URIRef(register)
            assert (dataset, VOID.subset, subset) in graph
            stored = len(store.graph_triples(register))
            assert graph.value(subset, VOID.triples) == Literal(stored)
        total = sum(len(store.graph_triples(g)) for g in store.graphs())
    assert graph.value(dataset, VOID.triples) == Literal(total)


def test_catalog_lists_registers_service_and_dumps(client: FlaskClient) -> None:
    graph = with_rdflib(client.get("/catalog.ttl").get_data(), "ttl")
    catalog = URIRef("https://w3id.org/s22a/id/catalog")
    assert (catalog, RDF.type, DCAT.Catalog) in graph
    datasets = set(graph.objects(catalog, DCAT.dataset))
    assert URIRef("https://w3id.org/s22a/id/register/merseyside") in datasets
    assert len(datasets) == 6  # the whole register and five force registers
    service = graph.value(catalog, DCAT.service)
    assert graph.value(service, DCAT.endpointURL) == URIRef("https://w3id.org/s22a/sparql")
    downloads = {str(u) for u in graph.objects(None, DCAT.downloadURL)}
    assert {"https://w3id.org/s22a/dump.nq", "https://w3id.org/s22a/dump.trig"} <= downloads
    merseyside = URIRef("https://w3id.org/s22a/id/register/merseyside")
    assert graph.value(merseyside, DCTERMS.modified) is not None
    assert graph.value(merseyside, DCTERMS.publisher) == URIRef(
        "https://w3id.org/s22a/id/body/merseyside-pcc"
    )


@pytest.mark.parametrize("ext, fmt", [("nq", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG)])
def test_dump_streams_every_named_graph(
    loaded_app: Flask, client: FlaskClient, ext: str, fmt: ox.RdfFormat
) -> None:
    response = client.get(f"/dump.{ext}")
    assert response.is_streamed
    quads = list(ox.parse(response.get_data(), format=fmt))
    with loaded_app.app_context():
        store = get_store()
        graphs = store.graphs()
        expected = sum(len(store.graph_triples(g)) for g in graphs)
    assert {q.graph_name.value for q in quads} == set(graphs)
    assert len(quads) == expected


def test_ontology_page_documents_every_class_and_property(
    loaded_app: Flask, client: FlaskClient
) -> None:
    html = client.get("/def/s22a", headers={"Accept": "text/html"}).get_data(as_text=True)
    with loaded_app.app_context():
        ontology = get_store().graph_triples(GRAPH_ONTOLOGY)
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    terms = {t for k in kinds for t in ontology.subjects(RDF.type, k) if str(t).startswith(S22A)}
    assert len(terms) > 60
    for term in terms:
        name = str(term)[len(str(S22A)) :]
        section = re.search(
            rf'<section class="term" id="{re.escape(name)}".*?</section>', html, re.S
        )
        assert section, name
        text = section.group(0)
        assert str(ontology.value(term, RDFS.label)) in text
        assert str(ontology.value(term, RDFS.comment)).replace("'", "&#39;")[:60] in text.replace(
            "&#34;", '"'
        )
        for bound in (RDFS.domain, RDFS.range):
            for value in ontology.objects(term, bound):
                assert str(value).rsplit("#", 1)[-1].rsplit("/", 1)[-1] in text
    party = re.search(r'<section class="term" id="party".*?</section>', html, re.S).group(0)
    assert 'href="/def/shapes#Agreement-party"' in party
    assert "Domain" in party and "Range" in party


def test_shapes_page_shows_every_shape(client: FlaskClient) -> None:
    graph = with_rdflib(client.get("/def/shapes.ttl").get_data(), "ttl")
    html = client.get("/def/shapes.html").get_data(as_text=True)
    shapes = set(graph.subjects(RDF.type, URIRef("http://www.w3.org/ns/shacl#NodeShape")))
    assert len(shapes) >= 5
    for shape in shapes:
        assert f'id="{str(shape).rsplit("#", 1)[-1]}"' in html
    assert "This agreement has no title" in html
    # The rule of issue 13, in words and as shapes.
    assert "A register speaks only for itself." in html
    assert "Your register may not describe" in html
    assert SHAPE.OwnStatements in shapes and SHAPE.Text in shapes


def test_ontology_rdf_is_the_stored_ontology(loaded_app: Flask, client: FlaskClient) -> None:
    served = with_rdflib(client.get("/def/s22a.nt").get_data(), "nt")
    with loaded_app.app_context():
        stored = get_store().graph_triples(GRAPH_ONTOLOGY)
    assert isomorphic(served, stored)


def test_context_document_is_valid_jsonld(client: FlaskClient) -> None:
    response = client.get("/context.jsonld")
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    # A document using only the context parses: the context itself is well formed.
    context = json.loads(response.get_data())["@context"]
    doc = {
        "@context": context,
        "id": "https://w3id.org/s22a/id/force/x",
        "title": "X",
        "party": "https://w3id.org/s22a/id/force/y",
    }
    graph = rdflib.Graph().parse(data=json.dumps(doc), format="json-ld")
    assert (
        URIRef("https://w3id.org/s22a/id/force/x"),
        S22A.party,
        URIRef("https://w3id.org/s22a/id/force/y"),
    ) in graph
    assert (
        URIRef("https://w3id.org/s22a/id/force/x"),
        DCTERMS.title,
        Literal("X", lang="en"),
    ) in graph
