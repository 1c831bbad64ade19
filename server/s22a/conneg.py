"""Content negotiation: pick a representation from extension, `_format`, then Accept.

The order is the one DESIGN.md fixes for `/doc/` documents: a file extension
wins, then a `_format=` parameter, then the Accept header with its q-values
(RFC 9110 section 12.5.1). A bare `*/*` (what curl sends) or no Accept header
at all gets the first RDF format (Turtle); browsers, which ask for text/html
explicitly, get HTML. Nothing acceptable gives None, which views turn into 406.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Format:
    """One representation a resource can be served in."""

    key: str  # the `_format=` value and the file extension, e.g. "ttl"
    media_type: str
    label: str
    rdflib_format: str | None = None  # serializer name, None for HTML
    aliases: tuple[str, ...] = ()  # other media types and keys that mean this format

    @property
    def content_type(self) -> str:
        """The Content-Type header value, with charset."""
        return f"{self.media_type}; charset=utf-8"


HTML = Format("html", "text/html", "HTML", None, ("application/xhtml+xml", "htm"))
TURTLE = Format("ttl", "text/turtle", "Turtle", "turtle", ("application/x-turtle", "turtle"))
JSONLD = Format("jsonld", "application/ld+json", "JSON-LD", "json-ld", ("application/json", "json"))
RDFXML = Format("rdf", "application/rdf+xml", "RDF/XML", "xml", ("xml", "rdfxml"))
NTRIPLES = Format("nt", "application/n-triples", "N-Triples", "nt", ("ntriples",))

# Server preference order: the first RDF format is what `*/*` gets.
DOCUMENT_FORMATS: tuple[Format, ...] = (TURTLE, HTML, JSONLD, RDFXML, NTRIPLES)
RDF_FORMATS: tuple[Format, ...] = (TURTLE, JSONLD, RDFXML, NTRIPLES)


def by_key(key: str, offered: Sequence[Format] = DOCUMENT_FORMATS) -> Format | None:
    """The offered format whose key, media type or alias is `key`, if any."""
    key = key.strip().lower()
    for fmt in offered:
        if key in (fmt.key, fmt.media_type, *fmt.aliases):
            return fmt
    return None


def parse_accept(header: str | None) -> list[tuple[str, float]]:
    """Media ranges of an Accept header with their q-values, in the order given."""
    ranges = []
    for part in (header or "").split(","):
        fields = [f.strip() for f in part.split(";")]
        media_range = fields[0].lower()
        if not media_range or "/" not in media_range:
            continue
        q = 1.0
        for parameter in fields[1:]:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((media_range, q))
    return ranges


def _quality(fmt: Format, ranges: list[tuple[str, float]]) -> tuple[float, int]:
    """The q-value the most specific matching range gives `fmt`, and that specificity."""
    best: tuple[float, int] = (0.0, -1)
    aliases = {a for a in fmt.aliases if "/" in a}
    for media_range, q in ranges:
        kind, _, subtype = media_range.partition("/")
        if media_range == fmt.media_type or media_range in aliases:
            specificity = 2
        elif subtype == "*" and fmt.media_type.startswith(kind + "/"):
            # A wildcard matches the format's own media type, not its aliases.
            specificity = 1
        elif media_range == "*/*":
            specificity = 0
        else:
            continue
        if specificity > best[1]:
            best = (q, specificity)
    return best


def from_accept(accept: str | None, offered: Sequence[Format]) -> Format | None:
    """The best offered format for an Accept header; None when nothing is acceptable."""
    ranges = parse_accept(accept)
    if not ranges:
        ranges = [("*/*", 1.0)]
    scored = []
    for preference, fmt in enumerate(offered):
        q, specificity = _quality(fmt, ranges)
        if q > 0:
            # Highest q first; an explicitly named type beats a wildcard at the same q;
            # then the server's own order.
            scored.append((-q, -min(specificity, 1), preference, fmt))
    return min(scored, key=lambda s: s[:3])[3] if scored else None


def negotiate(
    *,
    extension: str | None = None,
    format_param: str | None = None,
    accept: str | None = None,
    offered: Sequence[Format] = DOCUMENT_FORMATS,
) -> Format | None:
    """Pick a format: extension, then `_format`, then Accept. None means 406."""
    if extension:
        return by_key(extension, offered)
    if format_param:
        return by_key(format_param, offered)
    return from_accept(accept, offered)
