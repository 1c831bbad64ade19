"""Cross-register reconciliation: where the force registers disagree, and who has not confirmed.

Every register is one named graph (its register IRI); this module reads them all through the
`Store` interface and finds: (1) for each force named as a party, how many agreements name it and
how many its own register lists; (2) one agreement IRI described with different titles, dates or
parties; (3) agreements one register lists as several rows (s22a:coveredBy) and others as one;
(4) likely duplicates under different IRIs; (5) for each agreement, which registers confirm it.
IRIs that any register declares owl:sameAs are one agreement throughout.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from urllib.parse import quote

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from .namespaces import AGREEMENT, BASE, GRAPH_RECONCILIATION, GRAPH_REFERENCE, ID, REGISTER
from .namespaces import S22A, bind_prefixes
from .store import Store

FINDING = Namespace(BASE + "id/reconciliation/")
DUPLICATE_THRESHOLD = 0.3  # title similarity from which two agreements are reported as duplicates
STATUS = {"all": S22A.ConfirmedByAllParties, "some": S22A.ConfirmedBySomeParties,
          "publisher-only": S22A.PublisherOnly}

_PREFIXES = """PREFIX s22a: <https://w3id.org/s22a/def/s22a#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX org: <http://www.w3.org/ns/org#>
"""
_IN_REGISTERS = f'FILTER(STRSTARTS(STR(?g), "{REGISTER}"))'
_KEYS = {  # what registers say about agreements, by predicate
    str(DCTERMS.title): "title", "http://www.w3.org/2000/01/rdf-schema#label": "label", str(S22A.dateMade): "date",
    str(S22A.party): "party", str(S22A.leadForce): "party", str(S22A.hostForce): "party",
    str(S22A.partyGroup): "group", str(S22A.notStated): "notStated",
    str(S22A.coveredBy): "coveredBy", "http://www.w3.org/2002/07/owl#sameAs": "sameAs",
}
# Words that say what kind of thing a title names, not which one: the form (collaboration,
# agreement, unit), the region nearly every title in the North West registers carries, and words
# in almost every national title. Titles that share only these are not alike.
_STOP = frozenset(
    "a an and at by for from in of on or the to with pursuant relating relation north west nw "
    "regional region national collaboration collaborative agreement section 22a unit police "
    "policing".split()
)
_SYNONYMS = {"armed": "firearm"}  # "armed policing" is firearms policing


def slug(iri: str) -> str:
    """A short name for an IRI: the part after a known /id/ namespace, else the whole IRI."""
    for prefix in (str(AGREEMENT), str(REGISTER), str(ID)):
        if iri.startswith(prefix):
            return iri[len(prefix):]
    return iri


def _mint(kind: str, *parts: str) -> URIRef:
    return FINDING[kind + "/" + "/".join(quote(p, safe="-._~/") for p in parts)]


def _agr(iri: str) -> str:
    return f"agreement:{slug(iri)}" if iri.startswith(str(AGREEMENT)) else f"<{iri}>"


def _join(items: list[str] | tuple[str, ...]) -> str:
    return ", ".join(items) if items else "none"


# ---------------------------------------------------------------------------
# Findings


@dataclass(frozen=True)
class PartyCoverage:
    """A force named as a party: the agreements naming it and those its own register lists."""

    force: str
    name: str
    register: str | None
    named_in: tuple[str, ...]
    confirmed: tuple[str, ...]
    description: str

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        """Agreements naming the force that its register does not list (all, if it has none)."""
        return tuple(a for a in self.named_in if a not in self.confirmed)

    @property
    def iri(self) -> URIRef:
        """The finding's IRI."""
        return _mint("party", slug(self.force))

    def add_to(self, graph: Graph) -> None:
        """Describe the finding in `graph`."""
        node = self.iri
        graph.add((node, RDF.type, S22A.PartyCoverage))
        if self.unconfirmed:
            graph.add((node, RDF.type, S22A.UnconfirmedParty))
        graph.add((node, S22A.aboutForce, URIRef(self.force)))
        graph.add((node, S22A.registerPublished, Literal(self.register is not None)))
        if self.register:
            graph.add((node, S22A.ownRegister, URIRef(self.register)))
        graph.add((node, S22A.namedInCount, Literal(len(self.named_in))))
        graph.add((node, S22A.confirmedCount, Literal(len(self.confirmed))))
        for agreement in self.named_in:
            graph.add((node, S22A.namedIn, URIRef(agreement)))
        for agreement in self.unconfirmed:
            graph.add((node, S22A.unconfirmedAgreement, URIRef(agreement)))


@dataclass(frozen=True)
class Discrepancy:
    """One agreement described differently by registers: its title, date or parties."""

    agreement: str
    aspect: str  # "title", "date" or "parties"
    values: tuple[tuple[str, tuple[str, ...]], ...]  # (register, what it says), by register
    description: str

    @property
    def iri(self) -> URIRef:
        """The finding's IRI."""
        return _mint("discrepancy", slug(self.agreement), self.aspect)

    def add_to(self, graph: Graph) -> None:
        """Describe the finding in `graph`, with one statement per register."""
        node = self.iri
        kind = {"title": S22A.TitleDiscrepancy, "date": S22A.DateDiscrepancy}
        graph.add((node, RDF.type, kind.get(self.aspect, S22A.PartyDiscrepancy)))
        graph.add((node, RDF.type, S22A.Discrepancy))
        graph.add((node, S22A.aboutAgreement, URIRef(self.agreement)))
        for register, said in self.values:
            statement = URIRef(f"{node}/{quote(slug(register), safe='-._~')}")
            graph.add((node, S22A.statement, statement))
            graph.add((statement, RDF.type, S22A.RegisterStatement))
            graph.add((statement, S22A.register, URIRef(register)))
            for value in said:
                if self.aspect == "parties":
                    graph.add((statement, S22A.statedParty, URIRef(value)))
                else:
                    graph.add((statement, S22A.statedValue, Literal(value)))


@dataclass(frozen=True)
class SplitListing:
    """An agreement some registers list as separate rows covered by it, others as one."""

    agreement: str
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # (register, the rows it lists)
    listed_whole_by: tuple[str, ...]
    description: str

    @property
    def iri(self) -> URIRef:
        """The finding's IRI."""
        return _mint("split", slug(self.agreement))

    def add_to(self, graph: Graph) -> None:
        """Describe the finding in `graph`."""
        node = self.iri
        graph.add((node, RDF.type, S22A.SplitListing))
        graph.add((node, S22A.aboutAgreement, URIRef(self.agreement)))
        for register, rows in self.rows:
            graph.add((node, S22A.listedAsRowsBy, URIRef(register)))
            for row in rows:
                graph.add((node, S22A.row, URIRef(row)))
        for register in self.listed_whole_by:
            graph.add((node, S22A.listedWholeBy, URIRef(register)))


@dataclass(frozen=True)
class LikelyDuplicate:
    """Two agreement IRIs whose titles are alike and whose parties overlap."""

    first: str
    second: str
    score: float
    shared_parties: tuple[str, ...]
    description: str

    @property
    def iri(self) -> URIRef:
        """The finding's IRI."""
        return _mint("duplicate", f"{slug(self.first)}--{slug(self.second)}")

    def add_to(self, graph: Graph) -> None:
        """Describe the finding in `graph`."""
        node = self.iri
        graph.add((node, RDF.type, S22A.LikelyDuplicate))
        graph.add((node, S22A.aboutAgreement, URIRef(self.first)))
        graph.add((node, S22A.aboutAgreement, URIRef(self.second)))
        graph.add((node, S22A.similarity, Literal(f"{self.score:.2f}", datatype=XSD.decimal)))


@dataclass(frozen=True)
class Confirmation:
    """Which registers list an agreement, and whether every party force's register does."""

    agreement: str
    status: str  # "all", "some" or "publisher-only"
    confirmed_by: tuple[str, ...]  # registers listing it (or rows it covers)
    party_forces: tuple[str, ...]
    not_confirmed_by: tuple[str, ...]  # party forces whose register does not list it
    without_register: tuple[str, ...]  # party forces that have published no register
    description: str

    @property
    def iri(self) -> URIRef:
        """The finding's IRI."""
        return _mint("confirmation", slug(self.agreement))

    def add_to(self, graph: Graph) -> None:
        """Describe the finding in `graph`."""
        node = self.iri
        graph.add((node, RDF.type, S22A.AgreementConfirmation))
        graph.add((node, S22A.aboutAgreement, URIRef(self.agreement)))
        graph.add((node, S22A.confirmation, STATUS[self.status]))
        for register in self.confirmed_by:
            graph.add((node, S22A.confirmedBy, URIRef(register)))
        for force in self.party_forces:
            graph.add((node, S22A.partyForce, URIRef(force)))
        for force in self.not_confirmed_by + self.without_register:
            graph.add((node, S22A.notConfirmedBy, URIRef(force)))


@dataclass
class Report:
    """Everything reconciliation found, by kind."""

    registers: list[str]
    parties: list[PartyCoverage] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    splits: list[SplitListing] = field(default_factory=list)
    duplicates: list[LikelyDuplicate] = field(default_factory=list)
    confirmations: list[Confirmation] = field(default_factory=list)

    def findings(self) -> list:
        """All findings, kind by kind."""
        return [*self.parties, *self.discrepancies, *self.splits, *self.duplicates,
                *self.confirmations]

    def text(self) -> str:
        """The report for people: one sentence per finding, grouped by kind."""
        unpublished = [p for p in self.parties if p.register is None]
        published = [p for p in self.parties if p.register is not None]
        sections = [
            ("Forces named as parties that have published no register", unpublished),
            ("Forces named as parties, against their own registers", published),
            ("Agreements described differently by different registers", self.discrepancies),
            ("Agreements listed as several rows by one register, as one by another", self.splits),
            ("Likely duplicates under different IRIs", self.duplicates),
        ]
        for status in STATUS:
            chosen = [c for c in self.confirmations if c.status == status]
            sections.append((f"Confirmation: {status}", chosen))
        lines = [f"Reconciled {len(self.registers)} registers: "
                 f"{_join([slug(r) for r in self.registers])}"]
        for heading, findings in sections:
            lines += ["", f"{heading} ({len(findings)})"]
            lines += [f"  {f.description}" for f in findings] or ["  none"]
        return "\n".join(lines) + "\n"

    def to_graph(self) -> Graph:
        """The findings as RDF, for the reconciliation graph."""
        graph = Graph()
        bind_prefixes(graph)
        graph.bind("finding", FINDING)
        for finding in self.findings():
            finding.add_to(graph)
            graph.add((finding.iri, DCTERMS.description, Literal(finding.description, lang="en")))
        return graph


def store_report(store: Store, report: Report) -> None:
    """Atomically replace the reconciliation graph with the report's findings."""
    data = report.to_graph().serialize(format="nt", encoding="utf-8")
    store.replace_graph(GRAPH_RECONCILIATION, data, "application/n-triples")
