"""`/sparql` against the W3C SPARQL 1.1 Protocol (Recommendation, 21 March 2013), Flask client.

Section numbers are the recommendation's; the negative tests follow the protocol test suite's
(bad method, missing or wrong media type, multiple queries, non-UTF-8, syntax errors). Also:
result formats by Accept and `format=`, read-only refusal, CORS, the service description and
the query page with its examples.
"""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from urllib.parse import quote, urlencode

import pyoxigraph as ox
import pytest
from flask.testing import FlaskClient
from rdflib import Graph, Namespace, URIRef
from rdflib.namespace import RDF

from s22a.namespaces import GRAPH_ARCHIVE, GRAPH_META, GRAPH_REFERENCE, register_iri
from s22a.sparql.examples import EXAMPLES
from tests.support.protocol import CHESHIRE, DIRECT, FORM, JSON_RESULTS, MERSEYSIDE

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
LISTS = "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?r <https://w3id.org/s22a/def/s22a#lists> ?a }"
GRAPHS = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
REGISTER_CLASS = "<https://w3id.org/s22a/def/s22a#Register>"
CONSTRUCT = f"CONSTRUCT WHERE {{ ?s a {REGISTER_CLASS} }}"


def number(response) -> int:
    """The single number a one-cell SPARQL JSON result holds."""
    assert response.status_code == 200, response.get_data(as_text=True)
    row = response.get_json()["results"]["bindings"][0]
    return int(next(iter(row.values()))["value"])


def column(response, name: str) -> list[str]:
    """The values of one variable in a SPARQL JSON result."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return [b[name]["value"] for b in response.get_json()["results"]["bindings"] if name in b]


# -- 2.1 query operation: the three ways to send a query ------------------------------------


def test_query_via_get(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }"})
    assert response.status_code == 200
    assert response.mimetype == JSON_RESULTS
    assert response.get_json() == {"head": {}, "boolean": True}


def test_query_via_post_form(client: FlaskClient) -> None:
    response = client.post("/sparql", data={"query": LISTS}, content_type=FORM)
    assert number(response) > 24


def test_query_via_post_directly(client: FlaskClient) -> None:
    response = client.post("/sparql", data=LISTS.encode(), content_type=DIRECT)
    assert number(response) > 24


def test_post_directly_with_utf8_charset(client: FlaskClient) -> None:
    query = 'SELECT ?x WHERE { BIND("Ynys Môn – Anglesey" AS ?x) }'
    response = client.post("/sparql", data=query.encode(), content_type=f"{DIRECT}; charset=UTF-8")
    assert column(response, "x") == ["Ynys Môn – Anglesey"]


def test_head_gives_headers_without_a_body(client: FlaskClient) -> None:
    response = client.head("/sparql", query_string={"query": "ASK {}"})
    assert response.status_code == 200
    assert response.mimetype == JSON_RESULTS
    assert response.data == b""


# -- 2.1.4 the RDF dataset: default-graph-uri, named-graph-uri ------------------------------


def test_default_graph_is_the_union_of_registers_and_reference_data(client: FlaskClient) -> None:
    per_register = [
        number(client.get("/sparql", query_string={"query": LISTS, "default-graph-uri": g}))
        for g in (MERSEYSIDE, CHESHIRE)
    ]
    union = number(client.get("/sparql", query_string={"query": LISTS}))
    assert per_register[0] == 24
    assert union > max(per_register)
    labels = "ASK { <https://w3id.org/s22a/id/force/merseyside> ?p ?label }"
    assert client.get("/sparql", query_string={"query": labels}).get_json()["boolean"]


def test_default_dataset_names_every_graph_but_the_archive(client: FlaskClient) -> None:
    graphs = column(client.get("/sparql", query_string={"query": GRAPHS}), "g")
    assert MERSEYSIDE in graphs and GRAPH_REFERENCE in graphs and GRAPH_META in graphs
    assert GRAPH_ARCHIVE not in graphs
    snapshot = "ASK { ?v <https://w3id.org/s22a/def/s22a#snapshot> ?data }"
    assert client.get("/sparql", query_string={"query": snapshot}).get_json()["boolean"] is False


def test_default_graph_uri_selects_a_register(client: FlaskClient) -> None:
    query = "SELECT DISTINCT ?r WHERE { ?r <https://w3id.org/s22a/def/s22a#lists> ?a }"
    response = client.get("/sparql", query_string={"query": query, "default-graph-uri": CHESHIRE})
    assert column(response, "r") == [CHESHIRE]


def test_two_default_graph_uris_are_merged(client: FlaskClient) -> None:
    query = "SELECT DISTINCT ?r WHERE { ?r <https://w3id.org/s22a/def/s22a#lists> ?a } ORDER BY ?r"
    params = [("query", query), ("default-graph-uri", MERSEYSIDE), ("default-graph-uri", CHESHIRE)]
    response = client.post("/sparql", data=urlencode(params), content_type=FORM)
    assert column(response, "r") == [CHESHIRE, MERSEYSIDE]


def test_named_graph_uri_alone_gives_an_empty_default_graph(client: FlaskClient) -> None:
    params = {"query": GRAPHS, "named-graph-uri": [MERSEYSIDE, CHESHIRE]}
    assert column(client.get("/sparql", query_string=params), "g") == [CHESHIRE, MERSEYSIDE]
    params = {"query": "ASK { ?s ?p ?o }", "named-graph-uri": MERSEYSIDE}
    assert client.get("/sparql", query_string=params).get_json()["boolean"] is False


def test_default_and_named_graph_uris_together(client: FlaskClient) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o GRAPH ?g { ?s ?p ?o } }"
    params = {"query": query, "default-graph-uri": CHESHIRE, "named-graph-uri": CHESHIRE}
    alone = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": CHESHIRE}
    assert number(client.get("/sparql", query_string=params)) == number(
        client.get("/sparql", query_string=alone)
    )


def test_direct_post_takes_the_dataset_from_the_url(client: FlaskClient) -> None:
    query = "SELECT DISTINCT ?r WHERE { ?r <https://w3id.org/s22a/def/s22a#lists> ?a }"
    url = "/sparql?default-graph-uri=" + quote(CHESHIRE, safe="")
    response = client.post(url, data=query.encode(), content_type=DIRECT)
    assert column(response, "r") == [CHESHIRE]


def test_from_clauses_are_used_when_the_protocol_names_no_dataset(client: FlaskClient) -> None:
    query = f"SELECT DISTINCT ?r FROM <{CHESHIRE}> WHERE {{ ?r a {REGISTER_CLASS} }}"
    assert column(client.get("/sparql", query_string={"query": query}), "r") == [CHESHIRE]


def test_protocol_dataset_overrides_from_clauses(client: FlaskClient) -> None:
    query = f"SELECT DISTINCT ?r FROM <{CHESHIRE}> WHERE {{ ?r a {REGISTER_CLASS} }}"
    params = {"query": query, "default-graph-uri": MERSEYSIDE}
    response = client.get("/sparql", query_string=params)
    assert column(response, "r") == [MERSEYSIDE]


def test_a_graph_uri_that_is_not_an_iri_is_refused(client: FlaskClient) -> None:
    params = {"query": "ASK {}", "default-graph-uri": "not an iri"}
    response = client.get("/sparql", query_string=params)
    assert response.status_code == 400
    assert "default-graph-uri" in response.get_data(as_text=True)


# -- negative tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_405(client: FlaskClient, method: str) -> None:
    response = client.open("/sparql", method=method, data=b"<a> <b> <c> .")
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
    assert "read-only" in response.get_data(as_text=True)


def test_post_without_a_media_type_is_415(client: FlaskClient) -> None:
    response = client.post("/sparql", data=b"query=ASK%20%7B%7D")
    assert response.status_code == 415
    assert DIRECT in response.get_data(as_text=True)


@pytest.mark.parametrize("media_type", ["text/plain", "application/json", "text/turtle"])
def test_post_with_a_wrong_media_type_is_415(client: FlaskClient, media_type: str) -> None:
    response = client.post("/sparql", data=b"ASK {}", content_type=media_type)
    assert response.status_code == 415


def test_two_queries_in_a_get_are_400(client: FlaskClient) -> None:
    response = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert response.status_code == 400
    assert "more than one query" in response.get_data(as_text=True)


def test_a_query_in_the_url_and_the_form_body_is_400(client: FlaskClient) -> None:
    response = client.post("/sparql?query=ASK%7B%7D", data={"query": "ASK {}"}, content_type=FORM)
    assert response.status_code == 400


def test_a_query_in_the_url_and_a_direct_body_is_400(client: FlaskClient) -> None:
    response = client.post("/sparql?query=ASK%7B%7D", data=b"ASK {}", content_type=DIRECT)
    assert response.status_code == 400


def test_a_post_without_a_query_is_400(client: FlaskClient) -> None:
    assert client.post("/sparql", data={"x": "1"}, content_type=FORM).status_code == 400
    assert client.post("/sparql", data=b"  ", content_type=DIRECT).status_code == 400


def test_non_utf8_direct_body_is_400(client: FlaskClient) -> None:
    body = 'SELECT * WHERE { ?s ?p "Môn" }'.encode("latin-1")
    response = client.post("/sparql", data=body, content_type=DIRECT)
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)


def test_a_declared_non_utf8_charset_is_400(client: FlaskClient) -> None:
    body = "ASK {}".encode("utf-16")
    response = client.post("/sparql", data=body, content_type=f"{DIRECT}; charset=UTF-16")
    assert response.status_code == 400


def test_non_utf8_in_the_url_or_form_is_400(client: FlaskClient) -> None:
    assert client.get("/sparql?query=ASK%20%7B%7D%FF").status_code == 400
    response = client.post("/sparql", data=b"query=ASK%20%7B%FF%7D", content_type=FORM)
    assert response.status_code == 400


def test_a_syntax_error_is_400_with_the_parsers_message_and_position(client: FlaskClient) -> None:
    query = "SELECT ?s WHERE {\n  ?s ?p ?o .\n  FILTR(?o)\n}"
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert re.search(r"error at 3:\d+: expected", text)
    assert "   3 |   FILTR(?o)\n     |          ^" in text


@pytest.mark.parametrize(
    "query",
    [
        "SELECT",
        "}",
        "SELECT * WHERE { ?s ?p ?o ",
        "PREFIX ex: <http://example.org/> SELECT * WHERE { ex:a undeclared:b ?c }",
        "SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }",
        "SELECT * FROM <not an iri> WHERE { ?s ?p ?o }",
        "SELECT (1/0 AS ?x) WHERE {}",
        'SELECT * WHERE { ?s ?p ?o FILTER(REGEX(?o, "(")) }',
        "DESCRIBE",
        "\x00",
    ],
)
def test_bad_queries_are_4xx_never_500(client: FlaskClient, query: str) -> None:
    response = client.get("/sparql", query_string={"query": query})
    assert response.status_code in (200, 400), response.get_data(as_text=True)


# -- read-only: no SPARQL Update, no graph store writes --------------------------------------


def test_sparql_update_is_refused(client: FlaskClient) -> None:
    insert = "INSERT DATA { GRAPH <urn:x> { <urn:a> <urn:b> <urn:c> } }"
    direct = client.post("/sparql", data=insert.encode(), content_type="application/sparql-update")
    form = client.post("/sparql", data={"update": insert}, content_type=FORM)
    as_query = client.get("/sparql", query_string={"query": insert})
    assert (direct.status_code, form.status_code, as_query.status_code) == (403, 403, 400)
    assert "read-only" in as_query.get_data(as_text=True)
    check = client.get("/sparql", query_string={"query": "ASK { GRAPH <urn:x> { ?s ?p ?o } }"})
    assert check.get_json()["boolean"] is False


# -- results: formats by Accept and format= --------------------------------------------------

SELECT_FORMATS = [
    ("application/sparql-results+json", None, JSON_RESULTS),
    ("application/json", None, JSON_RESULTS),
    ("application/sparql-results+xml", None, "application/sparql-results+xml"),
    ("application/xml", None, "application/sparql-results+xml"),
    ("text/csv", None, "text/csv"),
    ("text/tab-separated-values", None, "text/tab-separated-values"),
    ("*/*", None, JSON_RESULTS),
    (None, None, JSON_RESULTS),
    ("text/csv;q=0.5, application/sparql-results+xml", None, "application/sparql-results+xml"),
    ("text/html", "csv", "text/csv"),
    (None, "json", JSON_RESULTS),
    (None, "xml", "application/sparql-results+xml"),
    (None, "tsv", "text/tab-separated-values"),
    (None, "text/csv", "text/csv"),
]


@pytest.mark.parametrize(("accept", "fmt", "expected"), SELECT_FORMATS)
def test_select_result_formats(
    client: FlaskClient, accept: str | None, fmt: str | None, expected: str
) -> None:
    query = "SELECT ?r WHERE { ?r a <https://w3id.org/s22a/def/s22a#Register> } ORDER BY ?r"
    params = {"query": query} | ({"format": fmt} if fmt else {})
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string=params, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == expected
    # One charset parameter, not "charset=utf-8; charset=utf-8" (issue 18).
    assert response.headers["Content-Type"] == f"{expected}; charset=utf-8"
    text = response.get_data(as_text=True)
    if expected == JSON_RESULTS:
        assert [b["r"]["value"] for b in json.loads(text)["results"]["bindings"]][0] == CHESHIRE
    elif expected == "text/csv":
        assert list(csv.reader(io.StringIO(text)))[:2] == [["r"], [CHESHIRE]]
    elif expected == "text/tab-separated-values":
        assert text.splitlines()[:2] == ["?r", f"<{CHESHIRE}>"]
    else:
        assert CHESHIRE in [e.text for e in ET.fromstring(text).iter() if e.tag.endswith("uri")]


GRAPH_FORMATS = [
    ("text/turtle", None, "text/turtle"),
    ("application/n-triples", None, "application/n-triples"),
    ("application/rdf+xml", None, "application/rdf+xml"),
    ("application/ld+json", None, "application/ld+json"),
    ("*/*", None, "text/turtle"),
    (None, None, "text/turtle"),
    (None, "nt", "application/n-triples"),
    (None, "rdf", "application/rdf+xml"),
    (None, "jsonld", "application/ld+json"),
    (None, "ttl", "text/turtle"),
    (None, "n3", "text/turtle"),
]


@pytest.mark.parametrize(("accept", "fmt", "expected"), GRAPH_FORMATS)
def test_construct_result_formats(
    client: FlaskClient, accept: str | None, fmt: str | None, expected: str
) -> None:
    parser = ox.RdfFormat.from_media_type(expected)
    params = {"query": CONSTRUCT} | ({"format": fmt} if fmt else {})
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string=params, headers=headers)
    assert response.status_code == 200
    assert response.mimetype == expected
    triples = {str(t) for t in ox.parse(response.data, format=parser)}
    assert len(triples) == 5
    assert f"<{CHESHIRE}> <{RDF.type}> {REGISTER_CLASS}" in triples


def test_describe_gives_a_graph(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": f"DESCRIBE <{MERSEYSIDE}>"})
    assert response.mimetype == "text/turtle"
    assert len(Graph().parse(data=response.get_data(as_text=True), format="turtle")) > 20


def test_ask_formats(client: FlaskClient) -> None:
    query = {"query": "ASK { ?s a <https://w3id.org/s22a/def/s22a#Nothing> }"}
    as_json = client.get("/sparql", query_string=query)
    as_xml = client.get("/sparql", query_string=query, headers={"Accept": "application/xml"})
    assert as_json.get_json()["boolean"] is False
    assert "<boolean>false</boolean>" in as_xml.get_data(as_text=True)


def test_no_acceptable_format_is_406(client: FlaskClient) -> None:
    construct = client.get(
        "/sparql", query_string={"query": CONSTRUCT}, headers={"Accept": "text/csv"}
    )
    assert construct.status_code == 406
    assert "text/turtle" in construct.get_data(as_text=True)
    select = client.get(
        "/sparql", query_string={"query": "SELECT * {}"}, headers={"Accept": "image/png"}
    )
    assert select.status_code == 406
    assert "text/csv" in select.get_data(as_text=True)


def test_responses_vary_on_accept(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "ASK {}"})
    assert "Accept" in response.headers["Vary"]


def test_results_vary_on_accept_and_accept_datetime_each_named_once(client: FlaskClient) -> None:
    for query in ("ASK {}", "ASK {"):  # an answer and an error
        response = client.get("/sparql", query_string={"query": query})
        assert response.headers.getlist("Vary") == ["Accept, Accept-Datetime"]


# -- CORS (for YASGUI and other browser clients) --------------------------------------------


def test_cors_headers_on_results_and_errors(client: FlaskClient) -> None:
    ok = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://x"})
    bad = client.get("/sparql", query_string={"query": "ASK {"}, headers={"Origin": "https://x"})
    assert ok.headers["Access-Control-Allow-Origin"] == "*"
    assert bad.headers["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(client: FlaskClient) -> None:
    response = client.options(
        "/sparql",
        headers={
            "Origin": "https://yasgui.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "content-type" in response.headers["Access-Control-Allow-Headers"].lower()


# -- SPARQL 1.1 Service Description ----------------------------------------------------------


@pytest.mark.parametrize("accept", [None, "*/*", "text/turtle"])
def test_service_description(client: FlaskClient, accept: str | None) -> None:
    response = client.get("/sparql", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200 and response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    service = graph.value(None, RDF.type, SD.Service)
    assert service == URIRef("http://localhost/sparql")
    assert (service, SD.endpoint, service) in graph
    assert (service, SD.supportedLanguage, SD.SPARQL11Query) in graph
    assert (service, SD.feature, SD.UnionDefaultGraph) in graph
    assert len(set(graph.objects(service, SD.resultFormat))) == 8
    names = {str(n) for n in graph.objects(None, SD.name)}
    assert {register_iri(f) for f in ("merseyside", "cheshire", "lancashire")} <= names
    assert GRAPH_REFERENCE in names and GRAPH_ARCHIVE not in names
    dataset = graph.value(service, SD.defaultDataset)
    default = graph.value(dataset, SD.defaultGraph)
    assert "union" in str(graph.value(default, URIRef("http://purl.org/dc/terms/description")))


def test_service_description_in_other_rdf_formats(client: FlaskClient) -> None:
    response = client.get("/sparql", headers={"Accept": "application/ld+json"})
    assert response.mimetype == "application/ld+json"
    assert len(list(ox.parse(response.data, format=ox.RdfFormat.JSON_LD))) > 20


# -- the page for people ---------------------------------------------------------------------

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


def test_the_page_has_a_labelled_form_and_a_dozen_examples(client: FlaskClient) -> None:
    response = client.get("/sparql", headers=BROWSER)
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<label for="query">' in page and '<textarea id="query" name="query"' in page
    assert len(EXAMPLES) >= 12
    for example in EXAMPLES:
        assert example.question.replace("'", "&#39;") in page
    assert "<script" not in page
    assert "archive graph" in page and "union" in page


def test_an_example_can_be_loaded_into_the_form(client: FlaskClient) -> None:
    page = client.get("/sparql?example=budgets-by-region", headers=BROWSER).get_data(as_text=True)
    assert "schema:currency" in page


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.slug for e in EXAMPLES])
def test_every_example_answers_with_rows(client: FlaskClient, example) -> None:
    response = client.get("/sparql", query_string={"query": example.query})
    assert response.status_code == 200, response.get_data(as_text=True)
    if response.mimetype == JSON_RESULTS:
        assert response.get_json()["results"]["bindings"]
    else:
        assert len(Graph().parse(data=response.get_data(as_text=True), format="turtle")) > 0
    html = client.get("/sparql", query_string={"query": example.query}, headers=BROWSER)
    assert html.status_code == 200 and "<table" in html.get_data(as_text=True)


def test_results_page_links_iris_to_local_pages_and_offers_every_download(
    client: FlaskClient,
) -> None:
    example = next(e for e in EXAMPLES if e.slug == "merseyside-partners")
    response = client.get("/sparql", query_string={"query": example.query}, headers=BROWSER)
    page = response.get_data(as_text=True)
    assert '<th scope="col">partner</th>' in page
    assert '<a href="/id/force/north-wales">https://w3id.org/s22a/id/force/north-wales</a>' in page
    for fmt in ("json", "xml", "csv", "tsv"):
        assert f"format={fmt}" in page
    for link in re.findall(r'href="(/sparql\?[^"]+format=(?:json|xml|csv|tsv))"', page):
        download = client.get(link.replace("&amp;", "&"))
        assert download.status_code == 200 and download.mimetype != "text/html"


def test_graph_results_page_offers_rdf_downloads(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": CONSTRUCT, "format": "html"})
    page = response.get_data(as_text=True)
    assert '<th scope="col">subject</th>' in page
    for fmt in ("ttl", "nt", "rdf", "jsonld"):
        assert f"format={fmt}" in page


def test_errors_are_shown_on_the_page_for_browsers(client: FlaskClient) -> None:
    response = client.get("/sparql", query_string={"query": "SELECT * {"}, headers=BROWSER)
    assert response.status_code == 400 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page and "syntax error" in page
    assert "SELECT * {</textarea>" in page


# -- the base IRI of a query is the request's URL (SPARQL 1.1 Query 4.1.1, RFC 3986 5.1.3) ------


@pytest.mark.parametrize("method", ["GET", "POST form", "POST direct"])
def test_relative_iris_in_a_query_resolve_against_the_request_url(
    client: FlaskClient, method: str
) -> None:
    query = "CONSTRUCT { <s> <p> 1 . <../up> <p> 2 } WHERE {}"
    accept = {"Accept": "application/n-triples"}
    if method == "GET":
        response = client.get("/sparql?" + urlencode({"query": query}), headers=accept)
    elif method == "POST form":
        response = client.post("/sparql", data={"query": query}, headers=accept)
    else:
        response = client.post(
            "/sparql", data=query, headers={**accept, "Content-Type": "application/sparql-query"}
        )
    assert response.status_code == 200, response.get_data(as_text=True)
    graph = Graph().parse(data=response.get_data(as_text=True), format="nt")
    assert set(graph.subjects()) == {URIRef("http://localhost/s"), URIRef("http://localhost/up")}


def test_the_base_iri_follows_each_requests_host_and_prefix(client: FlaskClient) -> None:
    """The endpoint's URL is built once per host and prefix: each request still gets its own."""
    query = "CONSTRUCT { <s> <p> 1 } WHERE {}"
    subjects = []
    for base_url in ("http://localhost/", "http://register.example/pre/", "http://localhost/"):
        response = client.get(
            "/sparql",
            query_string={"query": query},
            headers={"Accept": "application/n-triples"},
            base_url=base_url,
        )
        assert response.status_code == 200, response.get_data(as_text=True)
        graph = Graph().parse(data=response.get_data(as_text=True), format="nt")
        subjects.append(set(graph.subjects()))
    assert subjects == [
        {URIRef("http://localhost/s")},
        {URIRef("http://register.example/pre/s")},
        {URIRef("http://localhost/s")},
    ]


def test_a_base_declared_in_the_query_still_wins(client: FlaskClient) -> None:
    query = "BASE <http://example.org/dir/> CONSTRUCT { <s> <p> 1 } WHERE {}"
    response = client.post(
        "/sparql", data={"query": query}, headers={"Accept": "application/n-triples"}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    graph = Graph().parse(data=response.get_data(as_text=True), format="nt")
    assert set(graph.subjects()) == {URIRef("http://example.org/dir/s")}
