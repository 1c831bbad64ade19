"""Parsing a register, however hostile: Turtle, N-Triples, JSON-LD or RDF/XML into an rdflib
graph, or `RegisterUnreadable` saying why not (a syntax error with its line and column).

Parsing never makes a request (no DTDs or entities, no remote JSON-LD contexts) and is
bounded (nesting, values, triples) before the data is read whole.
"""

from __future__ import annotations

import itertools
import json
import re
import warnings
from pathlib import Path
from typing import Any, NamedTuple
from xml.sax import SAXParseException

import pyoxigraph as ox
from rdflib import BNode, Graph
from rdflib.plugins.parsers.notation3 import BadSyntax
from rdflib.store import TripleAddedEvent
from rdflib.term import Node

from s22a.jsonld import CONTEXT, CONTEXT_URL
from s22a.namespaces import bind_prefixes
from s22a.store import from_oxigraph

# rdflib parser names by file extension; N-Triples goes through the Turtle
# parser (N-Triples is a subset of Turtle) because it reports error positions.
FORMAT_BY_EXTENSION = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "turtle",
    ".n3": "n3",
    ".jsonld": "json-ld",
    ".json": "json-ld",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
}


FORMAT_BY_MEDIA_TYPE = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/n-triples": "turtle",
    "text/plain": "turtle",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
}


class RegisterUnreadable(Exception):
    """The register cannot be read at all: missing, not UTF-8, or not RDF."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        self.message = message
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + message)


class RegisterSyntaxError(RegisterUnreadable):
    """The register is not well-formed RDF; carries the 1-based line and column."""


def guess_format(name: str, data: bytes, media_type: str | None = None) -> str:
    """Pick an rdflib parser from a media type, then the file extension, then the content."""
    if media_type:
        base = media_type.split(";")[0].strip().lower()
        if base in FORMAT_BY_MEDIA_TYPE:
            return FORMAT_BY_MEDIA_TYPE[base]
    suffix = Path(name).suffix.lower()
    if suffix in FORMAT_BY_EXTENSION:
        return FORMAT_BY_EXTENSION[suffix]
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:200]
    if head.startswith((b"{", b"[")):
        return "json-ld"
    if head.startswith(b"<?xml") or head.startswith(b"<rdf:RDF"):
        return "xml"
    return "turtle"


def _decode(data: bytes) -> str:
    """Decode UTF-8 strictly, reporting where the first bad byte is."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise RegisterUnreadable(
            f"the file is not UTF-8 text (byte 0x{data[error.start]:02x} cannot be decoded); "
            "save it as UTF-8 and try again",
            line,
            column,
        ) from None


def _syntax_error(error: Exception, text: str) -> RegisterSyntaxError:
    """Turn a parser's exception into a RegisterSyntaxError with line and column."""
    if isinstance(error, BadSyntax):
        # BadSyntax keeps the offending offset in the text it parsed: an offset in characters,
        # though the text is kept as UTF-8 bytes, so it is applied to the decoded text (applied
        # to the bytes, every non-ASCII character before it moved the line back).
        parsed = error._str
        consumed = (parsed.decode("utf-8", "replace") if isinstance(parsed, bytes) else parsed)[
            : error._i
        ]
        line = consumed.count("\n") + 1
        column = len(consumed) - (consumed.rfind("\n") + 1) + 1
        return RegisterSyntaxError(f"Turtle syntax error: {error._why}", line, column)
    if isinstance(error, SAXParseException):
        offset = error.getColumnNumber()  # 0-based; None only if the parser did not say
        return RegisterSyntaxError(
            f"RDF/XML syntax error: {error.getMessage()}",
            error.getLineNumber(),
            offset + 1 if offset is not None else None,
        )
    lineno = getattr(error, "lineno", None)
    colno = getattr(error, "colno", None)
    if lineno is not None:
        return RegisterSyntaxError(
            f"JSON syntax error: {getattr(error, 'msg', error)}", lineno, colno
        )
    return RegisterSyntaxError(f"cannot parse the file as RDF: {error}", None, None)


# JSON-LD contexts the service knows, by URL: used instead of fetching them (a document that
# names the register's context by its canonical URL reads the same as one carrying it inline).
LOCAL_CONTEXTS: dict[str, dict[str, Any]] = {CONTEXT_URL: CONTEXT}


MAX_JSON_DEPTH = 64


# The most triples a register may have, and JSON values a JSON-LD register may hold. A parsed
# triple costs about 1 kB in rdflib and as much again in validation, so this bounds memory and
# time (a few seconds) whatever the bytes are: a 3 MB upload of "[] , [] , ..." is a million
# blank nodes. The largest seed register has under 1,000 triples.
MAX_TRIPLES = 100_000


MAX_JSON_VALUES = 5 * MAX_TRIPLES


class _TooManyTriples(Exception):
    """Raised from inside a parser when a register passes `MAX_TRIPLES`."""


class _TripleCounter:
    """Counts the triples a parser adds to a graph's store; raises past `limit`."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self.count = 0

    def __call__(self, event: TripleAddedEvent) -> None:
        self.count += 1
        if self.limit is not None and self.count > self.limit:
            raise _TooManyTriples()


def _refuse_dtd(text: str) -> None:
    """RDF/XML may not declare a DTD or entities (XXE, entity expansion)."""
    match = re.search(r"<!(DOCTYPE|ENTITY)", text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        column = match.start() - (text.rfind("\n", 0, match.start()) + 1) + 1
        raise RegisterSyntaxError(
            "RDF/XML with a DTD or entity declarations is not accepted: remove the <!DOCTYPE> "
            "(registers never need one)",
            line,
            column,
        )


_STREAMING_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "xml": ox.RdfFormat.RDF_XML}


class _Read(NamedTuple):
    """A register as Oxigraph's parser read it: its quads, and the prefixes it declares."""

    quads: list[ox.Quad]
    prefixes: dict[str, str]


def _read_with_oxigraph(data: bytes, fmt: str) -> _Read | None:
    """Read a Turtle, N-Triples or RDF/XML register with Oxigraph's streaming parser, refusing
    it past MAX_TRIPLES; return what it read where that can make the graph, else None.

    The count comes first because rdflib's Turtle parser builds a whole object list
    (``<s> <p> [], [], ...``) before it adds one triple, so its own count comes too late;
    Oxigraph counts a 5 MB file in a fraction of a second. A syntax error is left for rdflib
    to report with its position.

    The quads make the graph (`_from_oxigraph`, several times faster than rdflib parses the
    text) for Turtle and N-Triples that name every IRI in full: a relative IRI is rdflib's to
    resolve against the upload's base or refuse, and RDF/XML stays rdflib's to read.
    """
    streaming = _STREAMING_FORMATS.get(fmt)
    if streaming is None:
        return None
    whole = fmt == "turtle"
    try:
        # With no base IRI, Oxigraph refuses a relative IRI: such a file is rdflib's to read.
        triples = ox.parse(data, format=streaming, base_iri=None if whole else "urn:s22a:upload")
        quads = list(itertools.islice(triples, MAX_TRIPLES + 1))
    except (SyntaxError, ValueError, OSError):
        return None
    if len(quads) > MAX_TRIPLES:
        raise _TooManyTriples()
    return _Read(quads, dict(triples.prefixes)) if whole else None


def _from_oxigraph(quads: list[ox.Quad], graph: Graph) -> None:
    """Add Oxigraph's parsed triples to `graph` as rdflib's Turtle parser would have made them.

    Literals are made as rdflib's parser makes them (its normalised lexical forms), but for one
    typed xsd:string, which is the plain literal it is in RDF 1.1 and as the store gives it
    back; each blank node of the file becomes a new rdflib blank node, as each parse makes new
    ones (a label written in the file is not a name across files).
    """
    blanks: dict[str, BNode] = {}

    def term(node: Any) -> Node:
        if isinstance(node, ox.BlankNode):
            found = blanks.get(node.value)
            if found is None:
                found = blanks[node.value] = BNode()
            return found
        return from_oxigraph(node)

    graph.addN((term(q.subject), term(q.predicate), term(q.object), graph) for q in quads)


def _local_jsonld(text: str) -> str:
    """Check a JSON-LD document: bounded nesting, and no context that would be fetched.

    Contexts the service publishes are put inline; any other remote context (or @import)
    is refused, because parsing must never make a request (JSON-LD 1.1, section 4.1).
    """
    try:
        document = json.loads(text)
    except RecursionError:
        raise RegisterSyntaxError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    stack = [(document, 1)]
    values = 0
    while stack:
        node, depth = stack.pop()
        values += 1
        if depth > MAX_JSON_DEPTH:
            raise RegisterSyntaxError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if values > MAX_JSON_VALUES:
            raise RegisterSyntaxError(
                f"JSON with more than {MAX_JSON_VALUES} values is not accepted "
                f"(a register may have at most {MAX_TRIPLES} triples)"
            )
        if isinstance(node, dict):
            if "@context" in node:
                node["@context"] = _inline_context(node["@context"])
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
    return json.dumps(document)


def _inline_context(context: Any) -> Any:
    if isinstance(context, list):
        return [_inline_context(c) for c in context]
    if isinstance(context, str):
        if context in LOCAL_CONTEXTS:
            return LOCAL_CONTEXTS[context]
        raise RegisterSyntaxError(
            f"the JSON-LD context {context!r} would have to be fetched, and remote contexts "
            "are not fetched: put the context inline"
        )
    if isinstance(context, dict) and "@import" in context:
        raise RegisterSyntaxError("JSON-LD @import is not accepted: put the context inline")
    return context


def parse_register(data: bytes, name: str = "register.ttl", media_type: str | None = None) -> Graph:
    """Parse a register in Turtle, N-Triples, JSON-LD or RDF/XML into an rdflib Graph."""
    text = _decode(data)
    fmt = guess_format(name, data, media_type)
    graph = Graph()
    bind_prefixes(graph)
    if not text.strip():
        return graph
    if fmt == "xml":
        _refuse_dtd(text)
    counter = _TripleCounter(MAX_TRIPLES)
    try:
        read = _read_with_oxigraph(data, fmt)
        if read is not None:
            for prefix, namespace in read.prefixes.items():
                graph.bind(prefix, namespace, override=False)
            _from_oxigraph(read.quads, graph)
            return graph
        graph.store.dispatcher.subscribe(TripleAddedEvent, counter)
        with warnings.catch_warnings():
            # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph internally.
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
            if fmt == "xml":
                graph.parse(data=text.encode("utf-8"), format=fmt, publicID="urn:s22a:upload")
            elif fmt == "json-ld":
                graph.parse(data=_local_jsonld(text), format=fmt, publicID="urn:s22a:upload")
            else:
                graph.parse(data=text, format=fmt, publicID="urn:s22a:upload")
    except RegisterUnreadable:
        raise
    except _TooManyTriples:
        raise RegisterUnreadable(
            f"the register has more than {MAX_TRIPLES} triples, more than any register "
            "needs: check that it was exported correctly"
        ) from None
    except (BadSyntax, SAXParseException, ValueError, SyntaxError) as error:
        raise _syntax_error(error, text) from None
    except Exception as error:  # rdflib plugins raise a wide range of types
        raise _syntax_error(error, text) from None
    finally:
        counter.limit = None  # the parsed graph is the caller's to add to
    return graph


def read_register(path: str | Path) -> Graph:
    """Read and parse a register file."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise RegisterUnreadable(f"no such file: {path}") from None
    except IsADirectoryError:
        raise RegisterUnreadable(f"{path} is a folder, not a file") from None
    except OSError as error:
        raise RegisterUnreadable(f"cannot read {path}: {error.strerror}") from None
    return parse_register(data, path.name)
