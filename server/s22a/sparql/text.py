"""Reading SPARQL query text without evaluating it: tokens, prologue, dataset clauses, SERVICE.

The engine (Oxigraph) parses and runs queries; this module only finds what the endpoint must
know before it hands a query over: the query form's first keyword (to refuse SPARQL Update
with a clear message), the `FROM`/`FROM NAMED` clauses (SPARQL 1.1 Query section 13.2: they
replace the endpoint's default dataset), and every `SERVICE` clause with its endpoint IRI
(SPARQL 1.1 Federated Query section 3), so federation can check the allow-list and evaluate
each clause itself *before* the engine, which would otherwise call any IRI it is given.

The tokenizer follows the terminals of SPARQL 1.1 Query section 19.8 (IRIREF, the string
literals, PNAME_LN, VAR1/VAR2, comments); what it does not recognise becomes a one-character
token, so it never fails: a malformed query is the engine's to report.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from urllib.parse import urljoin

import pyoxigraph as ox

from s22a.sparql.errors import QuerySyntaxError, QueryTextError

# Section 19.8 terminals, simplified where the difference cannot hide a keyword.
_PN_CHARS_BASE = "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"  # noqa: E501
_PN_CHARS = _PN_CHARS_BASE + r"_\-0-9\u00b7\u0300-\u036f\u203f-\u2040"
_PLX = r"%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%]"
_TOKEN = re.compile(
    rf"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<iri><[^<>"{{}}|^`\\\x00-\x20]*>)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''|\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
              |'(?:[^'\\\r\n]|\\.)*'|"(?:[^"\\\r\n]|\\.)*")
  | (?P<var>[?$][{_PN_CHARS}]+)
  | (?P<bnode>_:[{_PN_CHARS}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)
  | (?P<pname>(?:[{_PN_CHARS_BASE}](?:[{_PN_CHARS}.]*[{_PN_CHARS}])?)?:
              (?:(?:[{_PN_CHARS}:]|{_PLX})(?:(?:[{_PN_CHARS}.:]|{_PLX})*(?:[{_PN_CHARS}:]|{_PLX}))?)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<lang>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|\.[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<punct>\^\^|&&|\|\||!=|<=|>=|.)
    """,
    re.VERBOSE | re.DOTALL,
)
_UCHAR = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
_LOCAL_ESCAPE = re.compile(r"\\(.)")
UPDATE_KEYWORDS = frozenset("INSERT DELETE LOAD CLEAR CREATE DROP COPY MOVE ADD WITH".split())
QUERY_KEYWORDS = frozenset("SELECT CONSTRUCT DESCRIBE ASK".split())


@dataclass(frozen=True)
class Token:
    """One lexical token: its kind (a group name of `_TOKEN`), text and start offset."""

    kind: str
    text: str
    start: int

    @property
    def end(self) -> int:
        """The offset just past the token."""
        return self.start + len(self.text)

    def is_word(self, *words: str) -> bool:
        """Whether the token is one of the keywords `words` (case-insensitive)."""
        return self.kind == "word" and self.text.upper() in words


def tokens(text: str) -> list[Token]:
    """The significant tokens of `text` (no whitespace, no comments)."""
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "punct"
        if kind not in ("ws", "comment"):
            found.append(Token(kind, match.group(), match.start()))
    return found


@dataclass
class Prologue:
    """The BASE and PREFIX declarations at the start of a query (section 4.1.1)."""

    base: str | None = None
    prefixes: dict[str, str] = field(default_factory=dict)
    end: int = 0  # offset in the text where the prologue ends
    first: int = 0  # index of the first token after it

    def resolve(self, token: Token) -> str:
        """The absolute IRI an IRIREF or prefixed-name token denotes."""
        if token.kind == "iri":
            iri = _unescape_iri(token.text[1:-1])
            return urljoin(self.base, iri) if self.base else iri
        if token.kind == "pname":
            prefix, _, local = token.text.partition(":")
            if prefix not in self.prefixes:
                raise QueryTextError(f"the prefix {prefix}: is not declared")
            return self.prefixes[prefix] + _LOCAL_ESCAPE.sub(r"\1", local)
        raise QueryTextError(f"{token.text!r} is not an IRI")


def _unescape_iri(iri: str) -> str:
    return _UCHAR.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)


def prologue(toks: list[Token]) -> Prologue:
    """Read the BASE and PREFIX declarations from the start of a token list."""
    result = Prologue()
    i = 0
    while i < len(toks):
        if toks[i].is_word("BASE") and i + 1 < len(toks) and toks[i + 1].kind == "iri":
            result.base = result.resolve(toks[i + 1])
            i += 2
        elif (
            toks[i].is_word("PREFIX")
            and i + 2 < len(toks)
            and toks[i + 1].kind == "pname"
            and toks[i + 1].text.endswith(":")
            and toks[i + 2].kind == "iri"
        ):
            result.prefixes[toks[i + 1].text[:-1]] = result.resolve(toks[i + 2])
            i += 3
        else:
            break
    result.first = i
    result.end = toks[i - 1].end if i else 0
    return result


def operation_keyword(toks: list[Token], pro: Prologue) -> str | None:
    """The keyword that starts the operation (SELECT, ASK, INSERT...), upper-cased, if any."""
    if pro.first < len(toks) and toks[pro.first].kind == "word":
        return toks[pro.first].text.upper()
    return None


def query_form(text: str) -> str:
    """What the query gives: "graph" (CONSTRUCT, DESCRIBE), "boolean" (ASK) or "solutions"."""
    toks = tokens(text)
    keyword = operation_keyword(toks, prologue(toks))
    return {"CONSTRUCT": "graph", "DESCRIBE": "graph", "ASK": "boolean"}.get(
        keyword or "", "solutions"
    )


def is_update(text: str) -> bool:
    """Whether `text` reads as a SPARQL 1.1 Update rather than a query."""
    toks = tokens(text)
    return operation_keyword(toks, prologue(toks)) in UPDATE_KEYWORDS


@dataclass(frozen=True)
class DatasetClauses:
    """The IRIs of a query's FROM and FROM NAMED clauses."""

    default: tuple[str, ...] = ()
    named: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.default or self.named)


_FROM = re.compile(r"\bFROM\b", re.IGNORECASE)
_SERVICE = re.compile(r"SERVICE", re.IGNORECASE)


def dataset_clauses(text: str) -> DatasetClauses:
    """The FROM / FROM NAMED IRIs of the query (not of its subqueries, which cannot have any)."""
    if not _FROM.search(text):  # the common case, without tokenizing
        return DatasetClauses()
    toks = tokens(text)
    pro = prologue(toks)
    default: list[str] = []
    named: list[str] = []
    depth = 0
    for i, tok in enumerate(toks):
        if tok.text == "{":
            depth += 1
        elif tok.text == "}":
            depth -= 1
        elif depth == 0 and tok.is_word("FROM") and i + 1 < len(toks):
            if toks[i + 1].is_word("NAMED") and i + 2 < len(toks):
                named.append(pro.resolve(toks[i + 2]))
            else:
                default.append(pro.resolve(toks[i + 1]))
    return DatasetClauses(tuple(default), tuple(named))


@dataclass(frozen=True)
class ServiceClause:
    """One `SERVICE [SILENT] <iri> { ... }` clause, located in the query text."""

    endpoint: str  # the resolved IRI
    silent: bool
    start: int  # offset of the SERVICE keyword
    end: int  # offset just past the closing brace
    group_start: int  # offset of the opening brace of its group graph pattern

    def group(self, text: str) -> str:
        """The clause's group graph pattern, braces included."""
        return text[self.group_start : self.end]


def might_use_service(text: str) -> bool:
    """A cheap test: False means the text certainly has no SERVICE clause."""
    return _SERVICE.search(text) is not None


def service_clauses(text: str) -> tuple[Prologue, list[ServiceClause]]:
    """The query's prologue and its SERVICE clauses, outermost only, in text order.

    Raises `QueryTextError` for a SERVICE whose endpoint is a variable, which is not an IRI
    the allow-list can check, for a SERVICE nested in another, and for unbalanced braces.
    """
    toks = tokens(text)
    pro = prologue(toks)
    clauses: list[ServiceClause] = []
    i = pro.first
    while i < len(toks):
        tok = toks[i]
        if not tok.is_word("SERVICE"):
            i += 1
            continue
        j = i + 1
        silent = j < len(toks) and toks[j].is_word("SILENT")
        if silent:
            j += 1
        if j >= len(toks):
            raise QueryTextError("SERVICE must be followed by an endpoint IRI and a group")
        target = toks[j]
        if target.kind == "var":
            raise QueryTextError(
                f"SERVICE {target.text}: the endpoint must be an IRI listed in the catalogue, "
                "not a variable"
            )
        endpoint = pro.resolve(target)
        if j + 1 >= len(toks) or toks[j + 1].text != "{":
            raise QueryTextError(f"SERVICE <{endpoint}> must be followed by a group {{ ... }}")
        close = _matching_brace(toks, j + 1)
        for inner in toks[j + 2 : close]:
            if inner.is_word("SERVICE"):
                raise QueryTextError("a SERVICE inside another SERVICE is not supported")
        clauses.append(
            ServiceClause(endpoint, silent, tok.start, toks[close].end, toks[j + 1].start)
        )
        i = close + 1
    return pro, clauses


def _matching_brace(toks: list[Token], open_index: int) -> int:
    depth = 0
    for k in range(open_index, len(toks)):
        if toks[k].text == "{":
            depth += 1
        elif toks[k].text == "}":
            depth -= 1
            if depth == 0:
                return k
    raise QueryTextError("unbalanced braces in the query")


def has_service_keyword(text: str) -> bool:
    """Whether any token of `text` is the SERVICE keyword (used to check a rewritten query)."""
    return might_use_service(text) and any(t.is_word("SERVICE") for t in tokens(text))


_VOLATILE = re.compile(r"\b(?:RAND|NOW|UUID|STRUUID)\s*\(", re.IGNORECASE)


def is_volatile(text: str) -> bool:
    """Whether the query may give different results on the same data (RAND, NOW, UUID...)."""
    return _VOLATILE.search(text) is not None


_POSITION = re.compile(r"at (\d+):(\d+)")


@cache
def _empty_store() -> ox.Store:
    """An empty in-memory store, for syntax checks that must not touch data or the network."""
    return ox.Store()


def check_syntax(text: str, base: str | None = None) -> None:
    """Parse `text` (relative IRIs against `base`) with the engine on an empty store (no data,
    no SERVICE: no work)."""
    try:
        _empty_store().query(text, base_iri=base)
    except SyntaxError as error:
        raise QuerySyntaxError(error.msg or str(error)) from None


def syntax_message(query: str, message: str) -> str:
    """The parser's message, with the line it points at and a caret under the position.

    Oxigraph reports the (1-based) column just after the character it stopped at.
    """
    text = f"syntax error in the query: {message}"
    match = _POSITION.search(message)
    lines = query.splitlines()
    if match and 1 <= int(match.group(1)) <= len(lines):
        line, column = int(match.group(1)), int(match.group(2))
        text += f"\n\n{line:>4} | {lines[line - 1]}\n     | {' ' * max(column - 2, 0)}^"
    return text
