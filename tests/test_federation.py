"""SERVICE in `/sparql` queries: only the catalogue's endpoints, each with its own timeout.

Two real `oxigraph serve` processes on 127.0.0.1 play two forces' SPARQL endpoints, listed in a
test catalogue. A listener that records every connection plays everything else: endpoints that
are not in the catalogue (no connection may reach it), and catalogue endpoints that hang or
fail. Nothing here talks to anything but 127.0.0.1.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from s22a import create_app
from s22a.namespaces import register_iri
from s22a.sparql import federation
from s22a.sparql import service as sparql_service
from s22a.sparql.errors import QueryTextError, ServiceRefused
from s22a.sparql.text import service_clauses
from s22a.store import get_store
from tests.support.oxigraph import OxigraphServer, free_port
from tests.support.peers import Peer, answer

S22A = "https://w3id.org/s22a/def/s22a#"
AGREEMENT = "https://w3id.org/s22a/id/agreement/"
PREFIXES = f"""PREFIX s22a: <{S22A}>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
FORCE_A = f"""@prefix s22a: <{S22A}> .
<{AGREEMENT}west-coast-collaboration> s22a:staffPosts 12 .
<{AGREEMENT}north-west-anpr> s22a:staffPosts 7 .
"""
FORCE_B = f"""@prefix schema: <https://schema.org/> .
<{AGREEMENT}west-coast-collaboration> schema:name "West Coast, as \\"B\\" says\\nit"@en ;
    schema:identifier "42"^^<http://www.w3.org/2001/XMLSchema#integer> ;
    schema:funder [ schema:name "an unnamed funder" ] .
"""


def put_turtle(server: OxigraphServer, turtle: str) -> None:
    """Replace the server's default graph by `turtle`."""
    request = urllib.request.Request(
        f"{server.url}/store?default",
        data=turtle.encode(),
        method="PUT",
        headers={"Content-Type": "text/turtle"},
    )
    urllib.request.urlopen(request, timeout=10).close()


def write_catalog(path: Path, endpoints: dict[str, str], urls: dict[str, str]) -> Path:
    """A DCAT catalogue: registers read from SPARQL `endpoints` or harvested from `urls`."""
    lines = [
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
        "@prefix s22a: <https://w3id.org/s22a/def/s22a#> .",
    ]
    for slug, endpoint in endpoints.items():
        lines.append(
            f"<{register_iri(slug)}> a dcat:Dataset ; s22a:force "
            f"<https://w3id.org/s22a/id/force/{slug}> ; dcat:distribution [ "
            f"dcat:accessService [ dcat:endpointURL <{endpoint}> ] ] ."
        )
    for slug, url in urls.items():
        lines.append(
            f"<{register_iri(slug)}> a dcat:Dataset ; dcat:distribution [ "
            f"dcat:downloadURL <{url}> ] ."
        )
    path.write_text("\n".join(lines) + "\n")
    return path


class Federation:
    """The servers, listeners and app of these tests."""

    def __init__(self, tmp: Path, store: object) -> None:
        self.a = OxigraphServer().start()
        self.b = OxigraphServer().start()
        put_turtle(self.a, FORCE_A)
        put_turtle(self.b, FORCE_B)
        self.stranger = Peer(answer(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"))
        self.hanging = Peer()
        self.broken = Peer(answer(b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nOops"))
        self.dead = f"http://127.0.0.1:{free_port()}/sparql"
        self.rebound = f"http://force.example:{self.stranger.port}/sparql"
        catalog = write_catalog(
            tmp / "catalog.ttl",
            {
                "north-wales": f"{self.a.url}/query",
                "cheshire": f"{self.b.url}/query",
                "lancashire": self.hanging.url,
                "merseyside": self.dead,
                "leicestershire": self.broken.url,
            },
            {"cumbria": f"http://force.example:{self.stranger.port}/register.ttl"},
        )
        self.app = create_app(
            {
                "TESTING": True,
                "S22A_STORE": "memory:",
                "S22A_CATALOG": str(catalog),
                "S22A_SPARQL_SERVICE_TIMEOUT": 0.5,
                "S22A_SPARQL_TIMEOUT": 5,
            }
        )
        self.app.extensions["s22a_store"] = store

    def close(self) -> None:
        sparql_service.shutdown(self.app)
        for listener in (self.stranger, self.hanging, self.broken):
            listener.close()
        self.a.stop()
        self.b.stop()


@pytest.fixture(scope="module")
def fed(loaded_app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with loaded_app.app_context():
        store = get_store()
    setup = Federation(tmp_path_factory.mktemp("federation"), store)
    try:
        yield setup
    finally:
        setup.close()


@pytest.fixture
def client(fed: Federation) -> FlaskClient:
    return fed.app.test_client()


def rows(response) -> list[dict[str, str]]:
    """SPARQL JSON solutions as {variable: value}."""
    assert response.status_code == 200, response.get_data(as_text=True)
    return [
        {k: v["value"] for k, v in b.items()} for b in response.get_json()["results"]["bindings"]
    ]


def ask(client: FlaskClient, query: str):
    return client.get("/sparql", query_string={"query": PREFIXES + query})


# -- federation that works ------------------------------------------------------------------


def test_a_query_joins_the_register_with_two_force_endpoints(
    fed: Federation, client: FlaskClient
) -> None:
    response = ask(
        client,
        f"""SELECT ?agreement ?title ?staff ?name WHERE {{
          SERVICE <{fed.a.url}/query> {{ ?agreement s22a:staffPosts ?staff }}
          SERVICE <{fed.b.url}/query> {{ ?agreement schema:name ?name }}
          GRAPH <{register_iri("merseyside")}> {{ ?agreement dcterms:title ?title }}
        }}""",
    )
    assert rows(response) == [
        {
            "agreement": AGREEMENT + "west-coast-collaboration",
            "title": "West Coast Collaboration",
            "staff": "12",
            "name": 'West Coast, as "B" says\nit',
        }
    ]


def test_remote_terms_keep_their_types_and_blank_nodes_become_skolem_iris(
    fed: Federation, client: FlaskClient
) -> None:
    response = ask(
        client,
        f"""SELECT ?id ?funder ?name WHERE {{ SERVICE <{fed.b.url}/query> {{
          ?a schema:identifier ?id ; schema:funder ?funder ; schema:name ?name }} }}""",
    )
    (row,) = response.get_json()["results"]["bindings"]
    assert row["id"]["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"
    assert row["name"]["xml:lang"] == "en"
    assert row["funder"]["type"] == "uri"
    assert row["funder"]["value"].startswith(federation.GENID)


def test_prefixed_and_relative_service_iris_resolve(fed: Federation, client: FlaskClient) -> None:
    query = f"""BASE <{fed.a.url}/>
PREFIX b: <{fed.b.url}/>
SELECT ?staff ?name WHERE {{
  SERVICE <query> {{ ?x s22a:staffPosts ?staff }}
  service b:query {{ ?x schema:name ?name }}
}}"""
    assert rows(ask(client, query)) == [{"staff": "12", "name": 'West Coast, as "B" says\nit'}]


def test_federated_results_are_not_cached(fed: Federation, client: FlaskClient) -> None:
    query = f"SELECT ?n WHERE {{ SERVICE <{fed.a.url}/query> {{ ?a s22a:staffPosts ?n }} }}"
    first = ask(client, query)
    assert "ETag" not in first.headers
    put_turtle(fed.a, FORCE_A.replace("staffPosts 7", "staffPosts 8"))
    try:
        assert {r["n"] for r in rows(ask(client, query))} == {"12", "8"}
    finally:
        put_turtle(fed.a, FORCE_A)


# -- the allow-list: refused before any connection ------------------------------------------


@pytest.mark.parametrize(
    "service",
    [
        "SERVICE <{url}>",
        "SERVICE SILENT <{url}>",
        "service <{url}>",
        "SERVICE <http://localhost:{port}/sparql>",
        "SERVICE <http://[::1]:{port}/sparql>",
        "SERVICE <http://127.0.0.1:{port}/query?x=1>",
        "SERVICE <{url}#fragment>",
        "SERVICE <http://user:pw@127.0.0.1:{port}/sparql>",
        "SERVICE <http://10.0.0.1/sparql>",
        "SERVICE <http://169.254.169.254/latest/meta-data/>",
        "SERVICE <file:///etc/passwd>",
        "SERVICE <ftp://127.0.0.1:{port}/>",
    ],
)
def test_an_endpoint_not_in_the_catalogue_is_refused_with_no_connection(
    fed: Federation, client: FlaskClient, service: str
) -> None:
    before = fed.stranger.connections
    target = service.format(url=fed.stranger.url, port=fed.stranger.port)
    response = ask(client, f"SELECT * WHERE {{ {target} {{ ?s ?p ?o }} }}")
    assert response.status_code == 400
    assert "refused" in response.get_data(as_text=True)
    time.sleep(0.05)
    assert fed.stranger.connections == before


def test_refusal_comes_before_any_call_to_allowed_endpoints(
    fed: Federation, client: FlaskClient
) -> None:
    before = fed.hanging.connections
    response = ask(
        client,
        f"SELECT * WHERE {{ SERVICE <{fed.hanging.url}> {{ ?s ?p ?o }} "
        f"SERVICE <{fed.stranger.url}> {{ ?s ?p ?o }} }}",
    )
    assert response.status_code == 400
    time.sleep(0.05)
    assert fed.hanging.connections == before


def test_a_variable_or_prefixed_stranger_endpoint_is_refused(
    fed: Federation, client: FlaskClient
) -> None:
    variable = ask(client, "SELECT * WHERE { ?e a ?t SERVICE ?e { ?s ?p ?o } }")
    assert variable.status_code == 400 and "variable" in variable.get_data(as_text=True)
    prefixed = ask(
        client,
        f"PREFIX x: <http://127.0.0.1:{fed.stranger.port}/> "
        "SELECT * WHERE { SERVICE x:sparql { ?s ?p ?o } }",
    )
    assert prefixed.status_code == 400
    assert fed.stranger.connections == 0


def test_a_catalogue_host_resolving_to_loopback_is_refused(
    fed: Federation, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(federation, "resolve_host", lambda host, port: ["127.0.0.1"])
    before = fed.stranger.connections
    response = ask(client, f"SELECT * WHERE {{ SERVICE <{fed.rebound}> {{ ?s ?p ?o }} }}")
    assert response.status_code == 400
    assert "private or loopback" in response.get_data(as_text=True)
    assert fed.stranger.connections == before


def test_service_text_in_strings_and_comments_is_not_a_service(
    fed: Federation, client: FlaskClient
) -> None:
    query = f"""# SERVICE <{fed.stranger.url}> {{ }}
SELECT ?x WHERE {{ BIND("SERVICE <{fed.stranger.url}> {{ }}" AS ?x) }}"""
    assert len(rows(ask(client, query))) == 1
    assert fed.stranger.connections == 0


# -- failing endpoints fail only their SERVICE ----------------------------------------------


def test_an_unreachable_endpoint_fails_the_query_with_502(
    fed: Federation, client: FlaskClient
) -> None:
    response = ask(client, f"SELECT * WHERE {{ SERVICE <{fed.dead}> {{ ?s ?p ?o }} }}")
    assert response.status_code == 502
    assert fed.dead in response.get_data(as_text=True)


def test_service_silent_ignores_a_failing_endpoint(fed: Federation, client: FlaskClient) -> None:
    for failing in (fed.dead, fed.broken.url):
        response = ask(
            client,
            f"""SELECT ?agreement ?staff WHERE {{
              SERVICE <{fed.a.url}/query> {{ ?agreement s22a:staffPosts ?staff }}
              SERVICE SILENT <{failing}> {{ ?agreement ?p ?o }}
            }} ORDER BY ?staff""",
        )
        assert [r["staff"] for r in rows(response)] == ["7", "12"]


def test_an_endpoint_error_names_the_endpoint(fed: Federation, client: FlaskClient) -> None:
    response = ask(client, f"SELECT * WHERE {{ SERVICE <{fed.broken.url}> {{ ?s ?p ?o }} }}")
    assert response.status_code == 502
    text = response.get_data(as_text=True)
    assert fed.broken.url in text and "HTTP 500" in text


def test_remote_calls_have_their_own_timeout(fed: Federation, client: FlaskClient) -> None:
    started = time.monotonic()
    silent = ask(
        client,
        f"""SELECT ?staff WHERE {{
          SERVICE <{fed.a.url}/query> {{ ?agreement s22a:staffPosts ?staff }}
          SERVICE SILENT <{fed.hanging.url}> {{ ?agreement ?p ?o }}
        }}""",
    )
    assert sorted(r["staff"] for r in rows(silent)) == ["12", "7"]
    loud = ask(client, f"SELECT * WHERE {{ SERVICE <{fed.hanging.url}> {{ ?s ?p ?o }} }}")
    assert loud.status_code == 504
    assert "did not answer within 0.5 s" in loud.get_data(as_text=True)
    # Two 0.5 s timeouts, not the 5 s query limit: the rows and the 504 show which stopped
    # each call; the time is only bounded below (each call waited its timeout) and, against a
    # hang, generously above (a busy machine cannot fail it).
    assert 1 <= time.monotonic() - started < 60


def test_a_syntax_error_is_reported_before_any_service_call(
    fed: Federation, client: FlaskClient
) -> None:
    before = fed.hanging.connections
    response = ask(client, f"SELECT * WHERE {{ SERVICE <{fed.hanging.url}> {{ ?s ?p ?o }} FILTR }}")
    assert response.status_code == 400 and "syntax error" in response.get_data(as_text=True)
    time.sleep(0.05)
    assert fed.hanging.connections == before


# -- the pieces -----------------------------------------------------------------------------


def test_allow_list_from_the_catalogue() -> None:
    allow = federation.AllowList(
        ["https://force.example/sparql"], ["https://other.example:8443/register.ttl"]
    )
    assert allow.check("https://force.example/sparql").local_allowed is False
    assert allow.check("https://other.example:8443/query").host == "other.example"
    for refused in (
        "https://other.example/query",  # another port
        "http://force.example/sparql",  # another scheme
        "https://evil.example/sparql",
    ):
        with pytest.raises(ServiceRefused):
            allow.check(refused)


def test_nested_services_are_refused() -> None:
    with pytest.raises(QueryTextError, match="inside another"):
        service_clauses("SELECT * { SERVICE <http://a/> { SERVICE <http://b/> { ?s ?p ?o } } }")


def test_values_block_escapes_literals() -> None:
    results = {
        "head": {"vars": ["x"]},
        "results": {"bindings": [{"x": {"type": "literal", "value": 'a "b" }\n'}}, {}]},
    }
    block = federation.values_block(results, "http://e/", 10)
    assert block == 'VALUES (?x) {\n("a \\"b\\" }\\n")\n(UNDEF)\n}'
