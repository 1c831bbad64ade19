"""A person's walk through the site in real headless Chromium, with an axe-core audit on each page.

Debian's `chromium` (/usr/bin/chromium) is driven by Playwright's Python package; no browser
is downloaded. The walk: home, search, an agreement, one of its parties, another agreement of
that force, the SPARQL page. axe-core (bundled by axe-playwright-python, injected from the
package, nothing fetched) must report no serious or critical violation of WCAG 2.x A/AA.
Screenshots go to `screenshots/` at the repository root (see the README).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
        allow_module_level=True,
    )

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402

from tests.support import ROOT  # noqa: E402
from tests.support.server import ServerProcess  # noqa: E402

SHOTS = ROOT / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium from the Debian package."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: ServerProcess) -> Iterator[Page]:
    """A fresh tab that may only talk to the local server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    context.route(re.compile(r"^(?!http://127\.0\.0\.1:).*"), lambda route: route.abort())
    tab = context.new_page()
    yield tab
    context.close()


def audit(page: Page, name: str) -> None:
    """Screenshot the page and fail on any serious or critical axe-core violation."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    results = Axe().run(page, options=AXE_OPTIONS)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert not serious, f"{name}: " + "; ".join(serious)


def test_walk_home_search_agreement_force_agreement_sparql(
    page: Page, live_server: ServerProcess
) -> None:
    response = page.goto(live_server.url + "/")
    assert response and response.status == 200
    expect(page.locator("h1")).to_have_text("Collaboration agreements between UK police forces")
    assert page.locator("svg[role=img] title").count() == 2
    audit(page, "01-home")

    page.get_by_label("Search agreements, forces and capabilities").fill("forensic")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("h2").first).to_contain_text("for “forensic”")
    audit(page, "02-search")

    page.get_by_role("link", name="North West Forensics Collaboration").first.click()
    expect(page.locator("h1")).to_have_text("North West Forensics Collaboration")
    assert "/doc/agreement/north-west-forensics" in page.url
    audit(page, "03-agreement")

    page.locator("table").first.get_by_role("link", name="Cheshire Constabulary").click()
    expect(page.locator("h1")).to_have_text("Cheshire Constabulary")
    audit(page, "04-force")

    page.get_by_role("link", name="Multi-Force Shared Service").first.click()
    expect(page.locator("h1")).to_have_text("Multi-Force Shared Service")
    expect(page.get_by_text("Cheshire Fire Authority").first).to_be_visible()
    audit(page, "05-another-agreement")

    with page.expect_navigation() as navigation:
        page.get_by_role("navigation", name="Main").get_by_role("link", name="SPARQL").click()
    status = navigation.value.status if navigation.value else 0
    assert status < 500
    audit(page, "06-sparql")


def test_keyboard_reaches_the_skip_link_and_shows_focus(
    page: Page, live_server: ServerProcess
) -> None:
    page.goto(live_server.url + "/doc/force/merseyside")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to main content"
    style = page.evaluate("getComputedStyle(document.activeElement).backgroundColor")
    assert style == "rgb(255, 221, 0)"  # the yellow focus state
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main-content$"))


def test_pages_need_no_javascript(browser: Browser, live_server: ServerProcess) -> None:
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    tab = context.new_page()
    for path, heading in (
        ("/", "Collaboration agreements between UK police forces"),
        ("/doc/agreement/north-west-rocu", "TITAN"),
        ("/agreements?sort=newest", "Agreements"),
    ):
        tab.goto(live_server.url + path)
        expect(tab.locator("h1")).to_have_text(heading)
        assert tab.locator("script").count() == 0
    tab.goto(live_server.url + "/")
    tab.locator("details").first.locator("summary").click()  # works without scripts
    expect(tab.locator("details").first.locator("table")).to_be_visible()
    SHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=str(SHOTS / "07-home-narrow-no-javascript.png"), full_page=True)
    context.close()


def test_walk_the_national_picture(page: Page, live_server: ServerProcess) -> None:
    page.goto(live_server.url + "/")
    page.get_by_role("contentinfo").get_by_role("link", name="Is there cover?").click()
    expect(page.locator("h1")).to_have_text("Is there cover?")
    page.get_by_label("Forces").select_option(["cheshire", "north-wales"])
    page.get_by_label("Capability").select_option("armed-policing")
    page.get_by_role("button", name="Find agreements").click()
    expect(page.locator("#answer-heading")).to_contain_text("agreements with all of")
    expect(
        page.get_by_role("link", name="Cheshire and North Wales Firearms Alliance")
    ).to_be_visible()
    audit(page, "08-cover")

    page.get_by_role("contentinfo").get_by_role("link", name="Publication health").click()
    expect(page.locator("h1")).to_have_text("Publication health")
    audit(page, "09-health")
    page.get_by_role("link", name="Cheshire Constabulary").click()
    expect(page.locator("h1")).to_have_text("Cheshire Constabulary: publication health")
    audit(page, "10-health-force")

    page.goto(live_server.url + "/agreements")
    page.get_by_label("Capability (narrower ones count)").select_option("forensics")
    page.get_by_role("button", name="Apply the filters").click()
    expect(page).to_have_url(re.compile(r"capability=forensics"))  # waits for the navigation
    expect(page.get_by_role("link", name="North West Forensics Collaboration")).to_be_visible()
    audit(page, "11-agreements-filtered")

    page.goto(live_server.url + "/timemap/doc/agreement/north-west-rocu")
    expect(page.locator("h1")).to_contain_text("Versions of")
    page.locator("table").get_by_role("link").first.click()
    expect(page.get_by_role("note")).to_contain_text("This is how the document stood")
    audit(page, "12-memento")

    page.goto(live_server.url + "/sparql/examples")
    expect(page.locator("h1")).to_have_text("Example queries")
    audit(page, "13-examples")

    page.set_viewport_size({"width": 390, "height": 844})
    for path, name in (("/cover?force=cheshire&force=north-wales", "14-cover-narrow"),
                       ("/agreements?force=merseyside", "15-agreements-narrow")):  # fmt: skip
        page.goto(live_server.url + path)
        audit(page, name)


def test_layout_at_1280_and_390_pixels(page: Page, live_server: ServerProcess) -> None:
    """The search button level with its box, picture labels legible at 390 px, the Turtle of a
    converted spreadsheet inside the page (issue 18's layout), with screenshots of each."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        for path in ("/", "/search?q=forensic", "/no-such-page"):
            page.goto(live_server.url + path)
            box = page.locator("form.search input[type=search]").bounding_box()
            button = page.locator("form.search button").bounding_box()
            assert box and button
            if button["y"] < box["y"] + box["height"]:  # side by side (not wrapped below)
                assert abs(button["y"] - box["y"]) < 4, f"{path} at {width}: {box}, {button}"
        page.goto(live_server.url + "/doc/force/merseyside")
        # A label's height on screen: the SVG text's font size times the picture's scale.
        for ident in ("force-network", "force-timeline"):
            height = page.evaluate(
                "(id) => document.querySelector(`svg[aria-labelledby^='${id}-title'] text`)"
                ".getBoundingClientRect().height",
                ident,
            )
            assert height >= 9, f"{ident} at {width} px: labels {height:.1f} px high"
        page.screenshot(path=str(SHOTS / f"16-force-pictures-{width}.png"), full_page=True)
        page.goto(live_server.url + "/publish/csv")
        page.get_by_label("Force").select_option("merseyside")
        page.set_input_files("#file", str(ROOT / "tests" / "fixtures" / "merseyside.csv"))
        page.locator("main form button[type=submit]").first.click()
        expect(page.locator("#turtle-heading")).to_be_visible()
        pre = page.locator("pre").first.bounding_box()
        main = page.locator("main").bounding_box()
        assert pre and main and pre["x"] + pre["width"] <= main["x"] + main["width"] + 1
        background = page.evaluate(
            "getComputedStyle(document.querySelector('pre code')).backgroundColor"
        )
        assert background in ("rgba(0, 0, 0, 0)", "transparent"), "a stripe on every line"
        page.screenshot(path=str(SHOTS / f"17-publish-csv-{width}.png"), full_page=True)
