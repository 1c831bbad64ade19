"""Every agreement, force, capability and register page of the seed data: each renders and
shows what the store says (read here with queries of its own, not the page code's), a thing
that does not exist is 404 in every format and on every conditional path, and the link
helpers write exactly what the template macros they replaced wrote."""

from __future__ import annotations

import html as html_module
import re
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from markupsafe import escape

from s22a.namespaces import BASE, GRAPH_REFERENCE, SPARQL_PREFIXES
from s22a.store import Store, get_store
from s22a.web.filters import link, links

HTML = {"Accept": "text/html"}
THING = BASE + "id/"


def select(app: Flask, query: str) -> list[dict[str, str]]:
    with app.app_context():
        store: Store = get_store()
        return [
            {k: str(v) for k, v in row.items()} for row in store.select(SPARQL_PREFIXES + query)
        ]


def hrefs(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def doc(iri: str) -> str:
    """Where a canonical thing IRI is read on this server (the app is at the root)."""
    assert iri.startswith(THING), iri
    return "/doc/" + iri[len(THING) :]


def get(client: FlaskClient, path: str) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == 200, path
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    body = response.get_data(as_text=True)
    assert body.count("<h1") == 1, path
    return body


def h1(html: str) -> str:
    found = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert found, "no <h1>"
    return html_module.unescape(found.group(1))


def by(rows: list[dict[str, str]], key: str, value: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(row[key], set())
        if value in row:
            found[row[key]].add(row[value])
    return found


# What a graph may say about an agreement: the reference data's, or a register's that lists it.
ENTITLED = f"FILTER(?g = <{GRAPH_REFERENCE}> || EXISTS {{ GRAPH ?g {{ ?g s22a:lists ?a }} }})"


def test_every_agreement_page_shows_every_register_party_and_capability(
    loaded_app: Flask, client: FlaskClient
) -> None:
    agreements = select(
        loaded_app,
        f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a a s22a:Agreement }} {ENTITLED} }}",
    )
    listing = by(
        select(loaded_app, "SELECT ?a ?r WHERE { GRAPH ?r { ?r s22a:lists ?a } }"), "a", "r"
    )
    speaking = by(
        select(
            loaded_app,
            "SELECT DISTINCT ?a ?r WHERE { GRAPH ?r { ?r s22a:lists ?a . ?a ?p ?o } }",
        ),
        "a",
        "r",
    )
    linked = by(
        select(
            loaded_app,
            f"""SELECT DISTINCT ?a ?x WHERE {{ GRAPH ?g {{
                ?a s22a:party|s22a:leadForce|s22a:hostForce|s22a:capability|s22a:partyGroup ?x
            }} {ENTITLED} }}""",
        ),
        "a",
        "x",
    )
    assert len(agreements) == 44
    for row in agreements:
        a = row["a"]
        html = get(client, doc(a))
        links_on_page = hrefs(html)
        for iri in listing.get(a, set()) | linked.get(a, set()):
            assert doc(iri) in links_on_page, (a, iri)
        # One section per register that says something of it, in its own words.
        assert html.count('<section class="statement"') == len(speaking.get(a, set())), a
        assert f"Listed by {len(listing.get(a, set()))} register" in html, a


def test_every_force_page_names_the_force_and_links_its_agreements(
    loaded_app: Flask, client: FlaskClient
) -> None:
    forces = select(
        loaded_app,
        f"""SELECT ?f ?label WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f a ?type ; rdfs:label ?label
            VALUES ?type {{ s22a:PoliceForce s22a:TerritorialPoliceForce s22a:SpecialPoliceForce }}
        }} }}""",
    )
    named = by(
        select(
            loaded_app,
            f"""SELECT DISTINCT ?f ?a WHERE {{ GRAPH ?g {{
                ?a s22a:party|s22a:leadForce|s22a:hostForce ?f }} {ENTITLED} }}""",
        ),
        "f",
        "a",
    )
    assert len(forces) >= 40
    for row in forces:
        html = get(client, doc(row["f"]))
        assert h1(html) == row["label"]
        assert {doc(a) for a in named.get(row["f"], set())} <= hrefs(html), row["f"]


def test_every_capability_page_links_its_agreements(loaded_app: Flask, client: FlaskClient) -> None:
    capabilities = select(
        loaded_app,
        f"SELECT ?c ?label WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?c a skos:Concept ; "
        "skos:prefLabel ?label } }",
    )
    agreements = by(
        select(
            loaded_app,
            f"SELECT DISTINCT ?c ?a WHERE {{ GRAPH ?g {{ ?a s22a:capability ?c }} {ENTITLED} }}",
        ),
        "c",
        "a",
    )
    assert len(capabilities) >= 40
    assert sum(map(len, agreements.values())) > 40
    for row in capabilities:
        html = get(client, doc(row["c"]))
        assert h1(html) == row["label"]
        assert {doc(a) for a in agreements.get(row["c"], set())} <= hrefs(html), row["c"]


def test_every_register_page_links_every_agreement_it_lists(
    loaded_app: Flask, client: FlaskClient
) -> None:
    listed = by(
        select(
            loaded_app, "SELECT ?r ?a WHERE { GRAPH ?r { ?r a s22a:Register ; s22a:lists ?a } }"
        ),
        "r",
        "a",
    )
    assert len(listed) == 5
    for register, agreements in listed.items():
        html = get(client, doc(register))
        assert {doc(a) for a in agreements} <= hrefs(html), register
        assert f"<dt>Agreements listed</dt><dd>{len(agreements)}" in html, register


@pytest.mark.parametrize("kind", ["agreement", "force", "capability", "register", "body"])
def test_a_thing_that_does_not_exist_is_not_found_on_every_path(
    client: FlaskClient, kind: str
) -> None:
    path = f"/doc/{kind}/no-such-{kind}"
    later = format_datetime(datetime.now(UTC) + timedelta(days=1), usegmt=True)
    for headers in (
        HTML,
        {"Accept": "text/turtle"},
        {"Accept": "application/ld+json"},
        {**HTML, "If-Modified-Since": later},  # a 304 on a date alone still checks
        {**HTML, "If-None-Match": "*"},
        {"Accept": "image/png"},  # not found comes before not acceptable
    ):
        assert client.get(path, headers=headers).status_code == 404, headers
    for ext in ("html", "ttl", "jsonld", "nt", "rdf"):
        assert client.get(f"{path}.{ext}").status_code == 404, ext


# The macros `link` and `links` of templates/_macros.html, as they were before they became
# Python (`s22a.web.filters`): the pages must not change by a byte.
MACROS = (
    "{%- macro link(iri, labels) -%}\n"
    "{%- set href = iri|local %}\n"
    '{%- if href %}<a href="{{ href }}">{{ iri|name(labels) }}</a>'
    '{% else %}<span class="identifier">{{ iri|name(labels) }}</span>{% endif %}\n'
    "{%- endmacro %}\n"
    "{%- macro links(iris, labels, empty='None given') -%}\n"
    "{%- for iri in iris %}{{ link(iri, labels) }}{% if not loop.last %}, {% endif %}"
    '{% else %}<span class="secondary">{{ empty }}</span>{% endfor -%}\n'
    "{%- endmacro -%}\n"
)

TRICKY = [
    BASE + "id/force/merseyside",
    BASE + "id/register/cheshire",
    BASE + "id/register/cheshire/versions/3",
    BASE + "def/s22a#Regional",
    "http://www.legislation.gov.uk/id/ukpga/1996/16/section/22A",
    "https://example.org/a?b=1&c=<2>",
    "javascript:alert(1)",
    "data:text/html,<b>x</b>",
    "not an iri",
    "",
]
LABELS = {
    BASE + "id/force/merseyside": "Merseyside <Police> & \"friends\" 'quoted'",
    "javascript:alert(1)": "<script>alert(1)</script>",
    "https://example.org/a?b=1&c=<2>": "",
}


@pytest.mark.parametrize("root", ["", "/mount"])
def test_link_helpers_write_what_the_macros_wrote(loaded_app: Flask, root: str) -> None:
    with loaded_app.test_request_context("/", environ_overrides={"SCRIPT_NAME": root}):
        for labels in (LABELS, {}, None):
            for iri in TRICKY:
                old = render_template_string(
                    MACROS + "{{ link(iri, labels) }}", iri=iri, labels=labels
                )
                assert str(link(iri, labels)) == old, (iri, labels)
            for chosen in (TRICKY, TRICKY[:1], [], set(TRICKY[:3])):
                ordered = sorted(chosen) if isinstance(chosen, set) else chosen
                for empty in ("None given", "<none> & more"):
                    old = render_template_string(
                        MACROS + "{{ links(iris, labels, empty) }}",
                        iris=ordered,
                        labels=labels,
                        empty=empty,
                    )
                    assert str(links(ordered, labels, empty)) == old, (ordered, empty)
            default = render_template_string(MACROS + "{{ links([], labels) }}", labels=labels)
            assert str(links([], labels)) == default
        # What they give is markup: a template does not escape it again.
        assert str(escape(link(BASE + "id/force/merseyside", {}))).startswith("<a href=")
