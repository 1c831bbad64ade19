"""Real RDF clients with no network: every RDF document the service emits, in every format,
parses with rdflib, pyoxigraph and pyld to the same graph, and every representation of a
register is accepted back by `s22a validate` and by PUT as the same register.

Nothing here may reach the network: while a document is parsed, `socket.connect` raises, and
pyld is given a document loader that refuses every URL (a remote JSON-LD context would be a
request). The documents come from the app itself (the Flask test client needs no socket).
"""

from __future__ import annotations

import json
import socket
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from pyld import jsonld as pyld
from rdflib import Graph

from s22a.cli import cli
from s22a.history import versions
from s22a.namespaces import register_iri
from s22a.store import get_store
from s22a.store.base import from_oxigraph
from tests.support.rdf import canonical
from tests.support.writes import amended, bearer, tokens_for

# rdflib 7.6's own JSON-LD parser builds a ConjunctiveGraph, which it has deprecated.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")

FORMATS = {
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "rdf": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
RDFLIB = {"ttl": "turtle", "nt": "nt", "rdf": "xml", "jsonld": "json-ld"}
OXIGRAPH = {
    "ttl": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "rdf": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}

# One of every kind of RDF document (path, or path and query); each is fetched in every format
# by Accept, and where it has them by extension too.
DOCUMENTS: list[tuple[str, bool]] = [
    ("/doc/agreement/north-west-rocu", True),
    ("/doc/force/merseyside", True),
    ("/doc/body/north-west-joint-oversight-committee", True),
    ("/doc/group/england-and-wales", True),
    ("/doc/region/east-midlands", True),
    ("/doc/capability/serious-organised-crime", True),
    ("/doc/register/lancashire", True),
    ("/doc/scheme/capabilities", True),
    ("/doc/register/merseyside/version/1", True),
    ("/def/s22a", True),
    ("/def/shapes", True),
    ("/void", True),
    ("/catalog", True),
    ("/registers/merseyside", False),
    ("/registers/merseyside/versions/1", True),
    ("/doc/register/merseyside/{day}", True),
    ("/doc/agreement/north-west-rocu/{day}", True),
    ("/sparql", False),  # the service description
    (
        "/sparql?query=CONSTRUCT+%7B+%3Fa+%3Fp+%3Fo+%7D+WHERE+%7B+GRAPH+%3Chttps%3A%2F%2Fw3id.org"
        "%2Fs22a%2Fid%2Fregister%2Fcheshire%3E+%7B+%3Fa+%3Fp+%3Fo+%7D+%7D",
        False,
    ),
]


@contextmanager
def offline() -> Iterator[None]:
    """No socket may connect anywhere while the block runs."""

    def refuse(self: socket.socket, address: object) -> None:
        self.close()
        raise AssertionError(f"a parser tried to connect to {address!r}")

    original = socket.socket.connect
    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        yield
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]


def _no_loader(url: str, options: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError(f"pyld tried to load {url}")


def with_rdflib(data: bytes, key: str) -> Graph:
    return Graph().parse(data=data, format=RDFLIB[key])


def _from_quads(quads: Iterator[ox.Quad] | list[ox.Quad]) -> Graph:
    graph = Graph()
    for q in quads:
        graph.add((from_oxigraph(q.subject), from_oxigraph(q.predicate), from_oxigraph(q.object)))
    return graph


def with_oxigraph(data: bytes, key: str) -> Graph:
    return _from_quads(ox.parse(data, format=OXIGRAPH[key]))


def with_pyld(data: bytes, key: str) -> Graph:
    """pyld reads JSON-LD to N-Quads (with no document loader: nothing can be fetched)."""
    assert key == "jsonld"
    nquads = pyld.to_rdf(
        json.loads(data), {"format": "application/n-quads", "documentLoader": _no_loader}
    )
    return _from_quads(ox.parse(nquads.encode(), format=ox.RdfFormat.N_QUADS))


PARSERS: dict[str, Callable[[bytes, str], Graph]] = {
    "rdflib": with_rdflib,
    "pyoxigraph": with_oxigraph,
    "pyld": with_pyld,
}


@pytest.fixture(scope="module")
def day(loaded_app: Flask) -> str:
    """The day the seed registers' versions were made (for the dated documents)."""
    with loaded_app.app_context():
        latest = versions.latest(get_store(), register_iri("merseyside"))
    assert latest is not None
    return latest.generated.date().isoformat()


def fetch(client: FlaskClient, path: str, key: str, by_extension: bool) -> bytes:
    """The document at `path` in format `key`, by extension or by Accept; checked for 200."""
    if by_extension:
        response = client.get(f"{path}.{key}")
    else:
        response = client.get(path, headers={"Accept": FORMATS[key]})
    assert response.status_code == 200, (path, key, response.get_data(as_text=True)[:300])
    assert response.mimetype == FORMATS[key], (path, key, response.mimetype)
    return response.get_data()


@pytest.mark.parametrize(("path", "has_extension"), DOCUMENTS, ids=[p for p, _ in DOCUMENTS])
def test_every_document_parses_offline_to_the_same_graph(
    client: FlaskClient, day: str, path: str, has_extension: bool
) -> None:
    """The table: each document x each format (by Accept, and by extension) x each parser."""
    path = path.format(day=day)
    reference_graph = with_rdflib(fetch(client, path, "nt", False), "nt")
    assert len(reference_graph) > 3, path
    reference = canonical(reference_graph)
    checked = []
    for key in FORMATS:
        for by_extension in (False, True) if has_extension else (False,):
            data = fetch(client, path, key, by_extension)
            for name, parser in PARSERS.items():
                if name == "pyld" and key != "jsonld":
                    continue
                with offline(), warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)
                    graph = parser(data, key)
                assert canonical(graph) == reference, f"{path} as {key}, read by {name}"
                checked.append((key, by_extension, name))
    assert len(checked) == (18 if has_extension else 9)  # 4 formats x 2 parsers, + pyld


def test_jsonld_carries_its_context_inline_and_the_context_is_still_published(
    client: FlaskClient,
) -> None:
    document = json.loads(client.get("/doc/agreement/north-west-rocu.jsonld").get_data())
    published = json.loads(client.get("/context.jsonld").get_data())["@context"]
    assert document["@context"] == published
    assert published["party"] == {"@id": "s22a:party", "@type": "@id"}


def test_offline_guard_really_stops_a_fetch() -> None:
    """The guard the table relies on: a JSON-LD document naming a remote context fails under it
    in each parser, instead of quietly fetching."""
    document = json.dumps(
        {"@context": "http://127.0.0.1:9/context.jsonld", "@id": "http://example.org/x"}
    ).encode()
    with offline():
        for parser in PARSERS.values():
            with pytest.raises(Exception):  # noqa: B017 - each library raises its own type
                parser(document, "jsonld")


# ---------------------------------------------------------------------------
# A register's representations go back in


@pytest.fixture(scope="module")
def representations(loaded_app: Flask) -> dict[str, bytes]:
    """Merseyside's register as the service serves it, in each format."""
    client = loaded_app.test_client()
    return {key: fetch(client, "/registers/merseyside", key, False) for key in FORMATS}


@pytest.mark.parametrize("key", FORMATS)
def test_every_representation_of_a_register_validates(
    representations: dict[str, bytes], key: str, tmp_path: Path
) -> None:
    path = tmp_path / f"merseyside.{key}"
    path.write_bytes(representations[key])
    result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "valid (0 violation(s)" in result.output and "24 agreement(s)" in result.output


@pytest.mark.slow
def test_every_representation_of_a_register_is_accepted_back_by_put(
    app: Flask, representations: dict[str, bytes], tmp_path: Path
) -> None:
    client = app.test_client()
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    original = canonical(with_rdflib(representations["nt"], "nt"))
    for key, media_type in FORMATS.items():
        # Another version first, so that putting the representation back is a real write.
        other = client.put("/registers/merseyside", data=amended(), headers=bearer(token))
        assert other.status_code == 200 and other.json["outcome"] == "updated", other.json
        back = client.put(
            "/registers/merseyside",
            data=representations[key],
            headers=bearer(token, media_type),
        )
        assert back.status_code == 200, (key, back.get_data(as_text=True))
        assert back.json["outcome"] == "updated", (key, back.json)
        stored = with_rdflib(fetch(client, "/registers/merseyside", "nt", False), "nt")
        assert canonical(stored) == original, key  # isomorphic to what was served


def test_a_register_naming_the_published_context_by_url_is_read_without_fetching(
    representations: dict[str, bytes], tmp_path: Path
) -> None:
    """JSON-LD written against https://w3id.org/s22a/context.jsonld (as a force may keep it)
    is read with the service's own copy of that context: no request is made."""
    document = json.loads(representations["jsonld"])
    document["@context"] = "https://w3id.org/s22a/context.jsonld"
    path = tmp_path / "merseyside.jsonld"
    path.write_text(json.dumps(document))
    with offline():
        result = CliRunner().invoke(cli, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "24 agreement(s)" in result.output
