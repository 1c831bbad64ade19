"""The publishing tools in the browser: check a register, convert a CSV; nothing stored."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Graph

from s22a.namespaces import S22A
from s22a.store import get_store
from tests.support.server import ServerProcess

ROOT = Path(__file__).resolve().parents[1]
MERSEYSIDE = (ROOT / "data" / "registers" / "merseyside.ttl").read_bytes()
TABLE = (ROOT / "tests" / "fixtures" / "merseyside.csv").read_bytes()
BROKEN = ROOT / "tests" / "fixtures" / "registers" / "force-not-a-party.ttl"


@pytest.fixture(autouse=True)
def nothing_is_stored(loaded_app: Flask) -> Iterator[None]:
    """Every test here leaves the store byte-for-byte as it was."""
    with loaded_app.app_context():
        before = b"".join(get_store().dump())
    yield
    with loaded_app.app_context():
        assert b"".join(get_store().dump()) == before


def main(response: bytes) -> str:
    html = response.decode("utf-8")
    return html[html.index("<main") : html.index("</main>")]


@pytest.mark.parametrize("path", ["/publish", "/publish/validate", "/publish/csv"])
def test_the_pages_are_accessible_forms_without_javascript(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.data.decode()
    assert "<script" not in html
    for control in re.findall(r"<(?:input|textarea|select)[^>]*>", html):
        if 'type="search"' in control or 'type="submit"' in control:
            continue
        ident = re.search(r'id="([^"]+)"', control)
        assert ident, control
        assert f'<label for="{ident.group(1)}"' in html, control
    if path != "/publish":
        assert 'method="post"' in html and 'enctype="multipart/form-data"' in html


def test_a_valid_register_pasted_is_reported_valid(client: FlaskClient) -> None:
    response = client.post("/publish/validate", data={"turtle": MERSEYSIDE.decode()})
    assert response.status_code == 200
    assert "Valid</strong> The register meets every rule: 24 agreement(s)" in main(response.data)


def test_an_invalid_register_uploaded_shows_the_report(client: FlaskClient) -> None:
    response = client.post(
        "/publish/validate",
        data={"turtle": "", "file": (io.BytesIO(BROKEN.read_bytes()), BROKEN.name)},
    )
    assert response.status_code == 200
    page = main(response.data)
    assert "Not valid" in page and "names neither its own force nor its force" in page
    assert "Example Forensics Collaboration" in page


def test_a_syntax_error_shows_the_line_and_column(client: FlaskClient) -> None:
    text = "@prefix x: <http://example.org/> .\nx:a x:b x:c ;\n  x:d ."
    page = main(client.post("/publish/validate", data={"turtle": text}).data)
    assert "Syntax error" in page and "line 3, column 6" in page
    assert "  x:d ." in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"turtle": "  "}, "Paste a register in Turtle, or choose a file."),
        ({"turtle": "x", "file": (io.BytesIO(b"y"), "r.ttl")}, "not both"),
    ],
)
def test_form_errors_have_a_summary_that_links_to_the_field(
    client: FlaskClient, data: dict, message: str
) -> None:
    response = client.post("/publish/validate", data=data)
    assert response.status_code == 400
    html = response.data.decode()
    assert "<title>Error: " in html
    summary = re.search(r'<div[^>]*role="alert"[^>]*>(.*?)</div>', html, re.S)
    assert summary and 'href="#turtle"' in summary.group(1) and message in summary.group(1)
    assert 'aria-invalid="true"' in html and 'aria-describedby="turtle-hint turtle-error"' in html


def test_a_csv_table_is_converted_and_validated(client: FlaskClient) -> None:
    response = client.post(
        "/publish/csv", data={"force": "merseyside", "file": (io.BytesIO(TABLE), "merseyside.csv")}
    )
    assert response.status_code == 200
    page = main(response.data)
    assert "All matched" in page and "The register meets every rule: 24 agreement(s)" in page
    href = re.search(r'href="data:text/turtle;charset=utf-8;base64,([^"]+)"', page)
    assert href and 'download="merseyside.ttl"' in page
    graph = Graph().parse(data=base64.b64decode(href.group(1)), format="turtle")
    assert len(set(graph.objects(None, S22A.lists))) == 24
    # The force's current register supplies the IRIs of agreements it already lists.
    assert "agreement:north-west-rocu" in page


def test_unmatched_cells_are_listed_with_row_and_column(client: FlaskClient) -> None:
    table = b"Name,Forces,Date\r\nA thing,Dyfed Powis; Merseyside,Feb-22\r\n"
    page = main(
        client.post(
            "/publish/csv", data={"force": "merseyside", "file": (io.BytesIO(table), "t.csv")}
        ).data
    )
    row = re.search(r"<tr><td>2</td><td>Forces</td><td>Dyfed Powis</td><td>([^<]+)", page)
    assert row and "no force or body" in row.group(1)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"force": "", "file": (io.BytesIO(TABLE), "m.csv")}, "force"),
        ({"force": "merseyside"}, "file"),
        ({"force": "merseyside", "file": (io.BytesIO(b"Purpose\r\nx\r\n"), "m.csv")}, "file"),
    ],
)
def test_csv_form_errors(client: FlaskClient, data: dict, field: str) -> None:
    response = client.post("/publish/csv", data=data)
    assert response.status_code == 400
    html = response.data.decode()
    assert f'href="#{field}"' in html and f'id="{field}-error"' in html


def test_too_large_uploads_are_refused(
    loaded_app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(loaded_app.config, "S22A_ANONYMOUS_MAX_UPLOAD", 1000)
    for path, data, content_type in (
        ("/publish/validate", {"turtle": "x" * 2000}, "application/x-www-form-urlencoded"),
        ("/publish/validate", {"turtle": "x" * 2000}, "multipart/form-data"),
        (
            "/publish/csv",
            {"force": "merseyside", "file": (io.BytesIO(TABLE), "m.csv")},
            "multipart/form-data",
        ),
    ):
        response = client.post(path, data=data, content_type=content_type)
        assert response.status_code == 413, (path, content_type)
        assert "too large" in response.data.decode()


def test_a_pasted_register_at_the_limit_is_read(
    loaded_app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = (ROOT / "data" / "registers" / "north-wales.ttl").read_text()
    monkeypatch.setitem(loaded_app.config, "S22A_ANONYMOUS_MAX_UPLOAD", len(register.encode()))
    response = client.post("/publish/validate", data={"turtle": register})
    assert response.status_code == 200
    assert "too large" not in response.data.decode()


CHROMIUM = Path("/usr/bin/chromium")


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium")
def test_the_forms_work_without_javascript_and_pass_an_axe_audit(
    live_server: ServerProcess,
) -> None:
    """Errors and results shown with scripts off; no serious or critical WCAG 2.2 AA failure."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import Page, expect, sync_playwright

    url = live_server.url
    options = {
        "runOnly": {
            "type": "tag",
            "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"],
        },
        "resultTypes": ["violations"],
    }
    failures: list[str] = []

    def walk(page: Page, audit: bool) -> None:
        def check(name: str) -> None:
            if audit:  # axe is itself a script, so the audit runs on a second walk
                failures.extend(
                    f"{name}: {v['id']} ({v['impact']}) at {v['nodes'][0]['target']}"
                    for v in Axe().run(page, options=options).response["violations"]
                    if v["impact"] in ("serious", "critical")
                )

        page.goto(url + "/publish/validate")
        page.get_by_role("button", name="Check the register").click()
        expect(page.locator("#error-summary")).to_be_visible()  # waits for the new page
        check("validate, with errors")
        page.get_by_label("Paste the register (Turtle)").fill(BROKEN.read_text())
        page.get_by_role("button", name="Check the register").click()
        expect(page.locator("main")).to_contain_text("Not valid")
        check("validate, with a report")
        page.goto(url + "/publish/csv")
        page.get_by_label("Force", exact=True).select_option("merseyside")
        page.get_by_label("CSV file").set_input_files(
            str(ROOT / "tests" / "fixtures" / "merseyside.csv")
        )
        page.get_by_role("button", name="Convert the table").click()
        expect(page.locator("main")).to_contain_text("All matched")
        check("csv, with results")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--headless", "--no-sandbox", "--disable-gpu"]
        )
        try:
            for scripts in (False, True):
                context = browser.new_context(java_script_enabled=scripts)
                context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda r: r.abort())
                walk(context.new_page(), audit=scripts)
                context.close()
        finally:
            browser.close()
    assert failures == []
