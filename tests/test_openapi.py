"""The OpenAPI document: valid OpenAPI 3.1, complete, and true of the live server.

Every route of the app must be in the document with its methods (a route added without
documentation fails here), the document must validate, and schemathesis runs every
operation against a real server on 127.0.0.1: no 5xx, and every response's status, media
type, headers and JSON body must be the ones the document gives. Writes run against a
fresh app of their own with a token, so the shared app is never changed.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterator

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import checks as st_checks

from s22a.ingest import csv_import
from s22a.sparql.examples import EXAMPLES as QUERIES
from s22a.store import get_store
from s22a.web import openapi
from s22a.web.tokens import TokenStore
from tests.support import ROOT
from tests.support.app import LiveServer, make_app
from tests.support.server import ServerProcess


def config(coverage: bool) -> schemathesis.Config:
    """Valid and invalid data, the document's examples, fuzzing; boundary values if `coverage`."""
    return schemathesis.Config.from_dict(
        {
            "seed": 22,
            "generation": {"mode": "all", "deterministic": True},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": coverage},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": False},
            },
        }
    )


CHECKS = [
    st_checks.not_a_server_error,
    st_checks.status_code_conformance,
    st_checks.content_type_conformance,
    st_checks.response_schema_conformance,
    st_checks.response_headers_conformance,
]
EXAMPLES = settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
WRITE_EXAMPLES = 15  # each valid write is validated against the shapes: seconds, not ms
WRITES = {
    ("PUT", "/registers/{force}"),
    ("POST", "/registers/{force}"),
    ("DELETE", "/registers/{force}"),
}
REGISTER = (ROOT / "data" / "registers" / "merseyside.ttl").read_bytes()

# Bodies for the media types schemathesis cannot make from a JSON Schema: real ones, broken
# ones (cut short, not UTF-8) and arbitrary text.
RANDOM_TEXT = st.text(max_size=200).map(lambda t: t.encode("utf-8"))
SPARQL_QUERIES = st.one_of(
    st.sampled_from([q.query.encode("utf-8") for q in QUERIES]),
    st.sampled_from(
        [
            b"ASK {}",
            b"SELECT * WHERE { ?s ?p ?o } LIMIT 3",
            b"CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3",
            b"DESCRIBE <urn:x>",
            b"SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
            b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
            b"SELECT * WHERE {",
            b"\xff\xfe",
        ]
    ),
    RANDOM_TEXT,
)
TABLE = (ROOT / "tests" / "fixtures" / "merseyside.csv").read_bytes()
TABLES = st.one_of(
    st.just(TABLE),
    st.integers(0, len(TABLE)).map(lambda n: TABLE[:n]),
    st.sampled_from([b"Name\n\xff\xfe\n", b'"unclosed\nName', b"Title,Date\nx,Feb-22\n"]),
    RANDOM_TEXT,
)
MAX_UPLOAD = 50_000  # the write server's limit: merseyside's register fits, PADDED does not
PADDED = REGISTER + b"# padding\n" * 1000


@functools.cache
def new_register() -> bytes:
    """A valid register for cumbria, which has none among the seed registers."""
    return csv_import.convert(TABLE, "cumbria").turtle().encode("utf-8")


REGISTERS = st.one_of(
    st.just(REGISTER),
    st.integers(0, len(REGISTER)).map(lambda n: REGISTER[:n]),
    st.sampled_from([b"", b"\xff\xfe\x00", b"<urn:a> <urn:b> <urn:c> .", b"@prefix : <"]),
    RANDOM_TEXT,
)
schemathesis.openapi.media_type(
    "application/sparql-query", SPARQL_QUERIES, aliases=["application/sparql-update"]
)
schemathesis.openapi.media_type("text/csv", TABLES)
schemathesis.openapi.media_type(
    "text/turtle",
    REGISTERS,
    aliases=["application/x-turtle", "application/n-triples", "application/rdf+xml"],
)


def rule_path(rule: str) -> str:
    """A Werkzeug rule as an OpenAPI path: /doc/<kind>/<path:name> -> /doc/{kind}/{name}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def routed(app: Flask) -> set[tuple[str, str]]:
    """(method, path) of every route but static files; HEAD and automatic OPTIONS left out."""
    pairs = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        automatic = {"HEAD"} | ({"OPTIONS"} if rule.provide_automatic_options else set())
        pairs |= {(m, rule_path(rule.rule)) for m in rule.methods or () if m not in automatic}
    return pairs


def documented(document: dict) -> set[tuple[str, str]]:
    """(method, path) of every operation in an OpenAPI document."""
    methods = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
    return {(m.upper(), p) for p, item in document["paths"].items() for m in item if m in methods}


# ---------------------------------------------------------------------------
# The document


def test_served_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1.")
    validate(document)  # raises on any error (OpenAPI 3.1 schema, references, paths)
    assert document == openapi.document("/")


def test_every_route_is_documented_with_its_methods(loaded_app: Flask) -> None:
    missing = routed(loaded_app) - documented(openapi.document())
    assert not missing, f"routes not in the OpenAPI document: {sorted(missing)}"


def test_every_documented_operation_is_routed(loaded_app: Flask) -> None:
    extra = documented(openapi.document()) - routed(loaded_app)
    assert not extra, f"documented operations the app does not route: {sorted(extra)}"


def test_path_parameters_match_the_routes(loaded_app: Flask) -> None:
    document = openapi.document()
    components = document["components"]["parameters"]
    for rule in loaded_app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        item = document["paths"][rule_path(rule.rule)]
        for method, operation in item.items():
            if method == "parameters":
                continue
            given = [
                components[p["$ref"].rsplit("/", 1)[-1]] if "$ref" in p else p
                for p in item.get("parameters", []) + operation.get("parameters", [])
            ]
            names = {p["name"] for p in given if p["in"] == "path"}
            assert names == set(rule.arguments), (rule.rule, method)


def test_write_operations_need_the_bearer_token() -> None:
    document = openapi.document()
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    for method, path in WRITES:
        operation = document["paths"][path][method.lower()]
        assert operation["security"] == [{"bearerAuth": []}]
        expected = {"401", "403"} | ({"400", "413", "415", "422"} if method != "DELETE" else set())
        assert expected <= set(operation["responses"]), (method, path)


# ---------------------------------------------------------------------------
# Schemathesis against the live server


schema = schemathesis.openapi.from_dict(openapi.document(), config=config(coverage=True))


@schema.exclude(
    func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in WRITES
).parametrize()
@pytest.mark.slow
@EXAMPLES
def test_live_server_conforms(case: schemathesis.Case, live_server: ServerProcess) -> None:
    case.call_and_validate(base_url=live_server.url, checks=CHECKS, timeout=30)


# ---------------------------------------------------------------------------
# Writes: against a fresh app of their own, with tokens


@pytest.fixture(scope="module")
def write_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A live server over a fresh app of its own, with a token file and a small upload limit."""
    path = tmp_path_factory.mktemp("tokens") / "tokens.json"
    app = make_app(S22A_TOKENS=str(path), S22A_MAX_UPLOAD=MAX_UPLOAD)
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        get_store().close()


@pytest.fixture(scope="module")
def tokens(write_server: LiveServer) -> dict[str, str]:
    """A token for each of merseyside, cumbria and cheshire, by force."""
    store = TokenStore(write_server.server.app.config["S22A_TOKENS"])
    return {force: store.create(force)[1] for force in ("merseyside", "cumbria", "cheshire")}


writes = schemathesis.openapi.from_dict(openapi.document(), config=config(coverage=False))


def aim(case: schemathesis.Case, tokens: dict[str, str]) -> dict[str, str]:
    """Point most cases at a real register, with a body for it, and pick credentials.

    Generated bodies rarely make a register, so some Turtle cases get merseyside's, a new
    one for cumbria (201), or one over the limit (413). The choices are a hash of the case,
    so a failing case replays the same: mostly the force's own token; sometimes none, a
    wrong one, or another force's.
    """
    roll = hashlib.sha256(repr((case.method, case.path_parameters, case.body)).encode()).digest()
    if roll[0] % 4:
        case.path_parameters["force"] = "merseyside"
    if case.media_type == "text/turtle" and roll[2] % 2:
        case.body = (REGISTER, new_register(), PADDED)[roll[3] % 3]
        if case.body == new_register():
            case.path_parameters["force"] = "cumbria"
    force, choice = case.path_parameters.get("force", ""), roll[1] % 8
    if choice == 0:
        return {}
    if choice == 1:
        return {"Authorization": "Bearer s22a_000000000000_" + "x" * 43}
    token = tokens["cheshire"] if choice == 2 else tokens.get(force, tokens["merseyside"])
    return {"Authorization": f"Bearer {token}"}


@writes.include(
    func=lambda ctx: (ctx.operation.method.upper(), ctx.operation.path) in WRITES
).parametrize()
@pytest.mark.slow
@settings(EXAMPLES, max_examples=WRITE_EXAMPLES)
def test_live_server_writes_conform(
    case: schemathesis.Case, tokens: dict[str, str], write_server: LiveServer
) -> None:
    headers = aim(case, tokens)
    case.call_and_validate(base_url=write_server.url, headers=headers, checks=CHECKS, timeout=60)
