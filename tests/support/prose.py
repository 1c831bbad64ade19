"""What public pages must not show in their prose: the names of transcribed source files, RDF
terms, typed literals, slugs and ISO dates. Pages about the data model itself (the ontology,
the shapes, SPARQL, VoID, versions as triples) are for developers and are exempt."""

from __future__ import annotations

import html as htmllib
import re

from s22a.namespaces import PREFIXES, TYPES

# Developers' pages: they show terms, typed literals and identifiers on purpose.
TECHNICAL = re.compile(
    r"/def/.*|/sparql.*|/void.*|/catalog.*|/openapi.*|/api.*|/registers/[^/]+/(versions/\d+|diff/.*)"
    r"|/doc/register/[^/]+/(version|attempt)/.*|/doc/reconciliation.*|/id/reconciliation.*"
    r"|/timemap/.*"
)
VOCABULARIES = [p for p in PREFIXES if p not in TYPES and p not in ("shape", "cap", "group")]
LEAKS = {
    "a source file's name": re.compile(r"\b\d{3}_[0-9a-f]{16}\.txt\b"),
    "a seed's number": re.compile(r"\bseeds? \d{3}\b", re.IGNORECASE),
    "an RDF term": re.compile(rf"\b({'|'.join(VOCABULARIES)}):[A-Za-z]\w*"),
    "a typed literal": re.compile(r"\^\^"),
    "an internal heading": re.compile(r"Register graph:"),
    "an ISO date": re.compile(r"(?<![\w/-])(19|20)\d\d-[01]\d(-[0-3]\d)?(?![\w/-])"),
}


def visible_prose(page: str) -> str:
    """The text of a page a reader sees as prose: no markup, code, identifiers or forms."""
    page = re.sub(r"(?s)<(script|style|pre|code|textarea|select)\b.*?</\1>", " ", page)
    page = re.sub(r'(?s)<span class="identifier[^"]*">.*?</span>', " ", page)
    page = re.sub(r"(?s)<head>.*?</head>", " ", page)
    return " ".join(htmllib.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def leaks(path: str, page: str, slugs: set[str]) -> list[str]:
    """What the page's prose shows that it should not: each as 'what: the words around it'."""
    if TECHNICAL.fullmatch(path.split("?", 1)[0]):
        return []
    text = visible_prose(page)
    found = []
    for what, pattern in LEAKS.items():
        found += [
            f"{what}: …{text[max(0, m.start() - 40) : m.end() + 20]}…"
            for m in pattern.finditer(text)
        ]
    for m in re.finditer(r"(?<![\w/.-])[a-z][a-z0-9]*(-[a-z0-9]+)+(?![\w/.-])", text):
        if m.group(0) in slugs:
            found.append(f"a slug: …{text[max(0, m.start() - 40) : m.end() + 20]}…")
    return found
