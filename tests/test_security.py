"""Security headers, escaping of every literal, and no script anywhere."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask, Response
from flask.testing import FlaskClient

from s22a import resources
from s22a.ingest.gate import accept_register
from s22a.store import get_store
from s22a.web.filters import local_url
from s22a.web.security import secure_headers

TEMPLATES = Path(resources.__file__).parent / "templates"
PAGES = ["/", "/agreements", "/forces", "/search?q=forensic", "/sparql", "/def/s22a"]


def test_html_pages_carry_the_security_headers(client: FlaskClient) -> None:
    for path in PAGES:
        response = client.get(path, headers={"Accept": "text/html"})
        assert response.status_code == 200, path
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy, path
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert response.headers["X-Frame-Options"] == "DENY"


def test_each_security_header_is_sent_once_and_a_views_own_value_is_kept() -> None:
    page = secure_headers(Response("<p>hi</p>", mimetype="text/html"))
    for name in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert len(page.headers.getlist(name)) == 1, name
    framed = Response("<p>hi</p>", mimetype="text/html", headers={"x-frame-options": "SAMEORIGIN"})
    assert secure_headers(framed).headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    turtle = secure_headers(Response("", mimetype="text/turtle"))
    assert "Content-Security-Policy" not in turtle.headers
    assert turtle.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_rdf_responses_are_not_sniffed(client: FlaskClient) -> None:
    response = client.get("/doc/force/merseyside.ttl")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_no_template_has_inline_script_or_style() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert "<script" not in text, template.name
        assert not re.search(r"\son\w+\s*=", text), f"inline event handler in {template.name}"
        assert "style=" not in text, f"inline style in {template.name} (the CSP refuses it)"


def test_markup_in_a_register_renders_as_text(app: Flask) -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    register = (Path(resources.register_paths()[0]).read_text()).replace(
        'dcterms:title "Bluelight Collaboration"@en',
        f'dcterms:title "{hostile.replace(chr(34), chr(92) + chr(34))}"@en',
    )
    assert hostile.split(">")[0] in register.replace('\\"', '"')
    with app.app_context():
        outcome = accept_register(
            get_store(),
            "https://w3id.org/s22a/id/register/cheshire",
            register.encode(),
            name="cheshire.ttl",
            source="test",
        )
    assert outcome.outcome == "Accepted", outcome.reason
    client = app.test_client()
    for path in (
        "/doc/agreement/cheshire-bluelight-collaboration",
        "/doc/register/cheshire",
        "/search?q=alert",
        "/agreements?size=50",
    ):
        body = client.get(path, headers={"Accept": "text/html"}).get_data(as_text=True)
        assert "<script>" not in body and "<img src=x" not in body, path
    page = client.get("/doc/agreement/cheshire-bluelight-collaboration.html")
    assert "&lt;script&gt;alert(" in page.get_data(as_text=True)


def test_only_http_iris_become_links(client: FlaskClient) -> None:
    """A javascript:, data: or other non-http(s) IRI is shown as text, never as a link."""
    app = client.application
    macro = "{{ link(iri, {}) }}"  # a global (s22a.web.filters), as every template calls it
    with app.test_request_context("/"):
        for iri in (
            "javascript:alert(1)",
            "JavaScript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
        ):
            assert local_url(iri) == "", iri
            html = app.jinja_env.from_string(macro).render(iri=iri)
            assert "<a " not in html and "href" not in html, html
            assert "<script>" not in html, html
        for iri in ("https://example.org/x", "http://example.org/x"):
            assert local_url(iri) == iri
            assert f'<a href="{iri}">' in app.jinja_env.from_string(macro).render(iri=iri)
        ours = "https://w3id.org/s22a/id/force/merseyside"
        assert local_url(ours).endswith("/doc/force/merseyside") and "w3id" not in local_url(ours)
