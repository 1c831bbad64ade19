"""Pages for people: what the home, agreement, force and other pages show, lists, search, errors."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from s22a import create_app
from s22a.read import listing
from s22a.reconcile.compute import reconcile
from s22a.reconcile.findings import store_report
from s22a.store import get_store

HTML = {"Accept": "text/html"}


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path, headers=HTML)
    assert response.status_code == status, path
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    return response.get_data(as_text=True)


def text(html: str) -> str:
    """The words of a page, tags removed and spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("&amp;", "&")


def rows(html: str) -> int:
    """How many body rows the first table has."""
    body = re.search(r"<tbody>(.*?)</tbody>", html, re.S)
    return body.group(1).count("<tr") if body else 0


@pytest.fixture(scope="module")
def reconciled(loaded_app: Flask) -> Iterator[FlaskClient]:
    """A client of an app whose store also holds the reconciliation findings."""
    app = create_app({"TESTING": True, "S22A_STORE": "memory:"})
    with app.app_context():
        store = get_store()
        with loaded_app.app_context():
            source = get_store()
            for graph in source.graphs():
                data = source.graph_triples(graph).serialize(format="nt", encoding="utf-8")
                store.replace_graph(graph, data)
        store_report(store, reconcile(store))
    yield app.test_client()
    with app.app_context():
        get_store().close()


def test_home_says_what_the_register_is_and_links_onwards(client: FlaskClient) -> None:
    html = page(client, "/")
    words = text(html)
    assert "section 22A of the Police Act 1996" in words
    assert re.search(r'<span class="number">44</span>', html)  # agreements
    assert "Newest agreements" in words and "Minerva Programme" in words
    for register in ("cheshire", "lancashire", "leicestershire", "merseyside", "north-wales"):
        assert f'href="/doc/register/{register}"' in html
    assert 'action="/search"' in html and '<label for="q">' in html
    assert 'href="/sparql"' in html and 'href="/catalog"' in html and 'href="/dump.nq"' not in html
    # Two pictures, each with a title and description and a table beside it.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg"') == 2
    assert html.count("<title id=") == 2 and html.count("<desc id=") == 2
    assert "Pairs of forces named as parties to the same agreements" in words
    assert "no JavaScript" not in words and "<script" not in html


def test_agreement_page_shows_each_register_side_by_side(client: FlaskClient) -> None:
    html = page(client, "/doc/agreement/north-west-rocu")
    words = text(html)
    # Named by the register that published it first (Cheshire's, in the catalogue's order),
    # the others' titles shown with their registers (`attribution.RULE`).
    assert "<h1>TITAN</h1>" in html
    # What each register says, in its own words.
    for register in ("Cheshire", "Lancashire", "Merseyside"):
        assert f"{register} collaboration register" in words
    assert "Title TITAN" in words
    assert "North West Regional Organised Crime Unit - TITAN" in words
    assert "2009" in words and "November 2022" in words
    # Parties with roles, legal basis linked to legislation.gov.uk, resources, governance.
    assert "Lead force, party" in words
    assert 'href="https://www.legislation.gov.uk/ukpga/1996/16/section/22A"' in html
    assert "Police Act 1996, section 22A" in words
    assert "£18,300,000 (approximately)" in words and "336 staff posts" in words
    assert "Funding model" in words and "Dispute resolution" in words
    # Which registers list it, and whether every party confirms it.
    assert "Confirmed by some parties" in words
    assert "Listed by 3 registers" in words
    assert "Does not list it" in words and "No register published" in words
    assert "Where the registers differ" in words
    assert "Source" in words and "Lancashire Police and Crime Commissioner" in words


def test_agreement_page_shows_the_canonical_record(client: FlaskClient) -> None:
    words = text(page(client, "/doc/agreement/national-police-air-service"))
    assert "Canonical record" in words
    assert "Made with every member of Police forces of England and Wales" in words
    assert "Listed by 4 registers" in words
    assert "Police Act 1996, section 23FA" in words


def test_agreement_page_reports_reconciliation_findings(reconciled: FlaskClient) -> None:
    html = page(reconciled, "/doc/agreement/north-west-rocu")
    differ = text(html.split("Where the registers differ")[1].split("</ul>")[0])
    assert "TITAN" in differ and "2009" in differ
    force = text(page(reconciled, "/doc/force/merseyside"))
    assert "Not in its own register" in force and "does not list 5" in force


def test_force_page_groups_agreements_and_shows_partners(client: FlaskClient) -> None:
    html = page(client, "/doc/force/merseyside")
    words = text(html)
    assert "Merseyside Police" in words
    assert "Police and Crime Commissioner for Merseyside" in words
    assert 'href="/doc/region/north-west"' in html
    assert "Its own register lists 24 of them" in words
    for heading in ("National", "Regional"):
        assert re.search(rf"<caption>{heading} <span", html), heading
    assert "Not listed" in words  # agreements naming Merseyside that its register omits
    assert "Forces that share agreements with Merseyside Police" in words
    assert html.count("<svg") == 2 and "Agreements in which Merseyside Police is named" in words


def test_force_without_register(client: FlaskClient) -> None:
    words = text(page(client, "/doc/force/cumbria"))
    assert "It publishes no register here" in words
    assert "No register" in words


@pytest.mark.parametrize(
    "path, expected",
    [
        (
            "/doc/capability/serious-organised-crime",
            ["Regional organised crime team", "TITAN"],
        ),
        (
            "/doc/region/east-midlands",
            ["Leicestershire Police", "East Midlands Special Operations Unit (EMSOU)"],
        ),
        (
            "/doc/register/merseyside",
            [
                "Merseyside collaboration register",
                "Versions",
                "the source says 24",
                "West Coast Collaboration",
            ],
        ),
        (
            "/doc/body/north-west-joint-oversight-committee",
            ["TITAN", "Cheshire and North Wales Firearms"],
        ),
        ("/doc/body/merseyside-pcc", ["Policing body of", "Merseyside Police", "Publishes"]),
        ("/doc/group/england-and-wales", ["Agreements made with every member", "Wiltshire Police"]),
        (
            "/doc/scheme/capabilities",
            ["Policing capabilities", "Forensic services", "Drugs testing"],
        ),
    ],
)
def test_other_pages(client: FlaskClient, path: str, expected: list[str]) -> None:
    words = text(page(client, path))
    for phrase in expected:
        assert phrase in words, phrase


def test_lists_are_paged_and_never_longer_than_fifty(client: FlaskClient) -> None:
    first = page(client, "/agreements?size=10")
    assert rows(first) == 10
    assert "Showing 1 to 10 of 44 agreements" in text(first)
    assert 'rel="next"' in first and 'rel="prev"' not in first
    last = page(client, "/agreements?size=10&page=5")
    assert rows(last) == 4 and 'rel="prev"' in last and 'rel="next"' not in last
    assert rows(page(client, "/agreements?size=100000")) == 44  # capped at 50 a page
    assert rows(page(client, "/forces?size=100000")) == listing.PAGE_SIZE - 2  # 48 forces
    assert rows(page(client, "/agreements?page=999")) == 0
    assert rows(page(client, "/agreements?page=-3&size=x")) == 44


def test_lists_sort(client: FlaskClient) -> None:
    def titles(html: str) -> list[str]:
        return re.findall(r'<td><a href="/doc/agreement/[^"]+">([^<]+)</a>', html)

    by_title = titles(page(client, "/agreements?sort=title"))
    assert by_title == sorted(by_title, key=str.lower)
    newest = page(client, "/agreements?sort=newest&size=3")
    assert titles(newest)[0] == "Minerva Programme"
    assert '<option value="newest" selected>' in newest
    oldest = titles(page(client, "/agreements?sort=oldest&size=1"))
    assert oldest == ["Civil Nuclear Constabulary collaboration agreement"]
    assert titles(page(client, "/agreements?sort=nonsense")) == by_title
    busiest = page(client, "/forces?sort=agreements&size=1")
    assert "Merseyside Police" in busiest
    assert "Automatic number plate recognition" in page(client, "/capabilities?sort=agreements")


def test_regions_list(client: FlaskClient) -> None:
    html = page(client, "/regions")
    assert rows(html) == 10 and 'href="/doc/region/north-west"' in html


@pytest.mark.parametrize(
    "query, expected",
    [
        ("forensic", "North West Forensics Collaboration"),
        ("FORENSIC", "North West Forensics Collaboration"),
        ("npas", "National Police Air Service"),  # an alternative name
        ("ballistic intelligence", "National Ballistics Intelligence Service"),
        ("underwater", "Underwater Search and Marine Unit"),  # Cheshire's name (issue 18)
        ("Merseyside", "Merseyside Police"),  # a force by its label
        ("niche", "West Coast Collaboration"),  # words of a purpose
        ("drugs testing", "Drugs testing"),  # a capability
    ],
)
def test_search_finds(client: FlaskClient, query: str, expected: str) -> None:
    html = page(client, f"/search?q={query}")
    assert expected in html


@pytest.mark.parametrize(
    "query",
    [
        '"}) } ; DROP ALL ; #',
        "\\",
        "'; DELETE WHERE { ?s ?p ?o } #",
        ">",
        "${}",
        "\u00e9\u4e2d",
        "x" * 5000,
    ],
)
def test_search_input_is_escaped(loaded_app: Flask, client: FlaskClient, query: str) -> None:
    with loaded_app.app_context():
        before = len(get_store().graphs())
    html = page(client, "/search?" + "q=" + query.replace("#", "%23").replace("&", "%26"))
    assert "No results" in html or "result" in html
    with loaded_app.app_context():
        assert len(get_store().graphs()) == before


def test_search_without_words_explains(client: FlaskClient) -> None:
    words = text(page(client, "/search?q=%20%20"))
    assert "Every word must match" in words


def test_not_found_page_is_helpful(client: FlaskClient) -> None:
    html = page(client, "/forces/merseyside", status=404)
    assert "Page not found" in html and 'href="/doc/force/merseyside"' in html
    assert 'action="/search"' in html


def test_errors_never_show_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app({"S22A_STORE": "memory:", "TESTING": False})
    # Quiet the expected error log for this test only (the logger is shared by every app).
    monkeypatch.setattr(app.logger, "disabled", True)

    def broken(*args: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(listing, "counts", broken)
    with app.test_client() as client:
        response = client.get("/", headers=HTML)
        assert response.status_code == 500
        body = response.get_data(as_text=True)
        assert "Sorry, there is a problem with the service" in body
        assert "secret internals" not in body and "Traceback" not in body
        assert client.post("/agreements").status_code == 405
    with app.app_context():
        get_store().close()


def test_every_page_has_the_landmarks(client: FlaskClient) -> None:
    for path in (
        "/",
        "/agreements",
        "/doc/agreement/navcis",
        "/doc/force/cheshire",
        "/search?q=anpr",
        "/def/s22a",
        "/catalog",
        "/no-such-page",
    ):
        html = client.get(path, headers=HTML).get_data(as_text=True)
        assert '<html lang="en-GB">' in html
        assert '<a href="#main-content" class="skip-link">' in html
        assert '<main id="main-content"' in html and "<header" in html and "<footer" in html
        assert html.count("<h1") == 1, path
        assert '<nav class="header__nav" aria-label="Main">' in html


def test_dates_money_and_names_read_naturally(loaded_app: Flask) -> None:
    from s22a.web.filters import date_text, link_curies, money

    assert date_text("2022-02") == "February 2022"
    assert date_text("2009") == "2009"
    assert date_text("2015-04-01") == "1 April 2015"
    assert date_text("") == "" and date_text("soon") == "soon"
    assert money("18300000", "GBP") == "£18,300,000"
    assert money("1.5", "EUR") == "€1.50" and money("7", "NOK") == "7 NOK"
    with loaded_app.test_request_context("/"):
        html = str(
            link_curies(
                "agreement:navcis is listed <b>once</b>",
                {"https://w3id.org/s22a/id/agreement/navcis": "NaVCIS"},
            )
        )
    assert '<a href="/doc/agreement/navcis">NaVCIS</a>' in html
    assert "&lt;b&gt;" in html and "<b>" not in html


def test_pictures_describe_themselves_and_escape_labels() -> None:
    from xml.etree import ElementTree

    from s22a.read import svg

    nodes = [
        svg.Node("a", "A & <B>", "North", 3),
        svg.Node("b", "C", "South", 1),
        svg.Node("c", "D", "", 1),
    ]
    picture = str(
        svg.network(
            nodes,
            [("a", "b", 2), ("a", "c", 1)],
            ident="n",
            title="Links <here>",
            desc="Who works with whom",
        )
    )
    root = ElementTree.fromstring(picture)
    assert root.get("role") == "img" and root.get("aria-labelledby") == "n-title n-desc"
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "Links <here>"
    assert root.find(f"{ns}desc").text == "Who works with whom"
    assert "A &amp; &lt;B&gt;" in picture and len(root.findall(f".//{ns}line")) == 2
    timeline = str(svg.timeline(["2009", "2022-02", "2022-11-03"], ident="t", title="T", desc="D"))
    bars = ElementTree.fromstring(timeline).findall(f".//{ns}rect")
    assert len(bars) == 2  # 2009 and 2022
    assert ">2<" in timeline  # two agreements in 2022


def test_governance_rows_say_more_than_their_heading(client: FlaskClient) -> None:
    """Merseyside's page names the aspects only: no "Funding model: funding models" row."""
    html = page(client, "/doc/agreement/north-west-forensics")
    rows = re.findall(r"<li><strong>([^<]+)</strong>(: [^<]*)?", html)
    assert ("Funding model", "") in rows and ("Committee structures", "") in rows
    assert not [r for r in rows if r[1] and r[1][2:].lower().rstrip("s") in r[0].lower()]


def test_listing_counts_say_their_noun_in_the_plural(client: FlaskClient) -> None:
    words = text(page(client, "/capabilities"))
    assert "capabilitys" not in words and re.search(r"of \d+ capabilities\.", words)


def test_publishing_and_the_feeds_are_linked_and_say_whom_to_ask(client: FlaskClient) -> None:
    home, catalog = page(client, "/"), page(client, "/catalog")
    for html in (home, catalog):
        assert 'href="/publish"' in html and 'href="/feed.atom"' in html
    assert 'href="/registers/merseyside/feed.atom"' in catalog
    words = text(page(client, "/publish"))
    assert "ask the service" not in words and "operator" in words and "s22a token create" in words


def test_the_stylesheet_keeps_the_search_button_level_and_pictures_legible(
    client: FlaskClient,
) -> None:
    """The rules the browser test's screenshots show: a search field without the form fields'
    bottom margin, pictures that scroll rather than shrink, code blocks that scroll."""
    css = client.get("/static/s22a.css").get_data(as_text=True)
    assert re.search(r"\.search \.field \{[^}]*margin-bottom: 0", css)
    assert re.search(r"\.picture \{[^}]*min-width: \d{3}px", css)
    assert re.search(r"pre code \{[^}]*background: none", css)
