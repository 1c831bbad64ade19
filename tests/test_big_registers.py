"""A big register stays cheap to read (issue 14): the force and register pages, versions and
differences are paged, the home page's timeline table counts by year past 200 agreements, and
the "did you mean" of a 404 comes from an index.

One app, a register of 210 made-up agreements published with a token (so validated and
versioned like any other); `bench/synthetic.py` makes it. Run `python -m bench.pages --big`
for the figures with 5,500 agreements (about 99,000 triples).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from bench.synthetic import register_turtle
from s22a.read import describe
from s22a.store import get_store
from tests.support.app import make_app
from tests.support.writes import bearer, tokens_for

AGREEMENTS = 210
HTML = {"Accept": "text/html"}


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FlaskClient]:
    """The seed registers, then Merseyside's replaced by 210 made-up agreements."""
    app: Flask = make_app()
    token = tokens_for(app, tmp_path_factory.mktemp("big") / "tokens.json", "merseyside")
    client = app.test_client()
    for count in (AGREEMENTS, AGREEMENTS):
        body = register_turtle("merseyside", count, prefix="big").encode()
        answer = client.put("/registers/merseyside", data=body, headers=bearer(token["merseyside"]))
        assert answer.status_code == 200, answer.get_data(as_text=True)[:2000]
    yield client
    with app.app_context():
        get_store().close()


def rows(html: str) -> int:
    """The number of agreement links in the tables of a page."""
    return len(re.findall(r'<td><a href="/doc/agreement/big-merseyside-\d+"', html))


def party_rows(html: str) -> int:
    """The rows of a force page's agreement tables (each says how the force is a party)."""
    return len(
        re.findall(r"<td>(Named as a party|As a force of England and Wales|Its register)", html)
    )


@pytest.mark.slow
def test_the_force_page_is_paged(big: FlaskClient) -> None:
    first = big.get("/doc/force/merseyside", headers=HTML)
    third = big.get("/doc/force/merseyside?page=3", headers=HTML)
    text, last = first.get_data(as_text=True), third.get_data(as_text=True)
    assert "Agreements 1 to 100 of" in text and party_rows(text) == 100
    assert 'rel="next"' in text and "page=2" in text
    assert "Agreements 201 to" in last and 0 < party_rows(last) <= 100
    assert first.headers["ETag"] != third.headers["ETag"]  # each page has its own validator
    turtle = big.get("/doc/force/merseyside.ttl").get_data(as_text=True)
    assert turtle.count("big-merseyside-") >= AGREEMENTS  # the RDF is the whole document


@pytest.mark.slow
def test_the_register_page_is_paged_and_shows_the_latest_versions(big: FlaskClient) -> None:
    text = big.get("/doc/register/merseyside", headers=HTML).get_data(as_text=True)
    assert f"Agreements 1 to 100 of {AGREEMENTS}, by title." in text
    assert rows(text) == 100
    assert "/registers/merseyside/versions" in text
    three = big.get("/doc/register/merseyside?page=3", headers=HTML).get_data(as_text=True)
    assert rows(three) == AGREEMENTS - 200


@pytest.mark.slow
def test_the_home_timeline_counts_by_year(big: FlaskClient) -> None:
    text = big.get("/", headers=HTML).get_data(as_text=True)
    assert "The number of agreements each year as a table" in text
    assert rows(text) < 20  # not one row per dated agreement


@pytest.mark.slow
def test_a_difference_between_versions_is_paged(big: FlaskClient) -> None:
    page = big.get("/registers/merseyside/diff/1/2", headers=HTML).get_data(as_text=True)
    assert "Page 1 of" in page and 'rel="next"' in page
    assert page.count("<tr><td>") <= 2 * 500 + 10
    full = big.get("/registers/merseyside/diff/1/2", headers={"Accept": "application/json"})
    assert len(full.json["added"]) > 500  # the data has every triple
    version = big.get("/registers/merseyside/versions/2", headers=HTML).get_data(as_text=True)
    assert f"of {AGREEMENTS}, by title" not in version or "Page" not in version
    assert version.count("/doc/agreement/big-merseyside-") <= 500


@pytest.mark.slow
def test_not_found_suggestions_come_from_an_index(big: FlaskClient) -> None:
    miss = big.get("/doc/agreement/big-merseyside-12x", headers=HTML)
    assert miss.status_code == 404
    assert "/doc/agreement/big-merseyside-12" in miss.get_data(as_text=True)
    app = big.application
    with app.app_context():
        store = get_store()
        index = describe._slug_index(store)
        assert index is describe._slug_index(store)  # built once for this dataset version
        assert len(index["agreement"]) >= AGREEMENTS


def test_the_index_is_rebuilt_when_the_data_changes(tmp_path: Path) -> None:
    app = make_app()
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    with app.app_context():
        before = describe.slugs(get_store(), "agreement")
    body = register_turtle("merseyside", 3, prefix="fresh").encode()
    assert app.test_client().put("/registers/merseyside", data=body, headers=bearer(token))
    with app.app_context():
        after = describe.slugs(get_store(), "agreement")
        get_store().close()
    assert "fresh-merseyside-0" in after and "fresh-merseyside-0" not in before
