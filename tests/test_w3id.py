"""The canonical IRIs resolve: w3id.org's redirect rules, generated and tested behind Apache.

`s22a w3id` writes the ``.htaccess`` and README a w3id.org pull request needs; the committed
example (deploy/w3id/s22a/) must be what it writes. The slow tests run Debian's Apache on
127.0.0.1 with those rules under a document root laid out as w3id.org's, in front of a real
``s22a serve``, and follow canonical IRIs through it with `requests`: the examples the issue
names, the same checks against rules broken on purpose (each must fail them), and every
``/id/`` and ``/def/`` IRI that a crawl of the RDF documents finds.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urldefrag

import pyoxigraph as ox
import pytest
import requests
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF

from s22a.cli import cli
from s22a.namespaces import BASE, S22A
from s22a.views.documents import OTHER_THINGS
from s22a.web.w3id import EXAMPLE_PUBLIC_URL, REDIRECT_STATUS
from tests.support import ROOT
from tests.support.apache import ApacheServer, apache_missing
from tests.support.oxigraph import free_port
from tests.support.server import ServerProcess, s22a_command, seeded_store

DEPLOY = ROOT / "deploy" / "w3id" / "s22a"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"
TURTLE = "text/turtle"
AGREEMENT = "north-west-rocu"  # in the seed registers (data/registers/)
MAX_CRAWL = 3000  # IRIs: the seed data has a few hundred; a bound, not a target


def w3id(*arguments: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run `s22a w3id ARGUMENTS`; its exit code and output."""
    result = CliRunner().invoke(cli, ["w3id", *arguments], env=env or {"S22A_PUBLIC_URL": ""})
    return result.exit_code, result.output


# ---------------------------------------------------------------------------------------------
# The command


def test_the_committed_rules_are_what_the_command_writes(tmp_path: Path) -> None:
    code, output = w3id("--public-url", EXAMPLE_PUBLIC_URL, "--out", str(tmp_path / "s22a"))
    assert code == 0, output
    written = sorted(p.name for p in (tmp_path / "s22a").iterdir())
    assert written == sorted(p.name for p in DEPLOY.iterdir()) == [".htaccess", "README.md"]
    for name in written:
        assert (DEPLOY / name).read_text() == (tmp_path / "s22a" / name).read_text(), (
            f"deploy/w3id/s22a/{name} was edited by hand: run "
            f"`s22a w3id --public-url {EXAMPLE_PUBLIC_URL} --out deploy/w3id/s22a`"
        )


def test_the_rule_keeps_path_and_query_and_ignores_accept() -> None:
    rules = (DEPLOY / ".htaccess").read_text()
    lines = [line for line in rules.splitlines() if line and not line.startswith("#")]
    assert lines == [
        "Options +FollowSymLinks",
        "RewriteEngine on",
        f"RewriteRule ^(.*)$ {EXAMPLE_PUBLIC_URL}$1 [R={REDIRECT_STATUS},QSA,L]",
    ]


def test_the_readme_names_no_one_unless_told(tmp_path: Path) -> None:
    readme = (DEPLOY / "README.md").read_text()
    assert "MAINTAINER NAME <MAINTAINER E-MAIL>" in readme
    assert f"{BASE}def/s22a" in readme and EXAMPLE_PUBLIC_URL in readme
    code, output = w3id(
        "--public-url",
        "https://register.example.org",
        "--out",
        str(tmp_path),
        "--contact",
        "A Person <a.person@example.org>",
        "--contact",
        "B Person <b.person@example.org>",
    )
    assert code == 0, output
    readme = (tmp_path / "README.md").read_text()
    assert "* A Person <a.person@example.org>\n* B Person <b.person@example.org>" in readme
    assert "MAINTAINER" not in readme


def test_the_public_url_from_the_setting_and_its_path_kept() -> None:
    code, output = w3id(env={"S22A_PUBLIC_URL": "https://police.example.org/register"})
    assert code == 0, output
    assert "RewriteRule ^(.*)$ https://police.example.org/register/$1 [R=307,QSA,L]" in output


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ((), "give the deployment's public address: --public-url URL"),
        (("--public-url", "register.example.org"), "must be an http(s) URL"),
        (("--public-url", "https://register.example.org/?x=1"), "must be an http(s) URL"),
        (("--public-url", "https://register.example.org/$1"), "a character a redirect rule"),
    ],
)
def test_a_bad_public_url_is_a_clear_error(arguments: tuple[str, ...], message: str) -> None:
    code, output = w3id(*arguments)
    assert code == 2 and message in output and "Traceback" not in output, output


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("a file, not a folder")
    code, output = w3id(
        "--public-url", EXAMPLE_PUBLIC_URL, "--out", str(tmp_path / "taken" / "s22a")
    )
    assert code == 1 and "cannot write to" in output and "Traceback" not in output, output


def test_help() -> None:
    code, output = w3id("--help")
    assert code == 0 and "--public-url" in output and "--out" in output and "w3id.org" in output


# ---------------------------------------------------------------------------------------------
# Behind Apache


@dataclass
class Front:
    """Apache as w3id.org, in front of a `s22a serve` whose public base is `app`."""

    apache: ApacheServer
    server: ServerProcess
    rules: Path  # the folder `s22a w3id` wrote

    @property
    def app(self) -> str:
        """The deployment's public base, without the final slash."""
        return self.server.url

    def iri(self, canonical: str) -> str:
        """Where a client asks for `canonical` when w3id.org is this Apache."""
        assert canonical.startswith("https://w3id.org/"), canonical
        return self.apache.url + "/" + canonical.removeprefix("https://w3id.org/")

    def use(self, htaccess: str) -> None:
        """Serve `htaccess` as the prefix's rules (Apache reads it again on every request)."""
        (self.apache.docroot / "s22a" / ".htaccess").write_text(htaccess)


@contextlib.contextmanager
def running_front(folder: Path, cache: Path) -> Iterator[Front]:
    """A deployment, the rules `s22a w3id` writes for it, and Apache serving them (the store
    copied from the seeded one kept in `cache` for the session)."""
    port = free_port()
    public = f"http://127.0.0.1:{port}/"
    rules = folder / "rules" / "s22a"
    # The command as a deployer runs it, with the address from the setting.
    subprocess.run(
        [*s22a_command(), "w3id", "--out", str(rules)],
        check=True,
        capture_output=True,
        env={**os.environ, "S22A_PUBLIC_URL": public},
    )
    store = seeded_store(cache, folder / "store")
    server = ServerProcess(
        folder / "server", store=store, port=port, env={"S22A_PUBLIC_URL": public}
    )
    with server, ApacheServer(folder / "apache") as apache:
        apache.install("s22a", rules)
        yield Front(apache, server, rules)


def turtle(response: requests.Response) -> Graph:
    """The Turtle body of `response`, parsed."""
    assert response.headers["Content-Type"].startswith(TURTLE), response.headers
    return Graph().parse(data=response.text, format="turtle")


def follow_examples(front: Front, session: requests.Session) -> None:
    """Follow the issue's examples through `front`; AssertionError if one goes wrong."""
    thing = f"{BASE}id/agreement/{AGREEMENT}"
    document = f"{front.app}/doc/agreement/{AGREEMENT}"

    # Accept: text/turtle -> Apache's 307 -> the app's 303 -> the document as Turtle.
    reply = session.get(front.iri(thing), headers={"Accept": TURTLE}, timeout=60)
    assert [r.status_code for r in reply.history] == [REDIRECT_STATUS, 303], reply.history
    assert reply.history[1].url == f"{front.app}/id/agreement/{AGREEMENT}"
    assert reply.status_code == 200 and reply.url == document, (reply.status_code, reply.url)
    graph = turtle(reply)
    assert (URIRef(thing), RDF.type, S22A.Agreement) in graph
    title = graph.value(URIRef(thing), DCTERMS.title)
    assert isinstance(title, Literal), "the agreement has a title"

    # A browser: the same two redirects, the HTML page of the same agreement.
    reply = session.get(front.iri(thing), headers={"Accept": BROWSER}, timeout=60)
    assert [r.status_code for r in reply.history] == [REDIRECT_STATUS, 303], reply.history
    assert reply.url == document and reply.headers["Content-Type"].startswith("text/html")
    assert str(title).replace("&", "&amp;") in reply.text

    # The redirect is the same whatever the Accept: nothing for a cache to mix up.
    locations = {
        session.head(front.iri(thing), headers={"Accept": a}, allow_redirects=False).headers[
            "Location"
        ]
        for a in (TURTLE, BROWSER, "application/ld+json")
    }
    assert locations == {f"{front.app}/id/agreement/{AGREEMENT}"}, locations

    # An extension form: straight to the JSON-LD document, whatever the Accept.
    reply = session.get(front.iri(thing.replace("/id/", "/doc/") + ".jsonld"), timeout=60)
    assert [r.status_code for r in reply.history] == [REDIRECT_STATUS]
    assert reply.headers["Content-Type"].startswith("application/ld+json")
    quads = ox.parse(reply.content, format=ox.RdfFormat.JSON_LD)
    typed = ox.Triple(
        ox.NamedNode(thing), ox.NamedNode(str(RDF.type)), ox.NamedNode(S22A.Agreement)
    )
    assert any(quad.triple == typed for quad in quads)

    # The query string: ?_format=ttl outranks a browser's Accept.
    reply = session.get(
        front.iri(thing.replace("/id/", "/doc/")) + "?_format=ttl",
        headers={"Accept": BROWSER},
        timeout=60,
    )
    assert (URIRef(thing), RDF.type, S22A.Agreement) in turtle(reply)

    # A term of the ontology: the fragment stays with the client, the ontology document comes.
    reply = session.get(front.iri(f"{S22A.Agreement}"), headers={"Accept": TURTLE}, timeout=60)
    assert reply.url.startswith(f"{front.app}/def/s22a"), reply.url
    assert (S22A.Agreement, RDF.type, OWL.Class) in turtle(reply)

    # The JSON-LD context.
    reply = session.get(front.iri(f"{BASE}context.jsonld"), timeout=60)
    assert reply.status_code == 200 and reply.url == f"{front.app}/context.jsonld"
    assert "s22a" in json.loads(reply.text)["@context"]

    # /sparql, by GET (the query in the query string) and by POST (kept a POST by the 307).
    ask = f"ASK {{ <{thing}> a <{S22A.Agreement}> }}"
    json_results = {"Accept": "application/sparql-results+json"}
    for reply in (
        session.get(front.iri(f"{BASE}sparql"), params={"query": ask}, headers=json_results),
        session.post(front.iri(f"{BASE}sparql"), data={"query": ask}, headers=json_results),
    ):
        assert reply.status_code == 200, (reply.request.method, reply.status_code, reply.text)
        assert reply.json()["boolean"] is True, reply.request.method


# Rules that each lose one thing the issue says must survive the redirect.
GOOD = "RewriteRule ^(.*)$ {app}/$1 [R=307,QSA,L]"
BROKEN = {
    "the path dropped": "RewriteRule ^(.*)$ {app}/ [R=307,L]",
    "the query string dropped": "RewriteRule ^(.*)$ {app}/$1 [R=307,QSD,L]",
    # Apache answering for /id/ itself, with one format: Accept negotiation lost.
    "Accept negotiation lost": "RewriteRule ^id/(.*)$ {app}/doc/$1.html [R=303,L]\n" + GOOD,
}


# The RDF documents the crawl starts from: the whole data (the dump), the catalogue, the
# dataset's description and the vocabularies. The lists (/agreements...) are not RDF.
CRAWL_STARTS = ("dump.nq", "catalog.ttl", "void.ttl", "def/s22a", "def/shapes")


@dataclass
class Document:
    """The canonical /id/ and /def/ IRIs an RDF document names, and those it describes."""

    named: set[str]
    described: set[str]

    @classmethod
    def parse(cls, reply: requests.Response, format: ox.RdfFormat) -> Document:
        """The IRIs of the document `reply` holds."""
        named: set[str] = set()
        described: set[str] = set()
        for quad in ox.parse(reply.content, format=format):
            if isinstance(quad.subject, ox.NamedNode):
                described.add(quad.subject.value)
            for term in (quad.subject, quad.predicate, quad.object):
                if isinstance(term, ox.NamedNode):
                    named.add(term.value)
                elif isinstance(term, ox.Literal):
                    named.add(term.datatype.value)
        return cls({iri for iri in named if iri.startswith(OURS)}, described)


OURS = (f"{BASE}id/", f"{BASE}def/")


def document_path(iri: str) -> str:
    """The path of the document the service serves for `iri` (a thing's: its /doc/ page)."""
    path = iri.removeprefix(BASE)
    if path.startswith("id/"):
        thing = path.removeprefix("id/")
        return OTHER_THINGS.get(thing) or f"/doc/{thing}"
    return "/" + path


def crawl(front: Front, session: requests.Session) -> str:
    """Breadth first from the dump: each /id/ and /def/ IRI any RDF document names is asked for
    through `front` as Turtle and as HTML, and its Turtle document must describe it."""
    seen: set[str] = set()
    documents: dict[str, Document] = {}  # by document IRI (a /def/ term's, without '#...')
    queue: deque[str] = deque()
    failures: list[str] = []
    seconds = {"turtle": 0.0, "html": 0.0}

    def visit(document: Document) -> None:
        for iri in sorted(document.named - seen):
            if len(seen) < MAX_CRAWL:
                seen.add(iri)
                queue.append(iri)

    for start in CRAWL_STARTS:
        reply = session.get(front.iri(BASE + start), headers={"Accept": TURTLE}, timeout=120)
        assert [r.status_code for r in reply.history][:1] == [REDIRECT_STATUS], start
        assert reply.status_code == 200, (start, reply.status_code)
        nquads = start.endswith(".nq")
        visit(Document.parse(reply, ox.RdfFormat.N_QUADS if nquads else ox.RdfFormat.TURTLE))
    kinds: dict[str, int] = {}
    while queue:
        iri = queue.popleft()
        kind = iri.removeprefix(BASE).split("/")[1].split("#")[0]
        kinds[kind] = kinds.get(kind, 0) + 1
        document_iri, _ = urldefrag(iri)
        if document_iri not in documents:
            started = time.monotonic()
            reply = session.get(front.iri(document_iri), headers={"Accept": TURTLE}, timeout=60)
            seconds["turtle"] += time.monotonic() - started
            statuses = [r.status_code for r in reply.history]
            expected = [REDIRECT_STATUS, 303] if "/id/" in iri else [REDIRECT_STATUS]
            kind_of_body = reply.headers.get("Content-Type", "")
            if reply.status_code != 200 or not kind_of_body.startswith(TURTLE):
                failures.append(f"{iri}: {reply.status_code} {kind_of_body}")
                documents[document_iri] = Document(set(), set())
                continue
            if statuses != expected:
                failures.append(f"{iri}: redirects {statuses}, not {expected}")
            if reply.url != front.app + document_path(document_iri):
                failures.append(f"{iri}: ended at {reply.url}")
            documents[document_iri] = Document.parse(reply, ox.RdfFormat.TURTLE)
            visit(documents[document_iri])
            started = time.monotonic()
            page = session.head(
                front.iri(document_iri), headers={"Accept": BROWSER}, allow_redirects=True
            )
            seconds["html"] += time.monotonic() - started
            if page.status_code != 200 or "text/html" not in page.headers["Content-Type"]:
                failures.append(f"{iri} as HTML: {page.status_code}")
        if iri not in documents[document_iri].described:
            failures.append(f"{iri}: its document {document_iri} does not describe it")
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:40])
    assert len(seen) < MAX_CRAWL, "the crawl was cut short"
    # The crawl reached every kind of thing the seed data names, and the vocabularies' terms.
    assert {"agreement", "force", "body", "region", "capability", "register"} <= kinds.keys()
    assert kinds.get("s22a", 0) > 20 and kinds.get("shapes", 0) > 5, kinds
    times = ", ".join(f"{k} {v:.1f} s" for k, v in seconds.items())
    return f"{len(seen)} IRIs through Apache ({len(documents)} documents; {times}): {kinds}"


@pytest.mark.slow
def test_canonical_iris_resolve_through_apache(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """One deployment and one Apache for every check: the issue's examples, the same examples
    against broken rules (each must fail them), and the crawl."""
    reason = apache_missing()
    if reason:
        pytest.skip(reason)
    cache = tmp_path_factory.getbasetemp()
    with running_front(tmp_path, cache) as front, requests.Session() as session:
        started = time.monotonic()
        follow_examples(front, session)
        examples = time.monotonic() - started
        good = (front.rules / ".htaccess").read_text()
        rule = GOOD.format(app=front.app)
        assert rule in good, "the generated rule changed: update GOOD"
        for broken, bad_rule in BROKEN.items():
            front.use(good.replace(rule, bad_rule.format(app=front.app)))
            try:
                follow_examples(front, session)
            except AssertionError:
                continue
            finally:
                front.use(good)
            pytest.fail(f"the checks pass with {broken}: they would not notice it")
        started = time.monotonic()
        summary = crawl(front, session)
        print(f"examples {examples:.1f} s; crawl {time.monotonic() - started:.1f} s: {summary}")
