"""`/sparql` with standard clients over real HTTP: SPARQLWrapper, rdflib's SPARQLStore, raw HTTP.

SPARQLWrapper sends its own mix of Accept headers and ``format``/``output``/``results``
parameters (several values for some formats); the endpoint must give it what it asked for.
"""

from __future__ import annotations

import csv
import http.client
import io
import urllib.error
import urllib.parse

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF
from SPARQLWrapper import (
    CSV,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    XML,
    SPARQLWrapper,
)
from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

from s22a.namespaces import S22A, register_iri
from tests.support.server import ServerProcess

REGISTERS = f"SELECT ?r WHERE {{ ?r a <{S22A.Register}> }} ORDER BY ?r"
CONSTRUCT = f"CONSTRUCT WHERE {{ ?r a <{S22A.Register}> }}"
FORCES = ("cheshire", "lancashire", "leicestershire", "merseyside", "north-wales")
ALL_REGISTERS = sorted(register_iri(f) for f in FORCES)


def wrapper(server: ServerProcess, query: str, fmt: str = JSON) -> SPARQLWrapper:
    """A SPARQLWrapper for the live server's endpoint."""
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setQuery(query)
    client.setReturnFormat(fmt)
    client.setTimeout(30)
    return client


def test_select_as_json(live_server: ServerProcess) -> None:
    result = wrapper(live_server, REGISTERS).queryAndConvert()
    assert [b["r"]["value"] for b in result["results"]["bindings"]] == ALL_REGISTERS


def test_select_as_xml(live_server: ServerProcess) -> None:
    document = wrapper(live_server, REGISTERS, XML).queryAndConvert()
    values = [n.firstChild.data for n in document.getElementsByTagName("uri")]
    assert values == ALL_REGISTERS


@pytest.mark.parametrize(("fmt", "delimiter"), [(CSV, ","), (TSV, "\t")])
def test_select_as_csv_and_tsv(live_server: ServerProcess, fmt: str, delimiter: str) -> None:
    text = wrapper(live_server, REGISTERS, fmt).queryAndConvert().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert len(rows) == 6 and rows[0][0] in ("r", "?r")


@pytest.mark.parametrize("method", [POST, "GET"])
def test_ask_by_get_and_post(live_server: ServerProcess, method: str) -> None:
    client = wrapper(live_server, f"ASK {{ ?r a <{S22A.Register}> }}")
    client.setMethod(method)
    assert client.queryAndConvert()["boolean"] is True


def test_post_directly(live_server: ServerProcess) -> None:
    client = wrapper(live_server, REGISTERS)
    client.setMethod(POST)
    client.setRequestMethod(POSTDIRECTLY)
    result = client.queryAndConvert()
    assert len(result["results"]["bindings"]) == 5


@pytest.mark.parametrize("fmt", [TURTLE, N3])
def test_construct_as_turtle(live_server: ServerProcess, fmt: str) -> None:
    result = wrapper(live_server, CONSTRUCT, fmt).queryAndConvert()
    graph = Graph().parse(data=result, format="turtle")
    assert len(graph) == 5
    assert (URIRef(register_iri("cheshire")), RDF.type, S22A.Register) in graph


def test_construct_as_rdfxml(live_server: ServerProcess) -> None:
    # (SPARQLWrapper's own conversion uses rdflib's deprecated ConjunctiveGraph.)
    response = wrapper(live_server, CONSTRUCT, RDFXML).query()
    with response.response as raw:
        assert raw.headers.get_content_type() == "application/rdf+xml"
        graph = Graph().parse(data=raw.read(), format="xml")
    assert len(graph) == 5
    assert (URIRef(register_iri("cheshire")), RDF.type, S22A.Register) in graph


def test_construct_as_jsonld(live_server: ServerProcess) -> None:
    response = wrapper(live_server, CONSTRUCT, JSONLD).query()
    with response.response as raw:
        assert raw.headers.get_content_type() == "application/ld+json"
        assert register_iri("cheshire").encode() in raw.read()


def test_default_and_named_graphs(live_server: ServerProcess) -> None:
    client = wrapper(live_server, "SELECT DISTINCT ?r WHERE { ?r a ?type . FILTER(isIRI(?r)) }")
    client.setQuery(f"SELECT DISTINCT ?r WHERE {{ ?r <{S22A.lists}> ?a }}")
    client.addDefaultGraph(register_iri("cheshire"))
    assert [b["r"]["value"] for b in client.queryAndConvert()["results"]["bindings"]] == [
        register_iri("cheshire")
    ]
    named = wrapper(live_server, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    named.addNamedGraph(register_iri("merseyside"))
    assert [b["g"]["value"] for b in named.queryAndConvert()["results"]["bindings"]] == [
        register_iri("merseyside")
    ]


def test_a_syntax_error_is_query_bad_formed(live_server: ServerProcess) -> None:
    with pytest.raises(QueryBadFormed, match="syntax error"):
        wrapper(live_server, "SELECT * WHERE { ?s ?p }").query()


def test_an_update_is_refused(live_server: ServerProcess) -> None:
    client = wrapper(live_server, "INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    client.setMethod(POST)
    with pytest.raises(urllib.error.HTTPError) as refused:  # SPARQLWrapper passes 403 through
        client.query()
    refused.value.close()
    assert refused.value.code == 403
    check = wrapper(live_server, "ASK { <urn:a> <urn:b> <urn:c> }").queryAndConvert()
    assert check["boolean"] is False


def test_rdflib_sparql_store(live_server: ServerProcess) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(f"{live_server.url}/sparql", returnFormat="json")
    try:
        rows = list(store.query(REGISTERS))
    finally:
        store.close()
    assert [str(row[0]) for row in rows] == ALL_REGISTERS


def test_raw_http_etag_revalidation_and_cors(live_server: ServerProcess) -> None:
    host, port = live_server.url.removeprefix("http://").split(":")
    path = "/sparql?" + urllib.parse.urlencode({"query": REGISTERS})
    connection = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        connection.request("GET", path, headers={"Accept": "text/csv", "Origin": "https://x"})
        first = connection.getresponse()
        first.read()
        assert first.status == 200 and first.getheader("Access-Control-Allow-Origin") == "*"
        tag = first.getheader("ETag")
        connection.request("GET", path, headers={"Accept": "text/csv", "If-None-Match": tag})
        second = connection.getresponse()
        assert second.status == 304 and second.read() == b""
        connection.request("OPTIONS", "/sparql", headers={"Access-Control-Request-Method": "POST"})
        preflight = connection.getresponse()
        preflight.read()
        assert preflight.status == 204
    finally:
        connection.close()
