"""Page data for people: what each kind of thing's page shows, as plain dicts for the templates.

Each function reads the store (through `describe`) and returns a dict with `kind`, `iri`,
`title` and what the template of that kind shows; `labels` maps every IRI the page links
to onto its name. An agreement appears in several register graphs, each saying its own
title, date and parties: the agreement page shows each register's statement side by side.
A thing no graph that may describe it does is `describe.NotDescribed` (the view's 404).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rdflib import URIRef
from rdflib.namespace import DCTERMS, ORG, RDF, RDFS, SKOS

from s22a.history import versions
from s22a.namespaces import GRAPH_REFERENCE, S22A
from s22a.read import describe as d
from s22a.read.facts import (
    GROUP_ORDER,
    PARTY,
    SAID_OF_A,
    P,
    _named_agreements,
    agreement_facts,
    agreements_with,
    forces,
    listed_by,
    partners,
    short_keys,
    with_labels,
)
from s22a.read.listing import Page
from s22a.store import Store

# Agreements on one page of a force's or a register's page: a register may list thousands, and
# a page that shows them all costs seconds to build and megabytes to send.
DOC_PAGE = 100
VERSIONS_SHOWN = 10  # the register page's latest versions; /registers/{force}/versions has all


def _page(number: int, total: int) -> Page:
    return Page(rows=[], number=number, size=DOC_PAGE, total=total, sort="", sorts={})


def force(store: Store, iri: str, page: int = 1) -> dict[str, Any]:
    """The force page: body, region, agreements by scope, which its register confirms, partners.

    The agreements come `DOC_PAGE` at a time (in the order of their identifiers, each page
    grouped by scope and sorted by title), and the timeline shows the page's agreements.
    """
    said = d.described(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    register = forces(store).get(iri)
    everything = _named_agreements(store, iri)
    paging = _page(page, len(everything))
    shown = sorted(everything)[paging.first - 1 : paging.last] if everything else []
    named = {a: everything[a] for a in shown}
    facts = agreement_facts(store, shown)
    confirmed = set()
    if register:
        confirmed = {
            str(r["a"])
            for r in store.select(
                P + f"SELECT ?a WHERE {{ GRAPH <{register}> {{ <{register}> s22a:lists ?a }} }}"
            )
        }
    grouped: dict[str, list[dict[str, Any]]] = {g: [] for g in GROUP_ORDER}
    for a, how in named.items():
        entry = dict(facts[a], how=sorted(how), confirmed=a in confirmed)
        grouped[entry["group"]].append(entry)
    for entries in grouped.values():
        entries.sort(key=lambda e: e["title"].lower())
    return with_labels(
        store,
        {
            "kind": "force",
            "iri": iri,
            "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
            "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
            "types": d.types_of(said),
            "police_uk_id": d.text(ref.one(S22A.policeUkId)),
            "body": d.text(ref.one(S22A.policingBody)),
            "region": d.text(ref.one(S22A.region)),
            "comment": d.text(ref.one(RDFS.comment)),
            "register": register,
            "grouped": {g: v for g, v in grouped.items() if v},
            "count": len(everything),
            "confirmed": len(confirmed & set(everything)),
            "page": paging,
            "partners": partners(store, iri),
            "timeline": sorted(facts.values(), key=lambda f: (f["date"] or "9999", f["title"])),
            # Computed from the same sets as the table's "In its own register" column (the
            # reconciliation's party coverage leaves out agreements made with a party group).
            "unlisted": sorted(set(everything) - confirmed) if register else [],
        },
    )


def body(store: Store, iri: str) -> dict[str, Any]:
    """A policing body's (or committee's) page: forces it oversees, agreements naming it."""
    said = d.described(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    policed = [
        str(r["f"])
        for r in store.select(
            P + f"SELECT DISTINCT ?f WHERE {{ GRAPH <{GRAPH_REFERENCE}> "
            f"{{ ?f s22a:policingBody <{iri}> }} }}"
        )
    ]
    rows = store.select(
        P
        + f"""SELECT DISTINCT ?a ?role WHERE {{ GRAPH ?g {{
            {{ ?a {PARTY} <{iri}> BIND("party" AS ?role) }}
            UNION {{ ?a s22a:oversightCommittee <{iri}> BIND("oversight committee" AS ?role) }}
            UNION {{ ?a s22a:lifecycleEvent/s22a:joiningParty <{iri}> BIND("joining" AS ?role) }}
            ?a a s22a:Agreement }} {SAID_OF_A} }}"""
    )
    roles: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        roles[str(row["a"])].add(str(row["role"]))
    facts = agreement_facts(store, sorted(roles))
    publishes = [
        str(r["r"])
        for r in store.select(
            P + f"SELECT DISTINCT ?r WHERE {{ GRAPH ?r {{ ?r a s22a:Register ; "
            f"dcterms:publisher <{iri}> }} }}"
        )
    ]
    return with_labels(
        store,
        {
            "kind": "body",
            "iri": iri,
            "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
            "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
            "types": d.types_of(said),
            "comment": d.text(ref.one(RDFS.comment)),
            "policed": sorted(policed),
            "publishes": sorted(publishes),
            "agreements": sorted(
                (dict(facts[a], roles=sorted(r)) for a, r in roles.items()),
                key=lambda e: e["title"].lower(),
            ),
        },
    )


def group(store: Store, iri: str) -> dict[str, Any]:
    """A party group's page: its members and the agreements made with all of them."""
    said = d.described(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    rows = store.select(
        P + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a s22a:partyGroup <{iri}> }} {SAID_OF_A} }}"
    )
    facts = agreement_facts(store, sorted(str(r["a"]) for r in rows))
    return with_labels(
        store,
        {
            "kind": "group",
            "iri": iri,
            "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
            "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
            "comment": d.text(ref.one(RDFS.comment)),
            "members": [str(m) for m in ref.all(ORG.hasMember)],
            "agreements": sorted(facts.values(), key=lambda e: e["title"].lower()),
        },
    )


def capability(store: Store, iri: str) -> dict[str, Any]:
    """A capability's page: its definition, broader and narrower concepts, agreements."""
    ref = d.described(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    narrower = {str(x) for x in ref.all(SKOS.narrower)} | {
        str(r["c"])
        for r in store.select(
            P + f"SELECT ?c WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?c skos:broader <{iri}> }} }}"
        )
    }
    return with_labels(
        store,
        {
            "kind": "capability",
            "iri": iri,
            "title": d.text(ref.one(SKOS.prefLabel))
            or d.text(ref.one(RDFS.label))
            or d.fallback_label(iri),
            "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
            "definition": d.text(ref.one(SKOS.definition)),
            "scope_note": d.text(ref.one(SKOS.scopeNote)),
            "broader": [str(x) for x in ref.all(SKOS.broader)],
            "narrower": sorted(narrower),
            "schemes": [str(x) for x in ref.all(SKOS.inScheme)],
            "agreements": agreements_with(store, "s22a:capability", iri),
        },
    )


def scheme(store: Store, iri: str) -> dict[str, Any]:
    """A concept scheme's page: its concepts as a tree, with how many agreements each has."""
    ref = d.described(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    rows = store.select(
        P
        + f"""SELECT ?c ?broader (COUNT(DISTINCT ?a) AS ?n) WHERE {{
            GRAPH <{GRAPH_REFERENCE}> {{ ?c skos:inScheme <{iri}>
                OPTIONAL {{ ?c skos:broader ?broader }} }}
            OPTIONAL {{ GRAPH ?g {{ ?a s22a:capability ?c }} {SAID_OF_A} }}
        }} GROUP BY ?c ?broader"""
    )
    children: dict[str, list[str]] = defaultdict(list)
    counts = {}
    for row in rows:
        counts[str(row["c"])] = int(row["n"])
        children[str(row.get("broader", ""))].append(str(row["c"]))
    data = with_labels(
        store,
        {
            "kind": "scheme",
            "iri": iri,
            "title": d.text(ref.one(SKOS.prefLabel)) or d.text(ref.one(RDFS.label)),
            "comment": d.text(ref.one(RDFS.comment)),
            "counts": counts,
            "children": dict(children),
            "concepts": sorted(counts),
        },
    )
    for key in data["children"]:
        data["children"][key].sort(key=lambda c: data["labels"].get(c, c).lower())
    return data


def region(store: Store, iri: str) -> dict[str, Any]:
    """A region's page: its forces and the agreements among them."""
    ref = d.described(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    members = sorted(
        str(r["f"])
        for r in store.select(
            P + f"SELECT ?f WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f s22a:region <{iri}> }} }}"
        )
    )
    named: dict[str, set[str]] = defaultdict(set)
    for force_iri in members:
        for a, how in _named_agreements(store, force_iri).items():
            if how & {"named", "listed"}:
                named[a].add(force_iri)
    facts = agreement_facts(store, sorted(named))
    regional = [
        dict(facts[a], forces=sorted(fs))
        for a, fs in named.items()
        if facts[a]["group"] != "National"
    ]
    return with_labels(
        store,
        {
            "kind": "region",
            "iri": iri,
            "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
            "comment": d.text(ref.one(RDFS.comment)),
            "forces": members,
            "counts": {f: sum(1 for fs in named.values() if f in fs) for f in members},
            "agreements": sorted(regional, key=lambda e: e["title"].lower()),
        },
    )


def register(store: Store, iri: str, page: int = 1) -> dict[str, Any]:
    """A register's page: who publishes it, what it lists (in its own words, `DOC_PAGE` at a
    time, by title), its latest versions."""
    own = d.described(store, iri).get(iri) or d.Said(iri)
    total = int(
        store.select(
            P + "SELECT (COUNT(DISTINCT ?a) AS ?n) "
            f"WHERE {{ GRAPH <{iri}> {{ <{iri}> s22a:lists ?a }} }}"
        )[0]["n"]
    )
    paging = _page(page, total)
    rows = store.select(
        P
        + f"""SELECT ?a ?title ?date WHERE {{
            {{ SELECT ?a (SAMPLE(?t) AS ?key) WHERE {{ GRAPH <{iri}> {{ <{iri}> s22a:lists ?a
                OPTIONAL {{ ?a dcterms:title ?t }} }} }}
              GROUP BY ?a ORDER BY LCASE(STR(COALESCE(?key, ""))) ?a
              LIMIT {DOC_PAGE} OFFSET {paging.first - 1 if total else 0} }}
            GRAPH <{iri}> {{ OPTIONAL {{ ?a dcterms:title ?title }}
                OPTIONAL {{ ?a s22a:dateMade ?date }} }} }}"""
    )
    listed: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = listed.setdefault(str(row["a"]), {"iri": str(row["a"]), "title": "", "date": ""})
        entry["title"] = entry["title"] or d.text(row.get("title"))
        entry["date"] = entry["date"] or d.text(row.get("date"))
    others = listed_by(store, sorted(listed))
    for a, entry in listed.items():
        entry["also"] = [r for r in others.get(a, []) if r != iri]
    source = [short_keys(own.node(b)) for b in own.all(DCTERMS.source)]
    return with_labels(
        store,
        {
            "kind": "register",
            "iri": iri,
            "title": d.text(own.one(DCTERMS.title))
            or d.text(own.one(RDFS.label))
            or d.fallback_label(iri),
            "force": d.text(own.one(S22A.force)),
            "publisher": d.text(own.one(DCTERMS.publisher)),
            "comment": d.text(own.one(RDFS.comment)),
            "listed_count": d.text(own.one(S22A.listedCount)),
            "source": source,
            "types": [str(t) for t in own.all(RDF.type)],
            "agreements": sorted(listed.values(), key=lambda e: (e["title"].lower(), e["iri"])),
            "count": total,
            "page": paging,
            "versions": versions.history(store, iri, last=VERSIONS_SHOWN),
        },
    )


def resource(store: Store, iri: str) -> dict[str, Any]:
    """Any other resource the service names (a register version, a finding): its statements."""
    said = d.described(store, iri, d.NOT_ARCHIVE)
    rows = [
        {
            "graph": g,
            "predicate": p,
            "values": [str(v) for v in vs],
            "literal": [not isinstance(v, URIRef) for v in vs],
        }
        for g, entry in sorted(said.items())
        for p, vs in sorted(entry.values.items())
    ]
    inbound = store.select(
        f"SELECT DISTINCT ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} {d.NOT_ARCHIVE} "
        f"FILTER(isIRI(?s)) }} ORDER BY ?s LIMIT 200"
    )
    title = d.labels(store, [iri]).get(iri, iri)
    return with_labels(
        store,
        {
            "kind": "resource",
            "iri": iri,
            "title": title,
            "rows": rows,
            "types": d.types_of(said),
            "inbound": [(str(r["s"]), str(r["p"])) for r in inbound],
        },
    )
