"""Listings that answer questions: filters that combine, facet counts that match SPARQL counts,
and CSV and JSON of every listing equal to the rows of its page."""

from __future__ import annotations

import csv
import html as htmllib
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from s22a.namespaces import CAPABILITY, FORCE, GRAPH_REFERENCE
from s22a.store import get_store

HTML = {"Accept": "text/html"}
PREFIXES = (
    "PREFIX s22a: <https://w3id.org/s22a/def/s22a#>\n"
    "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
    "PREFIX org: <http://www.w3.org/ns/org#>\n"
)
AGREEMENT = (
    "GRAPH ?t { ?a a s22a:Agreement } "
    "FILTER(?t = <https://w3id.org/s22a/graph/reference> || STRSTARTS(STR(?t), "
    '"https://w3id.org/s22a/id/register/"))'
)
STATED = (
    "FILTER(?g = <https://w3id.org/s22a/graph/reference> || STRSTARTS(STR(?g), "
    '"https://w3id.org/s22a/id/register/"))'
)


def count(app: Flask, where: str) -> int:
    with app.app_context():
        rows = get_store().select(
            PREFIXES + f"SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE {{ {AGREEMENT} {where} }}"
        )
    return int(rows[0]["n"])


def facet(page: str, name: str, value: str) -> int:
    """The count shown beside `value` in the `name` filter of a page."""
    select = re.search(rf'<select id="filter-{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, name
    option = re.search(rf'<option value="{value}"[^>]*>[^<]*\((\d+)\)</option>', select.group(1))
    assert option, (name, value)
    return int(option.group(1))


def as_json(client: FlaskClient, path: str) -> dict:
    response = client.get(path.replace("?", ".json?", 1) if "?" in path else path + ".json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    return response.json


def as_csv(client: FlaskClient, path: str) -> list[dict[str, str]]:
    response = client.get(path.replace("?", ".csv?", 1) if "?" in path else path + ".csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))


def test_facet_counts_match_sparql_counts(client: FlaskClient, loaded_app: Flask) -> None:
    page = client.get("/agreements", headers=HTML).data.decode()
    forensics = count(
        loaded_app,
        f"GRAPH ?g {{ ?a s22a:capability ?c }} {STATED} "
        f"GRAPH <{GRAPH_REFERENCE}> {{ ?c skos:broader* <{CAPABILITY['forensics']}> }}",
    )
    assert forensics and facet(page, "capability", "forensics") == forensics
    merseyside = count(
        loaded_app,
        f"{{ GRAPH ?g {{ ?a s22a:party|s22a:leadForce|s22a:hostForce <{FORCE['merseyside']}> }}"
        f" {STATED} }} UNION {{ GRAPH ?g {{ ?a s22a:partyGroup ?group }} {STATED} "
        f"GRAPH ?k {{ ?group org:hasMember <{FORCE['merseyside']}> }} }}",
    )
    assert facet(page, "force", "merseyside") == merseyside
    national = count(loaded_app, f"GRAPH ?g {{ ?a s22a:scope s22a:National }} {STATED}")
    assert facet(page, "scope", "National") == national
    # and the list the filter gives is as long as its count
    for query, expected in (("capability=forensics", forensics), ("force=merseyside", merseyside),
                            ("scope=National", national)):  # fmt: skip
        assert as_json(client, f"/agreements?{query}")["total"] == expected


def test_filters_combine(client: FlaskClient) -> None:
    both = {
        r["iri"]
        for r in as_json(client, "/agreements?force=cheshire&capability=armed-policing")["rows"]
    }
    cheshire = {r["iri"] for r in as_json(client, "/agreements?force=cheshire")["rows"]}
    armed = {r["iri"] for r in as_json(client, "/agreements?capability=armed-policing")["rows"]}
    assert both and both == cheshire & armed
    two = {
        r["iri"] for r in as_json(client, "/agreements?force=cheshire&force=north-wales")["rows"]
    }
    wales = {r["iri"] for r in as_json(client, "/agreements?force=north-wales")["rows"]}
    assert two == cheshire & wales
    years = as_json(client, "/agreements?from=2015&to=2020")["rows"]
    assert years and all("2015" <= r["date"][:4] <= "2020" for r in years)
    confirmed = as_json(client, "/agreements?confirmation=all")["rows"]
    assert confirmed and all(r["confirmation"] == "all" for r in confirmed)
    # the facet counts on a filtered page are those of the other filters
    page = client.get("/agreements?force=cheshire", headers=HTML).data.decode()
    assert facet(page, "capability", "armed-policing") == len(both)


def test_values_that_cannot_be_used_are_said_and_ignored(client: FlaskClient) -> None:
    response = client.get("/agreements?scope=Everywhere&from=soon", headers=HTML)
    assert response.status_code == 200
    text = response.data.decode()
    assert "is not a scope" in text and "is not a year" in text
    assert (
        as_json(client, "/agreements?scope=Everywhere")["total"]
        == as_json(client, "/agreements")["total"]
    )


def page_rows(html: str) -> list[str]:
    """The first cell's link text of every row of the page's table (of each result, on the
    search page)."""
    if "<tbody>" not in html:
        return [
            htmllib.unescape(t) for t in re.findall(r"<h3><a href=\"[^\"]+\">([^<]+)</a>", html)
        ]
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        htmllib.unescape(t) for t in re.findall(r"<tr>\s*<td><a href=\"[^\"]+\">([^<]+)</a>", body)
    ]


@pytest.mark.parametrize(
    ("path", "name"),
    [("/agreements?force=merseyside", "title"), ("/agreements", "title"),
     ("/forces?capability=forensics", "name"), ("/forces", "name"),
     ("/capabilities?force=cheshire", "name"), ("/regions?scope=Regional", "name"),
     ("/search?q=forensic", "title"), ("/search?q=police&force=lancashire", "title")],
)  # fmt: skip
def test_csv_and_json_are_the_rows_of_the_page(client: FlaskClient, path: str, name: str) -> None:
    shown = page_rows(client.get(path, headers=HTML).data.decode())
    table = as_json(client, path)
    spreadsheet = as_csv(client, path)
    assert shown and [r[name] for r in table["rows"]][: len(shown)] == shown
    assert [r[name] for r in spreadsheet][: len(shown)] == shown
    assert list(spreadsheet[0]) == table["columns"]
    assert [{k: str(v) for k, v in r.items()} for r in table["rows"]] == spreadsheet


def test_parties_are_one_cell_with_their_roles(client: FlaskClient) -> None:
    rows = as_csv(client, "/agreements?force=merseyside")
    rocu = next(r for r in rows if r["iri"].endswith("/north-west-rocu"))
    assert "Merseyside Police (" in rocu["parties"]
    assert all(" (" in part for part in rocu["parties"].split("; "))


def test_the_next_page_is_in_a_link_header(client: FlaskClient) -> None:
    response = client.get("/agreements.json?size=10")
    assert 'rel="next"' in response.headers["Link"] and "page=2" in response.headers["Link"]
    last = client.get("/agreements.json?size=10&page=5")
    assert 'rel="next"' not in last.headers.get("Link", "") and 'rel="prev"' in last.headers["Link"]
    page = client.get("/agreements?force=merseyside", headers=HTML).data.decode()
    assert (
        "/agreements.csv?force=merseyside" in page and "/agreements.json?force=merseyside" in page
    )


def test_csv_by_accept(client: FlaskClient) -> None:
    response = client.get("/forces", headers={"Accept": "text/csv"})
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Location"].startswith("/forces.csv")


def test_a_force_page_leads_to_its_agreements_as_a_listing(client: FlaskClient) -> None:
    page = client.get("/doc/force/cheshire", headers=HTML).data.decode()
    assert 'href="/agreements.csv?force=cheshire"' in page
    assert 'href="/agreements?force=cheshire"' in page and 'href="/health/cheshire"' in page
    named = re.search(r"Named in (\d+) agreements", page)
    shown = dict(
        re.findall(
            r'<td><a href="/doc/agreement/([a-z0-9-]+)">.*?</td>\s*<td>.*?</td>\s*<td>(.*?)</td>',
            page,
            re.S,
        )
    )
    assert named and len(shown) == int(named.group(1))
    listed = {
        r["iri"].rsplit("/", 1)[-1]
        for r in as_json(client, "/agreements?force=cheshire&size=50")["rows"]
    }
    # The listing has the agreements naming Cheshire as a party; the page adds those only its
    # register lists (Bluelight: the commissioner's and the fire authority's).
    assert listed <= set(shown)
    assert all(shown[a] == "Its register lists it" for a in set(shown) - listed)
