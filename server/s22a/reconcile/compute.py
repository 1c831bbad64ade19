"""Cross-register reconciliation: where the force registers disagree, and who has not confirmed."""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from itertools import combinations

from rdflib import URIRef
from rdflib.namespace import DCTERMS, OWL, RDFS

from s22a import namespaces as ns
from s22a.namespaces import S22A, SPARQL_PREFIXES
from s22a.reconcile.findings import (
    Confirmation,
    Discrepancy,
    LikelyDuplicate,
    PartyCoverage,
    Report,
    SplitListing,
    counted,
    listing_text,
    slug,
)
from s22a.reconcile.titles import sharing_words, telling_words
from s22a.store import Store

DUPLICATE_THRESHOLD = 0.2  # the least score at which two agreement IRIs are reported as one


_REF = ns.GRAPH_REFERENCE  # canonical records: what every register's description extends


_KEYS = {  # what registers say about agreements, by predicate
    DCTERMS.title: "title",
    RDFS.label: "label",
    S22A.dateMade: "date",
    S22A.party: "party",
    S22A.leadForce: "party",
    S22A.hostForce: "party",
    S22A.partyGroup: "group",
    S22A.notStated: "notStated",
    S22A.coveredBy: "coveredBy",
    OWL.sameAs: "sameAs",
    S22A.lists: "lists",
    S22A.force: "force",
}


class _Reconciliation:
    """What the register graphs (and canonical records) say, owl:sameAs IRIs merged; findings."""

    def __init__(self, store: Store) -> None:
        def rows(query: str, reference: bool = False) -> list[dict[str, str]]:
            graphs = [_REF, ns.GRAPH_ONTOLOGY] if reference else None
            return store.select_text(SPARQL_PREFIXES + query, default_graph=graphs)

        # Only what each register may say (a register speaks only for itself): about itself
        # (its s22a:lists and s22a:force, the force it is named for) and about the agreements
        # it lists; owl:sameAs only between two of them. "#": a staging graph, where a remote
        # store shows it.
        said = rows(
            f"SELECT ?g ?s ?p ?o WHERE {{ GRAPH ?g {{ VALUES ?p {{ "
            f"{' '.join(p.n3() for p in _KEYS)} }} ?s ?p ?o FILTER(isIRI(?s)) }} "
            f'FILTER(STRSTARTS(STR(?g), "{ns.REGISTER}") && !CONTAINS(STR(?g), "#") '
            f"|| ?g = <{_REF}>) "
            # (Virtuoso 7.2 refuses an EXISTS inside IF, hence the two branches spelt out.)
            f"FILTER((?p IN (s22a:lists, s22a:force) && ?s = ?g) "
            f"|| (?p NOT IN (s22a:lists, s22a:force) && (?g = <{_REF}> "
            f"|| EXISTS {{ GRAPH ?g {{ ?g s22a:lists ?s }} }}))) "
            f"FILTER(?p != owl:sameAs || ?g = <{_REF}> "
            f"|| EXISTS {{ GRAPH ?g {{ ?g s22a:lists ?o }} }}) "
            f'FILTER(?p != s22a:force || STRAFTER(STR(?g), "{ns.REGISTER}") = '
            f'STRAFTER(STR(?o), "{ns.FORCE}")) }}'
        )
        same: dict[str, set[str]] = {}  # IRI -> all the IRIs declared owl:sameAs it
        for r in (r for r in said if _KEYS[URIRef(r["p"])] == "sameAs"):
            merged = same.get(r["s"], {r["s"]}) | same.get(r["o"], {r["o"]})
            same.update({i: merged for i in merged})
        self.canon = {i: min(iris) for i, iris in same.items()}  # each set goes by its least IRI
        # agreement -> "title", "date", "party"... -> graph -> what the register (or record) says
        self.about: dict[str, dict[str, dict[str, set[str]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(set))
        )
        self.covers: dict[str, set[str]] = defaultdict(set)  # agreement -> the rows it covers
        for r in said:
            key, subject = _KEYS[URIRef(r["p"])], self.canon.get(r["s"], r["s"])
            value = self.canon.get(r["o"], r["o"]) if key in ("coveredBy", "lists") else r["o"]
            self.about[subject][key][r["g"]].add(value)
            if key == "coveredBy":
                self.covers[value].add(subject)
        # The register is the subject of s22a:lists and s22a:force in its graph.
        self.lists = {g: v for s in self.about.values() for g, v in s["lists"].items()}
        self.force_of = {g: min(v) for s in self.about.values() for g, v in s["force"].items()}
        self.universe = set().union(*self.lists.values(), self.covers)
        self.groups = {
            r["g"]: set(r["m"].split())
            for r in rows(
                "SELECT ?g (GROUP_CONCAT(STR(?m); separator=' ') AS ?m) "
                "WHERE { ?g a s22a:PartyGroup ; org:hasMember ?m } GROUP BY ?g",
                reference=True,
            )
        }
        # A force goes by its least other name that is no abbreviation ("Cheshire").
        self.names = {
            r["f"]: r["name"]
            for r in rows(
                "SELECT ?f (COALESCE(MIN(?alt), MIN(?label), STR(?f)) AS ?name) WHERE { "
                "{ ?f a/rdfs:subClassOf* s22a:PoliceForce } "
                "UNION { VALUES ?t { s22a:TerritorialPoliceForce s22a:SpecialPoliceForce } "
                "?f a ?t } "
                "OPTIONAL { ?f rdfs:label ?label } OPTIONAL { "
                "?f skos:altLabel ?alt FILTER(UCASE(?alt) != ?alt) } } GROUP BY ?f",
                reference=True,
            )
        }
        self.register_of = {f: g for g, f in sorted(self.force_of.items(), reverse=True) if f}

    def parties(self, agreement: str, graph: str | None = None) -> set[str]:
        """The parties one register (or any) gives, with the canonical record's; groups expanded."""
        stated = set().union(
            *(
                v
                for k in ("party", "group")
                for g, v in self.about[agreement][k].items()
                if graph in (None, g) or g == _REF
            )
        )
        return stated.union(*(self.groups[p] for p in stated if p in self.groups))

    def stated(self, agreement: str) -> list[str]:
        """The graphs giving the agreement's parties without marking them s22a:notStated."""
        about = self.about[agreement]
        return sorted(
            g
            for g in {*about["party"], *about["group"]}
            if str(S22A.party) not in about["notStated"].get(g, ())
        )

    def confirmers(self, agreement: str) -> dict[str, bool]:
        """The registers listing the agreement, True for those listing rows it covers instead."""
        rows = self.covers.get(agreement, set()) | {agreement}
        return {g: agreement not in s for g, s in sorted(self.lists.items()) if s & rows}

    def party_coverage(self) -> list[PartyCoverage]:
        """Per force named as a party: the agreements naming it, and its register's listing."""
        naming: dict[str, set[str]] = defaultdict(set)  # force -> the agreements naming it
        for agreement in self.universe:
            for graph, parties in self.about[agreement]["party"].items():
                if graph != _REF:
                    for party in parties:
                        naming[party].add(agreement)
        found = []
        for force, name in sorted(self.names.items(), key=lambda f: (f[1], f[0])):
            named = sorted(naming.get(force, ()))
            register = self.register_of.get(force)
            confirmed = tuple(a for a in named if register in self.confirmers(a))
            missing = tuple(a for a in named if a not in confirmed)
            text = (
                f"{name} has not published a register; it is named as a party in "
                f"{counted(len(named), 'agreement')}{listing_text([*map(slug, named)])}."
                if not register
                else f"{name} is named in {counted(len(named), 'agreement')}; "
                f"its register confirms {'' if missing else 'all '}{len(confirmed)}"
                f"{listing_text([*map(slug, missing)], lead='not listed: ')}."
            )
            if named:
                found.append(
                    PartyCoverage(
                        force=force,
                        register=register,
                        named_in=tuple(named),
                        confirmed=confirmed,
                        unconfirmed=missing,
                        description=text,
                    )
                )
        return found

    def discrepancies(self) -> list[Discrepancy]:
        """Agreements whose title, date or parties differ between the registers describing them."""
        found = []
        for agreement in sorted(self.universe):
            about = self.about[agreement]
            titles, dates = (
                {g: v for g, v in about[k].items() if g != _REF} for k in ("title", "date")
            )
            name = slug(agreement) + listing_text(
                [slug(i) for i, c in sorted(self.canon.items()) if c == agreement != i], lead="= "
            )
            # Titles differ if their telling words do; dates unless one refines the other
            # (2015-04, 2015-04-01); parties are compared where a register states them.
            parties = {
                g: about["party"][g] | about["group"][g]
                for g in self.stated(agreement)
                if g != _REF
            }
            for aspect, values, differ, text in [
                (
                    "title",
                    titles,
                    len({telling_words(t) for ts in titles.values() for t in ts}) > 1,
                    "is titled " + _by_value(titles, '"'),
                ),
                (
                    "date",
                    dates,
                    any(
                        not (a.startswith(b) or b.startswith(a))
                        for a, b in combinations(set().union(*dates.values()), 2)
                    ),
                    f"is dated {_by_value(dates)}",
                ),
                (
                    "parties",
                    parties,
                    len({frozenset(self.parties(agreement, g)) for g in parties}) > 1,
                    "has different parties: "
                    + "; ".join(
                        f"{slug(g)} names {', '.join(sorted(map(slug, p)))}"
                        for g, p in parties.items()
                    ),
                ),
            ]:
                if differ:
                    found.append(
                        Discrepancy(
                            agreement=agreement,
                            aspect=aspect,
                            values=tuple((g, tuple(sorted(v))) for g, v in sorted(values.items())),
                            description=f"{name} {text}.",
                        )
                    )
        return found

    def splits(self) -> list[SplitListing]:
        """Agreements some registers list as the rows they cover (s22a:coveredBy)."""
        found = []
        for whole, covered in sorted(self.covers.items()):
            rows = {g: sorted(s & covered) for g, s in sorted(self.lists.items()) if s & covered}
            whole_by = tuple(sorted(g for g, s in self.lists.items() if whole in s))
            text = ", ".join(
                [
                    f"as {counted(len(r), 'row')} by {slug(g)}{listing_text([*map(slug, r)])}"
                    for g, r in rows.items()
                ]
                + [f"as one agreement by {', '.join(map(slug, whole_by)) or 'none'}"]
            )
            if rows:
                found.append(
                    SplitListing(
                        agreement=whole,
                        rows=tuple(sorted({r for rs in rows.values() for r in rs})),
                        listed_as_rows_by=tuple(rows),
                        listed_whole_by=whole_by,
                        description=f"{slug(whole)} is listed {text}.",
                    )
                )
        return found

    def duplicates(self) -> list[LikelyDuplicate]:
        """Pairs of agreement IRIs with alike titles and coinciding parties, by score."""
        tokens = {
            a: {
                n: telling_words(n)
                for k in ("title", "label")
                for g, said in self.about[a][k].items()
                if g != _REF
                for n in said
            }
            for a in self.universe
        }
        # A word few agreements share says more than one that many share (inverse frequency).
        frequency = Counter(w for ts in tokens.values() for w in frozenset().union(*ts.values()))
        weight = {w: math.log(1 + len(tokens) / f) for w, f in frequency.items()}
        # Compare only pairs sharing a telling word (one few agreements use): the rest score 0
        # on titles, and comparing every pair would be quadratic in the whole register.
        telling = max(8, len(tokens) // 20)
        # A register listing both as separate rows says they are two agreements; so does
        # s22a:coveredBy, linking a row to the agreement that covers it or to its other rows.
        together = [*self.lists.values(), *({whole, *rows} for whole, rows in self.covers.items())]
        candidates = sharing_words(
            {a: {w for ws in names.values() for w in ws if frequency[w] <= telling}
             for a, names in tokens.items()},
            together,
        )  # fmt: skip
        parties = {a: self.parties(a) for a in {a for pair in candidates for a in pair}}
        # Each candidate's names in order, with their telling words and those words' weight.
        names = {
            a: [(n, t, sum(weight[w] for w in t)) for n, t in sorted(tokens[a].items())]
            for a in parties
        }
        found = []
        for first, second in candidates:
            # Both must hold, so multiply: alike titles (weighted Dice) and parties (Jaccard).
            shared, either = parties[first] & parties[second], parties[first] | parties[second]
            if len(shared) / (len(either) or 1) < DUPLICATE_THRESHOLD - 0.01:
                continue  # the title's score is at most 1: parties alone rule the pair out
            title, pair = max(
                (
                    (2 * sum(weight[w] for w in t1 & t2) / (s1 + s2 or 1), (n1, n2))
                    for n1, t1, s1 in names[first]
                    for n2, t2, s2 in names[second]
                ),
                default=(0.0, ("", "")),
            )
            score = round(title * len(shared) / (len(either) or 1), 2)
            if score >= DUPLICATE_THRESHOLD:
                found.append(
                    LikelyDuplicate(
                        first=first,
                        second=second,
                        score=score,
                        shared_parties=tuple(sorted(shared)),
                        description=f"{slug(first)} and {slug(second)} may be one agreement (score "
                        f'{score:.2f}): "{pair[0]}" and "{pair[1]}"; '
                        f"{counted(len(shared), 'party', 'parties')} in common.",
                    )
                )
        return sorted(found, key=lambda d: (-d.score, d.first, d.second))

    def confirmations(self) -> list[Confirmation]:
        """Per agreement listed anywhere: who lists it, and whether all its party forces do."""
        found = []
        for agreement in sorted(a for a in self.universe if self.confirmers(a)):
            confirmers = self.confirmers(agreement)
            forces = tuple(sorted(self.parties(agreement) & self.names.keys()))
            confirming = {self.force_of.get(g) for g in confirmers}
            unlisted = tuple(f for f in forces if f in self.register_of and f not in confirming)
            unpublished = tuple(f for f in forces if f not in self.register_of)
            known = bool(self.stated(agreement))  # else "all" would claim more than is known
            status = (
                "publisher-only"
                if len(confirmers) == 1
                else ("all" if known and not unlisted and not unpublished else "some")
            )
            parts = [
                f"{slug(agreement)} is listed by "
                + ", ".join(
                    slug(g) + " (as rows it covers)" * rows for g, rows in confirmers.items()
                )
            ]
            parts += [f"the registers of all {counted(len(forces), 'party force')}"] * (
                status == "all"
            )
            if unlisted:
                parts.append(
                    f"not by the register{'s' * (len(unlisted) > 1)} of "
                    + ", ".join(self.names[f] for f in unlisted)
                )
            if unpublished:
                parts.append(
                    f"{counted(len(unpublished), 'party force')} of {len(forces)} published "
                    "no register" + listing_text([self.names[f] for f in unpublished], 6)
                )
            parts += ["its parties are not all stated"] * (not known)
            found.append(
                Confirmation(
                    agreement=agreement,
                    status=status,
                    confirmed_by=tuple(confirmers),
                    party_forces=forces,
                    unlisted=unlisted,
                    unpublished=unpublished,
                    description="; ".join(parts) + ".",
                )
            )
        return found


def _by_value(values: dict[str, set[str]], mark: str = "") -> str:
    """'"x" by r1; "y" by r2': what each register says."""
    return "; ".join(
        f"{mark}{v}{mark} by {slug(g)}" for g, said in sorted(values.items()) for v in sorted(said)
    )


def reconcile(store: Store) -> Report:
    """Compare every register graph in the store with the others; report what they differ on."""
    data = _Reconciliation(store)
    return Report(
        registers=sorted({*data.lists, *data.force_of}),
        parties=data.party_coverage(),
        discrepancies=data.discrepancies(),
        splits=data.splits(),
        duplicates=data.duplicates(),
        confirmations=data.confirmations(),
    )
