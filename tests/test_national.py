"""The national picture: is there cover, publication health per force (pages, JSON, feed,
badge), and the example queries as RDF — each checked against the seed facts and against what
the store says, computed here with SPARQL of its own."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph, URIRef
from rdflib.namespace import ORG, RDF, SH

from s22a.namespaces import AGREEMENT, CAPABILITY, FORCE, REGISTER, S22A
from s22a.sparql.examples import EXAMPLES
from s22a.store import get_store
from tests.support import ROOT
from tests.support.writes import bearer, tokens_for

ALLIANCE = str(AGREEMENT["cheshire-north-wales-firearms-alliance"])
HTML = {"Accept": "text/html"}
PREFIXES = "PREFIX s22a: <https://w3id.org/s22a/def/s22a#>\n"
PARTY = "s22a:party|s22a:leadForce|s22a:hostForce"


def cover(client: FlaskClient, *forces: str, **more: str) -> dict:
    query = "&".join([*(f"force={f}" for f in forces), *(f"{k}={v}" for k, v in more.items())])
    response = client.get(f"/cover.json?{query}")
    assert response.status_code == 200, response.json
    return response.json


def test_cheshire_north_wales_armed_policing_finds_the_firearms_alliance(
    client: FlaskClient,
) -> None:
    answer = cover(client, "cheshire", "north-wales", capability="armed-policing")
    found = {a["iri"]: a for a in answer["agreements"]}
    assert ALLIANCE in found
    alliance = found[ALLIANCE]
    assert alliance["title"] == "Cheshire and North Wales Firearms Alliance"
    # Cheshire's register lists it, North Wales's does not: confirmed by one of two.
    assert alliance["listed_by"] == [str(REGISTER["cheshire"])]
    assert (
        alliance["confirmed_by"] == [str(FORCE["cheshire"])] and alliance["confirmation"] == "some"
    )
    # every agreement found has both forces among its parties and provides armed policing
    for agreement in answer["agreements"]:
        assert {str(FORCE["cheshire"]), str(FORCE["north-wales"])} <= set(agreement["parties"])


def test_narrower_capabilities_count(client: FlaskClient, loaded_app: Flask) -> None:
    broad = cover(client, "merseyside", capability="armed-policing")["agreements"]
    narrow = cover(client, "merseyside", capability="firearms-training")["agreements"]
    assert narrow and {a["iri"] for a in narrow} <= {a["iri"] for a in broad}
    with loaded_app.app_context():
        rows = get_store().select(
            PREFIXES + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a s22a:capability "
            f"<{CAPABILITY['firearms-training']}> }} FILTER NOT EXISTS {{ GRAPH ?h {{ ?a "
            f"s22a:capability <{CAPABILITY['armed-policing']}> }} }} }}"
        )
    only_narrower = {str(r["a"]) for r in rows}
    assert only_narrower & {a["iri"] for a in broad}, "found only through skos:broader"


def test_cover_on_a_day_uses_the_registers_that_stood_then(client: FlaskClient) -> None:
    # Every seed version was accepted when the store was loaded, so before then nothing stood.
    early = cover(client, "cheshire", "north-wales", capability="armed-policing", date="2013-12-31")
    assert early["agreements"] == [] and early["date"] == "2013-12-31"
    today = cover(client, "cheshire", "north-wales", capability="armed-policing", date="2999-01-01")
    assert ALLIANCE in {a["iri"] for a in today["agreements"]}


def test_cover_matches_a_sparql_count(client: FlaskClient, loaded_app: Flask) -> None:
    answer = cover(client, "merseyside", "cheshire")
    m, c = FORCE["merseyside"], FORCE["cheshire"]
    with loaded_app.app_context():
        rows = get_store().select(
            PREFIXES
            + f"""SELECT DISTINCT ?a WHERE {{ GRAPH ?r {{ ?r s22a:lists ?a }}
            FILTER EXISTS {{ GRAPH ?g {{ ?a {PARTY} <{m}> }} }}
            FILTER EXISTS {{ GRAPH ?h {{ ?a {PARTY} <{c}> }} }} }}"""
        )
    direct = {str(r["a"]) for r in rows}
    found = {a["iri"] for a in answer["agreements"]}
    assert direct and direct <= found  # and more, through party groups
    assert all({str(m), str(c)} <= set(a["parties"]) for a in answer["agreements"])


@pytest.mark.parametrize(
    ("query", "parameter"),
    [("force=atlantis", "force"), ("force=cheshire&capability=flying", "capability"),
     ("force=cheshire&date=yesterday", "date")],
)  # fmt: skip
def test_cover_refuses_what_it_does_not_know(
    client: FlaskClient, query: str, parameter: str
) -> None:
    response = client.get(f"/cover.json?{query}")
    assert response.status_code == 400
    assert response.json["errors"][0]["parameter"] == parameter
    page = client.get(f"/cover?{query}", headers=HTML)
    assert page.status_code == 400 and f'href="#{parameter}"' in page.data.decode()


def test_the_cover_page_shows_the_json_rows(client: FlaskClient) -> None:
    query = "force=cheshire&force=north-wales&capability=armed-policing"
    page = client.get(f"/cover?{query}", headers=HTML).data.decode()
    answer = cover(client, "cheshire", "north-wales", capability="armed-policing")
    rows = re.findall(r"<tr>\s*<td><a href=\"[^\"]+\">([^<]+)</a></td>", page)
    assert rows == [a["title"] for a in answer["agreements"]]
    assert "4 agreements with all of" in page or f"{len(rows)} agreements" in page
    form = client.get("/cover", headers=HTML)
    assert (
        form.status_code == 200 and '<select id="force" name="force" multiple' in form.data.decode()
    )


# ---------------------------------------------------------------------------------------------
# Publication health


def named_but_not_listed(force: str) -> set[str]:
    """What a force has to confirm, worked out from the Turtle files with rdflib (not the store,
    not SPARQL): agreements any register names it in (as party, lead or host force, or through a
    party group of the reference data) that its own register does not list, directly or as
    rows `s22a:coveredBy` them."""
    reference = Graph()
    for path in (ROOT / "data" / "reference").glob("*.ttl"):
        reference.parse(path)
    me = FORCE[force]
    groups = set(reference.subjects(ORG.hasMember, me))
    registers = {p.stem: Graph().parse(p) for p in (ROOT / "data" / "registers").glob("*.ttl")}
    named = set()
    for graph in registers.values():
        for agreement in set(graph.objects(None, S22A.lists)):
            parties = {o for p in (S22A.party, S22A.leadForce, S22A.hostForce)
                       for o in graph.objects(agreement, p)}  # fmt: skip
            if me in parties or groups & set(graph.objects(agreement, S22A.partyGroup)):
                named.add(str(agreement))
    own = registers.get(force)
    if own is not None:
        listed = set(own.objects(None, S22A.lists))
        listed |= {o for row in listed for o in own.objects(row, S22A.coveredBy)}
        named -= {str(a) for a in listed}
    return named


def test_health_lists_what_each_force_has_to_confirm(
    client: FlaskClient, loaded_app: Flask
) -> None:
    national = client.get("/health.json").json
    assert "Red: no register published" in national["rule"]
    by_force = {f["force"].rsplit("/", 1)[-1]: f for f in national["forces"]}
    for force in ("merseyside", "cheshire", "cumbria", "lancashire"):
        assert set(by_force[force]["toConfirm"]) == named_but_not_listed(force), force
    assert by_force["cumbria"]["status"] == "red" and by_force["cumbria"]["register"] is None
    assert by_force["cumbria"]["toConfirm"], "Cumbria is named in agreements of its neighbours"
    for force in ("merseyside", "cheshire", "lancashire", "leicestershire", "north-wales"):
        entry = by_force[force]
        assert entry["versions"] == 1 and entry["published"]
        busy = entry["toConfirm"] or entry["disagreements"] or entry["warnings"]
        assert entry["status"] == ("amber" if busy else "green"), force
    page = client.get("/health/cheshire", headers=HTML).data.decode()
    assert f"To confirm ({len(by_force['cheshire']['toConfirm'])})" in page
    assert "How the status is decided" in page


def test_the_feed_and_the_badge_say_the_same(client: FlaskClient) -> None:
    health = client.get("/health/cumbria.json").json
    feed = feedparser.parse(client.get("/health/cumbria/feed.atom").data)
    assert not feed.bozo, feed.bozo_exception
    assert len(feed.entries) == len(health["toConfirm"])
    linked = {e.link.rsplit("/", 1)[-1] for e in feed.entries}
    assert linked == {a.rsplit("/", 1)[-1] for a in health["toConfirm"]}
    badge = client.get("/health/cumbria/badge.svg")
    assert badge.mimetype == "image/svg+xml"
    svg = ET.fromstring(badge.data)
    assert "not published" in "".join(svg.itertext())
    assert client.get("/health/atlantis").status_code == 404


def test_a_withdrawn_register_turns_red(app: Flask, tmp_path: Path) -> None:
    token = tokens_for(app, tmp_path / "tokens.json", "leicestershire")["leicestershire"]
    client = app.test_client()
    assert client.get("/health/leicestershire.json").json["status"] in ("green", "amber")
    deleted = client.delete("/registers/leicestershire", headers=bearer(token, None))
    assert deleted.status_code == 200
    after = client.get("/health/leicestershire.json").json
    assert after["status"] == "red" and after["versions"] == 2


# ---------------------------------------------------------------------------------------------
# Example queries as data


def test_the_examples_are_published_as_shacl_executables(client: FlaskClient) -> None:
    response = client.get("/sparql/examples", headers={"Accept": "text/turtle"})
    assert response.status_code == 200
    graph = Graph().parse(data=response.data, format="turtle")
    executables = set(graph.subjects(RDF.type, SH.SPARQLExecutable))
    assert len(executables) == len(EXAMPLES)
    target = URIRef("http://localhost/sparql")
    for node in executables:
        assert (node, URIRef("https://schema.org/target"), target) in graph
        forms = [p for p in (SH.select, SH.ask, SH.construct) if (node, p, None) in graph]
        assert len(forms) == 1, node
        query = graph.value(node, forms[0])
        kind = forms[0].rsplit("#", 1)[-1].capitalize()
        assert (node, RDF.type, SH[f"SPARQL{kind}Executable"]) in graph
        # the permalink runs that very query on the endpoint
        permalink = str(graph.value(node, URIRef("https://schema.org/url")))
        assert parse_qs(urlsplit(permalink).query)["query"] == [str(query)]
        answer = client.get(
            urlsplit(permalink).path + "?" + urlsplit(permalink).query,
            headers={"Accept": "application/sparql-results+json, text/turtle;q=0.9"},
        )
        assert answer.status_code == 200, (node, answer.data[:300])
    page = client.get("/sparql/examples", headers=HTML).data.decode()
    assert all(e.question.replace("'", "&#39;") in page or e.question in page for e in EXAMPLES)
