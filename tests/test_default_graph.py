"""The default graph of `/sparql` is a set (SPARQL 1.1 Query 13.1: "an RDF dataset comprises
one graph, the default graph"), on every store: the embedded one (queries in worker copies),
Oxigraph's server and Virtuoso. A triple that several registers state is one triple there,
while ``GRAPH ?g`` still shows each register that states it.

The expected numbers are computed from the data files (the registers and reference data), so
that they follow the seed data when it changes.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, RDFS

from s22a.ingest import writes
from s22a.namespaces import S22A, register_iri
from s22a.sparql.examples import EXAMPLES, NO_LONGER_DISTINCT
from s22a.store import RemoteStore, VirtuosoStore, get_store, is_staging
from s22a.store.base import MERGED_GRAPH
from tests.support.app import make_app
from tests.support.oxigraph import OxigraphServer
from tests.support.server import revision
from tests.support.virtuoso import VirtuosoServer

DATA = Path(__file__).resolve().parents[1] / "data"
PREFIX = "PREFIX s22a: <https://w3id.org/s22a/def/s22a#>\n"
COUNT = PREFIX + "SELECT (COUNT(*) AS ?n) { ?a a s22a:Agreement }"
MERSEYSIDE = register_iri("merseyside")
TTL = "text/turtle"


@cache
def stated() -> Graph:
    """The merge of every data file the catalogue loads (a graph: each triple once)."""
    graph = Graph()
    for path in sorted((DATA / "registers").glob("*.ttl")) + sorted(
        (DATA / "reference").glob("*.ttl")
    ):
        graph.parse(path)
    return graph


def agreements_in_the_data() -> int:
    """How many agreements the data files describe."""
    return len(set(stated().subjects(RDF.type, S22A.Agreement)))


def shared_agreement() -> tuple[str, int]:
    """An agreement more than one register file lists, and how many parties the files give it."""
    listed: dict[str, int] = {}
    for path in sorted((DATA / "registers").glob("*.ttl")):
        graph = Graph().parse(path)
        for agreement in set(graph.subjects(RDF.type, S22A.Agreement)):
            listed[str(agreement)] = listed.get(str(agreement), 0) + 1
    shared = sorted(a for a, n in listed.items() if n > 1)
    assert shared, "the seed registers share no agreement: this test needs one"
    agreement = shared[0]
    return agreement, len(set(stated().objects(URIRef(agreement), S22A.party)))


def number(client: FlaskClient, query: str) -> int:
    """The one number a one-cell SELECT gives on `/sparql`."""
    response = client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    row = response.get_json()["results"]["bindings"][0]
    return int(next(iter(row.values()))["value"])


def rows(client: FlaskClient, query: str) -> list[dict[str, str]]:
    """The solutions of a SELECT on `/sparql`, each variable's value as text."""
    response = client.get(
        "/sparql",
        query_string={"query": query},
        headers={"Accept": "application/sparql-results+json"},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return [
        {name: term["value"] for name, term in row.items()}
        for row in response.get_json()["results"]["bindings"]
    ]


@pytest.fixture(
    scope="module",
    params=[
        "embedded",
        pytest.param("oxigraph", marks=pytest.mark.slow),
        pytest.param("virtuoso", marks=pytest.mark.slow),
    ],
)
def app(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app over the seed registers on each kind of store (its own data: tests write)."""
    if request.param == "embedded":
        made = make_app()
        yield made
        with made.app_context():
            get_store().close()
        return
    if request.param == "oxigraph":
        with OxigraphServer() as server:
            made = make_app(S22A_STORE=f"sparql:{server.url}")
            yield made
            with made.app_context():
                get_store().close()
        return
    virtuoso: VirtuosoServer = request.getfixturevalue("virtuoso")
    empty(virtuoso)  # the server is shared by the session's Virtuoso tests
    made = make_app(S22A_STORE=virtuoso.spec)
    yield made
    with made.app_context():
        get_store().close()
    empty(virtuoso)


def empty(server: VirtuosoServer) -> None:
    """Drop every graph of ours from `server` (not DROP ALL: Virtuoso's system graphs stay)."""
    with VirtuosoStore(server.url, staging_max_age=0) as store:
        for graph in store._graph_names():
            store.update(f"DROP SILENT GRAPH <{graph}>")


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the module's app."""
    return app.test_client()


def test_counting_agreements_needs_no_distinct(client: FlaskClient) -> None:
    assert number(client, COUNT) == agreements_in_the_data()


def test_no_triple_is_seen_twice(client: FlaskClient) -> None:
    every = number(client, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
    distinct = number(client, "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { ?s ?p ?o } }")
    assert every == distinct


def test_an_agreement_several_registers_list_has_each_party_once(client: FlaskClient) -> None:
    agreement, parties = shared_agreement()
    found = rows(client, f"{PREFIX}SELECT ?party {{ <{agreement}> s22a:party ?party }}")
    assert len(found) == parties > 1
    stated_by = rows(
        client, f"{PREFIX}SELECT DISTINCT ?g {{ GRAPH ?g {{ <{agreement}> a s22a:Agreement }} }}"
    )
    assert len(stated_by) > 1  # GRAPH ?g still shows every register that says so


def test_graph_shows_who_said_what_and_no_hidden_graph(client: FlaskClient) -> None:
    per_graph = rows(
        client,
        PREFIX + "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?a a s22a:Agreement } } GROUP BY ?g",
    )
    names = [row["g"] for row in per_graph]
    assert MERSEYSIDE in names
    assert not [g for g in names if is_staging(g)], names  # the merged graph is not offered
    assert sum(int(row["n"]) for row in per_graph) > agreements_in_the_data()


def test_the_merged_default_graph_follows_writes(app: Flask, client: FlaskClient) -> None:
    seen = (
        PREFIX
        + 'SELECT (COUNT(*) AS ?n) { ?r <http://purl.org/dc/terms/description> "revision 7"@en }'
    )
    assert number(client, seen) == 0
    with app.app_context():
        result = writes.write(
            get_store(), MERSEYSIDE, revision("merseyside", 7), "text/turtle", source="test"
        )
    assert result.status == "updated", result
    assert number(client, seen) == 1
    assert number(client, COUNT) == agreements_in_the_data()


def test_a_force_has_its_labels_once(client: FlaskClient) -> None:
    force = URIRef("https://w3id.org/s22a/id/force/merseyside")
    query = f"SELECT ?label {{ <{force}> <{RDFS.label}> ?label }}"
    expected = set(stated().objects(force, RDFS.label))
    assert expected  # the reference data labels the force
    assert len(rows(client, query)) == len(expected)


@pytest.mark.parametrize("slug", NO_LONGER_DISTINCT)
def test_examples_count_without_distinct(client: FlaskClient, slug: str) -> None:
    # Each gives what it gave with the DISTINCT it needed while the default graph repeated rows.
    example = next(e for e in EXAMPLES if e.slug == slug)
    assert "DISTINCT" not in example.query
    with_distinct = re.sub(r"COUNT\(\?", "COUNT(DISTINCT ?", example.query)
    assert with_distinct != example.query
    plain = rows(client, example.query)
    assert plain and plain == rows(client, with_distinct)


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote_store(request: pytest.FixtureRequest) -> Iterator[RemoteStore]:
    """An empty remote store of each kind."""
    if request.param == "virtuoso":
        server: VirtuosoServer = request.getfixturevalue("virtuoso")
        empty(server)
        with VirtuosoStore(server.url) as store:
            yield store
        empty(server)
        return
    with OxigraphServer() as oxigraph, RemoteStore(oxigraph.url) as store:
        yield store


def merged_triples(store: RemoteStore) -> set[tuple[str, ...]]:
    """The triples of the store's merged graph, as N-Triples terms."""
    query = "SELECT ?s ?p ?o { ?s ?p ?o }"
    return {
        (row["s"].n3(), row["p"].n3(), row["o"].n3())
        for row in store.select(query, default_graph=[MERGED_GRAPH])
    }


@pytest.mark.slow
def test_the_merged_graph_keeps_a_triple_while_any_graph_states_it(
    remote_store: RemoteStore,
) -> None:
    shared = "<urn:x:a> <urn:x:p> <urn:x:b> ."
    remote_store.replace_graph("urn:g:one", f"{shared}\n<urn:x:a> <urn:x:q> 1 .".encode(), TTL)
    remote_store.replace_graph("urn:g:two", shared.encode(), TTL)
    triple = ("<urn:x:a>", "<urn:x:p>", "<urn:x:b>")
    assert triple in merged_triples(remote_store)
    remote_store.replace_graph("urn:g:one", b"<urn:x:a> <urn:x:q> 2 .", TTL)  # two still states it
    merged = merged_triples(remote_store)
    assert triple in merged
    assert not [t for t in merged if t[2].startswith('"1"')]  # the value one dropped is gone
    remote_store.drop_graph("urn:g:two")  # now nobody does
    assert triple not in merged_triples(remote_store)
    assert MERGED_GRAPH not in remote_store.graphs()  # hidden, like a staging graph


@pytest.mark.slow
def test_two_registers_written_at_once_leave_the_merged_graph_their_merge() -> None:
    # Two writers put the shared triple in their graphs and take it out again, at the same
    # moment, round after round: on a snapshot-isolated server two removals side by side would
    # each see the other graph still stating it and keep it (or two additions and a removal
    # lose it). The merged graph's lock orders them; after each round it is the graphs' merge.
    shared = "<urn:x:a> <urn:x:p> <urn:x:b> ."
    graphs = ("urn:g:one", "urn:g:two")
    with OxigraphServer() as oxigraph, RemoteStore(oxigraph.url) as store:
        clients = [RemoteStore(oxigraph.url) for _ in graphs]  # one each, as two processes
        start = threading.Barrier(len(graphs))

        def write(client: RemoteStore, graph: str, n: int) -> None:
            own = f"<{graph}> <urn:x:n> {n} ."
            start.wait(timeout=60)  # both updates go at once
            client.replace_graph(graph, f"{shared}\n{own}".encode() if n % 2 else own.encode(), TTL)

        try:
            with ThreadPoolExecutor(len(graphs)) as pool:
                for n in range(30):
                    for done in [
                        pool.submit(write, c, g, n) for c, g in zip(clients, graphs, strict=True)
                    ]:
                        done.result(timeout=120)
                    stated = {
                        (row["s"].n3(), row["p"].n3(), row["o"].n3())
                        for row in store.select(
                            "SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } }"
                        )
                    }
                    assert merged_triples(store) == stated, n
        finally:
            for client in clients:
                client.close()
