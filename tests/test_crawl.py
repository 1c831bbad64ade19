"""Crawl the site from the home page: every link on every page resolves, no 404 and no 500.

The crawler follows every href and src on the server, every Link header alternate, and
checks every #fragment names an id on its page. Each HTML page is also checked for the
structure assistive technology relies on: one h1, no skipped heading levels, unique ids,
a label for every form field, a header cell in every table; and its prose for internals (file
names, RDF terms, slugs, ISO dates: `tests/support/prose.py`). Bounded by MAX_REQUESTS.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.exceptions import MethodNotAllowed, NotFound

from s22a.store import get_store
from tests.support.prose import leaks

# Every document has its own TimeMap and mementos, all from one template: a sample is enough.
SAMPLED = re.compile(r"/timemap/.*|/doc/[a-z]+/[a-z0-9-]+/[0-9]{14}")
MAX_SAMPLED = 40
MAX_REQUESTS = 3000
HOST = "http://localhost/"


class Page(HTMLParser):
    """The links, ids, headings and form fields of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: list[str] = []
        self.headings: list[int] = []
        self.fields: list[str] = []
        self.labels: set[str] = set()
        self.tables = self.header_cells = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("href", "src"):
            if attributes.get(name) and tag != "form":
                self.links.append(attributes[name] or "")
        if attributes.get("id"):
            self.ids.append(attributes["id"] or "")
        if re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.fields.append(attributes.get("id") or "")
        if tag == "label" and attributes.get("for"):
            self.labels.add(attributes["for"] or "")
        if tag == "table":
            self.tables += 1
        if tag == "th":
            self.header_cells += 1


def has_route(app: Flask, path: str) -> bool:
    """Whether some view answers `path` (the SPARQL page comes from another blueprint)."""
    try:
        app.url_map.bind("localhost").match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    return True


def check_structure(path: str, page: Page) -> None:
    assert page.headings.count(1) == 1, f"{path}: one h1"
    for before, after in zip(page.headings, page.headings[1:], strict=False):
        assert after <= before + 1, f"{path}: heading h{before} followed by h{after}"
    duplicates = {i for i in page.ids if page.ids.count(i) > 1}
    assert not duplicates, f"{path}: duplicate ids {duplicates}"
    unlabelled = [f for f in page.fields if f not in page.labels]
    assert not unlabelled, f"{path}: fields without labels {unlabelled}"
    assert page.header_cells >= page.tables, f"{path}: a table without header cells"


def thing_slugs(app: Flask) -> set[str]:
    """The slugs of agreements, forces and registers that have a hyphen (a single word might
    be an ordinary one): in a page's prose, such a slug is an internal leaking out."""
    with app.app_context():
        rows = get_store().select("SELECT DISTINCT ?s WHERE { GRAPH ?g { ?s a ?t } }")
    found = {str(r["s"]) for r in rows}
    return {
        i.rsplit("/", 1)[-1]
        for i in found
        if re.search(r"/id/(agreement|force|register)/[a-z0-9]+-", i)
    }


@pytest.mark.slow
def test_every_link_from_the_home_page_resolves(loaded_app: Flask, client: FlaskClient) -> None:
    skipped = {p for p in ("/sparql",) if not has_route(loaded_app, p)}
    slugs, leaked = thing_slugs(loaded_app), []
    queue: deque[tuple[str, str]] = deque([("/", "(start)")])
    seen = {"/"}
    ids: dict[str, set[str]] = {}
    fragments: list[tuple[str, str, str]] = []
    requests = sampled = 0
    while queue:
        path, referrer = queue.popleft()
        requests += 1
        assert requests <= MAX_REQUESTS, "crawl bound reached: the site has grown, raise it"
        response = client.get(path, headers={"Accept": "text/html"})
        found: list[str] = []
        if response.status_code in (301, 302, 303, 307, 308):
            found.append(response.headers["Location"])  # /id/ links: 303 to the document
            response.status_code = 200
        assert response.status_code == 200, (
            f"{path} (linked from {referrer}): {response.status_code}"
        )
        for value in response.headers.get("Link", "").split(","):
            match = re.match(r"\s*<([^>]+)>", value)
            if match and match.group(1).startswith("/"):
                found.append(match.group(1))
        if response.mimetype == "text/html" and not response.headers.get("Location"):
            page = Page()
            page.feed(response.get_data(as_text=True))
            check_structure(path, page)
            leaked += [f"{path}: {leak}" for leak in leaks(path, response.get_data(True), slugs)]
            ids[path] = set(page.ids)
            found += page.links
        response.close()
        for link in found:
            absolute, fragment = urldefrag(urljoin(HOST + path.lstrip("/"), link))
            parts = urlsplit(absolute)
            if f"{parts.scheme}://{parts.netloc}/" != HOST:
                continue  # another site: legislation.gov.uk, w3.org...
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if fragment:
                fragments.append((path, target, fragment))
            if target not in seen and SAMPLED.fullmatch(parts.path):
                sampled += 1
                if sampled > MAX_SAMPLED:
                    continue
            if target not in seen and parts.path not in skipped:
                seen.add(target)
                queue.append((target, path))
    assert not leaked, "internals in public prose:\n" + "\n".join(leaked[:40])
    for source, target, fragment in fragments:
        if target in ids:
            assert fragment in ids[target], f"{source} links to {target}#{fragment}: no such id"
    kinds = {p.split("/")[2] for p in seen if p.startswith("/doc/")}
    assert kinds >= {
        "agreement",
        "force",
        "body",
        "group",
        "region",
        "capability",
        "register",
        "scheme",
    }
    assert sum(1 for p in seen if re.fullmatch(r"/doc/agreement/[a-z0-9-]+", p)) == 44
    paths = {urlsplit(p).path for p in seen}
    national = {"/cover", "/health", "/health/cheshire", "/sparql/examples"}
    assert national <= paths, f"not reached from the home page: {national - paths}"
    assert any(p.startswith("/timemap/doc/agreement/") for p in paths), "no TimeMap reached"
    assert {"/agreements.csv", "/agreements.json"} <= paths, "listing downloads not linked"
