"""What reconciliation finds, as text for people and as RDF in its own graph (for `/sparql`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, ClassVar
from urllib.parse import quote

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD
from rdflib.term import Node

from s22a import namespaces as ns
from s22a.namespaces import S22A
from s22a.store import Store

ASPECTS = {"title": DCTERMS.title, "date": S22A.dateMade, "parties": S22A.party}
FINDING = Namespace(ns.BASE + "id/reconciliation/")


STATUS = {
    "all": S22A.AllConfirmed,
    "some": S22A.SomeConfirmed,
    "publisher-only": S22A.PublisherOnly,
}


def slug(iri: str) -> str:
    """The last segment of an IRI's path: the slug of an agreement, register, force or body."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def counted(count: int, noun: str, plural: str = "") -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def listing_text(items: list[str] | tuple[str, ...], limit: int = 99, lead: str = "") -> str:
    return f" ({lead}{', '.join(items)})" if items and len(items) <= limit else ""


def _rdf(predicate: URIRef, convert: Any = None) -> Any:
    return field(metadata={"rdf": predicate, "convert": convert})  # strings become IRIs


@dataclass(frozen=True, kw_only=True)
class Finding:
    """A reconciliation finding: what it is about, and the sentence that says it."""

    KIND: ClassVar[str]  # the finding's IRI is /id/reconciliation/{KIND}/{slug of each KEY}
    KEY: ClassVar[tuple[str, ...]] = ("agreement",)
    TYPE: ClassVar[URIRef]
    description: str

    @property
    def iri(self) -> URIRef:
        """The finding's IRI, minted from what it is about: the same on every run."""
        key = "/".join([self.KIND, *(slug(str(getattr(self, k))) for k in self.KEY)])
        return FINDING[quote(key, safe="-._~/")]

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The finding in RDF: its type, its description and each field marked for RDF."""
        iri = self.iri
        yield iri, RDF.type, self.TYPE
        yield iri, DCTERMS.description, Literal(self.description, lang="en")
        for f in (f for f in fields(self) if "rdf" in f.metadata):
            value = (f.metadata["convert"] or (lambda v: v))(getattr(self, f.name))
            for item in value if isinstance(value, tuple) else () if value is None else (value,):
                yield (
                    iri,
                    f.metadata["rdf"],
                    (URIRef(item) if isinstance(item, str) else Literal(item)),
                )


@dataclass(frozen=True, kw_only=True)
class PartyCoverage(Finding):
    """A force named as a party: the agreements naming it, and those its own register lists."""

    KIND, KEY, TYPE = "party", ("force",), S22A.PartyCoverage
    force: str = _rdf(S22A.aboutForce)
    register: str | None = _rdf(S22A.ownRegister)
    named_in: tuple[str, ...] = _rdf(S22A.namedIn)
    confirmed: tuple[str, ...] = _rdf(S22A.confirmedAgreement)
    unconfirmed: tuple[str, ...] = _rdf(S22A.unconfirmedAgreement)  # all, if it has no register


@dataclass(frozen=True, kw_only=True)
class Discrepancy(Finding):
    """One agreement that registers describe differently: its title, date or parties."""

    KIND, KEY, TYPE = "discrepancy", ("agreement", "aspect"), S22A.Discrepancy
    agreement: str = _rdf(S22A.aboutAgreement)
    aspect: str = _rdf(S22A.differsIn, ASPECTS.get)  # "title", "date" or "parties"
    values: tuple[tuple[str, tuple[str, ...]], ...]  # (register, what it says), by register

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The finding in RDF, with what each register says as a s22a:RegisterStatement."""
        yield from super().triples()
        for register, said in self.values:
            statement = URIRef(f"{self.iri}/{quote(slug(register), safe='-._~')}")
            yield self.iri, S22A.statement, statement
            yield statement, RDF.type, S22A.RegisterStatement
            yield statement, S22A.register, URIRef(register)
            for value in said:
                yield (
                    (statement, S22A.statedParty, URIRef(value))
                    if self.aspect == "parties"
                    else (statement, S22A.statedValue, Literal(value))
                )


@dataclass(frozen=True, kw_only=True)
class SplitListing(Finding):
    """An agreement that some registers list as separate rows it covers, others as one."""

    KIND, TYPE = "split", S22A.SplitListing
    agreement: str = _rdf(S22A.aboutAgreement)
    rows: tuple[str, ...] = _rdf(S22A.row)
    listed_as_rows_by: tuple[str, ...] = _rdf(S22A.listedAsRowsBy)
    listed_whole_by: tuple[str, ...] = _rdf(S22A.listedWholeBy)


@dataclass(frozen=True, kw_only=True)
class LikelyDuplicate(Finding):
    """Two agreement IRIs whose titles are alike and whose parties largely coincide."""

    KIND, KEY, TYPE = "duplicate", ("first", "second"), S22A.LikelyDuplicate
    first: str = _rdf(S22A.aboutAgreement)
    second: str = _rdf(S22A.aboutAgreement)
    score: float = _rdf(S22A.similarity, lambda score: Decimal(f"{score:.2f}"))
    shared_parties: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Confirmation(Finding):
    """Which registers list an agreement, and whether every party force's register does."""

    KIND, TYPE = "confirmation", S22A.AgreementConfirmation
    agreement: str = _rdf(S22A.aboutAgreement)
    status: str = _rdf(S22A.confirmation, STATUS.get)  # "all", "some" or "publisher-only"
    confirmed_by: tuple[str, ...] = _rdf(S22A.confirmedBy)  # registers listing it or its rows
    party_forces: tuple[str, ...] = _rdf(S22A.partyForce)
    unlisted: tuple[str, ...] = _rdf(S22A.notConfirmedBy)  # their register does not list it
    unpublished: tuple[str, ...] = _rdf(S22A.notConfirmedBy)  # they have no register


@dataclass
class Report:
    """Everything reconciliation found, kind by kind."""

    registers: list[str]
    parties: list[PartyCoverage] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    splits: list[SplitListing] = field(default_factory=list)
    duplicates: list[LikelyDuplicate] = field(default_factory=list)
    confirmations: list[Confirmation] = field(default_factory=list)

    def text(self) -> str:
        """The report for people: one sentence per finding, grouped by kind."""
        lines = [
            f"Reconciled {counted(len(self.registers), 'register')}: "
            f"{', '.join(map(slug, self.registers)) or 'none'}"
        ]
        sections: list[tuple[str, Sequence[Finding]]] = [
            (
                "Forces named as parties that have published no register",
                [p for p in self.parties if p.register is None],
            ),
            (
                "Forces named as parties, against their own registers",
                [p for p in self.parties if p.register],
            ),
            ("Agreements described differently by different registers", self.discrepancies),
            ("Agreements listed as several rows by one register, as one by another", self.splits),
            ("Likely duplicates under different IRIs", self.duplicates),
            *(
                (f"Confirmation: {status}", [c for c in self.confirmations if c.status == status])
                for status in STATUS
            ),
        ]
        for heading, findings in sections:
            lines += [
                "",
                f"{heading} ({len(findings)})",
                *([f"  {f.description}" for f in findings] or ["  none"]),
            ]
        return "\n".join(lines) + "\n"

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The findings as RDF: one resource per finding, typed with the s22a finding classes."""
        for finding in [
            *self.parties,
            *self.discrepancies,
            *self.splits,
            *self.duplicates,
            *self.confirmations,
        ]:
            yield from finding.triples()

    def to_graph(self) -> Graph:
        """The findings as an rdflib graph (`triples`), with the usual prefixes."""
        graph = Graph()
        ns.bind_prefixes(graph)
        graph += self.triples()
        return graph

    def ntriples(self) -> bytes:
        """The findings as sorted N-Triples, each triple once: what `store_report` stores.

        Written as text straight from the terms (`_nt`): an rdflib graph and its serializer took
        most of a big register's write (9 of 29 s of the reconciliation after a 1,000-agreement
        upload, bench/upload.py), and Oxigraph's terms and serializer 2.2 s of 20 MB of findings
        after a 5,450-agreement one (0.5 s as text). The store parses the text again, which
        checks it.
        """
        lines = {f"{_nt(s)} {_nt(p)} {_nt(o)} .\n" for s, p, o in self.triples()}
        return "".join(sorted(lines)).encode()  # (UTF-8 keeps the order of code points)


# What an N-Triples literal escapes: the quote, the backslash and the line breaks.
_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})


def _nt(term: Node) -> str:
    """A finding's term in N-Triples: an IRI, or a literal with its language or datatype."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    assert isinstance(term, Literal)
    lexical = str(term).translate(_ESCAPES)
    if term.language:
        return f'"{lexical}"@{term.language}'
    if term.datatype is not None and term.datatype != XSD.string:
        return f'"{lexical}"^^<{term.datatype}>'
    return f'"{lexical}"'


_FORGET_HASH = (
    f"DELETE WHERE {{ GRAPH <{ns.GRAPH_META}> {{ <{ns.GRAPH_RECONCILIATION}> "
    f"<{S22A.contentHash}> ?h }} }}"
)


def store_report(store: Store, report: Report) -> bool:
    """Atomically replace the reconciliation graph, and record when (so caches see it change).

    A report the same as the stored one is not written again (most new versions of a register
    change no finding, and rewriting the graph is most of the cost of a write); returns whether
    it was written. The findings are IRIs, never blank nodes, so the sorted N-Triples of two
    equal reports are equal, and their hash is recorded with the graph.
    """
    ntriples = report.ntriples()
    digest = "sha256:" + hashlib.sha256(b"\n".join(ntriples.splitlines())).hexdigest()
    about = f"<{ns.GRAPH_RECONCILIATION}>"
    stored = store.select(
        f"SELECT ?h WHERE {{ GRAPH <{ns.GRAPH_META}> {{ {about} <{S22A.contentHash}> ?h }} }}"
    )
    present = ns.GRAPH_RECONCILIATION in store.graphs()
    if stored and str(stored[0]["h"]) == digest and present:
        return False
    if present:
        store.replace_graph(ns.GRAPH_RECONCILIATION, ntriples, "application/n-triples")
    else:
        # A first report (a first load): there is no report for a reader to see half-replaced.
        # Its write may stop part-way; the next report completes it, as no hash says it whole.
        if stored:
            store.update(_FORGET_HASH)
        store.write_new_graph(ns.GRAPH_RECONCILIATION, ntriples, "application/n-triples")
    stamp = Literal(datetime.now(UTC).isoformat(timespec="microseconds"), datatype=XSD.dateTime)
    store.update(
        f"DELETE WHERE {{ GRAPH <{ns.GRAPH_META}> {{ {about} <{DCTERMS.modified}> ?t }} }} ;"
        f"{_FORGET_HASH} ;"
        f"INSERT DATA {{ GRAPH <{ns.GRAPH_META}> {{ {about} <{DCTERMS.modified}> {stamp.n3()} ; "
        f'<{S22A.contentHash}> "{digest}" }} }}'
    )
    return True
