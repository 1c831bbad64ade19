"""The change feed: one Atom entry per agreement signed, amended, renewed, replaced or retired."""

from __future__ import annotations

from pathlib import Path

import feedparser
import pytest
from flask import Flask
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from s22a.history import changes
from s22a.namespaces import AGREEMENT, REGISTER, S22A
from tests.support.writes import MERSEYSIDE, amended, bearer, tokens_for

FEED = "/registers/merseyside/feed.atom"


def parse(data: bytes) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def test_a_put_that_amends_one_and_adds_one_makes_exactly_those_two_entries(
    app: Flask, tmp_path: Path
) -> None:
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    client = app.test_client()
    # The first version of each register is its baseline: nothing to report yet.
    assert parse(client.get(FEED).data).entries == []
    assert (
        client.put("/registers/merseyside", data=amended(), headers=bearer(token)).status_code
        == 200
    )
    response = client.get(FEED)
    assert response.mimetype == "application/atom+xml"
    feed = parse(response.data)
    assert len(feed.entries) == 2
    by_kind = {e.tags[0].term: e for e in feed.entries}
    assert set(by_kind) == {"amended", "listed"}  # newly listed: the register states no signing
    assert by_kind["listed"].title == "Listed: New Unit (Merseyside Police register)"
    assert "West Coast Collaboration" in by_kind["amended"].title
    assert "(date)" in by_kind["amended"].summary
    for entry in feed.entries:
        hrefs = {link.rel: link.href for link in entry.links}
        assert hrefs["alternate"].startswith("http://localhost/doc/agreement/")
        assert any(
            link.href.endswith("/registers/merseyside/versions/2")
            for link in entry.links
            if link.rel == "related"
        )
        assert entry.id.startswith("https://w3id.org/s22a/id/register/merseyside/version/2#")
        assert entry.updated_parsed is not None
    # The feed of every register says the same, since the others have not changed.
    everything = parse(client.get("/feed.atom").data)
    assert sorted(e.id for e in everything.entries) == sorted(e.id for e in feed.entries)


def test_retiring_a_register_retires_every_agreement_and_the_feed_is_cacheable(
    app: Flask, tmp_path: Path
) -> None:
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    client = app.test_client()
    assert client.delete("/registers/merseyside", headers=bearer(token, None)).status_code == 200
    response = client.get(FEED)
    feed = parse(response.data)
    assert len(feed.entries) == 24
    assert {e.tags[0].term for e in feed.entries} == {"unlisted"}
    assert client.get(FEED, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    assert client.get("/registers/atlantis/feed.atom").status_code == 404


def test_renewals_and_replacements_are_named_as_such(app: Flask, tmp_path: Path) -> None:
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    client = app.test_client()
    renewed = MERSEYSIDE.replace(
        b"s22a:scope s22a:CrossRegional ;",
        b"s22a:scope s22a:CrossRegional ; s22a:lifecycleEvent [ a s22a:Renewal ; "
        b'dcterms:date "2025-02"^^xsd:gYearMonth ] ;',
        1,
    )
    assert (
        client.put("/registers/merseyside", data=renewed, headers=bearer(token)).status_code == 200
    )
    entries = parse(client.get(FEED).data).entries
    assert [(e.tags[0].term, e.title.split(" (")[0]) for e in entries] == [
        ("renewed", "Renewed: West Coast Collaboration")
    ]


def _register(*agreements: tuple[str, str, dict]) -> Graph:
    graph = Graph()
    register = REGISTER["test"]
    graph.add((register, RDF.type, S22A.Register))
    for slug, title, extra in agreements:
        agreement = AGREEMENT[slug]
        graph.add((register, S22A.lists, agreement))
        graph.add((agreement, DCTERMS.title, Literal(title)))
        governance = BNode()
        graph.add((agreement, S22A.governance, governance))
        graph.add((governance, DCTERMS.description, Literal("funding models")))
        for predicate, value in extra.items():
            graph.add((agreement, predicate, value))
    return graph


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        ([("a", "A", {})], [("a", "A", {})], []),  # fresh blank nodes are no change
        ([], [("a", "A", {})], [("listed", "added")]),
        ([], [("b", "B", {DCTERMS.replaces: AGREEMENT.a})], [("replaced", "added")]),
        (
            [("a", "A", {})],
            [("a", "A", {S22A.dateMade: Literal("2020", datatype=XSD.gYear)})],
            [("amended", "changed")],
        ),
        ([("a", "A", {})], [], [("unlisted", "removed")]),
    ],
)
def test_agreement_changes(before: list, after: list, expected: list) -> None:
    found = changes.agreement_changes(_register(*before), _register(*after))
    assert [(c.kind, c.effect) for c in found] == expected


def test_a_terminated_agreement_is_retired() -> None:
    old = _register(("a", "A", {}))
    new = _register(("a", "A", {}))
    event = BNode()
    new.add((AGREEMENT.a, S22A.lifecycleEvent, event))
    new.add((event, RDF.type, S22A.Termination))
    [change] = changes.agreement_changes(old, new)
    assert (change.kind, change.effect, change.properties) == (
        "retired",
        "changed",
        (str(S22A.lifecycleEvent),),
    )
    assert URIRef(change.agreement) == AGREEMENT.a


def test_a_register_put_back_lists_its_agreements_again(app: Flask, tmp_path: Path) -> None:
    """Deleting a register and putting it back signs nothing: its agreements are listed again."""
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    client = app.test_client()
    assert client.delete("/registers/merseyside", headers=bearer(token, None)).status_code == 200
    assert client.put(
        "/registers/merseyside", data=MERSEYSIDE, headers=bearer(token)
    ).status_code in (200, 201)
    entries = parse(client.get(FEED).data).entries
    kinds = [e.tags[0].term for e in entries]
    assert kinds.count("listed-again") == 24 and kinds.count("unlisted") == 24
    assert not [e.title for e in entries if e.title.startswith("Signed")]
