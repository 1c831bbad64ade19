"""Jinja filters and globals the templates share: local links, dates, money, short names."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask, request, url_for
from markupsafe import Markup, escape

from s22a.namespaces import BASE, PREFIXES, TYPES
from s22a.read.describe import fallback_label, legislation_label, legislation_page
from s22a.version import VERSION
from s22a.web import http

MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
CURRENCIES = {"GBP": "£", "EUR": "€", "USD": "$"}
_CURIE = re.compile(r"\b(agreement|force|body|register|capability|region):([a-z0-9][a-z0-9-]*)")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def date_text(value: str | None) -> str:
    """A date at its own precision, for people: '2022-02' -> 'February 2022'."""
    if not value:
        return ""
    match = _DATE.match(str(value))
    if not match:
        return str(value)
    year, month, day = match.groups()
    if month and 1 <= int(month) <= 12:
        name = MONTHS[int(month) - 1]
        return f"{int(day)} {name} {year}" if day else f"{name} {year}"
    return year


def money(value: str, currency: str = "GBP") -> str:
    """An amount with its currency symbol and thousands separators: '£18,300,000'."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return f"{value} {currency}".strip()
    text = f"{number:,.0f}" if number == int(number) else f"{number:,.2f}"
    symbol = CURRENCIES.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def local_url(iri: str) -> str:
    """Where a link to `iri` should go: this server for ours, legislation.gov.uk for Acts,
    an http(s) IRI as it is; '' for any other (javascript:, data:...), never made a link."""
    if legislation_label(iri):
        return legislation_page(iri)
    if not str(iri).lower().startswith(("http://", "https://")):
        return ""
    return http.local(iri)


def name_of(iri: str, labels: dict[str, str] | None = None) -> str:
    """The label of `iri` from `labels`, else one made from the IRI."""
    return (labels or {}).get(iri) or fallback_label(iri)


def link(iri: str, labels: dict[str, str] | None = None) -> Markup:
    """A link to `iri` named by `labels` (an identifier in a span where it may not be a link).

    Python, not a template macro: a page links dozens of things, and a macro call costs Jinja
    several times what this does (the `link` macro's output, byte for byte)."""
    return _link(iri, name_of(iri, labels), http.root())


# The same few hundred things are linked from every page; what a link is depends only on
# the IRI, its name and the site root (`local_url` reads the root of the current request).
@functools.lru_cache(maxsize=2**14)
def _link(iri: str, name: str, root: str) -> Markup:
    href = local_url(iri)
    if href:
        return Markup(f'<a href="{escape(href)}">{escape(name)}</a>')
    return Markup(f'<span class="identifier">{escape(name)}</span>')


def links(
    iris: Iterable[str], labels: dict[str, str] | None = None, empty: str = "None given"
) -> Markup:
    """`link` to each of `iris`, comma-separated; `empty` (in a span) when there are none."""
    written = [link(iri, labels) for iri in iris]
    if not written:
        return Markup(f'<span class="secondary">{escape(empty)}</span>')
    return Markup(", ").join(written)


def curie(iri: str) -> str:
    """A prefixed name for `iri` when a project prefix fits, else the IRI."""
    best = ""
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(str(namespace)) and len(str(namespace)) > len(best):
            best, short = str(namespace), f"{prefix}:{iri[len(str(namespace)) :]}"
    return short if best else iri


def local_name(iri: str) -> str:
    """The part of an IRI after its last # or /."""
    return re.split(r"[#/]", iri.rstrip("/"))[-1]


def kind_of(iri: str) -> str:
    """The kind of thing an /id/ IRI names ('agreement', 'force'...), else ''."""
    if iri.startswith(BASE + "id/"):
        kind = iri[len(BASE) + 3 :].split("/")[0]
        return kind if kind in TYPES else ""
    return ""


def link_curies(text: str, labels: dict[str, str] | None = None) -> Markup:
    """Escape `text` and turn `agreement:slug`-style names into links to their pages."""

    def replace(match: re.Match[str]) -> str:
        iri = f"{BASE}id/{match.group(1)}/{match.group(2)}"
        name = (labels or {}).get(iri) or match.group(0)
        return f'<a href="{escape(http.local(iri))}">{escape(name)}</a>'

    escaped = str(escape(text))
    return Markup(_CURIE.sub(replace, escaped))


_NOT_STATED = re.compile(r"s22a:notStated ([a-z][a-z0-9]*:[A-Za-z]+)")
_TERM = re.compile(r"\b([a-z][a-z0-9]*):([A-Za-z][A-Za-z0-9]*)\b")
_SEED = re.compile(r"(\()?\bseeds? ([0-9]{3})\b(\))?", re.IGNORECASE)
# Prefixes of vocabularies; things' prefixes (agreement:, force:...) are links instead.
_VOCABULARIES = {p for p in PREFIXES if p not in TYPES and p not in ("shape", "cap", "group")}


def prose(text: str, labels: dict[str, str] | None = None) -> Markup:
    """A note for people: a source file's number ("seed 004") becomes the source page's
    title, an RDF term (`s22a:region`) its label, and `agreement:slug` names links."""
    labels = labels or {}

    def term(prefix: str, local: str) -> str:
        if prefix not in _VOCABULARIES:
            return f"{prefix}:{local}"
        iri = f"{PREFIXES[prefix]}{local}"
        return labels.get(iri) or re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).lower()

    def seed(match: re.Match[str]) -> str:
        title = labels.get(f"seed {match.group(2)}")
        if not title:
            return "(the source page)" if match.group(1) else "the source page"
        return f"(from “{title}”)" if match.group(1) else f"“{title}”"

    text = _NOT_STATED.sub(
        lambda m: "a note that the source does not state the " + term(*m.group(1).split(":")), text
    )
    text = _SEED.sub(seed, text)
    text = re.sub(r"\b(the )?seeds\b", "the source pages", text)
    text = _TERM.sub(
        lambda m: term(m.group(1), m.group(2)),
        text,
    )
    return link_curies(text, labels)


def page_url(**changes: Any) -> str:
    """The current page's URL with some query parameters changed (None removes one)."""
    # Any, not str: mypy matches **args against url_for's own keywords (_external: bool...).
    args: dict[str, Any] = request.args.to_dict(flat=False)  # repeated parameters kept
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = [str(value)]
    endpoint = request.endpoint or "pages.home"
    return url_for(endpoint, **(request.view_args or {}), **args)


def plural(count: int, singular: str, many: str | None = None) -> str:
    """'1 agreement', '3 agreements'."""
    return f"{count} {singular if count == 1 else many or singular + 's'}"


FILTERS: dict[str, Callable[..., Any]] = {
    "date_text": date_text,
    "prose": prose,
    "money": money,
    "local": local_url,
    "name": name_of,
    "curie": curie,
    "local_name": local_name,
    "kind_of": kind_of,
    "link_curies": link_curies,
}
GLOBALS: dict[str, Any] = {  # Jinja globals may be any value, not only functions
    "link": link,
    "links": links,
    "page_url": page_url,
    "plural": plural,
    "TYPES": TYPES,
    "BASE": BASE,
    "VERSION": VERSION,
}


def init_app(app: Flask) -> None:
    """Register the template filters and globals on `app`."""
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
    for name, value in GLOBALS.items():
        app.add_template_global(value, name)
