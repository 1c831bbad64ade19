"""Content negotiation: pick a representation from extension, `_format`, then Accept.

The order is the one DESIGN.md fixes for `/doc/` documents: a file extension
wins, then a `_format=` parameter, then the Accept header with its q-values
(RFC 9110 section 12.5.1). A bare `*/*` (what curl sends) or no Accept header
at all gets the first RDF format (Turtle); browsers, which ask for text/html
explicitly, get HTML. Nothing acceptable gives None, which views turn into 406.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache


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


# Other representations: JSON for summaries and reports, plain text for problems, and the
# dataset formats of dumps and diffs.
JSON = Format("json", "application/json", "JSON")
TEXT = Format("txt", "text/plain", "Plain text")
CSV = Format("csv", "text/csv", "CSV")
TRIG = Format("trig", "application/trig", "TriG", "trig")
NQUADS = Format("nq", "application/n-quads", "N-Quads", "nquads")
DUMPS = {NQUADS.key: NQUADS.media_type, TRIG.key: TRIG.media_type}

# What each kind of resource is offered as, in the server's order of preference.
READ_FORMATS: tuple[Format, ...] = (TURTLE, HTML, *RDF_FORMATS[1:])  # a register graph
REPORT_FORMATS: tuple[Format, ...] = (JSON, TURTLE, HTML)  # a refused write's report
PROBLEM_FORMATS: tuple[Format, ...] = (JSON, HTML, TEXT)  # an HTTP problem
DIFF_FORMATS: tuple[Format, ...] = (TRIG, HTML, JSON, NQUADS)  # the changes between versions
LIST_FORMATS: tuple[Format, ...] = (TURTLE, HTML, JSON)  # a list of versions
ANSWER_FORMATS: tuple[Format, ...] = (JSON, HTML)  # an answer of the API (/cover, /health)
TABLE_FORMATS: tuple[Format, ...] = (HTML, CSV, JSON)  # a listing, for people and spreadsheets
# The media types a register may be written in.
WRITE_TYPES = (
    "text/turtle",
    "application/x-turtle",
    "application/n-triples",
    "application/ld+json",
    "application/rdf+xml",
)


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


# ---------------------------------------------------------------------------------------------
# `/sparql`: result formats (SPARQL 1.1 Protocol section 2.1.5: the client's Accept header, or
# a `format=` parameter as many clients send)

# Result formats (SPARQL 1.1 Query Results JSON, XML, CSV and TSV), then HTML for people.
RESULTS_JSON = Format(
    "json", "application/sparql-results+json", "SPARQL JSON", None, ("application/json",)
)
RESULTS_XML = Format(
    "xml", "application/sparql-results+xml", "SPARQL XML", None, ("application/xml", "text/xml")
)
RESULTS_CSV = Format("csv", "text/csv", "CSV")
RESULTS_TSV = Format("tsv", "text/tab-separated-values", "TSV")
# Graph formats: the project's RDF formats, with the names SPARQLWrapper sends as `format=`.
GRAPH_TURTLE = replace(TURTLE, aliases=(*TURTLE.aliases, "n3", "text/n3"))
GRAPH_NTRIPLES = NTRIPLES
GRAPH_RDFXML = replace(RDFXML, aliases=(*RDFXML.aliases, "rdf+xml"))
GRAPH_JSONLD = replace(JSONLD, aliases=(*JSONLD.aliases, "json-ld"))

# Preference order: the first is what `*/*` (or no Accept) gets; HTML only when asked for.
SOLUTION_FORMATS: tuple[Format, ...] = (
    RESULTS_JSON,
    RESULTS_XML,
    RESULTS_CSV,
    RESULTS_TSV,
    HTML,
)
GRAPH_FORMATS: tuple[Format, ...] = (
    GRAPH_TURTLE,
    GRAPH_NTRIPLES,
    GRAPH_RDFXML,
    GRAPH_JSONLD,
    HTML,
)


@dataclass(frozen=True)
class Choice:
    """The format chosen for each kind of result (None: the client accepts none)."""

    solutions: Format | None
    graph: Format | None


def choose_formats(formats: Sequence[str], accept: str | None) -> Choice:
    """Pick result formats: the first known `format=` value wins, else the Accept header."""
    return _choose(tuple(formats), accept)


# Clients send a handful of distinct Accept headers, again and again: parsing and scoring one
# costs more (~80 us) than a lookup. Bounded, so varied headers only evict each other.
@lru_cache(maxsize=512)
def _choose(formats: tuple[str, ...], accept: str | None) -> Choice:
    known = [f for f in formats if by_key(f, SOLUTION_FORMATS) or by_key(f, GRAPH_FORMATS)]
    if known:
        return Choice(
            next((x for f in known if (x := by_key(f, SOLUTION_FORMATS))), None),
            next((x for f in known if (x := by_key(f, GRAPH_FORMATS))), None),
        )
    return Choice(from_accept(accept, SOLUTION_FORMATS), from_accept(accept, GRAPH_FORMATS))


def wants_html(formats: Sequence[str], accept: str | None) -> bool:
    """Whether a request without a query wants the page rather than the service description."""
    for value in formats:
        if by_key(value, (HTML,)):
            return True
        if by_key(value, RDF_FORMATS):
            return False
    chosen = from_accept(accept, (*RDF_FORMATS, HTML))
    return chosen is HTML
