"""The W3C SPARQL 1.1 Protocol test suite's cases (its manifest's entries, by name), written
here against `s22a serve` over real HTTP on 127.0.0.1, one server for the module.

The suite's own data (kasei.us files) is not ours, so each case asks the same thing of the seed
registers: the dataset cases name registers with ``default-graph-uri``/``named-graph-uri``. The
update cases (``update_*``, ``bad_update_*``) must all be refused: `/sparql` is read-only (the
README's "Querying with SPARQL"): a well-formed update gets 403, a malformed request the 4xx
the suite expects, and nothing is ever written.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlencode

import pytest
from rdflib import Graph
from SPARQLWrapper import JSON, SPARQLWrapper

from tests.support.protocol import (
    CHESHIRE,
    DIRECT,
    FORM,
    JSON_RESULTS,
    MERSEYSIDE,
    UPDATE,
    XML_RESULTS,
)
from tests.support.server import Reply, ServerProcess, request, seeded_store

LISTS = "<https://w3id.org/s22a/def/s22a#lists>"
BOTH_LIST = f"ASK {{ <{MERSEYSIDE}> {LISTS} ?a . <{CHESHIRE}> {LISTS} ?b }}"
BOTH_NAMED = (
    f"ASK {{ GRAPH <{MERSEYSIDE}> {{ ?m {LISTS} ?a }} GRAPH <{CHESHIRE}> {{ ?c {LISTS} ?b }} }}"
)
INSERT = "INSERT DATA { GRAPH <urn:protocol:test> { <urn:a> <urn:b> <urn:c> } }"
WRITTEN = "ASK { GRAPH <urn:protocol:test> { ?s ?p ?o } }"


@dataclass(frozen=True)
class Case:
    """One request and what its answer must be."""

    method: str
    params: list[tuple[str, str]] = field(default_factory=list)  # in the URL
    body: bytes | None = None
    content_type: str | None = None
    accept: str | None = None
    status: int | range = 200
    kind: str = ""  # "boolean", "tabular" or "RDF": the answer's format (mf:expectedFormat)
    answer: bool | None = None  # the boolean an ASK must give


def form(*pairs: tuple[str, str]) -> bytes:
    """A form-encoded body."""
    return urlencode(pairs).encode()


CLIENT_ERROR = range(400, 500)
QUERY_CASES = {
    "query_get": Case("GET", [("query", "ASK {}")], kind="boolean", answer=True),
    "query_post_form": Case(
        "POST", body=form(("query", "ASK {}")), content_type=FORM, kind="boolean", answer=True
    ),
    "query_post_direct": Case(
        "POST", body=b"ASK {}", content_type=DIRECT, kind="boolean", answer=True
    ),
    "query_dataset_default_graphs_get": Case(
        "GET",
        [("query", BOTH_LIST), ("default-graph-uri", MERSEYSIDE), ("default-graph-uri", CHESHIRE)],
        kind="boolean",
        answer=True,
    ),
    "query_dataset_default_graphs_post": Case(
        "POST",
        body=form(
            ("query", BOTH_LIST),
            ("default-graph-uri", MERSEYSIDE),
            ("default-graph-uri", CHESHIRE),
        ),
        content_type=FORM,
        kind="boolean",
        answer=True,
    ),
    "query_dataset_named_graphs_post": Case(
        "POST",
        body=form(
            ("query", BOTH_NAMED), ("named-graph-uri", MERSEYSIDE), ("named-graph-uri", CHESHIRE)
        ),
        content_type=FORM,
        kind="boolean",
        answer=True,
    ),
    "query_dataset_named_graphs_get": Case(
        "GET",
        [("query", BOTH_NAMED), ("named-graph-uri", MERSEYSIDE), ("named-graph-uri", CHESHIRE)],
        kind="boolean",
        answer=True,
    ),
    "query_dataset_named_graphs_only_leaves_the_default_graph_empty": Case(
        "GET",
        [("query", "ASK { ?s ?p ?o }"), ("named-graph-uri", MERSEYSIDE)],
        kind="boolean",
        answer=False,
    ),
    "query_dataset_full": Case(
        "GET",
        [
            (
                "query",
                f"ASK {{ <{MERSEYSIDE}> {LISTS} ?a GRAPH <{CHESHIRE}> {{ ?c {LISTS} ?b }} }}",
            ),
            ("default-graph-uri", MERSEYSIDE),
            ("named-graph-uri", CHESHIRE),
        ],
        kind="boolean",
        answer=True,
    ),
    # The protocol's dataset replaces the query's FROM (SPARQL 1.1 Protocol 2.1.4).
    "query_multiple_dataset": Case(
        "GET",
        [
            ("query", f"ASK FROM <{CHESHIRE}> {{ <{MERSEYSIDE}> {LISTS} ?a }}"),
            ("default-graph-uri", MERSEYSIDE),
        ],
        kind="boolean",
        answer=True,
    ),
    "query_from_without_protocol_dataset": Case(
        "GET",
        [("query", f"ASK FROM <{CHESHIRE}> {{ <{MERSEYSIDE}> {LISTS} ?a }}")],
        kind="boolean",
        answer=False,
    ),
    "query_content_type_select_xml": Case(
        "GET", [("query", "SELECT * { ?s ?p ?o } LIMIT 3")], accept=XML_RESULTS, kind="tabular"
    ),
    "query_content_type_select_json": Case(
        "GET", [("query", "SELECT * { ?s ?p ?o } LIMIT 3")], accept=JSON_RESULTS, kind="tabular"
    ),
    "query_content_type_select_csv": Case(
        "GET", [("query", "SELECT * { ?s ?p ?o } LIMIT 3")], accept="text/csv", kind="tabular"
    ),
    "query_content_type_select_tsv": Case(
        "GET",
        [("query", "SELECT * { ?s ?p ?o } LIMIT 3")],
        accept="text/tab-separated-values",
        kind="tabular",
    ),
    "query_content_type_ask": Case(
        "GET", [("query", "ASK {}")], accept=XML_RESULTS, kind="boolean", answer=True
    ),
    "query_content_type_describe": Case(
        "GET", [("query", f"DESCRIBE <{MERSEYSIDE}>")], accept="application/rdf+xml", kind="RDF"
    ),
    "query_content_type_construct": Case(
        "GET",
        [("query", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 3")],
        accept="text/turtle",
        kind="RDF",
    ),
    "bad_query_method": Case("PUT", [("query", "ASK {}")], status=CLIENT_ERROR),
    "bad_multiple_queries": Case("GET", [("query", "ASK {}"), ("query", "ASK {}")], status=400),
    "bad_query_wrong_media_type": Case(
        "POST", body=b"ASK {}", content_type="text/plain", status=CLIENT_ERROR
    ),
    "bad_query_missing_form_type": Case(
        "POST", body=form(("query", "ASK {}")), status=CLIENT_ERROR
    ),
    "bad_query_missing_direct_type": Case("POST", body=b"ASK {}", status=CLIENT_ERROR),
    "bad_query_non_utf8": Case(
        "POST",
        body='ASK { FILTER("é" = "é") }'.encode("utf-16"),
        content_type=f"{DIRECT}; charset=UTF-16",
        status=400,
    ),
    "bad_query_syntax": Case("GET", [("query", "ASK { ?s ?p ?o")], status=400),
    "bad_no_query": Case("POST", body=form(("format", "json")), content_type=FORM, status=400),
    "bad_graph_uri": Case(
        "GET", [("query", "ASK {}"), ("default-graph-uri", "not an IRI")], status=400
    ),
}
UPDATE_CASES = {
    "update_dataset_default_graph": Case(
        "POST", [("using-graph-uri", MERSEYSIDE)], body=INSERT.encode(), content_type=UPDATE
    ),
    "update_dataset_default_graphs": Case(
        "POST",
        [("using-graph-uri", MERSEYSIDE), ("using-graph-uri", CHESHIRE)],
        body=INSERT.encode(),
        content_type=UPDATE,
    ),
    "update_dataset_named_graphs": Case(
        "POST", [("using-named-graph-uri", MERSEYSIDE)], body=INSERT.encode(), content_type=UPDATE
    ),
    "update_dataset_full": Case(
        "POST",
        body=form(
            ("update", INSERT),
            ("using-graph-uri", MERSEYSIDE),
            ("using-named-graph-uri", CHESHIRE),
        ),
        content_type=FORM,
    ),
    "update_post_form": Case("POST", body=form(("update", INSERT)), content_type=FORM),
    "update_post_direct": Case("POST", body=INSERT.encode(), content_type=UPDATE),
    "update_base_uri": Case(
        "POST", body=b"BASE <http://example/> INSERT DATA { <s> <p> <o> }", content_type=UPDATE
    ),
    "bad_update_get": Case("GET", [("update", INSERT)], status=CLIENT_ERROR),
    "bad_multiple_updates": Case(
        "POST", body=form(("update", INSERT), ("update", INSERT)), content_type=FORM
    ),
    "bad_update_wrong_media_type": Case(
        "POST", body=form(("update", INSERT)), content_type="text/plain", status=CLIENT_ERROR
    ),
    "bad_update_missing_form_type": Case(
        "POST", body=form(("update", INSERT)), status=CLIENT_ERROR
    ),
    "bad_update_non_utf8": Case(
        "POST",
        body=INSERT.encode("utf-16"),
        content_type=f"{UPDATE}; charset=UTF-16",
        status=CLIENT_ERROR,
    ),
    "bad_update_syntax": Case("POST", body=b"INSERT DATA { <a> }", content_type=UPDATE),
    "bad_update_dataset_conflict": Case(
        "POST",
        [("using-graph-uri", MERSEYSIDE)],
        body=f"INSERT {{ <urn:a> <urn:b> ?o }} USING <{CHESHIRE}> WHERE {{ ?s ?p ?o }}".encode(),
        content_type=UPDATE,
    ),
    "an_update_sent_as_a_query": Case("GET", [("query", INSERT)], status=400),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """`s22a serve` on the seed registers, for the whole module."""
    cache = tmp_path_factory.getbasetemp()
    folder = tmp_path_factory.mktemp("protocol")
    store = seeded_store(cache, folder / "store")
    with ServerProcess(folder / "server", store=store) as running:
        yield running
    assert "Traceback" not in running.logs()


def send(server: ServerProcess, case: Case) -> Reply:
    """Make the case's request."""
    headers = {}
    if case.content_type:
        headers["Content-Type"] = case.content_type
    if case.accept:
        headers["Accept"] = case.accept
    path = "/sparql" + (f"?{urlencode(case.params)}" if case.params else "")
    return request(server.url, case.method, path, case.body, headers)


def kind_of(reply: Reply) -> str:
    """The suite's name for the format of an answer: boolean, tabular or RDF."""
    media_type = reply.headers.get("Content-Type", "").split(";")[0].strip()
    if media_type in ("text/csv", "text/tab-separated-values"):
        return "tabular"
    if media_type == JSON_RESULTS:
        return "boolean" if "boolean" in json.loads(reply.body) else "tabular"
    if media_type == XML_RESULTS:
        root = ET.fromstring(reply.body)
        boolean = root.find("{http://www.w3.org/2005/sparql-results#}boolean")
        return "tabular" if boolean is None else "boolean"
    fmt = {"text/turtle": "turtle", "application/rdf+xml": "xml"}.get(media_type)
    assert fmt, f"not a SPARQL result or RDF format: {media_type!r}"
    Graph().parse(data=reply.body, format=fmt)  # it parses as what it says it is
    return "RDF"


def boolean(reply: Reply) -> bool:
    """The value of a boolean result, in SPARQL JSON or XML."""
    if reply.headers.get("Content-Type", "").startswith(JSON_RESULTS):
        return bool(json.loads(reply.body)["boolean"])
    root = ET.fromstring(reply.body)
    node = root.find("{http://www.w3.org/2005/sparql-results#}boolean")
    assert node is not None and node.text in ("true", "false")
    return node.text == "true"


def check_status(reply: Reply, expected: int | range) -> None:
    """The status is the one expected (or in the range)."""
    ok = reply.status in expected if isinstance(expected, range) else reply.status == expected
    assert ok, (reply.status, reply.text[:300])


@pytest.mark.parametrize("name", QUERY_CASES)
def test_query_cases(server: ServerProcess, name: str) -> None:
    case = QUERY_CASES[name]
    reply = send(server, case)
    check_status(reply, case.status)
    if case.status == 200:
        assert kind_of(reply) == case.kind
        if case.accept:
            assert reply.headers["Content-Type"].startswith(case.accept)
        if case.answer is not None:
            assert boolean(reply) is case.answer
    else:
        assert reply.text.strip()  # a reason, not an empty answer


@pytest.mark.parametrize("name", UPDATE_CASES)
def test_update_cases_are_refused(server: ServerProcess, name: str) -> None:
    case = UPDATE_CASES[name]
    reply = send(server, case)
    check_status(reply, 403 if case.status == 200 else case.status)
    if reply.status == 403 or name == "an_update_sent_as_a_query":
        assert "read-only" in reply.text
    asked = request(server.url, "GET", "/sparql?" + urlencode({"query": WRITTEN}))
    assert boolean(asked) is False  # nothing was written


def test_a_real_client_names_the_dataset(server: ServerProcess) -> None:
    client = SPARQLWrapper(f"{server.url}/sparql")
    client.setReturnFormat(JSON)
    client.setQuery(BOTH_LIST)
    client.addDefaultGraph(MERSEYSIDE)
    client.addDefaultGraph(CHESHIRE)
    assert client.queryAndConvert()["boolean"] is True
    named = SPARQLWrapper(f"{server.url}/sparql")
    named.setReturnFormat(JSON)
    named.setQuery(BOTH_NAMED)
    named.addNamedGraph(MERSEYSIDE)
    named.addNamedGraph(CHESHIRE)
    assert named.queryAndConvert()["boolean"] is True
