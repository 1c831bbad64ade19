"""Content negotiation, 303s and HTTP caching, as one table of requests and what they must get.

Each row: method, path (with or without a file extension), Accept header (None: not sent),
`_format` (None: not sent) -> status, Content-Type, and Location (for 303s) or
Content-Location (for documents). The rules are DESIGN.md's "Identifiers": extension, then
`_format` (with or without Accept), then Accept with q-values; browsers get HTML, `*/*` and
no Accept get Turtle; 406 lists the formats; /id/ answers 303 to /doc/.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Response
from flask.testing import FlaskClient

from s22a.web.conneg import DOCUMENT_FORMATS
from s22a.web.http import add_vary

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
TTL = "text/turtle; charset=utf-8"
HTML = "text/html; charset=utf-8"
JSONLD = "application/ld+json; charset=utf-8"
RDFXML = "application/rdf+xml; charset=utf-8"
NT = "application/n-triples; charset=utf-8"
ROCU = "/doc/agreement/north-west-rocu"
MERSEY = "/doc/force/merseyside"


@dataclass(frozen=True)
class Case:
    """One request and what it must get back."""

    method: str
    path: str
    accept: str | None
    format: str | None
    status: int
    content_type: str | None
    location: str | None = None  # Location for 303, Content-Location for 200/304

    def __str__(self) -> str:
        return f"{self.method} {self.path} Accept={self.accept} _format={self.format}"


CASES = [
    # /id/ names a thing: 303 See Other to its document, whatever is asked for.
    Case("GET", "/id/agreement/north-west-rocu", BROWSER, None, 303, None, ROCU),
    Case("GET", "/id/force/merseyside", None, None, 303, None, MERSEY),
    Case("GET", "/id/force/merseyside", "text/turtle", None, 303, None, MERSEY),
    Case("HEAD", "/id/force/merseyside", "*/*", None, 303, None, MERSEY),
    Case("GET", "/id/force/merseyside", None, "ttl", 303, None, MERSEY + "?_format=ttl"),
    Case("GET", "/id/body/merseyside-pcc", None, None, 303, None, "/doc/body/merseyside-pcc"),
    Case(
        "GET", "/id/group/england-and-wales", None, None, 303, None, "/doc/group/england-and-wales"
    ),
    Case("GET", "/id/region/north-west", None, None, 303, None, "/doc/region/north-west"),
    Case("GET", "/id/capability/forensics", None, None, 303, None, "/doc/capability/forensics"),
    Case("GET", "/id/register/merseyside", None, None, 303, None, "/doc/register/merseyside"),
    Case("GET", "/id/scheme/capabilities", None, None, 303, None, "/doc/scheme/capabilities"),
    Case("GET", "/id/catalog", None, None, 303, None, "/catalog"),
    Case("GET", "/id/dataset", None, None, 303, None, "/void"),
    Case("GET", "/id/force/mersyside", BROWSER, None, 404, HTML),
    Case("GET", "/id/spaceship/merseyside", None, None, 404, HTML),
    Case("HEAD", "/id/force/nowhere", None, None, 404, HTML),
    # /doc/ negotiates by Accept when there is neither extension nor _format.
    Case("GET", ROCU, BROWSER, None, 200, HTML, ROCU + ".html"),
    Case("GET", ROCU, "text/html", None, 200, HTML, ROCU + ".html"),
    Case("GET", ROCU, "application/xhtml+xml", None, 200, HTML, ROCU + ".html"),
    Case("GET", ROCU, "*/*", None, 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, None, None, 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, "text/turtle", None, 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, "application/x-turtle", None, 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, "application/ld+json", None, 200, JSONLD, ROCU + ".jsonld"),
    Case("GET", ROCU, "application/json", None, 200, JSONLD, ROCU + ".jsonld"),
    Case("GET", ROCU, "application/rdf+xml", None, 200, RDFXML, ROCU + ".rdf"),
    Case("GET", ROCU, "application/n-triples", None, 200, NT, ROCU + ".nt"),
    Case("GET", ROCU, "text/*", None, 200, TTL, ROCU + ".ttl"),
    Case(
        "GET",
        ROCU,
        "text/turtle;q=0.5, application/ld+json;q=0.9",
        None,
        200,
        JSONLD,
        ROCU + ".jsonld",
    ),
    Case("GET", ROCU, "text/html;q=0.1, application/rdf+xml", None, 200, RDFXML, ROCU + ".rdf"),
    Case("GET", ROCU, "text/html;q=0, */*;q=0.5", None, 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, "*/*;q=0.1, application/n-triples;q=0.2", None, 200, NT, ROCU + ".nt"),
    Case("GET", ROCU, "image/png", None, 406, HTML),
    Case("GET", ROCU, "text/turtle;q=0", None, 406, HTML),
    Case("HEAD", ROCU, "image/png", None, 406, HTML),
    # _format works with or without Accept, and beats Accept.
    Case("GET", ROCU, None, "jsonld", 200, JSONLD, ROCU + ".jsonld"),
    Case("GET", ROCU, None, "ttl", 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, None, "html", 200, HTML, ROCU + ".html"),
    Case("GET", ROCU, None, "rdf", 200, RDFXML, ROCU + ".rdf"),
    Case("GET", ROCU, None, "nt", 200, NT, ROCU + ".nt"),
    Case("GET", ROCU, None, "text/turtle", 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, BROWSER, "ttl", 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU, "image/png", "jsonld", 200, JSONLD, ROCU + ".jsonld"),
    Case("HEAD", ROCU, None, "nt", 200, NT, ROCU + ".nt"),
    Case("GET", ROCU, None, "bogus", 406, HTML),
    Case("GET", ROCU, BROWSER, "pdf", 406, HTML),
    # A file extension beats _format and Accept.
    Case("GET", ROCU + ".ttl", BROWSER, None, 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU + ".html", "text/turtle", None, 200, HTML, ROCU + ".html"),
    Case("GET", ROCU + ".jsonld", None, None, 200, JSONLD, ROCU + ".jsonld"),
    Case("GET", ROCU + ".rdf", None, None, 200, RDFXML, ROCU + ".rdf"),
    Case("GET", ROCU + ".nt", None, "jsonld", 200, NT, ROCU + ".nt"),
    Case("GET", ROCU + ".json", None, None, 200, JSONLD, ROCU + ".jsonld"),
    Case("HEAD", ROCU + ".ttl", None, None, 200, TTL, ROCU + ".ttl"),
    Case("GET", ROCU + ".pdf", None, None, 404, HTML),
    Case("GET", "/doc/agreement/no-such-agreement", BROWSER, None, 404, HTML),
    Case("GET", "/doc/agreement/no-such-agreement.ttl", None, None, 404, HTML),
    Case("GET", "/doc/spaceship/merseyside", None, None, 404, HTML),
    # Every kind of thing has its document in every format.
    Case("GET", MERSEY, BROWSER, None, 200, HTML, MERSEY + ".html"),
    Case("GET", MERSEY + ".ttl", None, None, 200, TTL, MERSEY + ".ttl"),
    Case(
        "GET",
        "/doc/body/merseyside-pcc",
        "application/ld+json",
        None,
        200,
        JSONLD,
        "/doc/body/merseyside-pcc.jsonld",
    ),
    Case(
        "GET",
        "/doc/group/england-and-wales.rdf",
        None,
        None,
        200,
        RDFXML,
        "/doc/group/england-and-wales.rdf",
    ),
    Case("GET", "/doc/region/north-west", None, "nt", 200, NT, "/doc/region/north-west.nt"),
    Case(
        "GET",
        "/doc/capability/forensics",
        BROWSER,
        None,
        200,
        HTML,
        "/doc/capability/forensics.html",
    ),
    Case("GET", "/doc/register/lancashire", "*/*", None, 200, TTL, "/doc/register/lancashire.ttl"),
    Case(
        "GET", "/doc/scheme/capabilities", BROWSER, None, 200, HTML, "/doc/scheme/capabilities.html"
    ),
    # The ontology, the shapes, VoID and DCAT negotiate the same way.
    Case("GET", "/def/s22a", BROWSER, None, 200, HTML, "/def/s22a.html"),
    Case("GET", "/def/s22a", "*/*", None, 200, TTL, "/def/s22a.ttl"),
    Case("GET", "/def/s22a.rdf", None, None, 200, RDFXML, "/def/s22a.rdf"),
    Case("GET", "/def/shapes", None, "jsonld", 200, JSONLD, "/def/shapes.jsonld"),
    Case("GET", "/def/shapes.html", None, None, 200, HTML, "/def/shapes.html"),
    Case("GET", "/def/nothing", None, None, 404, HTML),
    Case("GET", "/void", BROWSER, None, 200, HTML, "/void.html"),
    Case("GET", "/void", "text/turtle", None, 200, TTL, "/void.ttl"),
    Case("GET", "/void.nt", None, None, 200, NT, "/void.nt"),
    Case("GET", "/catalog", None, None, 200, TTL, "/catalog.ttl"),
    Case("GET", "/catalog", None, "jsonld", 200, JSONLD, "/catalog.jsonld"),
    Case("GET", "/catalog.html", None, None, 200, HTML, "/catalog.html"),
    Case("HEAD", "/catalog.rdf", None, None, 200, RDFXML, "/catalog.rdf"),
    Case("GET", "/catalog.xls", None, None, 404, HTML),
    # Dumps and the JSON-LD context have one format each.
    Case("GET", "/dump.nq", None, None, 200, "application/n-quads; charset=utf-8"),
    Case("HEAD", "/dump.nq", "*/*", None, 200, "application/n-quads; charset=utf-8"),
    Case("GET", "/dump.trig", None, None, 200, "application/trig; charset=utf-8"),
    Case("GET", "/dump.zip", None, None, 404, HTML),
    Case("GET", "/context.jsonld", None, None, 200, JSONLD),
    # Pages for people.
    Case("GET", "/", BROWSER, None, 200, HTML),
    Case("HEAD", "/", None, None, 200, HTML),
    Case("GET", "/agreements", None, None, 200, HTML),
    Case("HEAD", "/search?q=forensic", None, None, 200, HTML),
    Case("GET", "/no/such/page", BROWSER, None, 404, HTML),
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_negotiation(client: FlaskClient, case: Case) -> None:
    """Status, Content-Type and Location/Content-Location, for GET and HEAD alike."""
    headers = {"Accept": case.accept} if case.accept is not None else {}
    query = {"_format": case.format} if case.format is not None else None
    response = client.open(case.path, method=case.method, headers=headers, query_string=query)
    assert response.status_code == case.status, response.get_data(as_text=True)[:500]
    if case.content_type:
        assert response.headers["Content-Type"] == case.content_type
    if case.status == 303:
        assert response.headers["Location"] == case.location
    elif case.location:
        assert response.headers["Content-Location"] == case.location
    if case.method == "HEAD":
        assert response.get_data() == b""
    elif case.status == 200:
        assert response.get_data()
    if case.status in (200, 303, 406):
        assert "Accept" in response.vary


@pytest.mark.parametrize("path", [ROCU, MERSEY, "/void", "/catalog", "/def/s22a"])
def test_link_header_lists_every_alternate(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html"})
    link = response.headers["Link"]
    for fmt in DOCUMENT_FORMATS:
        assert f'<{path}.{fmt.key}>; rel="alternate"; type="{fmt.media_type}"' in link
    assert f'<https://w3id.org/s22a{path[:]}>; rel="canonical"' in link


def test_html_names_its_alternates_in_the_head(client: FlaskClient) -> None:
    html = client.get(ROCU, headers={"Accept": "text/html"}).get_data(as_text=True)
    assert f'<link rel="alternate" type="text/turtle" href="{ROCU}.ttl">' in html
    assert f'<link rel="alternate" type="application/ld+json" href="{ROCU}.jsonld">' in html


@pytest.mark.parametrize(
    "path",
    [
        ROCU,
        ROCU + ".ttl",
        "/",
        "/agreements?page=1",
        "/void.nt",
        "/dump.nq",
        "/context.jsonld",
        "/search?q=anpr",
    ],
)
def test_conditional_get_answers_304(client: FlaskClient, path: str) -> None:
    first = client.get(path)
    assert first.status_code == 200
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.headers["Cache-Control"] in ("public, max-age=300", "max-age=300, public")
    again = client.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    since = client.get(path, headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    head = client.head(path, headers={"If-None-Match": etag})
    assert head.status_code == 304
    stale = client.get(path, headers={"If-None-Match": 'W/"something-else"'})
    assert stale.status_code == 200 and stale.get_data()
    # If-None-Match wins over If-Modified-Since (RFC 9110 section 13.1.3).
    both = client.get(path, headers={"If-None-Match": '"nope"', "If-Modified-Since": modified})
    assert both.status_code == 200


def test_each_variant_has_its_own_etag(client: FlaskClient) -> None:
    tags = {
        client.get(ROCU, query_string={"_format": f.key}).headers["ETag"] for f in DOCUMENT_FORMATS
    }
    assert len(tags) == len(DOCUMENT_FORMATS)
    # The negotiated URL and the variant's own URL are one representation.
    assert (
        client.get(ROCU, headers={"Accept": "text/turtle"}).headers["ETag"]
        == client.get(ROCU + ".ttl").headers["ETag"]
    )


def test_not_found_suggests_close_slugs(client: FlaskClient) -> None:
    html = client.get("/id/force/mersyside").get_data(as_text=True)
    assert "Did you mean" in html
    assert 'href="/doc/force/merseyside"' in html
    html = client.get("/doc/agreement/north-west-rocuu").get_data(as_text=True)
    assert 'href="/doc/agreement/north-west-rocu"' in html
    # A slug that exists as another kind of thing is suggested too.
    html = client.get("/doc/agreement/merseyside").get_data(as_text=True)
    assert 'href="/doc/force/merseyside"' in html


def test_not_acceptable_lists_the_formats(client: FlaskClient) -> None:
    response = client.get(ROCU, headers={"Accept": "image/png"})
    html = response.get_data(as_text=True)
    for fmt in DOCUMENT_FORMATS:
        assert f'href="{ROCU}.{fmt.key}"' in html
        assert fmt.media_type in html


def test_303_is_relative_to_the_server_the_reader_is_on(client: FlaskClient) -> None:
    response = client.get("/id/force/merseyside", base_url="http://register.example:8080")
    assert response.headers["Location"] == MERSEY
    html = client.get(
        MERSEY, base_url="http://register.example:8080", headers={"Accept": "text/html"}
    ).get_data(as_text=True)
    assert 'href="/doc/region/north-west"' in html
    assert 'href="https://w3id.org/s22a/' not in html


def test_mounted_under_a_prefix_links_stay_on_the_mount(client: FlaskClient) -> None:
    response = client.get("/id/force/merseyside", environ_overrides={"SCRIPT_NAME": "/register"})
    assert response.headers["Location"] == "/register" + MERSEY
    html = client.get(
        MERSEY, headers={"Accept": "text/html"}, environ_overrides={"SCRIPT_NAME": "/register"}
    ).get_data(as_text=True)
    assert 'href="/register/doc/region/north-west"' in html


@pytest.mark.parametrize(
    ("before", "added", "after"),
    [
        (None, ("Accept",), "Accept"),
        (None, ("Accept", "Accept-Datetime", "Accept"), "Accept, Accept-Datetime"),
        ("accept", ("Accept", "Accept-Datetime"), "accept, Accept-Datetime"),
        ("Origin, Accept-Datetime", ("Accept-Datetime",), "Origin, Accept-Datetime"),
        ("*", ("Accept",), "*"),
    ],
)
def test_vary_names_each_header_once_whatever_its_case(
    before: str | None, added: tuple[str, ...], after: str
) -> None:
    response = Response("x")
    if before is not None:
        response.headers["Vary"] = before
    add_vary(response, *added)
    assert response.headers.getlist("Vary") == [after]
