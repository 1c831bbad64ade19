"""A register speaks only for itself (issue 13): each attack a hostile publisher tried, with
Cheshire's token only, against the production server (`s22a serve`, on-disk store), and the
same rule on a harvested URL and on a force's SPARQL endpoint (`s22a load`).

Every refused upload answers 422 with a message a PCC office can act on and leaves the stored
data as it was (``/dump.nq``, bar the record of the refused attempt). A statement that is
legitimately Cheshire's (about an agreement it lists and is party to) is accepted and shown
with Cheshire's register beside it, never as what the agreement is called or when it was made.
"""

from __future__ import annotations

import html
import json
import re
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner

from s22a.cli import cli
from s22a.history import versions
from s22a.namespaces import GRAPH_META, register_iri
from s22a.store import open_store
from s22a.web.tokens import TokenStore
from tests.support import ROOT
from tests.support.oxigraph import OxigraphServer
from tests.support.server import Reply, ServerProcess, seeded_store
from tests.test_sources import Publisher, write_catalog

pytestmark = pytest.mark.slow  # one server for the module; each upload is validated

CHESHIRE = (ROOT / "data" / "registers" / "cheshire.ttl").read_bytes()
MERSEYSIDE = (ROOT / "data" / "registers" / "merseyside.ttl").read_bytes()
REGISTER = register_iri("cheshire")
PREFIXES = b"""@prefix s22a: <https://w3id.org/s22a/def/s22a#> .
@prefix force: <https://w3id.org/s22a/id/force/> .
@prefix body: <https://w3id.org/s22a/id/body/> .
@prefix agreement: <https://w3id.org/s22a/id/agreement/> .
@prefix register: <https://w3id.org/s22a/id/register/> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


@dataclass
class Cheshire:
    """The server and Cheshire's token: every write below is Cheshire's."""

    server: ServerProcess
    token: str

    def write(self, method: str, body: bytes) -> Reply:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "text/turtle"}
        return self.server.request(method, "/registers/cheshire", body, headers, timeout=120)

    def get(self, path: str) -> str:
        reply = self.server.request("GET", path, headers={"Accept": "text/html"})
        assert reply.status == 200, (path, reply.status)
        return reply.text

    def dump(self) -> bytes:
        reply = self.server.request("GET", "/dump.nq")
        assert reply.status == 200
        return reply.body


@pytest.fixture(scope="module")
def cheshire(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cheshire]:
    folder = tmp_path_factory.mktemp("own-statements")
    store = seeded_store(tmp_path_factory.getbasetemp(), folder / "store")
    server = ServerProcess(folder / "server", store=store)
    _, token = TokenStore(server.tokens).create("cheshire")
    with server:
        yield Cheshire(server, token)


def text(page: str) -> str:
    """A page's words, tags removed."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def detail(reply: Reply) -> str:
    """A 422's detail and every finding's message, as one text."""
    assert reply.status == 422, reply.text[:2000]
    body = json.loads(reply.text)
    return " | ".join([body["detail"], *(r["message"] for r in body["results"])])


def refused(cheshire: Cheshire, method: str, body: bytes, *messages: str) -> None:
    """The write is refused with each of `messages` and changes nothing but the attempts."""
    before = cheshire.dump()
    said = detail(cheshire.write(method, body))
    for message in messages:
        assert message in said, said
    assert_untouched(before, cheshire.dump())


def assert_untouched(before: bytes, after: bytes) -> None:
    """`after` is `before` plus at most one refused attempt's record in the meta graph."""
    old = set(before.splitlines())
    added = [line for line in after.splitlines() if line not in old]
    assert all(line.endswith(f"<{GRAPH_META}> .".encode()) for line in added), added[:3]
    assert all(f"<{REGISTER}/attempt/".encode() in line.split(b" ", 1)[0] for line in added)
    new = set(added)
    assert [line for line in after.splitlines() if line not in new] == before.splitlines()


# ---------------------------------------------------------------------------------------------
# The attacks of the issue, each refused


def test_renaming_another_force_is_refused(cheshire: Cheshire) -> None:
    home, merseyside = cheshire.get("/"), cheshire.get("/doc/force/merseyside")
    refused(
        cheshire,
        "POST",
        PREFIXES + b'force:merseyside skos:prefLabel "!! Merseyside"@en ;\n'
        b"    s22a:policingBody body:cheshire-pcc .\n",
        "Your register may not describe force:merseyside: forces are described by the "
        "reference data. Remove the 2 statements about it.",
    )
    assert cheshire.get("/") == home and cheshire.get("/doc/force/merseyside") == merseyside
    turtle = cheshire.server.request("GET", "/doc/force/merseyside.ttl").text
    assert "!!" not in turtle and "cheshire-pcc" not in turtle


def test_retitling_a_national_agreement_it_does_not_list_is_refused(cheshire: Cheshire) -> None:
    refused(
        cheshire,
        "POST",
        PREFIXES + b'agreement:national-police-air-service skos:prefLabel "Retitled"@en ;\n'
        b'    dcterms:title "Retitled"@en .\n',
        "Your register may not describe agreement:national-police-air-service: your register "
        "does not list it",
    )


def test_redating_another_forces_agreement_is_refused(cheshire: Cheshire) -> None:
    refused(
        cheshire,
        "POST",
        PREFIXES + b'agreement:minerva-programme dcterms:title "Minerva, by Cheshire"@en ;\n'
        b'    s22a:dateMade "1901-01"^^xsd:gYearMonth .\n',
        "Your register may not describe agreement:minerva-programme",
    )


def test_joining_agreements_it_does_not_list_is_refused(cheshire: Cheshire) -> None:
    minerva = cheshire.get("/doc/agreement/minerva-programme")
    refused(
        cheshire,
        "POST",
        PREFIXES
        + b"agreement:national-police-air-service owl:sameAs agreement:minerva-programme .\n",
        "owl:sameAs may join only agreements your register lists",
        "may not describe agreement:national-police-air-service",
    )
    assert cheshire.get("/doc/agreement/minerva-programme") == minerva
    assert "Listed by 1 register" in text(minerva)


def test_a_register_naming_another_force_as_its_own_is_refused(cheshire: Cheshire) -> None:
    forces = cheshire.get("/forces")
    claimed = CHESHIRE.replace(b"s22a:force force:cheshire ;", b"s22a:force force:merseyside ;", 1)
    refused(
        cheshire,
        "PUT",
        claimed,
        "This register is loaded for force:cheshire (its catalogue entry, or the token that "
        "uploads it), but it names force:merseyside as its force",
        "This is register:cheshire, so its force (s22a:force) must be force:cheshire, "
        "not force:merseyside",
    )
    assert cheshire.get("/forces") == forces


def test_invisible_and_huge_labels_are_refused(cheshire: Cheshire) -> None:
    # On another force: not Cheshire's to say at all.
    refused(
        cheshire,
        "POST",
        PREFIXES + 'force:lancashire rdfs:label "\u200b"@en .\n'.encode(),
        "Your register may not describe force:lancashire",
    )
    refused(
        cheshire,
        "POST",
        PREFIXES + b'force:greater-manchester rdfs:label "' + b"x" * 2**20 + b'"@en .\n',
        "Your register may not describe force:greater-manchester",
    )
    # On its own agreement: the character and where it is, or the length and the limit.
    own = CHESHIRE.replace(
        b'dcterms:title "Bluelight Collaboration"@en', 'dcterms:title "Blue\u200blight"@en'.encode()
    )
    refused(
        cheshire,
        "PUT",
        own,
        "The dcterms:title of agreement:cheshire-bluelight-collaboration has a zero-width space "
        "(U+200B) at character 5",
    )
    long = CHESHIRE.replace(
        b'dcterms:title "Bluelight Collaboration"@en', b'dcterms:title "' + b"x" * 2**20 + b'"@en'
    )
    refused(cheshire, "PUT", long, "is 1048576 characters long; at most 300 are allowed")


# ---------------------------------------------------------------------------------------------
# What is Cheshire's to say, shown as Cheshire's


def test_a_listed_agreements_own_title_and_date_are_attributed_not_adopted(
    cheshire: Cheshire,
) -> None:
    """Cheshire lists NPAS and the Minerva Programme (it may: NPAS is made with every force,
    Minerva's parties are not stated) with titles and dates of its own."""
    listing = CHESHIRE.replace(
        b"s22a:lists agreement:cheshire-bluelight-collaboration ,",
        b"s22a:lists agreement:cheshire-bluelight-collaboration , "
        b"agreement:national-police-air-service , agreement:minerva-programme ,",
    ) + (
        b'\nagreement:national-police-air-service dcterms:title "Cheshire Air"@en ;\n'
        b'    s22a:purpose "Air support."@en ; s22a:party force:cheshire ;\n'
        b'    s22a:notStated s22a:party ; s22a:dateMade "1999-01"^^xsd:gYearMonth .\n'
        b'agreement:minerva-programme dcterms:title "Cheshire Minerva"@en ;\n'
        b'    s22a:purpose "Records."@en ; s22a:party force:cheshire ;\n'
        b'    s22a:notStated s22a:party ; s22a:dateMade "1901-01"^^xsd:gYearMonth .\n'
    )
    reply = cheshire.write("PUT", listing)
    assert reply.status == 200, reply.text[:2000]
    try:
        npas_page = cheshire.get("/doc/agreement/national-police-air-service")
        npas = text(npas_page)
        minerva = text(cheshire.get("/doc/agreement/minerva-programme"))
        oldest = cheshire.get("/agreements?sort=oldest")
        merseyside = text(cheshire.get("/doc/force/merseyside"))
    finally:
        assert cheshire.write("PUT", CHESHIRE).status == 200
    # The names stay the canonical records'; Cheshire's words are there, as Cheshire's.
    assert "<h1>National Police Air Service</h1>" in npas_page
    assert "Cheshire collaboration register Title Cheshire Air" in npas
    assert "January 1999 (Cheshire collaboration register)" in npas
    assert "Minerva Programme Collaboration agreement Minerva Programme" in minerva
    assert "January 1901 (Cheshire collaboration register)" in minerva
    # Merseyside listed Minerva first: its date leads, Cheshire's is shown beside it.
    rows = text(oldest)
    assert "June 2024 (Merseyside collaboration register) January 1901 (Cheshire" in rows
    assert rows.index("Minerva Programme") > rows.index("National Police Air Service")
    for words in (rows, merseyside):
        assert "Titled “Cheshire Minerva” by Cheshire collaboration register" in words
        assert "Cheshire Minerva" not in words.replace("Titled “Cheshire Minerva”", "")


# ---------------------------------------------------------------------------------------------
# The same rule on the other ways a register arrives: a harvested URL, a SPARQL endpoint


def test_harvested_and_sparql_sources_meet_the_same_rule(tmp_path: Path) -> None:
    renaming = CHESHIRE + b'\n<https://w3id.org/s22a/id/force/merseyside> rdfs:label "!!"@en .\n'
    claiming = MERSEYSIDE.replace(b"s22a:force force:merseyside", b"s22a:force force:cheshire", 1)
    site = Publisher()
    site.files["/cheshire.ttl"] = renaming
    try:
        with OxigraphServer() as endpoint:
            request = urllib.request.Request(
                f"{endpoint.url}/store?graph=urn:force:merseyside",
                data=claiming,
                method="PUT",
                headers={"Content-Type": "text/turtle"},
            )
            urllib.request.urlopen(request, timeout=10).close()
            catalog = write_catalog(
                tmp_path / "catalog.ttl",
                {
                    "cheshire": f"{site.url}/cheshire.ttl",
                    "merseyside": f"sparql {endpoint.url}/query urn:force:merseyside",
                },
            )
            spec = f"oxigraph:{tmp_path / 'store'}"
            result = CliRunner().invoke(cli, ["load", "--store", spec, "--catalog", str(catalog)])
    finally:
        site.close()
    assert result.exit_code == 1, result.output
    assert "may not describe force:merseyside" in result.output
    assert "must be force:merseyside, not force:cheshire" in result.output
    with open_store(spec) as store:
        for force in ("cheshire", "merseyside"):
            assert versions.history(store, register_iri(force)) == []
            assert register_iri(force) not in store.graphs()
        assert not store.ask('ASK { ?s ?p "!!"@en }')
