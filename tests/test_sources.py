"""Catalogue-driven loading: files, harvested URLs and SPARQL endpoints, on every store backend
(embedded, Oxigraph's server, Virtuoso)."""

from __future__ import annotations

import hashlib
import re
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from s22a import resources
from s22a.cli import cli
from s22a.history import versions
from s22a.ingest.catalog import Source, read_catalog
from s22a.ingest.gate import accept_register
from s22a.ingest.harvest import Harvester
from s22a.ingest.load import load_catalog, load_source
from s22a.namespaces import GRAPH_META
from s22a.store import Store, open_store
from tests.support.app import seed_dump
from tests.support.oxigraph import OxigraphServer

REGISTERS = {p.stem: p for p in resources.register_paths()}
FIXTURES = Path(__file__).parent / "fixtures" / "registers"


class Publisher:
    """A force's web site on 127.0.0.1: serves registers with ETags, misbehaves on demand."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}
        self.delay = 0.0
        self.requests: list[tuple[str, str | None]] = []
        publisher = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                publisher.requests.append((self.path, self.headers.get("If-None-Match")))
                if self.path in publisher.redirects:
                    self.send_response(302)
                    self.send_header("Location", publisher.redirects[self.path])
                    self.end_headers()
                    return
                body = publisher.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                time.sleep(publisher.delay)
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/turtle; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def publisher() -> Iterator[Publisher]:
    site = Publisher()
    yield site
    site.close()


@pytest.fixture(scope="module")
def oxigraph() -> Iterator[OxigraphServer]:
    with OxigraphServer() as server:
        yield server


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("remote", marks=pytest.mark.slow),
        pytest.param("virtuoso", marks=pytest.mark.slow),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The same tests on the embedded store, a real Oxigraph server and a real Virtuoso."""
    if request.param == "embedded":
        with open_store(f"oxigraph:{tmp_path / 'store'}") as embedded:
            yield embedded
        return
    if request.param == "virtuoso":
        spec = request.getfixturevalue("virtuoso").spec
    else:
        spec = f"sparql:{request.getfixturevalue('oxigraph').url}"
    with open_store(spec) as remote:
        for graph in remote.graphs():
            remote.drop_graph(graph)
        yield remote


def write_catalog(path: Path, entries: dict[str, str]) -> Path:
    """A DCAT catalogue: slug -> a file path, an http URL, or 'sparql <endpoint> <graph>'."""
    lines = [
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
        "@prefix s22a: <https://w3id.org/s22a/def/s22a#> .",
        "@prefix register: <https://w3id.org/s22a/id/register/> .",
    ]
    for slug, where in entries.items():
        if where.startswith("sparql "):
            _, endpoint, graph = where.split()
            distribution = (
                f"dcat:accessService [ dcat:endpointURL <{endpoint}> ] ; "
                f"s22a:endpointGraph <{graph}>"
            )
        else:
            target = where if where.startswith("http") else Path(where).resolve().as_uri()
            distribution = f"dcat:downloadURL <{target}>"
        lines.append(f"register:{slug} a dcat:Dataset ; dcat:distribution [ {distribution} ] .")
    path.write_text("\n".join(lines) + "\n")
    return path


def union_nquads(store: Store) -> set[str]:
    """The register graphs of a store, as a set of N-Quads lines (blank nodes renamed)."""
    rows = store.select(
        "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } "
        "FILTER STRSTARTS(STR(?g), 'https://w3id.org/s22a/id/register/') }"
    )
    return {
        " ".join("_:b" if r[k].n3().startswith("_:") else r[k].n3() for k in "gspo") for r in rows
    }


def test_bundled_catalogue_lists_the_five_registers() -> None:
    sources = read_catalog()
    assert [s.label for s in sources] == sorted(REGISTERS)
    assert {s.kind for s in sources} == {"file"}


@pytest.mark.slow
def test_file_url_and_endpoint_sources_give_the_same_union(
    store: Store, tmp_path: Path, publisher: Publisher
) -> None:
    with open_store("memory:") as reference:  # the bundled catalogue, loaded once per process
        reference.add_dataset(seed_dump())
        expected = union_nquads(reference)

    publisher.files["/lancashire.ttl"] = REGISTERS["lancashire"].read_bytes()
    publisher.files["/north-wales.ttl"] = REGISTERS["north-wales"].read_bytes()
    with OxigraphServer() as endpoint:
        for slug in ("leicestershire", "merseyside"):
            request = urllib.request.Request(
                f"{endpoint.url}/store?graph=urn:force:{slug}",
                data=REGISTERS[slug].read_bytes(),
                method="PUT",
                headers={"Content-Type": "text/turtle"},
            )
            urllib.request.urlopen(request, timeout=10).close()
        catalog = write_catalog(
            tmp_path / "catalog.ttl",
            {
                "cheshire": str(REGISTERS["cheshire"]),
                "lancashire": f"{publisher.url}/lancashire.ttl",
                "north-wales": f"{publisher.url}/north-wales.ttl",
                "leicestershire": f"sparql {endpoint.url}/query urn:force:leicestershire",
                "merseyside": f"sparql {endpoint.url}/query urn:force:merseyside",
            },
        )
        kinds = sorted(s.kind for s in read_catalog(catalog))
        assert kinds == ["file", "sparql", "sparql", "url", "url"]
        outcomes = load_catalog(store, catalog)
    assert [o.outcome for o in outcomes] == ["Accepted"] * 5, [o.reason for o in outcomes]
    assert union_nquads(store) == expected


def test_reload_reuses_unchanged_registers(store: Store, tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "c.ttl", {"cheshire": str(REGISTERS["cheshire"])})
    assert load_catalog(store, catalog)[0].outcome == "Accepted"
    again = load_catalog(store, catalog)[0]
    assert (again.outcome, again.reason) == (
        "Unchanged",
        "the source has not changed since it was last loaded",
    )
    assert len(versions.history(store, again.register)) == 1


def test_reload_keeps_a_version_published_over_http(store: Store, tmp_path: Path) -> None:
    source = tmp_path / "cheshire.ttl"
    source.write_bytes(REGISTERS["cheshire"].read_bytes())
    catalog = write_catalog(tmp_path / "c.ttl", {"cheshire": str(source)})
    load_catalog(store, catalog)
    register = "https://w3id.org/s22a/id/register/cheshire"
    uploaded = (
        REGISTERS["cheshire"]
        .read_bytes()
        .replace(b'"Bluelight Collaboration"@en', b'"Blue Light Collaboration"@en')
    )
    published = accept_register(store, register, uploaded, name="put.ttl", source="upload")
    assert published.outcome == "Accepted"
    again = load_catalog(store, catalog)[0]
    assert again.outcome == "Unchanged"
    assert again.reason.endswith("a newer version was published over HTTP")
    titles = {str(o) for o in store.graph_triples(register).objects()}
    assert "Blue Light Collaboration" in titles
    # When the catalogue's own source changes, it is taken again.
    source.write_bytes(REGISTERS["cheshire"].read_bytes() + b"\n# edited\n")
    assert load_catalog(store, catalog)[0].outcome == "Accepted"


def test_conditional_get_sends_the_etag_and_keeps_the_version(
    store: Store, tmp_path: Path, publisher: Publisher
) -> None:
    publisher.files["/r.ttl"] = REGISTERS["cheshire"].read_bytes()
    catalog = write_catalog(tmp_path / "c.ttl", {"cheshire": f"{publisher.url}/r.ttl"})
    assert load_catalog(store, catalog)[0].outcome == "Accepted"
    second = load_catalog(store, catalog)[0]
    assert second.outcome == "Unchanged"
    assert publisher.requests[0][1] is None
    assert publisher.requests[1][1] is not None, "the second GET must be conditional"
    [latest] = versions.history(store, second.register)
    assert latest.etag == publisher.requests[1][1]


@pytest.mark.parametrize("fault", ["invalid", "unreachable", "oversized", "redirect", "slow"])
def test_bad_harvest_keeps_the_previous_version(
    store: Store, tmp_path: Path, publisher: Publisher, fault: str
) -> None:
    good = REGISTERS["cheshire"].read_bytes()
    publisher.files["/r.ttl"] = good
    source = Source(
        "https://w3id.org/s22a/id/register/cheshire", None, "url", f"{publisher.url}/r.ttl"
    )
    harvester = Harvester({publisher.url.split("//")[1]}, timeout=1.0, max_bytes=len(good) + 10)
    assert load_source(store, source, harvester).outcome == "Accepted"
    before = store.graph_triples(source.register)

    expected_reason = {
        "invalid": "invalid: 1 violation(s)",
        "unreachable": "is unreachable",
        "oversized": "byte limit",
        "redirect": "a host that is not in the catalogue",
        "slow": "did not answer within 1 s",
    }[fault]
    if fault == "invalid":
        publisher.files["/r.ttl"] = good.replace(
            b"s22a:scope s22a:Regional", b"s22a:scope s22a:Nowhere", 1
        )
    elif fault == "unreachable":
        publisher.close()
    elif fault == "oversized":
        publisher.files["/r.ttl"] = good + b"#" * 100
    elif fault == "redirect":
        publisher.redirects["/r.ttl"] = "http://127.0.0.2:9/elsewhere.ttl"
    else:
        publisher.delay = 2.0
    outcome = load_source(store, source, harvester)
    assert outcome.outcome == "Refused"
    assert expected_reason in outcome.reason
    after = store.graph_triples(source.register)
    assert len(after) == len(before) and set(after) == set(before)
    assert versions.attempts(store, source.register)[0]["reason"] == outcome.reason
    recorded = store.select(
        f"SELECT ?reason WHERE {{ GRAPH <{GRAPH_META}> {{ ?a "
        "<https://w3id.org/s22a/def/s22a#reason> ?reason } }"
    )
    assert [str(r["reason"]) for r in recorded] == [outcome.reason]


def test_register_items_carry_a_status(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "cheshire.ttl"
    text = REGISTERS["cheshire"].read_text()
    path.write_text(text)
    catalog = write_catalog(tmp_path / "c.ttl", {"cheshire": str(path)})
    load_catalog(store, catalog)
    status = """SELECT ?status WHERE { GRAPH <%s> {
        ?item <http://purl.org/linked-data/registry#definition>/
              <http://purl.org/linked-data/registry#entity> <%s> ;
              <http://purl.org/linked-data/registry#status> ?status } }"""
    bluelight = "https://w3id.org/s22a/id/agreement/cheshire-bluelight-collaboration"
    assert [
        str(r["status"]).rsplit("#")[-1] for r in store.select(status % (GRAPH_META, bluelight))
    ] == ["statusValid"]
    # A new version that no longer lists the agreement (nor describes it: a register may
    # describe only what it lists) retires its item.
    unlisted = text.replace("agreement:cheshire-bluelight-collaboration ,", "", 1)
    unlisted = re.sub(
        r"\nagreement:cheshire-bluelight-collaboration a .*?\n\n", "\n", unlisted, flags=re.S
    )
    path.write_text(unlisted)
    assert load_catalog(store, catalog)[0].outcome == "Accepted"
    assert [
        str(r["status"]).rsplit("#")[-1] for r in store.select(status % (GRAPH_META, bluelight))
    ] == ["statusRetired"]
    first, second = versions.history(store, "https://w3id.org/s22a/id/register/cheshire")
    assert (first.number, second.number) == (1, 2)
    assert len(versions.snapshot(store, first.iri)) > len(versions.snapshot(store, second.iri))


def test_load_command_reports_progress_and_refusals(tmp_path: Path) -> None:
    catalog = write_catalog(
        tmp_path / "c.ttl",
        {"cheshire": str(REGISTERS["cheshire"]), "lancashire": str(FIXTURES / "one-party.ttl")},
    )
    runner = CliRunner()
    spec = f"oxigraph:{tmp_path / 'store'}"
    result = runner.invoke(cli, ["load", "--store", spec, "--catalog", str(catalog)])
    assert result.exit_code == 1, result.output
    assert "cheshire: accepted: 11 agreement(s)" in result.output
    assert "lancashire: REFUSED, previous version kept: invalid" in result.output
    again = runner.invoke(cli, ["load", "--store", spec, "--catalog", str(catalog)])
    assert "cheshire: unchanged" in again.output


def test_reconcile_command_reports_and_stores(tmp_path: Path) -> None:
    runner = CliRunner()
    spec = f"oxigraph:{tmp_path / 'store'}"
    # On an empty store it loads the catalogue first, as `s22a serve` does.
    result = runner.invoke(cli, ["reconcile", "--store", spec])
    assert "Loading 5 register(s)" in result.output
    assert runner.invoke(cli, ["load", "--store", spec]).output.count(": unchanged") == 5
    result = runner.invoke(cli, ["reconcile", "--store", spec])
    assert "Loading" not in result.output
    assert result.exit_code == 0, result.output
    assert (
        "national-police-air-service is dated 2012-10 by leicestershire; 2012-08 by merseyside"
        in (result.output)
    )
    assert "Cumbria has not published a register" in result.output
    with open_store(spec) as store:
        rows = store.select(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <https://w3id.org/s22a/graph/reconciliation> "
            "{ ?s ?p ?o } }"
        )
    assert int(rows[0]["n"]) > 100


def test_withheld_agreements_are_marked_not_missing(store: Store, tmp_path: Path) -> None:
    withheld = Path(__file__).parent / "fixtures" / "valid" / "withheld.ttl"
    catalog = write_catalog(tmp_path / "c.ttl", {"cheshire": str(withheld)})
    [outcome] = load_catalog(store, catalog)
    assert (outcome.outcome, outcome.warnings) == ("Accepted", 0), outcome.reason
    rows = store.select(
        f"""SELECT ?status ?provision WHERE {{ GRAPH <{GRAPH_META}> {{
              ?item <http://purl.org/linked-data/registry#definition>/
                    <http://purl.org/linked-data/registry#entity>
                    <https://w3id.org/s22a/id/agreement/example-withheld> ;
                    <http://purl.org/linked-data/registry#status> ?status ;
                    <https://w3id.org/s22a/def/s22a#withheldUnder> ?provision }} }}"""
    )
    assert [(str(r["status"]).rsplit("#")[-1], str(r["provision"])) for r in rows] == [
        ("statusValid", "http://www.legislation.gov.uk/id/ukpga/1996/16/section/23E")
    ]
