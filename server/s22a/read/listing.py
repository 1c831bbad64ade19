"""Lists, search and the figures of the home page, each one page of results at a time.

Sorting and paging happen in SPARQL (ORDER BY, LIMIT, OFFSET), so a page never builds more
rows than it shows, however large the register grows. User input reaches a query only as a
literal written by rdflib (`Literal(...).n3()`, which escapes quotes, backslashes and line
breaks) or as a value from a fixed table.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from rdflib import Literal

from s22a import namespaces as ns
from s22a.namespaces import GRAPH_REFERENCE
from s22a.read import attribution
from s22a.read import describe as d
from s22a.read.facts import FORCE_TYPES, PARTY, SAID_OF_A, agreement_facts, listed_by
from s22a.store import Store

P = d.PREFIXES
PAGE_SIZE = 50
MAX_PAGE = 10**6  # past every row; keeps OFFSET within what the SPARQL engine parses
MAX_QUERY = 100
MAX_WORDS = 8
# The leading title and date (`attribution.RULE`), as the agreements query binds them.
TITLE = f"LCASE(COALESCE(?pref, {attribution.lead_value('titleKey')}, STR(?s)))"
DATE = attribution.lead_value("dateKey")

# Sort keys: name -> (ORDER BY clause, what the page calls it).
AGREEMENT_SORTS = {
    "title": (f"{TITLE}", "Title (A to Z)"),
    "newest": (f'DESC(COALESCE({DATE}, "")) ' + TITLE, "Newest first"),
    "oldest": (f'COALESCE({DATE}, "9999") ' + TITLE, "Oldest first"),
    "registers": (f"DESC(?registers) {TITLE}", "Listed by most registers"),
}
# Agreements: typed so by a graph that may speak of them, under /id/agreement/.
AGREEMENT_IRIS = f"""SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s a s22a:Agreement }}
    {attribution.entitled("g", "?s")} FILTER(STRSTARTS(STR(?s), "{ns.AGREEMENT}")) }}"""
FORCE_SORTS = {
    "name": ("LCASE(?label)", "Name (A to Z)"),
    "agreements": ("DESC(?agreements) LCASE(?label)", "Most agreements"),
    "region": ('LCASE(COALESCE(?regionLabel, "~")) LCASE(?label)', "Region"),
}
CAPABILITY_SORTS = {
    "name": ("LCASE(?pref)", "Name (A to Z)"),
    "agreements": ("DESC(?agreements) LCASE(?pref)", "Most agreements"),
}


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows, where it is, and how it is sorted."""

    rows: list[Any]  # dicts of facts, or `tables.Row`s
    number: int
    size: int
    total: int
    sort: str
    sorts: dict[str, str]

    @property
    def pages(self) -> int:
        """How many pages the list has (at least one)."""
        return max(1, math.ceil(self.total / self.size))

    @property
    def first(self) -> int:
        """The position of the first row shown, from 1."""
        return (self.number - 1) * self.size + 1 if self.total else 0

    @property
    def last(self) -> int:
        """The position of the last row shown."""
        return min(self.total, self.number * self.size)


Fetch = Callable[[Store, int, int, str], Page]


def page_args(
    page: str | None, size: str | None, sort: str | None, sorts: dict[str, tuple[str, str]]
) -> tuple[int, int, str]:
    """Clean (page, size, sort) from query parameters: 1 <= page <= MAX_PAGE, 1 <= size <= 50."""

    def number(text: str | None, default: int) -> int:
        try:
            return int(text) if text else default
        except ValueError:
            return default

    key = sort if sort in sorts else next(iter(sorts))
    return (
        min(MAX_PAGE, max(1, number(page, 1))),
        min(PAGE_SIZE, max(1, number(size, PAGE_SIZE))),
        key,
    )


def agreements(store: Store, page: int, size: int, sort: str) -> Page:
    """One page of every agreement, with its date, scope and how many registers list it,
    sorted by its leading title or date (`attribution.RULE`)."""
    total = int(
        store.select(P + f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ {AGREEMENT_IRIS} }} }}")[0]["n"]
    )
    rows = store.select(
        P
        + f"""SELECT ?s ?pref ?titleKey ?dateKey (COUNT(DISTINCT ?r) AS ?registers) WHERE {{
          {{ {AGREEMENT_IRIS} }}
          OPTIONAL {{ SELECT ?s (MIN(?p0) AS ?pref) WHERE {{
              GRAPH <{GRAPH_REFERENCE}> {{ ?s skos:prefLabel ?p0 }} }} GROUP BY ?s }}
          OPTIONAL {attribution.lead_key("dcterms:title", "titleKey")}
          OPTIONAL {attribution.lead_key("s22a:dateMade", "dateKey")}
          OPTIONAL {{ GRAPH ?r {{ ?r s22a:lists ?s }} }}
        }} GROUP BY ?s ?pref ?titleKey ?dateKey ORDER BY {AGREEMENT_SORTS[sort][0]}
        LIMIT {size} OFFSET {(page - 1) * size}"""
    )
    iris = [str(r["s"]) for r in rows]
    facts = agreement_facts(store, iris)
    listing = listed_by(store, iris)
    result = [dict(facts[i], registers=listing.get(i, [])) for i in iris]
    return Page(result, page, size, total, sort, {k: v[1] for k, v in AGREEMENT_SORTS.items()})


def forces(store: Store, page: int, size: int, sort: str) -> Page:
    """One page of every police force, with region, register and agreements naming it."""
    total = int(
        store.select(
            P + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{GRAPH_REFERENCE}> "
            f"{{ ?s a ?ftype }} {FORCE_TYPES} }}"
        )[0]["n"]
    )
    rows = store.select(
        P
        + f"""SELECT ?s (MIN(?l0) AS ?label) (SAMPLE(?region) AS ?regionIri)
              (MIN(?rl) AS ?regionLabel) (SAMPLE(?reg) AS ?register)
              (COUNT(DISTINCT ?a) AS ?agreements) WHERE {{
          GRAPH <{GRAPH_REFERENCE}> {{ ?s a ?ftype ; rdfs:label ?l0
              OPTIONAL {{ ?s s22a:region ?region . ?region rdfs:label ?rl }} }} {FORCE_TYPES}
          OPTIONAL {{ GRAPH ?reg {{ ?reg a s22a:Register ; s22a:force ?s }}
                      {attribution.same_slug("reg", "s")} }}
          OPTIONAL {{ {{ GRAPH ?g {{ ?a {PARTY} ?s }} {SAID_OF_A} }}
                     UNION {{ GRAPH ?g {{ ?a s22a:partyGroup ?grp }} {SAID_OF_A}
                              GRAPH <{GRAPH_REFERENCE}> {{ ?grp org:hasMember ?s }} }} }}
        }} GROUP BY ?s ORDER BY {FORCE_SORTS[sort][0]}
        LIMIT {size} OFFSET {(page - 1) * size}"""
    )
    result = [
        {
            "iri": str(r["s"]),
            "title": str(r["label"]),
            "region": str(r["regionIri"]) if "regionIri" in r else None,
            "region_label": str(r.get("regionLabel", "")),
            "register": str(r["register"]) if "register" in r else None,
            "agreements": int(r["agreements"]),
        }
        for r in rows
    ]
    return Page(result, page, size, total, sort, {k: v[1] for k, v in FORCE_SORTS.items()})


def capabilities(store: Store, page: int, size: int, sort: str) -> Page:
    """One page of the capability scheme's concepts, with how many agreements provide each."""
    scheme = ns.CAPABILITY_SCHEME
    total = int(
        store.select(
            P + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH <{GRAPH_REFERENCE}> "
            f"{{ ?s skos:inScheme <{scheme}> }} }}"
        )[0]["n"]
    )
    rows = store.select(
        P
        + f"""SELECT ?s (MIN(?p0) AS ?pref) (SAMPLE(?b) AS ?broader)
              (MIN(?bl) AS ?broaderLabel) (COUNT(DISTINCT ?a) AS ?agreements) WHERE {{
          GRAPH <{GRAPH_REFERENCE}> {{ ?s skos:inScheme <{scheme}> ; skos:prefLabel ?p0
              OPTIONAL {{ ?s skos:broader ?b . ?b skos:prefLabel ?bl }} }}
          OPTIONAL {{ GRAPH ?g {{ ?a s22a:capability ?s }} {SAID_OF_A} }}
        }} GROUP BY ?s ORDER BY {CAPABILITY_SORTS[sort][0]}
        LIMIT {size} OFFSET {(page - 1) * size}"""
    )
    result = [
        {
            "iri": str(r["s"]),
            "title": str(r["pref"]),
            "broader": str(r["broader"]) if "broader" in r else None,
            "broader_label": str(r.get("broaderLabel", "")),
            "agreements": int(r["agreements"]),
        }
        for r in rows
    ]
    return Page(result, page, size, total, sort, {k: v[1] for k, v in CAPABILITY_SORTS.items()})


def regions(store: Store) -> list[dict[str, Any]]:
    """Every policing region with how many forces it has."""
    rows = store.select(
        P
        + f"""SELECT ?s ?label (COUNT(DISTINCT ?f) AS ?forces) WHERE {{
            GRAPH <{GRAPH_REFERENCE}> {{ ?s a s22a:Region ; rdfs:label ?label
                OPTIONAL {{ ?f s22a:region ?s }} }} }} GROUP BY ?s ?label ORDER BY ?label"""
    )
    return [
        {"iri": str(r["s"]), "title": str(r["label"]), "forces": int(r["forces"])} for r in rows
    ]


# ---------------------------------------------------------------------------
# Search


def search_words(query: str) -> list[str]:
    """The words of a search, lower-cased, at most MAX_WORDS of them, MAX_QUERY characters."""
    words = (w.strip("\"'.,;:!?()") for w in query[:MAX_QUERY].lower().split())
    return [w for w in words if w][:MAX_WORDS]


def search(store: Store, query: str, page: int, size: int) -> Page:
    """Things whose titles, other names, labels or purposes contain every word of `query`."""
    words = search_words(query)
    if not words:
        return Page([], 1, size, 0, "relevance", {})
    filters = " ".join(f"FILTER(CONTAINS(LCASE(STR(?text)), {Literal(w).n3()}))" for w in words)
    where = f"""GRAPH ?g {{ ?s ?p ?text }} {d.SPEAKS_FOR_SUBJECT}
        VALUES (?p ?rank) {{ (skos:prefLabel 4) (rdfs:label 4) (dcterms:title 4)
            (skos:altLabel 3) (skos:hiddenLabel 3) (dcterms:alternative 3)
            (s22a:purpose 1) (skos:definition 1) }}
        FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{ns.ID}")) {filters}"""
    total = int(store.select(P + f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}")[0]["n"])
    rows = store.select(
        P
        + f"""SELECT ?s (MAX(?rank) AS ?score) (SAMPLE(?text) AS ?match) WHERE {{ {where} }}
        GROUP BY ?s ORDER BY DESC(?score) ?s LIMIT {size} OFFSET {(page - 1) * size}"""
    )
    titles = d.labels(store, [str(r["s"]) for r in rows])
    result = []
    for row in rows:
        iri = str(row["s"])
        kind = (d.kind_and_slug(iri) or ("thing", ""))[0]
        result.append(
            {
                "iri": iri,
                "title": titles.get(iri, iri),
                "kind": kind,
                "match": str(row["match"]),
                "score": int(row["score"]),
            }
        )
    return Page(result, page, size, total, "relevance", {})


# ---------------------------------------------------------------------------
# Home page figures, the network and the timeline


def counts(store: Store) -> dict[str, int]:
    """How many agreements, registers, forces named as parties and capabilities there are."""
    row = store.select(
        P
        + f"""SELECT
          (COUNT(DISTINCT ?a) AS ?agreements) (COUNT(DISTINCT ?r) AS ?registers)
          (COUNT(DISTINCT ?f) AS ?forces) (COUNT(DISTINCT ?c) AS ?capabilities) WHERE {{
          {{ SELECT (?s AS ?a) WHERE {{ {AGREEMENT_IRIS} }} }}
          UNION {{ GRAPH ?r {{ ?r a s22a:Register }} }}
          UNION {{ GRAPH ?g {{ ?x {PARTY} ?f }} {attribution.entitled("g", "?x")}
                   GRAPH <{GRAPH_REFERENCE}> {{ ?f a ?ftype }} {FORCE_TYPES} }}
          UNION {{ GRAPH <{GRAPH_REFERENCE}> {{ ?c skos:inScheme <{ns.CAPABILITY_SCHEME}> }} }}
        }}"""
    )[0]
    return {k: int(v) for k, v in row.items()}


def party_forces(store: Store) -> dict[str, set[str]]:
    """For each agreement, the police forces any register or record names as parties."""
    rows = store.select(
        P
        + f"""SELECT DISTINCT ?a ?f WHERE {{ GRAPH ?g {{ ?a {PARTY} ?f }} {SAID_OF_A}
            GRAPH <{GRAPH_REFERENCE}> {{ ?f a ?ftype }} {FORCE_TYPES} }}"""
    )
    found: dict[str, set[str]] = {}
    for row in rows:
        found.setdefault(str(row["a"]), set()).add(str(row["f"]))
    return found


def short_name(label: str) -> str:
    """A territorial force's name without 'Police' or 'Constabulary', for pictures."""
    for suffix in (" Police Service", " Constabulary", " Police"):
        if label.endswith(suffix) and len(label) > len(suffix):
            return label[: -len(suffix)]
    return label


def network(store: Store, centre: str | None = None) -> dict[str, Any]:
    """Forces as nodes and, for each pair, how many agreements name both (weighted links).

    With `centre`, only that force and its partners, linked to it.
    """
    weights: Counter[tuple[str, str]] = Counter()
    sizes: Counter[str] = Counter()
    for parties in party_forces(store).values():
        if centre and centre not in parties:
            continue
        sizes.update(parties)
        for a, b in combinations(sorted(parties), 2):
            if centre in (None, a, b):
                weights[a, b] += 1
    nodes = sorted({f for pair in weights for f in pair} | ({centre} if centre else set()))
    rows = store.select(
        P
        + f"""SELECT ?f ?ftype ?region ?regionLabel WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{
            ?f a ?ftype OPTIONAL {{ ?f s22a:region ?region . ?region rdfs:label ?regionLabel }}
        }} {FORCE_TYPES} }}"""
    )
    info = {str(r["f"]): r for r in rows}
    labels = d.labels(store, nodes)
    territorial = str(ns.S22A.TerritorialPoliceForce)
    result = []
    for node in nodes:
        row = info.get(node, {})
        label = labels.get(node, node)
        result.append(
            {
                "iri": node,
                "label": label,
                "size": sizes[node],
                "short": short_name(label) if str(row.get("ftype")) == territorial else label,
                "region": str(row["region"]) if "region" in row else None,
                "region_label": str(row.get("regionLabel", "No region")),
            }
        )
    result.sort(key=lambda n: (n["region_label"], n["short"]))
    return {
        "nodes": result,
        "edges": sorted(
            ((a, b, w) for (a, b), w in weights.items()), key=lambda e: (-e[2], e[0], e[1])
        ),
        "labels": labels,
    }


def timeline(store: Store, titled: int = 200) -> list[dict[str, Any]]:
    """Every agreement with a date, oldest first, at its leading date (`attribution.RULE`);
    with titles when there are at most `titled` (beyond that a page shows counts by year)."""
    rows = store.select(
        P
        + f"""SELECT ?s ({DATE} AS ?d) WHERE {attribution.lead_key("s22a:dateMade", "dateKey")}
        ORDER BY ?d ?s"""
    )
    iris = [str(r["s"]) for r in rows]
    titles = d.labels(store, iris) if len(iris) <= titled else {}
    return [
        {"iri": str(r["s"]), "date": str(r["d"]), "title": titles.get(str(r["s"]), "")}
        for r in rows
    ]


def undated(store: Store) -> int:
    """How many agreements no register dates."""
    return int(
        store.select(
            P
            + f"""SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {{ {AGREEMENT_IRIS} }}
            FILTER NOT EXISTS {{ GRAPH ?h {{ ?h s22a:lists ?s . ?s s22a:dateMade ?x }} }} }}"""
        )[0]["n"]
    )
