"""The storage layer, every behaviour on every backend: embedded on disk, in memory, and remote
against a real ``oxigraph serve`` and a real Virtuoso 7.2; plus kill -9 crash tests of
`replace_graph`, and Virtuoso's dialect (its system graphs, its result cap, its literals)."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pyoxigraph
import pytest
import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

import s22a.store.base
from s22a.store import (
    OxigraphStore,
    SharedOxigraphStore,
    Store,
    StoreDataError,
    StoreError,
    StoreQueryError,
    StoreUnavailable,
    get_store,
    init_app,
    open_store,
)
from s22a.store.base import MERGED_GRAPH
from s22a.store.oxigraph import FLUSH_BYTES
from s22a.store.remote import RemoteStore
from s22a.store.virtuoso import VirtuosoStore
from tests.support.oxigraph import OxigraphServer, free_port
from tests.support.virtuoso import TYPICAL_MAX_ROWS, VirtuosoServer, virtuoso_missing

EX = "http://example.org/"
G1, G2, G3 = f"{EX}graph/1", f"{EX}graph/2", f"{EX}graph/3"

TURTLE = b"""@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:agreement ex:title "Joint firearms unit"@en ;
    ex:signed "2021-03-04"^^xsd:date ;
    ex:parties 3 ;
    ex:note "plain" ;
    ex:contact [ ex:name "Duty officer" ] ;
    ex:self <> .
"""
NTRIPLES = b'<http://example.org/b> <http://example.org/p> "two" .\n'
RDFXML = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:ex="http://example.org/">
  <rdf:Description rdf:about="http://example.org/c"><ex:p>three</ex:p></rdf:Description>
</rdf:RDF>
"""


def expected_g1() -> rdflib.Graph:
    return rdflib.Graph().parse(data=TURTLE, format="turtle", publicID=G1)


def load_three(store: Store) -> None:
    assert store.replace_graph(G1, TURTLE, "text/turtle") == 7
    assert store.replace_graph(G2, NTRIPLES) == 1
    assert store.replace_graph(G3, RDFXML, "application/rdf+xml") == 1


def staging_iri(graph: str, created: float | None = None) -> str:
    stamp = int(time.time() if created is None else created)
    return f"{graph}#s22a-staging-{stamp}-{uuid.uuid4().hex}"


def raw_graph_names(store: Store) -> list[str]:
    """All named graphs, staging ones included, asking the backend directly (but for the
    merged graph a remote store keeps: tests/test_default_graph.py checks that one)."""
    if isinstance(store, VirtuosoStore):
        names = store._graph_names()  # Virtuoso's own system graphs left out
    elif isinstance(store, RemoteStore):
        names = _remote_graph_names(store.query_url.removesuffix("/query"))
    elif isinstance(store, SharedOxigraphStore):
        names = [g.value for g in store._reader()._db().named_graphs()]
    else:
        names = [g.value for g in store._db().named_graphs()]
    return sorted(n for n in names if n != MERGED_GRAPH)


def reopened(store: Store, **options) -> Store:
    """A new store object of the same kind on the same backend."""
    if isinstance(store, VirtuosoStore):
        return VirtuosoStore(store.query_url.removesuffix("/sparql"), **options)
    if isinstance(store, RemoteStore):
        return RemoteStore(store.query_url.removesuffix("/query"), **options)
    if isinstance(store, SharedOxigraphStore):
        return SharedOxigraphStore(store.path)
    assert isinstance(store, OxigraphStore)
    return OxigraphStore(store.path)


def _remote_graph_names(url: str) -> list[str]:
    body = urllib.parse.urlencode({"query": "SELECT ?g { GRAPH ?g { } }"}).encode()
    request = urllib.request.Request(
        f"{url}/query", data=body, headers={"Accept": "application/sparql-results+json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        rows = json.load(response)["results"]["bindings"]
    return sorted(row["g"]["value"] for row in rows)


# -- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server():
    with OxigraphServer() as running:
        yield running


def empty_virtuoso(server: VirtuosoServer) -> VirtuosoStore:
    """A store on `server` with every graph of ours dropped (not DROP ALL: Virtuoso's own
    system graphs must stay). Requests may take minutes: a write of 15,000 triples on Virtuoso
    takes seconds to tens of seconds (the merged graph too), and these tests are not of speed."""
    store = VirtuosoStore(server.url, staging_max_age=0, timeout=600)
    for graph in store._graph_names():
        store.update(f"DROP SILENT GRAPH <{graph}>")
    return store


@pytest.fixture(
    params=["disk", "shared", "memory", "remote", pytest.param("virtuoso", marks=pytest.mark.slow)]
)
def store(request, tmp_path):
    if request.param == "shared":  # one of the processes of `s22a serve --workers N`
        (tmp_path / "store").mkdir()
        opened: Store = SharedOxigraphStore(tmp_path / "store")
    elif request.param == "remote":
        url = request.getfixturevalue("server").url
        with RemoteStore(url) as cleaner:
            cleaner.update("DROP ALL")
        opened = RemoteStore(url)
    elif request.param == "virtuoso":
        empty_virtuoso(request.getfixturevalue("virtuoso")).close()
        opened = VirtuosoStore(request.getfixturevalue("virtuoso").url)
    else:
        opened = OxigraphStore(tmp_path / "store" if request.param == "disk" else None)
    yield opened
    opened.close()


@pytest.fixture
def reopen(store):
    """Close `store` and open the same data again (skips the in-memory backend)."""
    opened: list[Store] = []

    def _reopen(**options) -> Store:
        if isinstance(store, OxigraphStore) and store.path is None:
            pytest.skip("an in-memory store cannot be reopened")
        store.close()
        new = reopened(store, **options)
        opened.append(new)
        return new

    yield _reopen
    for new in opened:
        new.close()


# -- graphs ----------------------------------------------------------------------------------


def test_replace_list_and_drop_graphs(store):
    assert store.graphs() == []
    load_three(store)
    assert store.graphs() == [G1, G2, G3]
    assert isomorphic(store.graph_triples(G1), expected_g1())
    assert store.graph_triples(G1).identifier == URIRef(G1)

    new = b'<http://example.org/b> <http://example.org/p> "new", "newer" .\n'
    assert store.replace_graph(G2, new, "text/turtle") == 2
    objects = {str(o) for o in store.graph_triples(G2).objects()}
    assert objects == {"new", "newer"}

    store.drop_graph(G2)
    store.drop_graph(f"{EX}never-existed")
    assert store.graphs() == [G1, G3]
    assert len(store.graph_triples(G2)) == 0
    assert store.replace_graph(G2, b"") == 0  # an empty replacement leaves an empty graph
    assert len(store.graph_triples(G2)) == 0


def test_a_replacement_leaves_exactly_the_new_graph_whatever_it_shares_with_the_old(store):
    # The embedded store writes only the triples that differ (`s22a.store.patch`):
    # kept, changed, removed and added triples, blank nodes (which never match) and an empty
    # version must all come out as a plain replacement would leave them.
    old = (
        b"@prefix ex: <http://example.org/> .\n"
        b'ex:a ex:p "kept", "dropped" ; ex:q 1 ; ex:r [ ex:v "old blank" ] .\n'
        b"ex:b ex:p ex:a .\n"
    )
    new = (
        b"@prefix ex: <http://example.org/> .\n"
        b'ex:a ex:p "kept", "added" ; ex:q 01 ; ex:r [ ex:v "old blank" ] .\n'
        b"ex:c ex:p ex:a .\n"
    )
    store.replace_graph(G1, old, "text/turtle")
    store.replace_graph(G2, NTRIPLES)
    assert store.replace_graph(G1, new, "text/turtle") == 6
    assert isomorphic(store.graph_triples(G1), rdflib.Graph().parse(data=new, format="turtle"))
    assert {str(o) for o in store.graph_triples(G2).objects()} == {"two"}  # untouched
    assert store.replace_graph(G1, new, "text/turtle") == 6  # the same again: still it
    assert isomorphic(store.graph_triples(G1), rdflib.Graph().parse(data=new, format="turtle"))
    assert store.replace_graph(G1, b"") == 0
    assert len(store.graph_triples(G1)) == 0  # (only the embedded store lists empty graphs)
    assert set(raw_graph_names(store)) <= {G1, G2}  # no staging graph left behind


def test_a_new_graph_written_whole_and_a_stored_one_replaced(store):
    # `write_new_graph` (the embedded store's bulk loader, for a graph not stored yet) leaves
    # what `replace_graph` would: the graph, listed even when empty; a stored graph replaced.
    assert store.write_new_graph(G1, TURTLE, "text/turtle") == 7
    assert isomorphic(store.graph_triples(G1), expected_g1())
    assert store.graph_triples(G1).identifier == URIRef(G1)
    assert store.write_new_graph(G1, NTRIPLES) == 1  # stored already: replaced
    assert {str(o) for o in store.graph_triples(G1).objects()} == {"two"}
    assert store.write_new_graph(G2, RDFXML, "application/rdf+xml") == 1
    assert store.graphs() == [G1, G2]
    with pytest.raises(StoreDataError):
        store.write_new_graph(G1, b"<http://example.org/a> <http://example.org/p> ")
    assert {str(o) for o in store.graph_triples(G1).objects()} == {"two"}  # stored: kept
    with pytest.raises(ValueError):
        store.write_new_graph(f"{G1}#s22a-staging-1-{'0' * 32}", NTRIPLES)
    assert set(raw_graph_names(store)) == {G1, G2}


def test_replace_rejects_bad_data_and_keeps_the_old_graph(store):
    store.replace_graph(G1, TURTLE, "text/turtle")
    with pytest.raises(StoreDataError) as info:
        store.replace_graph(G1, b"<http://example.org/a> <http://example.org/p> ", "text/turtle")
    assert isinstance(info.value, ValueError) and str(info.value)
    assert isomorphic(store.graph_triples(G1), expected_g1())
    assert store.graphs() == [G1]
    assert raw_graph_names(store) == [G1]  # no staging graph left behind


@pytest.mark.parametrize(
    ("graph", "media_type"),
    [
        ("not an iri", "text/turtle"),
        ("relative/graph", "text/turtle"),
        (f"{G1}#s22a-staging-1-{'0' * 32}", "text/turtle"),
        (G1, "application/n-quads"),
        (G1, "text/html"),
    ],
)
def test_replace_rejects_bad_arguments(store, graph, media_type):
    with pytest.raises(ValueError):
        store.replace_graph(graph, NTRIPLES, media_type)
    assert store.graphs() == []


def test_staging_graphs_are_hidden_and_dropped_on_open(store, reopen):
    store.replace_graph(G1, NTRIPLES)
    young, old = staging_iri(G1), staging_iri(G2, created=time.time() - 7200)
    for name in (young, old):
        store.update(f'INSERT DATA {{ GRAPH <{name}> {{ <{EX}b> <{EX}p> "staged" }} }}')
    assert store.graphs() == [G1]
    assert store.select(f"SELECT ?o {{ <{EX}b> <{EX}p> ?o }}") == [{"o": Literal("two")}]
    # (Virtuoso binds no ?g for GRAPH ?g { }.)
    assert store.select("SELECT ?g { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g") == [{"g": URIRef(G1)}]
    dumped = b"".join(store.dump())
    assert b"staged" not in dumped and b"two" in dumped
    assert store.ask("ASK { ?s ?p 'staged' }", default_graph=[young])  # explicit: visible

    again = reopen()
    assert again.graphs() == [G1]
    assert not again.ask("ASK { ?s ?p ?o }", default_graph=[old])
    # The remote store keeps young staging graphs (their loader may still be running).
    assert again.ask("ASK { ?s ?p ?o }", default_graph=[young]) == isinstance(again, RemoteStore)
    if isinstance(again, RemoteStore):
        again = reopen(staging_max_age=0)
        assert not again.ask("ASK { ?s ?p ?o }", default_graph=[young])


# -- queries ---------------------------------------------------------------------------------


def test_union_default_graph_and_explicit_dataset(store):
    load_three(store)
    q = "SELECT ?s WHERE { ?s <http://example.org/p> ?o } ORDER BY ?s"
    assert [r["s"] for r in store.select(q)] == [URIRef(f"{EX}b"), URIRef(f"{EX}c")]
    assert [r["s"] for r in store.select(q, default_graph=[G2])] == [URIRef(f"{EX}b")]
    assert [r["s"] for r in store.select(q, default_graph=[G2, G3])] == [
        URIRef(f"{EX}b"),
        URIRef(f"{EX}c"),
    ]
    assert store.select(q, default_graph=[]) == []
    assert store.select(q, named_graphs=[G2]) == []  # default graph empty when not given

    g = "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g"
    assert [r["g"] for r in store.select(g)] == [URIRef(G1), URIRef(G2), URIRef(G3)]
    assert [r["g"] for r in store.select(g, named_graphs=[G3, G1])] == [URIRef(G1), URIRef(G3)]
    assert store.select(g, default_graph=[G1]) == []  # no named graphs when not given
    both = store.select(g, default_graph=[G1], named_graphs=[G2])
    assert [r["g"] for r in both] == [URIRef(G2)]

    fixed = f"SELECT ?o WHERE {{ GRAPH <{G2}> {{ ?s ?p ?o }} }}"
    assert store.select(fixed) == [{"o": Literal("two")}]
    assert store.select(fixed, named_graphs=[G3]) == []


def test_select_returns_rdflib_terms(store):
    store.replace_graph(G1, TURTLE, "text/turtle")
    rows = store.select(
        "PREFIX ex: <http://example.org/> SELECT ?p ?o ?n WHERE { "
        "ex:agreement ?p ?o OPTIONAL { ?o ex:name ?n } }"
    )
    found = {str(r["p"]).removeprefix(EX): r for r in rows}
    assert found["title"]["o"] == Literal("Joint firearms unit", lang="en")
    assert found["signed"]["o"] == Literal("2021-03-04", datatype=XSD.date)
    assert found["parties"]["o"] == Literal("3", datatype=XSD.integer)
    assert found["note"]["o"] == Literal("plain")
    assert found["note"]["o"].datatype is None
    assert found["self"]["o"] == URIRef(G1)  # relative IRIs resolve against the graph IRI
    assert isinstance(found["contact"]["o"], BNode)
    assert found["contact"]["n"] == Literal("Duty officer")
    assert "n" not in found["title"]  # unbound variables are absent
    assert all(isinstance(r["p"], URIRef) for r in rows)

    bnode = found["contact"]["o"]
    by_label = store.select("SELECT ?o WHERE { ?s <http://example.org/contact> ?o }")
    assert by_label == [{"o": bnode}]  # the same blank node label across queries


def test_select_text_is_the_text_of_select(store):
    store.replace_graph(G1, TURTLE, "text/turtle")
    query = (
        "PREFIX ex: <http://example.org/> SELECT ?p ?o ?n WHERE { "
        "ex:agreement ?p ?o OPTIONAL { ?o ex:name ?n } } ORDER BY ?p"
    )
    texts = store.select_text(query)
    terms = store.select(query)
    assert texts == [{name: str(value) for name, value in row.items()} for row in terms]
    found = {row["p"].removeprefix(EX): row for row in texts}
    assert found["title"] == {"p": EX + "title", "o": "Joint firearms unit"}
    assert found["signed"]["o"] == "2021-03-04" and found["contact"]["n"] == "Duty officer"


def test_ask_and_construct(store):
    load_three(store)
    assert store.ask("ASK { <http://example.org/c> ?p 'three' }")
    assert not store.ask("ASK { <http://example.org/c> ?p 'three' }", default_graph=[G1])
    built = store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}")
    assert isomorphic(built, expected_g1())
    described = store.construct(f"DESCRIBE <{EX}c>")
    assert set(described) == {(URIRef(f"{EX}c"), URIRef(f"{EX}p"), Literal("three"))}

    with pytest.raises(StoreQueryError, match="SELECT"):
        store.select("ASK { ?s ?p ?o }")
    with pytest.raises(StoreQueryError, match="ASK"):
        store.ask("SELECT * { ?s ?p ?o }")
    with pytest.raises(StoreQueryError, match="CONSTRUCT"):
        store.construct("SELECT * { ?s ?p ?o }")


SELECT_G2 = "SELECT ?s ?o WHERE { ?s <http://example.org/p> ?o }"
CONSTRUCT_G1 = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{G1}> {{ ?s ?p ?o }} }}"


@pytest.mark.parametrize(
    ("media_type", "check"),
    [
        ("application/sparql-results+json", lambda body: json.loads(body)["results"]["bindings"]),
        (
            "application/sparql-results+xml",
            lambda body: ET.fromstring(body).iter("{http://www.w3.org/2005/sparql-results#}result"),
        ),
        ("text/csv", lambda body: body.decode().splitlines()[1:]),
        ("text/tab-separated-values", lambda body: body.decode().splitlines()[1:]),
    ],
)
def test_query_serialized_results(store, media_type, check):
    store.replace_graph(G2, NTRIPLES)
    body, content_type = store.query_serialized(SELECT_G2, media_type)
    assert content_type.split(";")[0] == media_type
    assert isinstance(body, bytes) and len(list(check(body))) == 1
    assert b"two" in body
    body, _ = store.query_serialized(SELECT_G2, media_type, default_graph=[G1])
    assert len(list(check(body))) == 0


def test_query_serialized_ask(store):
    body, content_type = store.query_serialized("ASK { }", "application/sparql-results+json")
    assert content_type.startswith("application/sparql-results+json")
    assert json.loads(body)["boolean"] is True


@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [("text/turtle", "turtle"), ("application/n-triples", "nt"), ("application/rdf+xml", "xml")],
)
def test_query_serialized_graphs(store, media_type, rdflib_format):
    store.replace_graph(G1, TURTLE, "text/turtle")
    body, content_type = store.query_serialized(CONSTRUCT_G1, media_type)
    assert content_type.split(";")[0] == media_type
    assert isomorphic(rdflib.Graph().parse(data=body, format=rdflib_format), expected_g1())


def test_query_serialized_falls_back_and_rejects_unknown_types(store):
    store.replace_graph(G2, NTRIPLES)
    body, content_type = store.query_serialized(SELECT_G2, "text/turtle")
    assert content_type.startswith("application/sparql-results+json") and json.loads(body)
    body, content_type = store.query_serialized(CONSTRUCT_G1, "text/csv")
    assert content_type.startswith("text/turtle")
    with pytest.raises(ValueError, match="media type"):
        store.query_serialized(SELECT_G2, "text/html")


def test_update(store):
    meta = f"{EX}meta"
    store.update(f'INSERT DATA {{ GRAPH <{meta}> {{ <{EX}register> <{EX}loaded> "yes" }} }}')
    assert store.graphs() == [meta]
    assert store.ask(f"ASK {{ <{EX}register> <{EX}loaded> 'yes' }}")
    store.update(f"DELETE WHERE {{ GRAPH <{meta}> {{ ?s ?p ?o }} }}")
    assert not store.ask(f"ASK {{ <{EX}register> <{EX}loaded> 'yes' }}")


# -- errors ----------------------------------------------------------------------------------

BAD_QUERY = "SELECT ?s WHERE { ?s ?p }"
BAD_UPDATE = "INSERT DATA { <http://example.org/a> }"


def engine_message(text: str, update: bool = False) -> str:
    """What Oxigraph itself says about `text`."""
    engine = pyoxigraph.Store()
    with pytest.raises(SyntaxError) as info:
        if update:
            engine.update(text)
        else:
            engine.query(text)
    return info.value.msg


def test_syntax_errors_carry_the_engine_message(store):
    # Virtuoso's own parser speaks for itself ("SPARQL compiler, line 1: syntax error at...").
    virtuoso = isinstance(store, VirtuosoStore)
    expected = engine_message(BAD_QUERY)
    calls = [
        lambda: store.select(BAD_QUERY),
        lambda: store.ask(BAD_QUERY),
        lambda: store.construct(BAD_QUERY),
        lambda: store.query_serialized(BAD_QUERY, "text/csv"),
        lambda: store.select(BAD_QUERY, default_graph=[G1]),
    ]
    for call in calls:
        with pytest.raises(StoreQueryError) as info:
            call()
        if virtuoso:
            assert "syntax error" in str(info.value)
        else:
            assert str(info.value) == expected
        assert isinstance(info.value, ValueError)
    with pytest.raises(StoreQueryError) as info:
        store.update(BAD_UPDATE)
    if not virtuoso:
        assert str(info.value) == engine_message(BAD_UPDATE, update=True)
    with pytest.raises(StoreQueryError):
        store.select("SELECT * { ?s ?p ?o }", default_graph=["not an IRI"])


def test_closed_store_refuses_work(store):
    store.close()
    store.close()  # closing twice is harmless
    with pytest.raises(StoreError, match="closed"):
        store.graphs()
    with pytest.raises(StoreError, match="closed"):
        store.select("SELECT * { }")


def test_remote_unreachable():
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreUnavailable, match="127.0.0.1"):
        RemoteStore(url, timeout=5)
    with pytest.raises(StoreUnavailable):
        open_store(f"sparql:{url}")


def test_remote_server_goes_away():
    with OxigraphServer() as gone:
        remote = RemoteStore(gone.url, timeout=5)
        remote.replace_graph(G2, NTRIPLES)
    with remote:
        for call in (
            remote.graphs,
            lambda: remote.select("SELECT * { }"),
            lambda: remote.query_serialized("SELECT * { }", "text/csv"),
            lambda: remote.update(BAD_UPDATE),
            lambda: remote.replace_graph(G1, NTRIPLES),
            lambda: remote.dump(),
        ):
            with pytest.raises(StoreUnavailable):
                call()


def test_remote_requires_a_union_default_graph():
    with OxigraphServer(union_default_graph=False) as plain:
        with RemoteStore(plain.url) as remote:
            remote.replace_graph(G2, NTRIPLES)
        with pytest.raises(StoreError, match="union"):
            RemoteStore(plain.url)


# -- dump ------------------------------------------------------------------------------------


# rdflib 7.6's own Dataset.parse and TriG parser use its deprecated ConjunctiveGraph API.
@pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")
@pytest.mark.parametrize(
    ("media_type", "rdflib_format"),
    [("application/n-quads", "nquads"), ("application/trig", "trig")],
)
def test_dump_round_trips(store, monkeypatch, media_type, rdflib_format):
    load_three(store)
    monkeypatch.setattr(s22a.store.base, "_DUMP_BATCH", 4)  # several chunks, graphs split
    chunks = list(store.dump(media_type))
    assert len(chunks) > 1 and all(isinstance(c, bytes) for c in chunks)
    dataset = rdflib.Dataset()
    dataset.parse(data=b"".join(chunks), format=rdflib_format)
    names = {str(g.identifier) for g in dataset.graphs() if len(g)}
    assert names == {G1, G2, G3}
    assert isomorphic(dataset.graph(URIRef(G1)), expected_g1())
    assert set(dataset.graph(URIRef(G3))) == {
        (URIRef(f"{EX}c"), URIRef(f"{EX}p"), Literal("three"))
    }
    with pytest.raises(ValueError, match="media type"):
        store.dump("text/turtle")


def test_dump_of_an_empty_store(store):
    assert b"".join(store.dump("application/trig")) == b""


# -- concurrency and crashes -----------------------------------------------------------------

CRASH_GRAPH = f"{EX}graph/crash"
# A kill lands at a random moment of the replacement loop, so what is tested (the graph holds
# one whole version after any kill) does not depend on the size: 2,000 triples still take
# hundreds of milliseconds a replacement, in the same steps, as 10,000 took seconds.
CRASH_SIZE = 2_000


def version_triples(version: str, size: int) -> bytes:
    return "".join(f'<{EX}s{i}> <{EX}v{version}> "{i}" .\n' for i in range(size)).encode()


def graph_version(store: Store, graph: str) -> dict[str, int]:
    """{version: triple count} of `graph`, versions being the predicates vA and vB."""
    rows = store.select(
        f"SELECT ?p (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }} GROUP BY ?p"
    )
    return {str(r["p"]).removeprefix(f"{EX}v"): int(r["n"]) for r in rows}


def test_readers_see_old_or_new_during_replace(store):
    if isinstance(store, RemoteStore):
        pytest.skip("remote stores hide staging graphs on a best-effort basis only")
    size = 3_000
    data = {v: version_triples(v, size) for v in "AB"}
    store.replace_graph(CRASH_GRAPH, data["A"])
    stop, failures = threading.Event(), []

    def writer() -> None:
        try:
            while not stop.is_set():
                for v in "BA":
                    store.replace_graph(CRASH_GRAPH, data[v])
        except Exception as error:  # pragma: no cover - reported below
            failures.append(error)

    thread = threading.Thread(target=writer)
    thread.start()
    seen = []
    try:
        # Read for 1.5 s at least, and on until both versions were seen (a busy machine may
        # take long over one replacement), within a generous deadline.
        started = time.monotonic()
        while time.monotonic() < started + 120 and (
            time.monotonic() < started + 1.5 or len({tuple(s) for s in seen}) < 2
        ):
            count = store.select("SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p")
            seen.append({str(r["p"]): int(r["n"]) for r in count})
    finally:
        stop.set()
        thread.join()
    assert not failures
    assert all(s in ({f"{EX}vA": size}, {f"{EX}vB": size}) for s in seen), seen
    assert len({tuple(s) for s in seen}) == 2, "the writer never overlapped a reader"


CHILD = r"""
import sys
from s22a.store import open_store
spec, graph, size, version = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ex = "http://example.org/"
data = {
    v: "".join(f'<{ex}s{i}> <{ex}v{v}> "{i}" .\n' for i in range(size)).encode() for v in "AB"
}
shared = sys.argv[5:] == ["shared"]  # as one of the processes of `s22a serve --workers N`
store = open_store(spec, timeout=600, shared=shared)  # atomicity is tested here, not speed
print("ready", flush=True)
while True:
    print("start", version, flush=True)
    store.replace_graph(graph, data[version])
    print("done", version, flush=True)
    version = "B" if version == "A" else "A"
"""


def _pump(stream, lines: queue.Queue) -> None:
    for line in stream:
        lines.put((time.monotonic(), line.decode().split()))
    lines.put(None)


# Generous: on a remote store a replacement of CRASH_SIZE triples also updates the merged graph,
# and on a loaded 2-core machine (load 19) one took over 30 s.
def _wait_for(lines: queue.Queue, word: str, seen: list, stderr, timeout: float = 120) -> float:
    """Wait for the child to print `word`; return when it did. Consumed lines go to `seen`."""
    while True:
        try:
            item = lines.get(timeout=timeout)
        except queue.Empty:
            pytest.fail(f"the child never said {word!r}")
        if item is None:
            stderr.seek(0)
            pytest.fail(f"the child died before {word!r}:\n{stderr.read().decode()}")
        seen.append(item[1])
        if item[1][0] == word:
            return item[0]


def crash_replacements(
    spec: str, check, tmp_path: Path, iterations: int, strict: bool, shared: bool = False
) -> None:
    """Kill -9 a child looping `replace_graph` on `spec` (opened `shared`) at random moments,
    then `check`."""
    server_dir = str(Path(s22a.store.__file__).parents[2])
    path = os.pathsep.join(p for p in (server_dir, os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "PYTHONPATH": path}
    rng = random.Random()
    observed: str | None = None
    cycle = 0.0
    for iteration in range(iterations):
        first = "B" if observed == "A" else "A"
        argv = [sys.executable, "-c", CHILD, spec, CRASH_GRAPH, str(CRASH_SIZE), first]
        argv += ["shared"] if shared else []
        with (
            open(tmp_path / f"child-{iteration}.err", "w+b") as stderr,
            subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=stderr, env=env) as child,
        ):
            lines: queue.Queue = queue.Queue()
            events: list[list[str]] = []
            reader = threading.Thread(target=_pump, args=(child.stdout, lines))
            reader.start()
            try:
                _wait_for(lines, "ready", events, stderr)
                if observed is None:  # a first load, then time a replacement of a graph
                    _wait_for(lines, "done", events, stderr)
                    began = _wait_for(lines, "start", events, stderr)
                    cycle = _wait_for(lines, "done", events, stderr) - began
                delay = rng.uniform(0, 1.3 * max(cycle, 0.2))
                time.sleep(delay)
            finally:
                child.send_signal(signal.SIGKILL)
                child.wait()
                reader.join()
        while (item := lines.get_nowait()) is not None:
            events.append(item[1])
        done, started = observed, None
        for word, *rest in events:
            if not rest:
                continue  # the line the kill cut short
            if word == "start":
                started = rest[0]
            elif word == "done":
                done, started = rest[0], None
        assert done is not None, "the first replacement never finished"
        counts = check()
        assert counts in ({"A": CRASH_SIZE}, {"B": CRASH_SIZE}), (iteration, delay, counts)
        observed = next(iter(counts))
        if strict:  # the graph holds the last finished version or the one being written
            assert observed in {done, started}, (iteration, delay, events, counts)


@pytest.mark.slow
@pytest.mark.parametrize("shared", [False, True], ids=["alone", "shared"])
def test_crash_during_replace_embedded(tmp_path, shared):
    path = tmp_path / "store"

    def check() -> dict[str, int]:
        with OxigraphStore(path) as store:  # the killed child's locks went with it
            counts = graph_version(store, CRASH_GRAPH)
        raw = pyoxigraph.Store(str(path))  # stale staging graphs were dropped on open
        names = [g.value for g in raw.named_graphs()]
        del raw
        assert names == [CRASH_GRAPH]
        return counts

    crash_replacements(f"oxigraph:{path}", check, tmp_path, iterations=6, strict=True,
                       shared=shared)  # fmt: skip


@pytest.mark.slow
def test_crash_during_replace_remote(server, tmp_path):
    with RemoteStore(server.url) as cleaner:
        cleaner.update("DROP ALL")

    def check() -> dict[str, int]:
        with RemoteStore(server.url) as store:  # young staging graphs stay, hidden
            assert store.graphs() == [CRASH_GRAPH]
            return graph_version(store, CRASH_GRAPH)

    # The server may still be running a killed client's MOVE: only all-A or all-B is checked.
    crash_replacements(f"sparql:{server.url}", check, tmp_path, iterations=6, strict=False)
    # A killed client's PUT or MOVE may still be finishing on the server, so the staging graphs
    # may take a moment to settle; once they have, opening with staging_max_age=0 drops them.
    deadline = time.monotonic() + 60  # generous: a busy machine
    while True:
        with RemoteStore(server.url, staging_max_age=0) as store:
            assert store.graphs() == [CRASH_GRAPH]
        if raw_graph_names(store) == [CRASH_GRAPH] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert raw_graph_names(store) == [CRASH_GRAPH]  # (the merged graph is no staging graph)


@pytest.mark.slow
def test_crash_during_replace_virtuoso(virtuoso, tmp_path):
    empty_virtuoso(virtuoso).close()

    def check() -> dict[str, int]:
        # The killed client's update may still be running in Virtuoso, whose COPY shows the
        # graph part-filled to readers meanwhile (a run read 744 of 2,000): the graph must come
        # to hold one whole version, and a part left for good fails after the deadline.
        deadline = time.monotonic() + 60
        while True:
            with VirtuosoStore(virtuoso.url) as store:  # young staging graphs stay, hidden
                assert store.graphs() == [CRASH_GRAPH]
                counts = graph_version(store, CRASH_GRAPH)
            if list(counts.values()) == [CRASH_SIZE] or time.monotonic() > deadline:
                return counts
            time.sleep(0.2)

    # As on Oxigraph's server, a killed client's update may still be finishing: all-A or all-B.
    crash_replacements(virtuoso.spec, check, tmp_path, iterations=3, strict=False)
    # The last killed client's update may still be running in Virtuoso, and its COPY empties
    # the graph before it fills it again: wait until one whole version has stood for a second
    # before dropping staging graphs, young ones included (one CI run saw no graph at all).
    deadline, settled = time.monotonic() + 120, []
    while len(settled) < 2 or settled[-1] != settled[-2]:
        with VirtuosoStore(virtuoso.url) as store:
            state = (store.graphs(), graph_version(store, CRASH_GRAPH))
        settled = [*settled, state] if list(state[1].values()) == [CRASH_SIZE] else []
        assert time.monotonic() < deadline, f"no whole version stood still: {state}"
        time.sleep(1)
    deadline = time.monotonic() + 15
    while True:
        with VirtuosoStore(virtuoso.url, staging_max_age=0) as store:
            assert store.graphs() == [CRASH_GRAPH]
            names = raw_graph_names(store)  # (the merged graph is no staging graph)
        if names == [CRASH_GRAPH] or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert names == [CRASH_GRAPH]


# -- Virtuoso's dialect ----------------------------------------------------------------------


@pytest.mark.slow
def test_virtuoso_hides_its_system_graphs(virtuoso):
    with empty_virtuoso(virtuoso) as store:
        assert store.graphs() == []
        assert not store.ask("ASK { ?s ?p ?o }")  # its own virtrdf# triples are not ours
        assert b"".join(store.dump()) == b""
        store.replace_graph(G2, NTRIPLES)
        assert store.select("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }") == [
            {"n": Literal("1", datatype=XSD.integer)}
        ]


@pytest.mark.slow
def test_virtuoso_graphs_larger_than_a_typical_result_cap_are_read_whole(virtuoso):
    """A typical virtuoso.ini cuts results at 10,000 rows, silently; this store reads a graph
    of 15,000 triples whole (through replace, graph_triples and the dump) on a raised cap."""
    size = TYPICAL_MAX_ROWS + 5_000
    with empty_virtuoso(virtuoso) as store:
        assert store.replace_graph(CRASH_GRAPH, version_triples("A", size)) == size
        assert len(store.graph_triples(CRASH_GRAPH)) == size
        dumped = b"".join(store.dump())
        assert dumped.count(b"\n") == size
        assert graph_version(store, CRASH_GRAPH) == {"A": size}


@pytest.mark.slow
def test_virtuoso_with_a_typical_result_cap_is_refused_and_never_read_in_part():
    """On a typical ini (10,000 rows) the store will not open; made to (a lower `min_rows`),
    a graph of 15,000 triples is an error to read, never 10,000 of them taken for the whole."""
    size = TYPICAL_MAX_ROWS + 5_000
    if virtuoso_missing():
        pytest.skip(virtuoso_missing())
    with VirtuosoServer(max_rows=TYPICAL_MAX_ROWS) as typical:
        with pytest.raises(StoreError, match="ResultSetMaxRows"):
            open_store(typical.spec)
        # A first write of 15,000 triples to a new Virtuoso takes about 20 s (the merged graph
        # too): more than the default request timeout on a loaded machine.
        with VirtuosoStore(typical.url, min_rows=TYPICAL_MAX_ROWS // 2, timeout=600) as store:
            assert store.replace_graph(CRASH_GRAPH, version_triples("A", size)) == size
            for read in (
                lambda: store.graph_triples(CRASH_GRAPH),
                lambda: b"".join(store.dump()),
                lambda: store.select(f"SELECT * {{ GRAPH <{CRASH_GRAPH}> {{ ?s ?p ?o }} }}"),
            ):
                with pytest.raises(StoreError, match="cut its answer short at 10000 rows"):
                    read()


@pytest.mark.slow
def test_virtuoso_literals_differ_in_form_not_in_value(virtuoso):
    from s22a.history.changes import same_triples

    data = (
        b'<http://example.org/a> <http://example.org/n> "0.50"^^'
        b"<http://www.w3.org/2001/XMLSchema#decimal> .\n"
        b'<http://example.org/a> <http://example.org/t> "2026-01-01T10:00:00.5+00:00"^^'
        b"<http://www.w3.org/2001/XMLSchema#dateTime> .\n"
        b'<http://example.org/a> <http://example.org/l> "Hi"@en-GB .\n'
    )
    sent = rdflib.Graph().parse(data=data, format="nt")
    with empty_virtuoso(virtuoso) as store:
        store.replace_graph(G1, data)
        stored = store.graph_triples(G1)
    assert {o.n3() for o in stored.objects()} != {o.n3() for o in sent.objects()}
    assert '"0.5"' in {o.n3().split("^^")[0] for o in stored.objects()}  # not "0.50"
    assert same_triples(sent, stored)


# -- open_store ------------------------------------------------------------------------------


def test_open_store_specs(tmp_path, monkeypatch, server):
    monkeypatch.chdir(tmp_path)
    with open_store("oxigraph:./var/store") as store:
        assert isinstance(store, OxigraphStore)
        assert store.path == str(tmp_path / "var" / "store")
        store.replace_graph(G2, NTRIPLES)
    assert (tmp_path / "var" / "store").is_dir()
    with open_store("oxigraph:var/store") as store:
        assert store.graphs() == [G2]
    for spec in ("oxigraph:", "memory:"):
        with open_store(spec) as store:
            assert isinstance(store, OxigraphStore) and store.path is None
    with open_store(f"sparql:{server.url}") as store:
        assert isinstance(store, RemoteStore)
        assert store.query_url == f"{server.url}/query"
        assert store.update_url == f"{server.url}/update"
        assert store.store_url == f"{server.url}/store"


@pytest.mark.slow
def test_open_store_names_virtuoso(virtuoso):
    with open_store(virtuoso.spec) as store:
        assert isinstance(store, VirtuosoStore)
        assert store.query_url == store.update_url == f"{virtuoso.url}/sparql"
        assert store.store_url == f"{virtuoso.url}/sparql-graph-crud"


@pytest.mark.parametrize(
    "spec",
    ["", "oxigraph", "./var/store", "memory:/tmp/x", "sparql:", "sparql:localhost:7878", "pg:x"],
)
def test_open_store_rejects_unknown_specs(spec):
    with pytest.raises(ValueError, match=r"oxigraph:PATH.*memory:.*sparql:http://HOST:PORT"):
        open_store(spec)


def test_flask_apps_each_get_one_store():
    from flask import Flask

    apps = [Flask(__name__), Flask(__name__)]
    stores = []
    for app in apps:
        app.config["S22A_STORE"] = "memory:"
        init_app(app)
        with app.app_context():
            stores.append(get_store())
            assert get_store() is stores[-1]
    assert isinstance(stores[0], OxigraphStore) and stores[0] is not stores[1]
    for store in stores:
        store.close()


def test_an_on_disk_store_does_not_keep_every_write_in_its_log(tmp_path: Path) -> None:
    """Writes are flushed once `FLUSH_BYTES` have been written, so the write-ahead log holds
    the latest writes, not all of them: thirty rewrites of every triple of this graph leave
    about 13 times one write's log (unflushed, about 50 times; ten rewrites left 39 MB)."""
    store = OxigraphStore(tmp_path / "db")
    graph = "https://example.org/graph"

    def rows(version: int) -> bytes:
        return "".join(f'<https://example.org/s{i}> <https://example.org/p> "{i}, {version}" .\n'
                       for i in range(2000)).encode()  # fmt: skip

    def log_bytes() -> int:
        return sum(path.stat().st_size for path in (tmp_path / "db").glob("*.log"))

    store.replace_graph(graph, rows(0))
    one_write = log_bytes()
    for version in range(1, 31):
        store.replace_graph(graph, rows(version))
    assert 30 * 2 * len(rows(0)) > 4 * FLUSH_BYTES  # (each deletes and inserts every triple)
    assert {str(o) for o in store.graph_triples(graph).objects()} == {
        f"{i}, 30" for i in range(2000)
    }
    assert log_bytes() < 20 * one_write, (log_bytes(), one_write)
    store.close()


def test_concurrent_replacements_of_one_graph_leave_one_version_whole(tmp_path: Path) -> None:
    """The embedded store reads the stored graph and writes the difference: under its write
    lock, so that threads replacing one graph at once leave one of their versions, whole."""
    store = OxigraphStore(tmp_path / "db")
    graph = "https://example.org/graph"
    versions = {
        name: "".join(
            f'<https://example.org/s{i}> <https://example.org/p> "{name} {i}" .\n'
            for i in range(0, 600, 1 + n)
        ).encode()  # fmt: skip
        for n, name in enumerate("ABCDEF")
    }
    start = threading.Barrier(len(versions))

    def replace(data: bytes) -> None:
        start.wait()
        store.replace_graph(graph, data)

    for _ in range(8):  # rounds: each thread replaces the graph once, all at the same moment
        threads = [threading.Thread(target=replace, args=(data,)) for data in versions.values()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        stored = {str(o).split()[0] for o in store.graph_triples(graph).objects()}
        assert len(stored) == 1, stored
    (name,) = stored
    assert len(store.graph_triples(graph)) == versions[name].count(b"\n")
    store.close()
