"""Cross-register reconciliation: where the force registers disagree, and who has not confirmed.

Each register is a named graph (its register IRI), read through the `Store` interface only. The
findings: forces named as parties, against their own registers; one agreement IRI described
differently; rows of one register that another lists as one agreement (s22a:coveredBy); likely
duplicates under different IRIs; which registers confirm each agreement. IRIs that any register
declares owl:sameAs are one agreement throughout.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from itertools import combinations
from typing import Any, ClassVar
from urllib.parse import quote

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS
from rdflib.term import Node

from . import namespaces as ns
from .namespaces import S22A
from .store import Store

FINDING = Namespace(ns.BASE + "id/reconciliation/")
DUPLICATE_THRESHOLD = 0.2  # the least score at which two agreement IRIs are reported as one
STATUS = {"all": S22A.ConfirmedByAllParties, "some": S22A.ConfirmedBySomeParties,
          "publisher-only": S22A.PublisherOnly}

_PREFIXES = (f"PREFIX s22a: <{S22A}> PREFIX rdfs: <{RDFS}> PREFIX org: <http://www.w3.org/ns/org#>"
             " PREFIX skos: <http://www.w3.org/2004/02/skos/core#> ")
_IN_REGISTERS = f'FILTER(STRSTARTS(STR(?g), "{ns.REGISTER}"))'
_KEYS = {  # what registers say about agreements, by predicate
    DCTERMS.title: "title", RDFS.label: "label", S22A.dateMade: "date", S22A.party: "party",
    S22A.leadForce: "party", S22A.hostForce: "party", S22A.partyGroup: "group",
    S22A.notStated: "notStated", S22A.coveredBy: "coveredBy", OWL.sameAs: "sameAs"}
# Words that say what kind of thing a title names, not which one: the form (collaboration,
# agreement, unit), the region every regional title carries (North West, East Midlands) and
# words in nearly every national title. Titles sharing only these are not alike.
_STOP = frozenset(
    "a an and at by for from in of on or the to with pursuant relating relation north south east "
    "west nw em midland regional region national collaboration collaborative agreement section "
    "22a unit police policing".split())
_SYNONYMS = {"armed": "firearm"}  # "armed policing" is firearms policing

Values = tuple[tuple[str, tuple[str, ...]], ...]  # (register, what it says), by register


def slug(iri: str) -> str:
    """The last segment of an IRI's path: the slug of an agreement, register, force or body."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def _agr(iri: str) -> str:
    return f"agreement:{slug(iri)}" if iri.startswith(str(ns.AGREEMENT)) else f"<{iri}>"


def _n(count: int, noun: str, plural: str = "") -> str:
    return f"{count} {noun if count == 1 else plural or noun + 's'}"


def _rdf(predicate: URIRef) -> Any:
    return field(metadata={"rdf": predicate})  # the field, in RDF: strings as IRIs


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
        key = [self.KIND, *(slug(getattr(self, k)) for k in self.KEY)]
        return FINDING[quote("/".join(key), safe="-._~/")]

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The finding in RDF: its type, description and the fields marked for RDF."""
        node = self.iri
        yield node, RDF.type, self.TYPE
        yield node, DCTERMS.description, Literal(self.description, lang="en")
        for f in fields(self):
            value = getattr(self, f.name)
            for item in value if isinstance(value, tuple) else (value,):
                if "rdf" in f.metadata and item is not None:
                    yield node, f.metadata["rdf"], (
                        URIRef(item) if isinstance(item, str) else Literal(item))


@dataclass(frozen=True, kw_only=True)
class PartyCoverage(Finding):
    """A force named as a party: the agreements naming it, and those its own register lists."""

    KIND, KEY, TYPE = "party", ("force",), S22A.PartyCoverage
    force: str = _rdf(S22A.aboutForce)
    name: str
    register: str | None = _rdf(S22A.ownRegister)
    named_in: tuple[str, ...] = _rdf(S22A.namedIn)
    confirmed: tuple[str, ...]

    @property
    def unconfirmed(self) -> tuple[str, ...]:
        """Agreements naming the force that its register does not list (all, if it has none)."""
        return tuple(a for a in self.named_in if a not in self.confirmed)

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The finding in RDF, with its counts."""
        yield from super().triples()
        node = self.iri
        yield from ((node, RDF.type, S22A.UnconfirmedParty) for _ in self.unconfirmed[:1])
        yield node, S22A.registerPublished, Literal(self.register is not None)
        yield node, S22A.namedInCount, Literal(len(self.named_in))
        yield node, S22A.confirmedCount, Literal(len(self.confirmed))
        yield from ((node, S22A.unconfirmedAgreement, URIRef(a)) for a in self.unconfirmed)


@dataclass(frozen=True, kw_only=True)
class Discrepancy(Finding):
    """One agreement that registers describe differently: its title, date or parties."""

    KIND, KEY, TYPE = "discrepancy", ("agreement", "aspect"), S22A.Discrepancy
    agreement: str = _rdf(S22A.aboutAgreement)
    aspect: str  # "title", "date" or "parties"
    values: Values

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The finding in RDF, with what each register says as a s22a:RegisterStatement."""
        yield from super().triples()
        node, party = self.iri, self.aspect == "parties"
        kinds = {"title": S22A.TitleDiscrepancy, "date": S22A.DateDiscrepancy}
        yield node, RDF.type, kinds.get(self.aspect, S22A.PartyDiscrepancy)
        for register, said in self.values:
            statement = URIRef(f"{node}/{quote(slug(register), safe='-._~')}")
            yield node, S22A.statement, statement
            yield statement, RDF.type, S22A.RegisterStatement
            yield statement, S22A.register, URIRef(register)
            for value in said:
                yield statement, S22A.statedParty if party else S22A.statedValue, (
                    URIRef(value) if party else Literal(value))


@dataclass(frozen=True, kw_only=True)
class SplitListing(Finding):
    """An agreement that some registers list as separate rows it covers, others as one."""

    KIND, TYPE = "split", S22A.SplitListing
    agreement: str = _rdf(S22A.aboutAgreement)
    rows: Values  # (register, the rows it lists)
    listed_whole_by: tuple[str, ...] = _rdf(S22A.listedWholeBy)

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The finding in RDF, with the registers listing rows, and the rows."""
        yield from super().triples()
        for register, rows in self.rows:
            yield self.iri, S22A.listedAsRowsBy, URIRef(register)
            yield from ((self.iri, S22A.row, URIRef(row)) for row in rows)


@dataclass(frozen=True, kw_only=True)
class LikelyDuplicate(Finding):
    """Two agreement IRIs whose titles are alike and whose parties largely coincide."""

    KIND, KEY, TYPE = "duplicate", ("first", "second"), S22A.LikelyDuplicate
    first: str = _rdf(S22A.aboutAgreement)
    second: str = _rdf(S22A.aboutAgreement)
    score: float = _rdf(S22A.similarity)
    shared_parties: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class Confirmation(Finding):
    """Which registers list an agreement, and whether every party force's register does."""

    KIND, TYPE = "confirmation", S22A.AgreementConfirmation
    agreement: str = _rdf(S22A.aboutAgreement)
    status: str  # "all", "some" or "publisher-only"
    confirmed_by: tuple[str, ...] = _rdf(S22A.confirmedBy)  # registers listing it or its rows
    party_forces: tuple[str, ...] = _rdf(S22A.partyForce)
    unlisted: tuple[str, ...] = _rdf(S22A.notConfirmedBy)  # their register does not list it
    unpublished: tuple[str, ...] = _rdf(S22A.notConfirmedBy)  # they have no register

    def triples(self) -> Iterator[tuple[Node, Node, Node]]:
        """The finding in RDF, with its status."""
        yield from super().triples()
        yield self.iri, S22A.confirmation, STATUS[self.status]


@dataclass
class Report:
    """Everything reconciliation found, kind by kind."""

    registers: list[str]
    parties: list[PartyCoverage] = field(default_factory=list)
    discrepancies: list[Discrepancy] = field(default_factory=list)
    splits: list[SplitListing] = field(default_factory=list)
    duplicates: list[LikelyDuplicate] = field(default_factory=list)
    confirmations: list[Confirmation] = field(default_factory=list)

    def findings(self) -> list[Finding]:
        """All the findings, kind by kind."""
        return [*self.parties, *self.discrepancies, *self.splits, *self.duplicates,
                *self.confirmations]

    def text(self) -> str:
        """The report for people: one sentence per finding, grouped by kind."""
        sections: list[tuple[str, list[Any]]] = [
            ("Forces named as parties that have published no register",
             [p for p in self.parties if p.register is None]),
            ("Forces named as parties, against their own registers",
             [p for p in self.parties if p.register is not None]),
            ("Agreements described differently by different registers", self.discrepancies),
            ("Agreements listed as several rows by one register, as one by another", self.splits),
            ("Likely duplicates under different IRIs", self.duplicates),
        ] + [(f"Confirmation: {status}", [c for c in self.confirmations if c.status == status])
             for status in STATUS]
        lines = [f"Reconciled {_n(len(self.registers), 'register')}: "
                 f"{', '.join(map(slug, self.registers)) or 'none'}"]
        for heading, findings in sections:
            lines += ["", f"{heading} ({len(findings)})"]
            lines += [f"  {f.description}" for f in findings] or ["  none"]
        return "\n".join(lines) + "\n"

    def to_graph(self) -> Graph:
        """The findings as RDF, for the reconciliation graph."""
        graph = Graph()
        ns.bind_prefixes(graph)
        graph.bind("finding", FINDING)
        for finding in self.findings():
            for triple in finding.triples():
                graph.add(triple)
        return graph


def store_report(store: Store, report: Report) -> None:
    """Atomically replace the reconciliation graph with the report's findings."""
    data = report.to_graph().serialize(format="nt", encoding="utf-8")
    store.replace_graph(ns.GRAPH_RECONCILIATION, data, "application/n-triples")


class _Registers:
    """What the register graphs (and canonical records) say, owl:sameAs IRIs merged."""

    def __init__(self, store: Store) -> None:
        def rows(query: str) -> list[dict[str, str]]:
            return [{k: str(v) for k, v in r.items()} for r in store.select(_PREFIXES + query)]

        self.force_of: dict[str, str | None] = {}  # register graph -> its force
        self.lists: dict[str, set[str]] = defaultdict(set)  # register graph -> agreements
        for r in rows("SELECT ?g ?force ?a WHERE { GRAPH ?g { ?r a s22a:Register OPTIONAL "
                      "{ ?r s22a:force ?force } OPTIONAL { ?r s22a:lists ?a } } "
                      f"{_IN_REGISTERS} }}"):
            self.force_of.setdefault(r["g"], r.get("force"))
            self.lists[r["g"]].update([r["a"]] if "a" in r else [])
        said = rows(f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ VALUES ?p {{ "
                    f"{' '.join(p.n3() for p in _KEYS)} }} ?s ?p ?o FILTER(isIRI(?s)) }} "
                    f"{_IN_REGISTERS} }}")
        parent: dict[str, str] = {}  # union-find over owl:sameAs

        def root(iri: str) -> str:
            while parent.get(iri, iri) != iri:
                iri = parent[iri]
            return iri

        for r in (r for r in said if _KEYS[URIRef(r["p"])] == "sameAs"):
            parent.setdefault(r["o"], r["o"])
            parent[root(r["s"])] = root(r["o"])
        # Each set of IRIs declared the same goes by the least of them.
        self.canon = {i: min(j for j in parent if root(j) == root(i)) for i in parent}
        self.lists = {g: {self.canon.get(a, a) for a in s} for g, s in self.lists.items()}
        # agreement -> "title", "date", "party"... -> register graph -> what the register says
        self.about: dict[str, dict[str, dict[str, set[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(set)))
        self.covers: dict[str, set[str]] = defaultdict(set)  # agreement -> the rows it covers
        for r in said:
            key, subject = _KEYS[URIRef(r["p"])], self.canon.get(r["s"], r["s"])
            value = self.canon.get(r["o"], r["o"]) if key == "coveredBy" else r["o"]
            self.about[subject][key][r["g"]].add(value)
            if key == "coveredBy":
                self.covers[value].add(subject)
        self.universe = set().union(*self.lists.values(), self.covers)
        self.canonical: dict[str, set[str]] = defaultdict(set)  # canonical records' parties
        self.unstated: set[str] = set()  # canonical records whose parties are not stated
        for r in rows(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{ns.GRAPH_REFERENCE}> {{ VALUES ?p {{ "
                      "s22a:party s22a:leadForce s22a:hostForce s22a:partyGroup s22a:notStated "
                      "} ?s ?p ?o } }"):
            agreement = self.canon.get(r["s"], r["s"])
            if r["p"] != str(S22A.notStated):
                self.canonical[agreement].add(r["o"])
            elif r["o"] == str(S22A.party):
                self.unstated.add(agreement)
        self.groups: dict[str, set[str]] = defaultdict(set)
        for r in rows("SELECT ?grp ?m WHERE { ?grp a s22a:PartyGroup ; org:hasMember ?m }"):
            self.groups[r["grp"]].add(r["m"])
        names: dict[str, set[tuple[bool, int, str]]] = defaultdict(set)
        self.regions: dict[str, str] = {}
        for r in rows("SELECT ?f ?label ?alt ?region WHERE { { ?f a/rdfs:subClassOf* "
                      "s22a:PoliceForce } UNION { VALUES ?t { s22a:TerritorialPoliceForce "
                      "s22a:SpecialPoliceForce } ?f a ?t } OPTIONAL { ?f rdfs:label ?label } "
                      "OPTIONAL { ?f skos:altLabel ?alt } "
                      "OPTIONAL { ?f s22a:region/rdfs:label ?region } }"):
            # A force goes by its shortest other name that is no abbreviation ("Cheshire").
            names[r["f"]].update((k == "label", len(r[k]), r[k]) for k in ("alt", "label")
                                 if k in r and not (k == "alt" and r[k].isupper()))
            self.regions.update({r["f"]: r["region"]} if "region" in r else {})
        self.names = {f: min(n, default=(0, 0, slug(f)))[2] for f, n in names.items()}
        self.register_of = {f: g for g, f in sorted(self.force_of.items(), reverse=True) if f}

    def parties(self, agreement: str, graph: str | None = None) -> set[str]:
        """The parties one register (or any) gives, with the canonical record's; groups expanded."""
        stated = set(self.canonical[agreement]).union(*(
            v for k in ("party", "group") for g, v in self.about[agreement][k].items()
            if graph in (None, g)))
        return stated.union(*(self.groups[p] for p in stated if p in self.groups))

    def stated(self, agreement: str) -> list[str]:
        """The registers giving the agreement's parties without marking them s22a:notStated."""
        unstated = self.about[agreement]["notStated"]
        return sorted(g for g in self.about[agreement]["party"]
                      if str(S22A.party) not in unstated.get(g, ()))

    def confirmers(self, agreement: str) -> dict[str, bool]:
        """The registers listing the agreement, True for those listing rows it covers instead."""
        rows = self.covers.get(agreement, set()) | {agreement}
        return {g: agreement not in s for g, s in sorted(self.lists.items()) if s & rows}


def _tokens(name: str) -> frozenset[str]:
    """A title's telling words: no case, punctuation, bracketed abbreviation, stop word, plural."""
    words = re.findall(r"[a-z0-9]+", re.sub(r"\([^)]*\)|['’-]", "", name.lower()))
    words = [w[:-1] if len(w) > 4 and w.endswith("s") and w[-2] != "s" else w for w in words]
    return frozenset(_SYNONYMS.get(w, w) for w in words) - _STOP


def _by_value(values: dict[str, set[str]], quoted: bool = False) -> str:
    """'"x" by r1, r2; "y" by r3': what the registers say, grouped by what they say."""
    by: dict[str, list[str]] = defaultdict(list)
    for graph, value in ((g, v) for g, said in values.items() for v in said):
        by[f'"{value}"' if quoted else value].append(slug(graph))
    return "; ".join(f"{v} by {', '.join(sorted(r))}" for v, r in sorted(by.items()))


def _listing(items: list[str] | tuple[str, ...], limit: int = 99) -> str:
    return f" ({', '.join(items)})" if items and len(items) <= limit else ""


def _party_coverage(data: _Registers) -> list[PartyCoverage]:
    found = []
    for force, name in data.names.items():
        named = {a for a in data.universe if any(force in v for v in data.about[a]["party"].values())}
        register = data.register_of.get(force)
        confirmed = {a for a in named if register in data.confirmers(a)}
        missing = [_agr(a) for a in sorted(named - confirmed)]
        region = f" ({data.regions[force]})" if force in data.regions else ""
        text = (f"{name}{region} has not published a register; it is named as a party in "
                f"{_n(len(named), 'agreement')}{_listing(missing)}." if register is None else
                f"{name} is named in {_n(len(named), 'agreement')}; its register confirms "
                f"{'' if missing else 'all '}{len(confirmed)}"
                f"{_listing(missing).replace(' (', ' (not listed: ')}.")
        if named:
            found.append(PartyCoverage(force=force, name=name, register=register, description=text,
                                       named_in=tuple(sorted(named)),
                                       confirmed=tuple(sorted(confirmed))))
    return sorted(found, key=lambda p: (p.name, p.force))


def _discrepancies(data: _Registers) -> list[Discrepancy]:
    found = []
    for agreement in sorted(data.universe):
        same = [_agr(i) for i, c in sorted(data.canon.items()) if c == agreement != i]
        name, about = _agr(agreement) + _listing(same).replace(" (", " (= "), data.about[agreement]
        # Titles differ if their telling words do (not for case, punctuation, '&' for 'and', a
        # bracketed abbreviation...); dates, unless one refines the other (2015-04, 2015-04-01).
        titles, dates = dict(sorted(about["title"].items())), dict(sorted(about["date"].items()))
        # A register marking its parties not stated names only its own force: not compared.
        parties = {g: about["party"][g] | about["group"][g] for g in data.stated(agreement)}
        findings = {
            "title": (len({_tokens(t) for ts in titles.values() for t in ts}) > 1, titles,
                      f"{name} is titled {_by_value(titles, True)}."),
            "date": (any(not (a.startswith(b) or b.startswith(a))
                         for a, b in combinations(set().union(*dates.values()), 2)), dates,
                     f"{name} is dated {_by_value(dates)}."),
            "parties": (len({frozenset(data.parties(agreement, g)) for g in parties}) > 1, parties,
                        f"{name} has different parties: " + "; ".join(
                            f"{slug(g)} names {', '.join(sorted(map(slug, p)))}"
                            for g, p in parties.items()) + "."),
        }
        found += [Discrepancy(agreement=agreement, aspect=aspect, description=text,
                              values=tuple((g, tuple(sorted(v))) for g, v in values.items()))
                  for aspect, (differ, values, text) in findings.items() if differ]
    return found


def _splits(data: _Registers) -> list[SplitListing]:
    found = []
    for whole, covered in sorted(data.covers.items()):
        rows = {g: tuple(sorted(s & covered)) for g, s in sorted(data.lists.items()) if s & covered}
        whole_by = tuple(sorted(g for g, s in data.lists.items() if whole in s))
        text = ", ".join([f"as {_n(len(r), 'row')} by {slug(g)}{_listing([*map(_agr, r)])}"
                          for g, r in rows.items()]
                         + [f"as one agreement by {', '.join(map(slug, whole_by)) or 'none'}"])
        if rows:
            found.append(SplitListing(agreement=whole, rows=tuple(rows.items()),
                                      listed_whole_by=whole_by,
                                      description=f"{_agr(whole)} is listed {text}."))
    return found


def _duplicates(data: _Registers) -> list[LikelyDuplicate]:
    names: dict[str, dict[str, set[str]]] = {a: defaultdict(set) for a in data.universe}
    for agreement, by_name in names.items():
        for graph, said in (i for k in ("title", "label")
                            for i in data.about[agreement][k].items()):
            for name in said:
                by_name[name].add(slug(graph))
    tokens = {a: {n: _tokens(n) for n in by_name} for a, by_name in names.items()}
    frequency: dict[str, int] = defaultdict(int)
    for word in (w for by_name in tokens.values() for w in frozenset().union(*by_name.values())):
        frequency[word] += 1
    # A word few agreements share says more than one that many share (inverse frequency).
    weight = {w: math.log(1 + len(tokens) / f) for w, f in frequency.items()}
    found = []
    for first, second in combinations(sorted(data.universe), 2):
        # A register listing both as separate rows says they are two agreements; so does
        # s22a:coveredBy, linking a row to the agreement that covers it or to its other rows.
        if any({first, second} <= s for s in data.lists.values()) or any(
                {first, second} <= {whole, *rows} for whole, rows in data.covers.items()):
            continue
        title, pair = max(((2 * sum(weight[w] for w in t1 & t2) / (
            sum(weight[w] for w in t1) + sum(weight[w] for w in t2) or 1), (n1, n2))
            for n1, t1 in sorted(tokens[first].items())
            for n2, t2 in sorted(tokens[second].items())), default=(0.0, ("", "")))
        # Both must hold, so multiply: alike titles (weighted Dice), coinciding parties (Jaccard).
        parties = data.parties(first), data.parties(second)
        shared = parties[0] & parties[1]
        score = round(title * len(shared) / (len(parties[0] | parties[1]) or 1), 2)
        said = [f'"{n}" ({", ".join(sorted(names[a][n]))})'
                for a, n in zip((first, second), pair, strict=True)]
        if score >= DUPLICATE_THRESHOLD:
            found.append(LikelyDuplicate(
                first=first, second=second, score=score, shared_parties=tuple(sorted(shared)),
                description=f"{_agr(first)} and {_agr(second)} may be one agreement (score "
                f"{score:.2f}): {said[0]} and {said[1]}; {_n(len(shared), 'party', 'parties')} "
                "in common."))
    return sorted(found, key=lambda d: (-d.score, d.first, d.second))


def _confirmations(data: _Registers) -> list[Confirmation]:
    found = []
    for agreement in sorted(data.universe):
        confirmers = data.confirmers(agreement)
        forces = sorted(data.parties(agreement) & data.names.keys())
        confirming = {data.force_of[g] for g in confirmers}
        unlisted = tuple(f for f in forces if f in data.register_of and f not in confirming)
        unpublished = tuple(f for f in forces if f not in data.register_of)
        # The parties are known if a register names them without s22a:notStated s22a:party, or
        # the canonical record does; if not, "all" would claim more than anyone knows.
        known = bool(data.stated(agreement)) or (
            bool(data.canonical[agreement]) and agreement not in data.unstated)
        status = "publisher-only" if len(confirmers) == 1 else (
            "all" if known and not unlisted and not unpublished else "some")
        parts = [f"{_agr(agreement)} is listed by " + ", ".join(
            slug(g) + (" (as rows it covers)" if rows else "") for g, rows in confirmers.items())]
        parts += [f"all its {_n(len(forces), 'party force')} have registers that list it"
                  ] if status == "all" else []
        parts += [f"not by the register of {', '.join(data.names[f] for f in unlisted)}"
                  ] if unlisted else []
        parts += [f"{_n(len(unpublished), 'party force')} of {len(forces)} published no register"
                  + _listing([data.names[f] for f in unpublished], 6)] if unpublished else []
        parts += ["its parties are not all stated"] if not known else []
        if confirmers:
            found.append(Confirmation(
                agreement=agreement, status=status, confirmed_by=tuple(confirmers),
                party_forces=tuple(forces), unlisted=unlisted, unpublished=unpublished,
                description="; ".join(parts) + "."))
    return found


def reconcile(store: Store) -> Report:
    """Compare every register graph in the store with the others; report what they differ on."""
    data = _Registers(store)
    return Report(registers=sorted(data.force_of), parties=_party_coverage(data),
                  discrepancies=_discrepancies(data), splits=_splits(data),
                  duplicates=_duplicates(data), confirmations=_confirmations(data))
