"""Every summary sentence on an agreement, force and register page of the seed data agrees with
the facts the same page shows: its counts, its tables, its statements side by side."""

from __future__ import annotations

import html as htmllib
import re

import pytest
from flask.testing import FlaskClient

from s22a.read.facts import forces
from s22a.store import get_store

P = "PREFIX s22a: <https://w3id.org/s22a/def/s22a#> "


def text(fragment: str) -> str:
    """The words of an HTML fragment, spaces collapsed."""
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def slugs(client: FlaskClient, kind: str) -> list[str]:
    """The slugs of every thing of one kind the seed data holds."""
    with client.application.app_context():
        if kind == "force":
            iris = list(forces(get_store()))
        else:
            cls = {"agreement": "Agreement", "register": "Register"}[kind]
            rows = get_store().select(
                P + f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a s22a:{cls} }} }}"
            )
            iris = [str(r["s"]) for r in rows]
    found = sorted({i.rsplit("/", 1)[-1] for i in iris if f"/id/{kind}/" in i})
    assert found, kind
    return found


def section(html: str, start: str, end: str) -> str:
    """The HTML between the first `start` and the next `end` after it ('' if no `start`)."""
    if start not in html:
        return ""
    return html.split(start, 1)[1].split(end, 1)[0]


def words_key(title: str) -> str:
    return " ".join(re.findall(r"\w+", title.lower()))


def check_agreement(slug: str, html: str) -> None:
    """The confirmation tag and sentence, and 'agree'/'differ', against the page's tables."""
    notice = text(section(html, '<p class="confirmation">', "</p>"))
    listed_by = section(html, "<dt>Listed by</dt><dd>", "</dd>").count("<a ")
    table = section(html, "Confirmation by each party force</caption>", "</table>")
    rows = table.count("<tr>") - 1 if table else 0  # less the header row
    lists, unlisted, unpublished = (
        table.count(f">{state}</strong>")
        for state in ("Lists it", "Does not list it", "No register published")
    )
    assert lists + unlisted + unpublished == rows, slug
    said = re.match(
        r"Listed by (\d+) registers?(?:: the registers of (\d+) of the (\d+) party)?", notice
    )
    assert said, f"{slug}: {notice}"
    assert int(said.group(1)) == listed_by, f"{slug}: {notice}"
    if said.group(2):
        assert (int(said.group(2)), int(said.group(3))) == (lists, rows), f"{slug}: {notice}"
    not_listed = re.search(r"Not listed by the registers? of (.*?)\.", notice)
    assert (not_listed.group(1).count(",") + 1 if not_listed else 0) == unlisted, slug
    no_register = re.search(r"([^.]*) publish(es)? no register here", notice)
    if no_register:
        assert no_register.group(1).count(",") + 1 == unpublished, slug
        assert bool(no_register.group(2)) == (unpublished == 1), f"{slug}: grammar: {notice}"
    else:
        assert unpublished == 0, slug
    notice_box = section(html, 'id="confirmation-heading"', "</div>")
    tag = text(section(notice_box, '<strong class="tag', "</strong>").split(">", 1)[1])
    if rows and lists == rows:
        assert tag.startswith("Confirmed by every party"), f"{slug}: {tag} but all {rows} list it"
    else:
        assert not tag.startswith("Confirmed by every"), f"{slug}: {tag}, {lists} of {rows}"
    # What each register says, against "agree" or "different".
    titles, dates, parties = set(), set(), set()
    for statement in html.split('<section class="statement"')[1:]:
        title = text(section(statement, "<dt>Title</dt><dd>", "</dd>"))
        if title != "Not given":
            titles.add(words_key(title))
        date = text(section(statement, "<dt>Date</dt><dd>", "</dd>"))
        if date != "Not given":
            dates.add(date)
        named = section(statement, "<dt>Parties</dt>", "</dd>")
        if "does not name all the parties" not in named:
            parties.add(frozenset(re.findall(r'href="([^"]+)"', named)))
    differ = text(section(html, "<h2>Where the registers differ</h2>", "<h2"))
    for aspect, values in (("titles", titles), ("dates", dates), ("parties", parties)):
        assert (f"different {aspect}" in differ) == (len(values) > 1), f"{slug}: {differ}"
    if "agree on its title, date and parties" in differ:
        assert len(titles) == len(dates) == len(parties) == 1, f"{slug}: {differ}"


@pytest.mark.parametrize("kind", ["agreement", "force", "register"])
def test_every_summary_sentence_matches_its_page(client: FlaskClient, kind: str) -> None:
    for slug in slugs(client, kind):
        response = client.get(f"/doc/{kind}/{slug}", headers={"Accept": "text/html"})
        assert response.status_code == 200, slug
        html = response.get_data(as_text=True)
        assert not re.search(r"\b1 of them publish\b|\b1 (agreements|registers)\b", text(html))
        if kind == "agreement":
            check_agreement(slug, html)
        elif kind == "force":
            lead = text(section(html, '<p class="lead">', "</p>"))
            named = int(re.match(r"Named in (\d+) agreements?", lead).group(1))  # type: ignore[union-attr]
            listed, unlisted, none = (
                html.count(f">{state}</strong></td>")
                for state in ("Listed", "Not listed", "No register")
            )
            assert listed + unlisted + none == named, f"{slug}: {lead}"
            own = re.search(r"Its own register lists (\d+)", lead)
            assert (int(own.group(1)) if own else 0) == listed, f"{slug}: {lead}"
            missing = re.search(r"does not list (\d+):", text(html))
            assert (int(missing.group(1)) if missing else 0) == unlisted, slug
            items = section(html, '<p class="unlisted">', "</ul>").count("<li>")
            assert items == unlisted, slug
        else:
            count = int(text(section(html, "<dt>Agreements listed</dt><dd>", "</dd>")).split()[0])
            rows = section(html, "<tbody>", "</tbody>").count("<tr>")
            assert count == rows, slug
