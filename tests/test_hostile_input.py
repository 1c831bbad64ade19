"""Hostile registers are refused before they can expand, fetch or nest without bound."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from s22a.cli import cli
from s22a.ingest import parse
from tests.support.peers import Peer, hang_up

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"

CASES = [
    ("xxe.rdf", "RDF/XML with a DTD or entity declarations is not accepted"),
    ("billion-laughs.rdf", "RDF/XML with a DTD or entity declarations is not accepted"),
    ("remote-context.jsonld", "remote contexts are not fetched"),
    ("import-context.jsonld", "JSON-LD @import is not accepted"),
    ("deep-nesting.jsonld", "JSON nested deeper than 64 levels"),
]


@pytest.mark.parametrize(("name", "phrase"), CASES)
def test_hostile_register_is_unreadable(name: str, phrase: str) -> None:
    result = CliRunner().invoke(cli, ["validate", str(HOSTILE / name)])
    assert result.exit_code == 2, result.output
    assert phrase in result.output
    assert "Traceback" not in result.output


def test_every_hostile_fixture_is_tested() -> None:
    assert {p.name for p in HOSTILE.iterdir()} == {name for name, _ in CASES}


@pytest.mark.parametrize(
    "context",
    ['"http://127.0.0.1:{port}/context.jsonld"', '["http://127.0.0.1:{port}/c.jsonld", {{}}]'],
)
def test_remote_context_is_never_fetched(context: str) -> None:
    listener = Peer(hang_up)
    try:
        document = (
            '{"@context": ' + context.format(port=listener.port) + ", "
            '"@id": "https://w3id.org/s22a/id/register/cheshire"}'
        )
        with pytest.raises(parse.RegisterUnreadable, match="remote contexts are not fetched"):
            parse.parse_register(document.encode(), "register.jsonld")
    finally:
        listener.close()
    assert listener.connections == 0


def test_inline_context_is_accepted() -> None:
    document = b"""{"@context": {"title": "http://purl.org/dc/terms/title"},
                    "@id": "https://w3id.org/s22a/id/agreement/x", "title": "X"}"""
    graph = parse.parse_register(document, "register.jsonld")
    assert len(graph) == 1
