"""Writing registers over the Graph Store Protocol: tokens, the validation gate, history."""

from __future__ import annotations

import http.client
import json
import re
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, SH

from s22a.history import versions
from s22a.ingest import csv_import
from s22a.namespaces import GRAPH_META, REG, S22A, register_iri
from s22a.store import get_store
from s22a.store.base import from_oxigraph
from tests.support.app import LiveServer, make_app
from tests.support.writes import MERSEYSIDE, amended, bearer, tokens_for

ROOT = Path(__file__).resolve().parents[1]
REGISTERS = ROOT / "data" / "registers"
TURTLE = "text/turtle"


def invalid(data: bytes = MERSEYSIDE) -> bytes:
    """Merseyside's register naming a party that does not exist."""
    return data.replace(
        b"force:cheshire , force:merseyside , force:north-wales",
        b"force:cheshire , force:merseyside , force:nowhere",
        1,
    )


def with_revision(data: bytes, force: str, revision: str) -> bytes:
    """A register with one extra register-level statement, so each upload differs."""
    return (
        data
        + (
            f'\n<{register_iri(force)}> <http://purl.org/dc/terms/description> "{revision}"@en .\n'
        ).encode()
    )


def dump(app: Flask) -> bytes:
    with app.app_context():
        return b"".join(get_store().dump())


def triples(app: Flask, force: str) -> Graph:
    with app.app_context():
        return get_store().graph_triples(register_iri(force))


def history(app: Flask, force: str) -> list[versions.Version]:
    with app.app_context():
        return versions.history(get_store(), register_iri(force))


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, dict[str, str]]]:
    """One app for tests that leave the registers as they found them."""
    app = make_app()
    tokens = tokens_for(
        app, tmp_path_factory.mktemp("tokens") / "tokens.json", "merseyside", "cheshire"
    )
    yield app, tokens
    with app.app_context():
        get_store().close()


@pytest.fixture
def client(shared: tuple[Flask, dict[str, str]]) -> FlaskClient:
    return shared[0].test_client()


@pytest.fixture
def tokens(shared: tuple[Flask, dict[str, str]]) -> dict[str, str]:
    return shared[1]


# ---------------------------------------------------------------------------
# Reading


def test_get_serves_the_register_graph(client: FlaskClient) -> None:
    response = client.get("/registers/merseyside")
    assert response.status_code == 200 and response.mimetype == TURTLE
    assert "Accept" in response.vary
    graph = Graph().parse(data=response.data, format="turtle")
    assert isomorphic(graph, Graph().parse(data=MERSEYSIDE, format="turtle"))
    jsonld = client.get("/registers/merseyside", headers={"Accept": "application/ld+json"})
    assert jsonld.mimetype == "application/ld+json"
    page = client.get("/registers/merseyside", headers={"Accept": "text/html"})
    assert page.mimetype == "text/html" and b"Authorization: Bearer" in page.data
    again = client.get("/registers/merseyside", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_get_of_an_unknown_register_is_404(client: FlaskClient) -> None:
    for path in ("/registers/atlantis", "/registers/Not_A_Slug"):
        response = client.get(path)
        assert response.status_code == 404 and response.json["title"] == "No such register"


# ---------------------------------------------------------------------------
# Who may write


def test_401_without_a_token(shared: tuple[Flask, dict[str, str]], client: FlaskClient) -> None:
    before = dump(shared[0])
    for method in ("put", "post", "delete"):
        response = getattr(client, method)(
            "/registers/merseyside", data=MERSEYSIDE, headers={"Content-Type": TURTLE}
        )
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    basic = client.put(
        "/registers/merseyside",
        data=MERSEYSIDE,
        headers={"Content-Type": TURTLE, "Authorization": "Basic dXNlcjpwYXNz"},
    )
    assert basic.status_code == 401
    wrong = client.put(
        "/registers/merseyside", data=MERSEYSIDE, headers=bearer("s22a_0123456789ab_" + "x" * 43)
    )
    assert wrong.status_code == 401 and 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
    assert dump(shared[0]) == before


def test_403_with_another_forces_token(
    shared: tuple[Flask, dict[str, str]], client: FlaskClient, tokens: dict[str, str]
) -> None:
    """Force A can never change force B's graph, whatever it sends."""
    app = shared[0]
    before = dump(app)
    cheshire = tokens["cheshire"]
    for method in ("put", "post", "delete"):
        response = getattr(client, method)(
            "/registers/merseyside", data=invalid(), headers=bearer(cheshire)
        )
        assert response.status_code == 403
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert dump(app) == before


def test_a_force_cannot_write_another_register_through_its_own(
    shared: tuple[Flask, dict[str, str]], client: FlaskClient, tokens: dict[str, str]
) -> None:
    app = shared[0]
    cheshire_before = triples(app, "cheshire")
    merseyside_before = triples(app, "merseyside")
    disguised = (REGISTERS / "cheshire.ttl").read_bytes()  # Cheshire's register, sent by Merseyside
    response = client.put(
        "/registers/merseyside", data=disguised, headers=bearer(tokens["merseyside"])
    )
    assert response.status_code == 422
    assert "register/cheshire" in response.json["detail"]
    sneaky = MERSEYSIDE + (b"\nregister:cheshire s22a:lists agreement:west-coast-collaboration .\n")
    response = client.post(
        "/registers/merseyside", data=sneaky, headers=bearer(tokens["merseyside"])
    )
    assert response.status_code == 422
    assert isomorphic(triples(app, "cheshire"), cheshire_before)
    assert isomorphic(triples(app, "merseyside"), merseyside_before)


# ---------------------------------------------------------------------------
# What may be written


def test_415_for_a_media_type_that_is_not_rdf(
    shared: tuple[Flask, dict[str, str]], client: FlaskClient, tokens: dict[str, str]
) -> None:
    before = dump(shared[0])
    for content_type in ("text/plain", "text/csv", "application/octet-stream", None):
        response = client.put(
            "/registers/merseyside",
            data=MERSEYSIDE,
            headers=bearer(tokens["merseyside"], content_type),
        )
        assert response.status_code == 415
        assert "text/turtle" in response.headers["Accept-Post"]
    assert dump(shared[0]) == before


def test_413_when_the_body_is_too_large(
    shared: tuple[Flask, dict[str, str]],
    client: FlaskClient,
    tokens: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app = shared[0]
    assert (
        client.put(
            "/registers/merseyside",
            data=b"x" * (5 * 2**20 + 1),
            headers=bearer(tokens["merseyside"]),
        ).status_code
        == 413
    )  # default 5 MiB
    monkeypatch.setitem(app.config, "S22A_MAX_UPLOAD", 1000)
    before = dump(app)
    response = client.put(
        "/registers/merseyside", data=MERSEYSIDE, headers=bearer(tokens["merseyside"])
    )
    assert response.status_code == 413 and response.json["limit"] == 1000
    # A body sent without Content-Length (chunked) is measured as it is read.
    with LiveServer(app) as server:
        connection = http.client.HTTPConnection(
            "127.0.0.1", urllib.parse.urlsplit(server.url).port, timeout=30
        )
        try:
            connection.request(
                "PUT",
                "/registers/merseyside",
                body=iter([MERSEYSIDE]),
                headers=bearer(tokens["merseyside"]),
                encode_chunked=True,
            )
            chunked = connection.getresponse()
            assert chunked.status == 413
            chunked.read()
        finally:
            connection.close()
    assert dump(app) == before


def test_400_for_a_syntax_error_with_line_and_column(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    broken = MERSEYSIDE.replace(
        b"s22a:scope s22a:CrossRegional ;", b"s22a:scope s22a:Cross Regional ;", 1
    )
    line = MERSEYSIDE[: MERSEYSIDE.index(b"s22a:scope s22a:CrossRegional")].count(b"\n") + 1
    response = client.put(
        "/registers/merseyside", data=broken, headers=bearer(tokens["merseyside"])
    )
    assert response.status_code == 400
    assert response.json["line"] == line and response.json["column"] > 1
    page = client.put(
        "/registers/merseyside",
        data=broken,
        headers=bearer(tokens["merseyside"], Accept="text/html"),
    )
    assert page.status_code == 400 and f"line {line}".encode() in page.data
    assert b"Traceback" not in page.data


def test_422_reports_are_negotiated_as_json_turtle_or_html(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    headers = bearer(tokens["merseyside"])
    as_json = client.put("/registers/merseyside", data=invalid(), headers=headers)
    assert as_json.status_code == 422 and as_json.mimetype == "application/json"
    assert as_json.json["conforms"] is False and as_json.json["violations"] >= 1
    assert any("not a force or body" in r["message"] for r in as_json.json["results"])
    as_turtle = client.put(
        "/registers/merseyside", data=invalid(), headers={**headers, "Accept": "text/turtle"}
    )
    assert as_turtle.status_code == 422 and as_turtle.mimetype == TURTLE
    report = Graph().parse(data=as_turtle.data, format="turtle")
    assert (None, SH.conforms, Literal(False)) in report
    as_html = client.put(
        "/registers/merseyside",
        data=invalid(),
        headers={**headers, "Accept": "text/html,*/*;q=0.8"},
    )
    assert as_html.status_code == 422 and as_html.mimetype == "text/html"
    assert b"not a force or body" in as_html.data and b"West Coast Collaboration" in as_html.data


def test_422_for_an_unknown_force_suggests_the_nearest_known_ones(
    client: FlaskClient, tokens: dict[str, str]
) -> None:
    headers = bearer(tokens["merseyside"])
    misspelt = MERSEYSIDE.replace(
        b"force:cheshire , force:merseyside , force:north-wales",
        b"force:cheshire , force:merseyside , force:north-wals",
        1,
    )
    response = client.put("/registers/merseyside", data=misspelt, headers=headers)
    assert response.status_code == 422
    [finding] = [r for r in response.json["results"] if "not a force or body" in r["message"]]
    assert finding["suggestions"][0] == "https://w3id.org/s22a/id/force/north-wales"
    assert "Did you mean force:north-wales (North Wales Police)" in finding["message"]
    as_html = client.put(
        "/registers/merseyside", data=misspelt, headers={**headers, "Accept": "text/html"}
    )
    assert b"Did you mean force:north-wales (North Wales Police)" in as_html.data


def test_an_invalid_write_changes_nothing(
    shared: tuple[Flask, dict[str, str]], client: FlaskClient, tokens: dict[str, str]
) -> None:
    """The dump is byte-identical, apart from the record of the refused attempt."""
    app = shared[0]
    before = dump(app)
    response = client.put(
        "/registers/merseyside", data=invalid(), headers=bearer(tokens["merseyside"])
    )
    assert response.status_code == 422
    after = dump(app)
    old_lines = set(before.splitlines())
    added = [line for line in after.splitlines() if line not in old_lines]
    attempts = {line.split(b" ", 1)[0] for line in added}
    assert len(attempts) == 1 and b"/register/merseyside/attempt/" in attempts.pop()
    assert all(line.endswith(f"<{GRAPH_META}> .".encode()) for line in added)
    new_lines = set(added)
    kept = b"\n".join(line for line in after.splitlines() if line not in new_lines)
    assert kept + b"\n" == before
    with app.app_context():
        latest = versions.attempts(get_store(), register_iri("merseyside"))[0]
    assert latest["outcome"] == "Refused" and "invalid" in latest["reason"]


def test_an_invalid_merge_changes_nothing(
    shared: tuple[Flask, dict[str, str]], client: FlaskClient, tokens: dict[str, str]
) -> None:
    app = shared[0]
    graph_before = triples(app, "merseyside")
    second_title = (
        b"@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        b"<https://w3id.org/s22a/id/agreement/west-coast-collaboration> "
        b'dcterms:title "Another title"@en .\n'
    )
    response = client.post(
        "/registers/merseyside", data=second_title, headers=bearer(tokens["merseyside"])
    )
    assert response.status_code == 422
    assert any("more than one title" in r["message"] for r in response.json["results"])
    assert isomorphic(triples(app, "merseyside"), graph_before)


# ---------------------------------------------------------------------------
# Writes that succeed


def test_put_replaces_and_answers_with_a_summary_and_the_new_version(
    app: Flask, tmp_path: Path
) -> None:
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    client = app.test_client()
    same = client.put("/registers/merseyside", data=MERSEYSIDE, headers=bearer(token))
    assert same.status_code == 200 and same.json["outcome"] == "unchanged"
    as_ntriples = Graph().parse(data=MERSEYSIDE, format="turtle").serialize(format="nt")
    same = client.put(
        "/registers/merseyside", data=as_ntriples, headers=bearer(token, "application/n-triples")
    )
    assert same.status_code == 200 and same.json["outcome"] == "unchanged"
    assert len(history(app, "merseyside")) == 1
    response = client.put("/registers/merseyside", data=amended(), headers=bearer(token))
    assert response.status_code == 200
    assert response.json["agreements"] == {"added": 1, "changed": 1, "removed": 0}
    assert response.json["version"]["number"] == 2
    location = response.headers["Content-Location"]
    assert location.endswith("/registers/merseyside/versions/2")
    assert "Location" not in response.headers
    stored = client.get(urllib.parse.urlsplit(location).path, headers={"Accept": TURTLE})
    assert isomorphic(
        Graph().parse(data=stored.data, format="turtle"),
        Graph().parse(data=amended(), format="turtle"),
    )
    assert isomorphic(triples(app, "merseyside"), Graph().parse(data=amended(), format="turtle"))
    back = Graph().parse(data=MERSEYSIDE, format="turtle").serialize(format="json-ld")
    response = client.put(
        "/registers/merseyside", data=back, headers=bearer(token, "application/ld+json")
    )
    assert response.status_code == 200
    assert response.json["agreements"] == {"added": 0, "changed": 1, "removed": 1}


def test_put_of_a_new_register_is_201_and_post_merges(app: Flask, tmp_path: Path) -> None:
    tokens = tokens_for(app, tmp_path / "tokens.json", "cumbria")
    client = app.test_client()
    table = (
        "Collaboration Name,Purpose,Force Areas Involved,Date\r\n"
        "North West Counter-Terrorism Collaboration,Counter-terrorism.,"
        "Cheshire; Cumbria; GMP; Lancashire; Merseyside,Jan-20\r\n"
    )
    register = csv_import.convert(table, "cumbria").turtle().encode()
    created = client.put("/registers/cumbria", data=register, headers=bearer(tokens["cumbria"]))
    assert created.status_code == 201, created.json
    assert created.headers["Location"].endswith("/registers/cumbria/versions/1")
    assert created.json["agreements"] == {"added": 1, "changed": 0, "removed": 0}
    addition = (
        b"@prefix s22a: <https://w3id.org/s22a/def/s22a#> .\n"
        b"@prefix dcterms: <http://purl.org/dc/terms/> .\n"
        b"<https://w3id.org/s22a/id/register/cumbria> s22a:lists "
        b"<https://w3id.org/s22a/id/agreement/north-west-chronicle> .\n"
        b"<https://w3id.org/s22a/id/agreement/north-west-chronicle> a s22a:Agreement ;\n"
        b'  dcterms:title "North West Chronicle"@en ; s22a:notStated s22a:party ;\n'
        b"  s22a:party <https://w3id.org/s22a/id/force/cumbria> .\n"
    )
    merged = client.post("/registers/cumbria", data=addition, headers=bearer(tokens["cumbria"]))
    assert merged.status_code == 200, merged.json
    assert merged.json["agreements"] == {"added": 1, "changed": 0, "removed": 0}
    graph = triples(app, "cumbria")
    assert len(set(graph.objects(URIRef(register_iri("cumbria")), S22A.lists))) == 2
    again = client.post("/registers/cumbria", data=addition, headers=bearer(tokens["cumbria"]))
    assert again.status_code == 200 and again.json["outcome"] == "unchanged"
    assert [v.number for v in history(app, "cumbria")] == [1, 2]


def test_delete_retires_the_register(app: Flask, tmp_path: Path) -> None:
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    client = app.test_client()
    response = client.delete("/registers/merseyside", headers=bearer(token, None))
    assert response.status_code == 200
    assert response.json["agreements"] == {"added": 0, "changed": 0, "removed": 24}
    assert response.json["version"]["number"] == 2
    assert client.get("/registers/merseyside").status_code == 404
    assert client.delete("/registers/merseyside", headers=bearer(token, None)).status_code == 404
    with app.app_context():
        store = get_store()
        statuses = store.select(
            f"SELECT DISTINCT ?status WHERE {{ GRAPH <{GRAPH_META}> {{ ?item <{REG.register}> "
            f"<{register_iri('merseyside')}> ; <{REG.status}> ?status }} }}"
        )
        assert {r["status"] for r in statuses} == {REG.statusRetired}
        assert register_iri("merseyside") not in store.graphs()
    listing = client.get("/registers/merseyside/versions", headers={"Accept": "application/json"})
    assert [v["retired"] for v in listing.json["versions"]] == [False, True]
    # The force can publish again (POST to a graph that does not exist creates it).
    assert (
        client.post("/registers/merseyside", data=MERSEYSIDE, headers=bearer(token)).status_code
        == 201
    )


@pytest.mark.slow
def test_concurrent_puts_from_several_forces_are_all_kept(app: Flask, tmp_path: Path) -> None:
    forces = ["merseyside", "cheshire", "lancashire", "north-wales"]
    tokens = tokens_for(app, tmp_path / "tokens.json", *forces)
    jobs = [(force, f"{force} revision {n}") for force in forces for n in (1, 2)]
    jobs += [("merseyside", f"merseyside parallel {n}") for n in (1, 2)]
    answers: list[tuple[str, str, int, int]] = []

    def put(force: str, revision: str, url: str) -> None:
        data = with_revision((REGISTERS / f"{force}.ttl").read_bytes(), force, revision)
        connection = http.client.HTTPConnection(
            "127.0.0.1", urllib.parse.urlsplit(url).port, timeout=120
        )
        try:
            connection.request(
                "PUT", f"/registers/{force}", body=data, headers=bearer(tokens[force])
            )
            response = connection.getresponse()
            body = json.loads(response.read())
            answers.append((force, revision, response.status, body["version"]["number"]))
        finally:
            connection.close()

    with LiveServer(app) as server:
        threads = [threading.Thread(target=put, args=(f, r, server.url)) for f, r in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
    assert sorted(a[:3] for a in answers) == sorted((f, r, 200) for f, r in jobs)
    with app.app_context():
        store = get_store()
        for force in forces:
            kept = versions.history(store, register_iri(force))
            sent = {r for f, r in jobs if f == force}
            assert [v.number for v in kept] == list(range(1, len(sent) + 2))
            stored = {str(changes_description(store, v)) for v in kept[1:]}
            assert stored == sent  # every PUT is a version of its own: none lost
            numbers = sorted(n for f, _r, _s, n in answers if f == force)
            assert numbers == list(range(2, len(sent) + 2))


def quads(trig: bytes, name: str) -> Graph:
    """The named graph `name` of a TriG document, as an rdflib graph."""
    graph = Graph()
    for quad in ox.parse(trig, format=ox.RdfFormat.TRIG):
        if quad.graph_name == ox.NamedNode(name):
            graph.add(tuple(from_oxigraph(t) for t in (quad.subject, quad.predicate, quad.object)))
    return graph


def changes_description(store: object, version: versions.Version) -> Literal | None:
    from s22a.history import changes

    snapshot = changes.snapshot(store, version)  # type: ignore[arg-type]
    return snapshot.value(URIRef(version.register), DCTERMS.description)


# ---------------------------------------------------------------------------
# History


def test_versions_diffs_and_what_stood_on_a_day(app: Flask, tmp_path: Path) -> None:
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    client = app.test_client()
    assert (
        client.put("/registers/merseyside", data=amended(), headers=bearer(token)).status_code
        == 200
    )
    listing = client.get("/registers/merseyside/versions", headers={"Accept": "application/json"})
    assert [v["number"] for v in listing.json["versions"]] == [1, 2]
    assert (
        client.get("/registers/merseyside/versions", headers={"Accept": "text/html"}).mimetype
        == "text/html"
    )
    page = client.get("/registers/merseyside/versions/2", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"New Unit" in page.data
    assert client.get("/registers/merseyside/versions/9").status_code == 404

    trig = client.get("/registers/merseyside/diff/1/2")
    assert trig.mimetype == "application/trig"
    base = register_iri("merseyside") + "/diff/1/2"
    added, removed = quads(trig.data, base + "#added"), quads(trig.data, base + "#removed")
    coast = URIRef("https://w3id.org/s22a/id/agreement/west-coast-collaboration")
    assert (coast, S22A.dateMade, None) in added and (coast, S22A.dateMade, None) in removed
    assert (
        URIRef("https://w3id.org/s22a/id/agreement/new-unit"),
        DCTERMS.title,
        Literal("New Unit", lang="en"),
    ) in added
    assert len(added) == 9 and len(removed) == 2  # blank nodes do not count as changes
    as_json = client.get("/registers/merseyside/diff/1/2", headers={"Accept": "application/json"})
    kinds = {c["title"]: c["kind"] for c in as_json.json["agreements"]}
    assert kinds == {"New Unit": "listed", "West Coast Collaboration": "amended"}
    html = client.get("/registers/merseyside/diff/1/2", headers={"Accept": "text/html"})
    assert b"Triples added (9)" in html.data
    # Values as people read them: a month is "March 2022", never "2022-03"^^xsd:gYearMonth.
    assert b"^^" not in html.data and b"xsd:" not in html.data

    today = datetime.now(UTC).date().isoformat()
    day = client.get(f"/doc/register/merseyside/{today}.ttl")
    assert day.status_code == 200
    assert (
        None,
        S22A.lists,
        URIRef("https://w3id.org/s22a/id/agreement/new-unit"),
    ) in Graph().parse(data=day.data, format="turtle")
    assert client.get("/doc/register/merseyside/2001-01-01").status_code == 404
    agreement = client.get(
        f"/doc/agreement/west-coast-collaboration/{today}", headers={"Accept": "text/html"}
    )
    assert agreement.status_code == 200 and b"March 2022" in agreement.data
    # Registers listing the agreement that day: Merseyside and Cheshire, by their own words.
    graph = Graph().parse(
        data=client.get(f"/doc/agreement/west-coast-collaboration/{today}.ttl").data,
        format="turtle",
    )
    assert {str(s).rsplit("/", 1)[-1] for s in graph.subjects(S22A.lists, coast)} >= {"merseyside"}


def test_dated_documents_and_plain_documents_both_resolve(client: FlaskClient) -> None:
    """The day routes sit beside /doc/{type}/{slug}, which stays the plain document."""
    today = datetime.now(UTC).date().isoformat()
    plain = client.get("/doc/register/merseyside", headers={"Accept": "text/html"})
    dated = client.get(f"/doc/register/merseyside/{today}", headers={"Accept": "text/html"})
    assert plain.status_code == 200 and dated.status_code == 200
    assert b"As it stood at the end of" in dated.data
    assert b"As it stood at the end of" not in plain.data
    assert (
        client.get(
            "/doc/agreement/west-coast-collaboration", headers={"Accept": "text/html"}
        ).status_code
        == 200
    )
    assert (
        client.get(
            f"/doc/agreement/west-coast-collaboration/{today}", headers={"Accept": "text/html"}
        ).status_code
        == 200
    )
    assert client.get("/doc/register/merseyside/2024-02-30").status_code == 404
    assert re.match(
        r"text/turtle",
        client.get(f"/doc/register/merseyside/{today}", headers={"Accept": TURTLE}).content_type,
    )
