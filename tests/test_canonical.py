"""Regressions of issue 14's smaller items: absolute URLs never come from the request's `Host`
or forwarded headers (unless from a configured proxy), slugs with a trailing newline, HEAD on
the publish forms, and a token in the query string kept out of the access log.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from s22a import create_app
from s22a.store import get_store
from tests.support.app import make_app
from tests.support.server import revision
from tests.support.writes import tokens_for

HOSTILE = {
    "Host": "evil.example",
    "X-Forwarded-Host": "forwarded.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.9",
}
# Every kind of answer that carries an absolute URL.
READS = [
    ("/feed.atom", {}),
    ("/registers/merseyside/feed.atom", {}),
    ("/registers/merseyside", {"Accept": "text/turtle"}),
    ("/registers/merseyside/versions", {"Accept": "application/json"}),
    ("/registers/merseyside/versions/1", {"Accept": "application/json"}),
    ("/sparql", {"Accept": "text/turtle"}),
    ("/void", {"Accept": "text/html"}),
    ("/publish", {}),
]

# Those that carry absolute URLs (the others link relatively).
ABSOLUTE = {
    "/feed.atom",
    "/registers/merseyside/feed.atom",
    "/registers/merseyside",
    "/registers/merseyside/versions",
    "/sparql",
    "/publish",
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Flask]]:
    """Three apps on the seed registers: no public URL, a public URL, a trusted proxy."""
    made = {
        "plain": make_app(),
        "public": make_app(S22A_PUBLIC_URL="https://register.example.org/s22a/"),
        "proxied": make_app(S22A_TRUSTED_PROXIES="127.0.0.1, 10.0.0.1"),
    }
    yield made
    for app in made.values():
        with app.app_context():
            get_store().close()


def everything(response: TestResponse) -> str:
    """A response's headers and body, as one text to search."""
    return str(response.headers) + response.get_data(as_text=True)


@pytest.mark.parametrize(("path", "headers"), READS)
def test_absolute_urls_ignore_the_host_header(
    apps: dict[str, Flask], path: str, headers: dict[str, str]
) -> None:
    response = apps["plain"].test_client().get(path, headers={**headers, **HOSTILE})
    assert response.status_code == 200, path
    text = everything(response)
    assert "evil.example" not in text and "forwarded.example" not in text
    assert "https://localhost" not in text  # X-Forwarded-Proto was not believed either


@pytest.mark.parametrize(("path", "headers"), READS)
def test_absolute_urls_come_from_the_public_url(
    apps: dict[str, Flask], path: str, headers: dict[str, str]
) -> None:
    client = apps["public"].test_client()
    response = client.get("/s22a" + path, headers={**headers, **HOSTILE})
    assert response.status_code == 200, path
    text = everything(response)
    assert "evil.example" not in text and "forwarded.example" not in text
    assert "http://localhost" not in text
    if path in ABSOLUTE:
        assert "https://register.example.org/s22a/" in text, path


def test_a_write_answers_with_urls_from_the_public_url(
    apps: dict[str, Flask], tmp_path: Path
) -> None:
    app = apps["public"]
    token = tokens_for(app, tmp_path / "tokens.json", "merseyside")["merseyside"]
    response = app.test_client().put(
        "/s22a/registers/merseyside",
        data=revision("merseyside", 14),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/turtle", **HOSTILE},
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.headers["Content-Location"].startswith(
        "https://register.example.org/s22a/registers/merseyside/versions/"
    )
    assert "evil.example" not in everything(response)


def test_forwarded_headers_are_honoured_from_a_trusted_proxy_only(apps: dict[str, Flask]) -> None:
    client = apps["proxied"].test_client()
    trusted = client.get("/feed.atom", headers=HOSTILE)  # the test client is 127.0.0.1
    assert "https://forwarded.example/" in trusted.get_data(as_text=True)
    other = client.get("/feed.atom", headers=HOSTILE, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    text = other.get_data(as_text=True)
    assert "forwarded.example" not in text and "evil.example" not in text


def test_an_unusable_public_url_is_refused_when_the_app_is_made() -> None:
    with pytest.raises(ValueError, match="S22A_PUBLIC_URL must be an http"):
        create_app({"TESTING": True, "S22A_STORE": "memory:", "S22A_PUBLIC_URL": "register"})


@pytest.mark.parametrize(
    "path",
    [
        "/registers/x%0a/versions",
        "/registers/merseyside%0a/versions",
        "/registers/merseyside%0a/versions/1",
        "/registers/merseyside%0a/diff/1/2",
        "/registers/merseyside%0a/feed.atom",
        "/registers/merseyside%0a",
        "/doc/force/merseyside%0a",
        "/id/force/merseyside%0a",
        "/id/register/merseyside%0a",
        "/doc/register/merseyside%0a/2024-01-01",
        "/doc/agreement/north-west-rocu%0a",
    ],
)
def test_a_slug_with_a_trailing_newline_is_not_found(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/publish/validate", "/publish/csv"])
def test_head_on_the_publish_forms_is_the_empty_form(client: FlaskClient, path: str) -> None:
    head, get = client.head(path), client.get(path)
    assert head.status_code == get.status_code == 200
    assert head.data == b"" and head.headers["Content-Type"] == get.headers["Content-Type"]


def test_a_token_in_the_query_string_is_not_logged(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s22a_0123456789ab_NOTAREALTOKENBUTLONGENOUGH"
    with caplog.at_level(logging.INFO, logger="s22a.access"):
        client.get(f"/registers/merseyside?access_token={secret}&x=1")
        client.get(f"/?ACCESS_TOKEN={secret}")
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "s22a.access")
    assert "/registers/merseyside?access_token=[redacted]&x=1" in logged
    assert secret not in logged
