"""Time travel (Memento, RFC 7089) at version granularity, and /sparql?asOf.

A fresh app holds the seed registers; Merseyside then publishes two new versions that retitle
the Minerva Programme (an agreement only Merseyside lists), each in a second of its own, so the
agreement's document gains two mementos (it has three since Merseyside's register first
described it) and its register has three versions.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.support.app import make_app
from tests.support.writes import MERSEYSIDE, bearer, tokens_for

DOC = "/doc/agreement/minerva-programme"
TURTLE = {"Accept": "text/turtle"}
TITLE = b'"Minerva Programme"@en'
TITLE_QUERY = (
    "SELECT ?t WHERE { <https://w3id.org/s22a/id/agreement/minerva-programme> "
    "<http://purl.org/dc/terms/title> ?t }"
)


@dataclass
class History:
    """The app after the retitlings."""

    app: Flask
    published: list[datetime]
    before: int
    sent: list[datetime] = field(default_factory=list)  # when each PUT was sent


def next_second() -> None:
    """Wait until the clock is in a second of its own (versions are kept to the second)."""
    start = int(time.time())
    deadline = time.monotonic() + 30
    while int(time.time()) == start:
        assert time.monotonic() < deadline
        time.sleep(0.02)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """The app after two retitlings, when each title was published, and how many mementos
    the document had before."""
    app = make_app()
    token = tokens_for(app, tmp_path_factory.mktemp("t") / "tokens.json", "merseyside")
    client = app.test_client()
    before = len(mementos(client, DOC))
    published, sent = [], []
    for title in ("Minerva Programme Two", "Minerva Programme Three"):
        next_second()
        body = MERSEYSIDE.replace(TITLE, f'"{title}"@en'.encode())
        sent.append(datetime.now(UTC))
        response = client.put(
            "/registers/merseyside", data=body, headers=bearer(token["merseyside"])
        )
        assert response.status_code == 200, response.json
        published.append(datetime.now(UTC))
        next_second()
    yield History(app, published, before, sent)


def link_format(text: str) -> list[tuple[str, dict[str, str]]]:
    """The links of a link-format document (RFC 6690): (target, attributes)."""
    found = []
    for entry in re.split(r",\s*(?=<)", text.strip()):
        target = entry[1 : entry.index(">")]
        attributes = dict(re.findall(r';\s*([a-z]+)="([^"]*)"', entry))
        found.append((target, attributes))
    return found


def mementos(client: FlaskClient, original: str) -> list[tuple[str, datetime]]:
    response = client.get(f"/timemap{original}", headers={"Accept": "application/link-format"})
    assert response.status_code == 200 and response.mimetype == "application/link-format"
    links = link_format(response.data.decode())
    rels = {a["rel"] for _, a in links}
    assert {"original", "timegate", "self"} <= rels
    return [
        (target, parsedate_to_datetime(a["datetime"]))
        for target, a in links
        if "memento" in a["rel"].split()
    ]


def test_a_document_changed_twice_has_three_mementos(history: History) -> None:
    app, published = history.app, history.published
    client = app.test_client()
    found = mementos(client, DOC)
    before = history.before
    assert before >= 1 and len(found) == before + 2
    times = [moment for _, moment in found]
    assert times == sorted(times)
    found = found[-3:]  # as Merseyside's first version described it, then the two changes
    # Each memento is the version recorded while its PUT ran (kept to the second), however
    # long the PUT took on a busy machine.
    for (_, moment), began, when in zip(found[1:], history.sent, published, strict=True):
        assert began.replace(microsecond=0) <= moment <= when, (began, moment, when)
    titles = []
    for url, moment in found:
        response = client.get(url.removeprefix("http://localhost"), headers=TURTLE)
        assert response.status_code == 200
        assert parsedate_to_datetime(response.headers["Memento-Datetime"]) == moment
        assert (
            'rel="original"' in response.headers["Link"]
            and 'rel="timemap"' in response.headers["Link"]
        )
        titles.append(re.search(rb'dcterms:title "([^"]+)"@en', response.data).group(1))
    assert titles == [b"Minerva Programme", b"Minerva Programme Two", b"Minerva Programme Three"]


def test_accept_datetime_between_versions_reaches_the_one_that_stood(
    history: History,
) -> None:
    app = history.app
    client = app.test_client()
    found = mementos(client, DOC)[-3:]
    between = found[1][1] + (found[2][1] - found[1][1]) / 2
    response = client.get(
        DOC, headers={**TURTLE, "Accept-Datetime": format_datetime(between, usegmt=True)}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == found[1][0]
    assert "accept-datetime" in response.headers["Vary"].lower()
    assert 'rel="original"' in response.headers["Link"]
    before = client.get(DOC, headers={"Accept-Datetime": "Mon, 01 Jan 2001 00:00:00 GMT"})
    assert before.headers["Location"] == mementos(client, DOC)[0][0]  # before all: the first
    bad = client.get(DOC, headers={"Accept-Datetime": "yesterday"})
    assert bad.status_code == 400
    # the original itself says it is its TimeGate and where its TimeMap is
    current = client.get(DOC, headers=TURTLE)
    assert "accept-datetime" in current.headers["Vary"].lower()
    assert f'<http://localhost{DOC}>; rel="timegate"' in current.headers["Link"]
    assert b"Minerva Programme Three" in current.data


def test_a_register_s_versions_are_its_mementos(history: History) -> None:
    app = history.app
    client = app.test_client()
    found = mementos(client, "/registers/merseyside")
    assert [u.rsplit("/", 1)[-1] for u, _ in found] == ["1", "2", "3"]
    middle = found[1][1] + timedelta(milliseconds=500)
    response = client.get(
        "/registers/merseyside", headers={"Accept-Datetime": format_datetime(middle, usegmt=True)}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/versions/2")
    version = client.get("/registers/merseyside/versions/2", headers=TURTLE)
    assert parsedate_to_datetime(version.headers["Memento-Datetime"]) == found[1][1]
    page = client.get("/timemap/registers/merseyside", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "/registers/merseyside/versions/3" in page.data.decode()


def test_day_pages_are_mementos_too(history: History) -> None:
    app = history.app
    client = app.test_client()
    day = datetime.now(UTC).date().isoformat()
    response = client.get(f"/doc/register/merseyside/{day}", headers=TURTLE)
    assert response.status_code == 200
    last = mementos(client, "/registers/merseyside")[-1][1]
    assert parsedate_to_datetime(response.headers["Memento-Datetime"]) == last
    assert 'rel="timemap"' in response.headers["Link"]


def test_sparql_as_of_before_and_after_a_change(history: History) -> None:
    app, published = history.app, history.published
    client = app.test_client()

    def title(extra: str = "", headers: dict[str, str] | None = None) -> list[str]:
        response = client.get(
            f"/sparql?query={quote(TITLE_QUERY)}{extra}",
            headers={"Accept": "application/sparql-results+json", **(headers or {})},
        )
        assert response.status_code == 200, response.data
        return [b["t"]["value"] for b in response.json["results"]["bindings"]]

    first = mementos(client, DOC)[-3][1]
    assert title() == ["Minerva Programme Three"]
    at = lambda moment: "&asOf=" + quote(moment.isoformat().replace("+00:00", "Z"))  # noqa: E731
    assert title(at(first + timedelta(milliseconds=999))) == ["Minerva Programme"]
    assert title(at(published[0] + timedelta(milliseconds=100))) == ["Minerva Programme Two"]
    assert title(at(datetime(2000, 1, 1, tzinfo=UTC))) == []
    header = {"Accept-Datetime": format_datetime(published[0] + timedelta(seconds=1), usegmt=True)}
    assert title(headers=header) == ["Minerva Programme Two"]
    refused = client.get(f"/sparql?query={quote(TITLE_QUERY)}&asOf=soon")
    assert refused.status_code == 400


def test_the_query_page_offers_as_of(client: FlaskClient) -> None:
    page = client.get("/sparql", headers={"Accept": "text/html"}).data.decode()
    assert 'name="asOf"' in page
