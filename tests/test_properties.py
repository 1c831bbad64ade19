"""Properties that hold for any input (hypothesis): negotiation, query parameters, CSV import.

Whatever a client sends — any Accept header, `_format` or extension, any query parameter
with any bytes (invalid UTF-8, control characters) — it gets a 2xx, 3xx or 4xx with a clear
message, never a 5xx nor a traceback; and any bytes given to the CSV importer give a
register (whose Turtle strict parsers read) or a clear error. The bugs these found have
their own regression tests at the end.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from urllib.parse import quote, quote_from_bytes

import pyoxigraph as ox
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph, Literal

from s22a.ingest import csv_import, csv_table
from s22a.read.describe import PATH
from s22a.read.listing import MAX_PAGE, page_args
from s22a.store import get_store
from tests.support import ROOT
from tests.support.app import make_app
from tests.support.writes import bearer, tokens_for

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# ---------------------------------------------------------------------------
# Content negotiation on documents

DOCUMENTS = [
    "/doc/force/merseyside",
    "/doc/agreement/north-west-rocu",
    "/doc/region/north-west",
    "/doc/register/merseyside",
    "/void",
    "/catalog",
    "/def/shapes",
]
OFFERED = {
    "text/turtle": ("ttl", "turtle", "application/x-turtle"),
    "text/html": ("html", "htm", "application/xhtml+xml"),
    "application/ld+json": ("jsonld", "json", "application/json"),
    "application/rdf+xml": ("rdf", "xml", "rdfxml"),
    "application/n-triples": ("nt", "ntriples"),
}
NAMES = {name: media for media, names in OFFERED.items() for name in (media, *names)}
RANGES = [
    *OFFERED,
    "application/json",
    "application/xhtml+xml",
    "application/x-turtle",
    "text/*",
    "application/*",
    "*/*",
    "image/png",
    "text/plain",
    "application/xml",
]
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=60)
ALLOWED = {200, 303, 304, 404, 406}


@pytest.fixture(scope="module")
def web(loaded_app: Flask) -> Iterator[FlaskClient]:
    """One test client of the shared read-only app for every example."""
    yield loaded_app.test_client()


def quality(media: str, ranges: list[tuple[str, float]]) -> float:
    """The q a well-formed Accept gives `media`: its most specific matching range (RFC 9110)."""
    best, specificity = 0.0, -1
    for media_range, q in ranges:
        if media_range == media or NAMES.get(media_range) == media and "/" in media_range:
            rank = 2
        elif media_range.endswith("/*") and media.startswith(media_range[:-1]):
            rank = 1
        elif media_range == "*/*":
            rank = 0
        else:
            continue
        if rank > specificity:
            best, specificity = q, rank
    return best


accept_ranges = st.lists(
    st.tuples(st.sampled_from(RANGES), st.sampled_from([1.0, 0.9, 0.5, 0.001, 0.0])), max_size=4
)


@st.composite
def negotiations(draw: st.DrawFn) -> dict:
    """A document, and an extension, a `_format` and an Accept header (each maybe absent)."""
    ext = draw(
        st.none()
        | st.sampled_from(sorted(NAMES)).filter(lambda n: "/" not in n)
        | st.text("abcdefghijklmnopqrstuvwxyzTTL0123456789", min_size=1, max_size=6)
    )
    fmt = draw(st.none() | st.sampled_from(sorted(NAMES)) | HEADER_TEXT)
    ranges = draw(accept_ranges)
    raw = draw(st.none() | st.just("structured") | HEADER_TEXT)
    accept = (
        ", ".join(f"{r};q={q}" if q != 1.0 else r for r, q in ranges)
        if raw == "structured"
        else raw
    )
    return {
        "path": draw(st.sampled_from(DOCUMENTS)),
        "ext": ext,
        "format": fmt,
        "accept": accept,
        "ranges": ranges if raw == "structured" else None,
    }


def expected_media(case: dict) -> set[str] | None:
    """The media types a correct answer may have; empty for 406 (or 404); None: any offered."""
    if case["ext"] is not None:
        return {NAMES[case["ext"].lower()]} if case["ext"].lower() in NAMES else set()
    if case["format"]:
        wanted = case["format"].strip().lower()
        return {NAMES[wanted]} if wanted in NAMES else set()
    if case["accept"] is None:
        return {"text/turtle"}  # no Accept: the first RDF format
    if case["ranges"] is None:
        return None  # arbitrary text: any offered format, or 406
    if not case["ranges"]:
        return {"text/turtle"}
    scores = {media: quality(media, case["ranges"]) for media in OFFERED}
    top = max(scores.values())
    return {media for media, q in scores.items() if q == top and q > 0}


def parses(media: str, body: bytes) -> bool:
    """Whether a body is well-formed RDF in its media type (for HTML: whether it is a page)."""
    formats = {
        "text/turtle": ox.RdfFormat.TURTLE,
        "application/n-triples": ox.RdfFormat.N_TRIPLES,
        "application/rdf+xml": ox.RdfFormat.RDF_XML,
    }
    if media in formats:
        return bool(list(ox.parse(body, format=formats[media])))
    if media == "application/ld+json":
        return "@graph" in json.loads(body)
    return b"<html" in body[:200]


@pytest.mark.slow
@SETTINGS
@given(case=negotiations())
def test_any_negotiation_gets_a_document_or_a_clear_refusal(web: FlaskClient, case: dict) -> None:
    path = case["path"] + (f".{case['ext']}" if case["ext"] is not None else "")
    query = {"_format": case["format"]} if case["format"] is not None else {}
    headers = {"Accept": case["accept"]} if case["accept"] is not None else {}
    response = web.get(path, query_string=query, headers=headers)
    body = response.get_data()
    assert response.status_code in ALLOWED
    assert b"Traceback" not in body
    wanted = expected_media(case)
    if response.status_code != 200:
        assert response.status_code in (404, 406) and response.mimetype == "text/html"
        assert b"<h1" in body
        if response.status_code == 404:
            assert case["ext"] is not None and wanted == set()
        else:
            assert wanted is None or wanted == set(), (case, wanted)
        return
    assert wanted is None or response.mimetype in wanted, (case, response.mimetype)
    assert response.mimetype in OFFERED
    assert response.mimetype_params == {"charset": "utf-8"}
    assert "Accept" in response.vary
    assert parses(response.mimetype, body)
    again = web.get(
        path, query_string=query, headers={**headers, "If-None-Match": response.headers["ETag"]}
    )
    assert again.status_code == 304 and again.get_data() == b""


# ---------------------------------------------------------------------------
# Query parameters: any text, any bytes

PARAMETERS = [
    "page",
    "size",
    "sort",
    "q",
    "format",
    "_format",
    "output",
    "query",
    "default-graph-uri",
    "named-graph-uri",
    "example",
    "update",
]
QUERY_PATHS = [
    "/agreements",
    "/forces",
    "/capabilities",
    "/regions",
    "/search",
    "/sparql",
    "/registers/merseyside/versions",
    "/registers/merseyside",
    "/registers/merseyside/diff/1/1",
    "/feed.atom",
    "/id/force/merseyside",
    "/doc/force/merseyside",
    "/",
]
# Any bytes (invalid UTF-8 too), any text (control characters too), or numbers out of range.
VALUES = st.one_of(
    st.binary(max_size=30).map(quote_from_bytes),
    st.text(max_size=30).map(lambda t: quote(t, safe="")),
    st.integers(-(10**30), 10**30).map(str),
    st.sampled_from(["", "0", "-1", "1e9", "NaN", "%ff%fe", "%00", "%0d%0a", "\u202e", "..%2F"]),
    st.sampled_from(
        [
            "ASK {}",
            "SELECT * WHERE { ?s ?p ?o } LIMIT 2",
            "json",
            "html",
            "ttl",
            "CONSTRUCT WHERE { ?s ?p ?o } LIMIT 2",
            "https://w3id.org/s22a/id/x",
            "text/csv",
            "title",
            "newest",
            "merseyside police",
        ]
    ).map(quote),
)


@st.composite
def query_strings(draw: st.DrawFn) -> str:
    """A raw query string of up to five parameters, names known or not."""
    pairs = draw(
        st.lists(
            st.tuples(
                st.sampled_from(PARAMETERS) | st.text(max_size=8).map(lambda t: quote(t, safe="")),
                VALUES,
            ),
            max_size=5,
        )
    )
    return "&".join(f"{name}={value}" for name, value in pairs)


@pytest.mark.slow
@SETTINGS
@given(
    path=st.sampled_from(QUERY_PATHS),
    query=query_strings(),
    accept=st.none() | st.sampled_from(["text/html", "*/*", "application/json"]) | HEADER_TEXT,
)
def test_any_query_parameters_get_an_answer_never_a_server_error(
    web: FlaskClient, path: str, query: str, accept: str | None
) -> None:
    headers = {"Accept": accept} if accept else {}
    response = web.get(path, query_string=query, headers=headers)
    body = response.get_data()
    assert response.status_code < 500, (path, query, body[:300])
    assert b"Traceback" not in body
    if response.status_code >= 400:
        assert body.strip(), "an error needs a message"
    if path in ("/agreements", "/forces", "/capabilities", "/regions", "/search", "/"):
        assert response.status_code == 200  # lists read what they can and ignore the rest


# ---------------------------------------------------------------------------
# The CSV importer: any bytes

HEADINGS = [
    "Collaboration Name",
    "Name",
    "Purpose",
    "Force Areas Involved",
    "Date",
    "Identifier",
    "Parties",
    "Notes",
    "",
]
CELLS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        [
            "Merseyside",
            "GMP",
            "Cheshire; Dyfed Powys",
            "All 6 NW Forces",
            "National",
            "Part-National",
            "Feb-22",
            "2022-02-30",
            "14/02/2022",
            "north-west-rocu",
            "https://example.org/x",
            "Nowhere\r<urn:a> <urn:b> .",
            "a\u2028b",
            "\x00",
            '"',
            "=cmd|' /C calc'!A0",
        ]
    ),
)


@st.composite
def tables(draw: st.DrawFn) -> bytes:
    """A CSV table (headings then rows of any cells) in some encoding, or any bytes at all."""
    if draw(st.integers(0, 4)) == 0:
        return draw(st.binary(max_size=300))
    headings = draw(
        st.lists(st.sampled_from(HEADINGS) | st.text(max_size=10), min_size=1, max_size=5)
    )
    if draw(st.booleans()):  # mostly a table the importer reads: names and parties
        headings = ["Name", "Force Areas Involved", *headings]
    width = st.integers(max(len(headings) - 1, 0), len(headings) + 1)
    rows = draw(
        st.lists(width.flatmap(lambda n: st.lists(CELLS, min_size=n, max_size=n)), max_size=4)
    )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=draw(st.sampled_from([",", ";", "\t"])))
    writer.writerow(headings)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"]))
    return out.getvalue().encode(encoding, errors="replace")


@settings(SETTINGS, max_examples=150)
@given(data=tables())
def test_any_bytes_as_csv_give_a_register_or_a_clear_error(data: bytes) -> None:
    try:
        result = csv_import.convert(data, "merseyside")
    except csv_table.CsvImportError as error:
        assert str(error)
        return
    turtle = result.turtle()
    strict = list(ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    assert len(strict) == len(result.graph)
    assert len(Graph().parse(data=turtle, format="turtle")) == len(result.graph)
    for problem in result.problems:
        assert problem.row >= 2 and str(problem)


# ---------------------------------------------------------------------------
# A register speaks only for itself (issue 13)

CHESHIRE = (ROOT / "data" / "registers" / "cheshire.ttl").read_bytes()
# Agreements only Cheshire lists and no other force is named in: Cheshire's alone to change.
CHESHIRE_ONLY = (
    "cheshire-bluelight-collaboration",
    "collaborative-services-agreement-2014",
    "armed-policing-alliance-2014",
)
# Things that are not Cheshire's to describe: other forces, bodies, regions, capabilities, the
# ontology, another register, agreements Cheshire does not list.
NOT_CHESHIRES = (
    "force:merseyside",
    "force:greater-manchester",
    "body:merseyside-pcc",
    "region:north-west",
    "cap:dna",
    "s22a:Agreement",
    "register:merseyside",
    "agreement:minerva-programme",
    "agreement:national-police-air-service",
    "agreement:north-west-forensics",
)
# Other forces' pages, and pages of agreements Cheshire does not list or that others share.
OTHERS_PAGES = [
    *(f"/doc/force/{f}" for f in ("merseyside", "lancashire", "north-wales", "leicestershire")),
    *(f"/doc/force/{f}" for f in ("greater-manchester", "cumbria", "kent")),
    *(f"/doc/register/{f}" for f in ("merseyside", "lancashire", "north-wales", "leicestershire")),
    "/doc/force/merseyside.ttl",
    "/doc/agreement/minerva-programme",
    "/doc/agreement/national-police-air-service",
    "/doc/agreement/north-west-forensics",
    "/doc/agreement/north-west-rocu",
    "/doc/body/merseyside-pcc",
]
CLEAN = st.text(st.sampled_from("abcdefgh XYZ'é-"), min_size=1, max_size=12).filter(str.strip)
# Mostly text a register may hold; sometimes an invisible or control character, or too long.
WORDS = CLEAN | CLEAN | CLEAN | st.text(st.sampled_from("ab \u200b\u202e\u0007"), max_size=6)
WORDS |= st.just("x" * 301)


def _literal(text: str) -> str:
    return Literal(text, lang="en").n3()


@st.composite
def cheshire_uploads(draw: st.DrawFn) -> tuple[bytes, bool]:
    """Cheshire's register with random statements of its own (new agreements, new titles of
    agreements only it lists) and maybe some about what is not its to describe; and whether
    any of the latter were drawn."""
    extra, listed = [], []
    for n in range(draw(st.integers(0, 2))):
        slug = f"agreement:cheshire-random-{n}"
        listed.append(slug)
        parties = draw(
            st.sets(st.sampled_from(["body:cheshire-pcc", "body:cheshire-fire-authority"]))
        )
        extra.append(
            f"{slug} a s22a:Agreement ; dcterms:title {_literal(draw(WORDS) or 'Unit')} ; "
            f"s22a:party force:cheshire{''.join(', ' + p for p in sorted(parties))} ; "
            f's22a:dateMade "{draw(st.integers(1990, 2030))}"^^xsd:gYear .'
        )
    for slug in draw(st.sets(st.sampled_from(CHESHIRE_ONLY), max_size=2)):
        extra.append(f"agreement:{slug} dcterms:alternative {_literal(draw(WORDS) or 'Also')} .")
    attack = draw(st.sampled_from([False, False, True]))  # most uploads are Cheshire's own
    hostile = (
        draw(st.lists(st.sampled_from(NOT_CHESHIRES), min_size=1, max_size=2)) if attack else []
    )
    for subject in hostile:
        predicate = draw(st.sampled_from(["rdfs:label", "skos:prefLabel", "dcterms:title"]))
        extra.append(f"{subject} {predicate} {_literal(draw(WORDS))} .")
    if attack and listed and draw(st.booleans()):
        hostile.append("sameAs")
        extra.append(f"{listed[0]} owl:sameAs agreement:minerva-programme .")
    data = CHESHIRE.replace(
        b"s22a:lists agreement:cheshire-bluelight-collaboration ,",
        f"s22a:lists {''.join(a + ' , ' for a in listed)}"
        "agreement:cheshire-bluelight-collaboration ,".encode(),
    )
    prefixes = (
        "@prefix region: <https://w3id.org/s22a/id/region/> .\n"
        "@prefix s22a: <https://w3id.org/s22a/def/s22a#> .\n"
    )
    return prefixes.encode() + data + ("\n" + "\n".join(extra) + "\n").encode(), bool(hostile)


@pytest.fixture(scope="module")
def others_before(loaded_app: Flask) -> dict[str, bytes]:
    """The other forces' pages over the seed registers, before any upload."""
    client = loaded_app.test_client()
    return {path: client.get(path, headers={"Accept": "text/html"}).data for path in OTHERS_PAGES}


@pytest.mark.slow
@settings(SETTINGS, max_examples=8)
@given(upload=cheshire_uploads())
def test_a_register_uploaded_by_one_force_leaves_other_forces_pages_as_they_were(
    others_before: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory, upload: tuple
) -> None:
    data, hostile = upload
    app = make_app()
    token = tokens_for(app, tmp_path_factory.mktemp("tokens") / "tokens.json", "cheshire")
    client = app.test_client()
    reply = client.put("/registers/cheshire", data=data, headers=bearer(token["cheshire"]))
    assert reply.status_code in (200, 422), reply.get_data(as_text=True)[:2000]
    if hostile:  # anything about what is not Cheshire's refuses the whole upload
        assert reply.status_code == 422
    after = {path: client.get(path, headers={"Accept": "text/html"}).data for path in OTHERS_PAGES}
    assert [p for p in OTHERS_PAGES if after[p] != others_before[p]] == []
    if reply.status_code == 200:  # the lists that should change do: Cheshire's own page
        page = client.get("/doc/register/cheshire", headers={"Accept": "text/html"})
        assert b"cheshire-random-0" in page.data or b"cheshire-random" not in data
    with app.app_context():
        get_store().close()


# ---------------------------------------------------------------------------
# Regressions: one test for each bug the properties found


def test_a_page_number_past_the_engine_s_integers_gets_an_empty_page(web: FlaskClient) -> None:
    """page=10**23 made an OFFSET the SPARQL parser refused: a 500 (listing.page_args)."""
    assert page_args("99999999999999999999999", None, None, {"title": ("", "")})[0] == MAX_PAGE
    for path in ("/agreements", "/forces", "/capabilities", "/search?q=police&"):
        response = web.get(f"{path}{'&' if '?' in path else '?'}page=99999999999999999999999")
        assert response.status_code == 200, path


def test_a_malformed_percent_escape_in_a_minted_path_is_a_404(web: FlaskClient) -> None:
    """/doc/x/a%25zz put an IRI with a broken %-escape into a query: a 500 (describe.PATH)."""
    assert not PATH.match("x/a%zz") and not PATH.match("x/a%") and PATH.match("x/a%2F")
    for path in ("/doc/x/a%25zz", "/id/x/a%25zz", "/doc/force/a%25", "/id/register/x/%25g0"):
        assert web.get(path).status_code == 404, path


def test_a_version_or_diff_of_a_force_that_is_not_a_slug_is_a_404(web: FlaskClient) -> None:
    """/registers/{force}/diff and /versions/{n} put any force into a query: a 500 (history)."""
    for force in ("%F0%BF%91%98z%5E%28%C2%BD", "a%3Eb", "x%20y"):
        for path in (
            f"/registers/{force}/diff/1/2",
            f"/registers/{force}/versions/1",
            f"/registers/{force}/versions/1.ttl",
        ):
            response = web.get(path)
            assert response.status_code == 404, path
            assert response.is_json and response.get_json()["status"] == 404


def test_a_csv_cell_with_a_carriage_return_stays_inside_its_comment() -> None:
    """A cell with CR ended the Turtle comment listing it: triples could be injected."""
    data = b'Name,Force Areas Involved\nThing,"Nowhere\r<urn:a> <urn:b> <urn:c> ."\n'
    result = csv_import.convert(data, "merseyside")
    turtle = result.turtle()
    quads = list(ox.parse(turtle.encode("utf-8"), format=ox.RdfFormat.TURTLE))
    assert len(quads) == len(result.graph)
    assert not any("urn:a" in str(q) for q in quads)


def test_a_row_shorter_than_the_headings_is_reported_not_a_crash(web: FlaskClient) -> None:
    """A row missing its name cell raised KeyError: a 500 from /publish/csv (csv_import)."""
    result = csv_import.convert(b"Purpose,Name\nsomething\n", "merseyside")
    assert [str(p) for p in result.problems] == ["row 2, column “Name”: the agreement has no name"]
    response = web.post(
        "/publish/csv",
        data={
            "force": "merseyside",
            "file": (io.BytesIO(b"Purpose,Name\nsomething\n"), "short.csv"),
        },
    )
    assert response.status_code == 200
    assert "the agreement has no name" in response.get_data(as_text=True)
