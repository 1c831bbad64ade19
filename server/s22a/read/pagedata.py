"""Page data for people: what each kind of thing's page shows, as plain dicts for the templates.

Each function reads the store (through `describe`) and returns a dict with `kind`, `iri`,
`title` and what the template of that kind shows; `labels` maps every IRI the page links
to onto its name. An agreement appears in several register graphs, each saying its own
title, date and parties: the agreement page shows each register's statement side by side.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from rdflib import URIRef
from rdflib.namespace import DCTERMS, ORG, RDF, RDFS, SKOS

from s22a import namespaces as ns
from s22a.history import versions
from s22a.namespaces import GRAPH_REFERENCE, S22A
from s22a.read import describe as d
from s22a.store import Store

P = d.PREFIXES
REG_OR_REF = d.REGISTERS_OR_REFERENCE
PARTY = "s22a:party|s22a:leadForce|s22a:hostForce"
FORCE_TYPES = (
    "VALUES ?ftype { s22a:PoliceForce s22a:TerritorialPoliceForce s22a:SpecialPoliceForce }"
)
NATIONAL = {str(S22A.National), str(S22A.PartNational)}
REGIONAL = {str(S22A.Regional), str(S22A.SubRegional), str(S22A.CrossRegional)}
GROUP_ORDER = ("National", "Regional", "Bilateral", "Scope not stated")


def scope_group(scopes: set[str]) -> str:
    """Which heading an agreement with `scopes` goes under on a force page."""
    if scopes & NATIONAL:
        return "National"
    if scopes & REGIONAL:
        return "Regional"
    if str(S22A.Bilateral) in scopes:
        return "Bilateral"
    return "Scope not stated"


def short_keys(node: dict[str, list[Any]]) -> dict[str, list[str]]:
    """A blank node's predicate -> objects map keyed by local names (`aspect`, `value`...)."""
    return {re.split(r"[#/]", p)[-1]: sorted(str(v) for v in vs) for p, vs in node.items()}


def _iris(value: Any, found: set[str]) -> set[str]:
    """Every IRI-like string inside `value` (dicts, lists, sets, tuples)."""
    if isinstance(value, str):
        if value.startswith(("http://", "https://")):
            found.add(value)
    elif isinstance(value, dict):
        for k, v in value.items():
            _iris(k, found)
            _iris(v, found)
    elif isinstance(value, list | tuple | set | frozenset):
        for v in value:
            _iris(v, found)
    return found


def with_labels(store: Store, data: dict[str, Any]) -> dict[str, Any]:
    """Add `labels` for every IRI the page data mentions."""
    data["labels"] = d.labels(store, _iris(data, set()))
    return data


def forces(store: Store) -> dict[str, str | None]:
    """Every police force in the reference data, with its register's IRI (None if none)."""
    rows = store.select(
        P
        + f"""SELECT ?f ?r WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f a ?ftype }} {FORCE_TYPES}
        OPTIONAL {{ GRAPH ?r {{ ?r a s22a:Register ; s22a:force ?f }} }} }}"""
    )
    return {str(r["f"]): str(r["r"]) if "r" in r else None for r in rows}


def listed_by(store: Store, iris: list[str]) -> dict[str, list[str]]:
    """For each agreement, the registers that list it."""
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in iris)
    rows = store.select(
        P + f"SELECT ?a ?r WHERE {{ VALUES ?a {{ {values} }} GRAPH ?r {{ ?r s22a:lists ?a }} }}"
    )
    found: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        found[str(row["a"])].append(str(row["r"]))
    return {a: sorted(found[a]) for a in iris}


def agreement_facts(store: Store, iris: list[str]) -> dict[str, dict[str, Any]]:
    """Title, earliest date and scopes of each agreement, for lists of agreements."""
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in iris)
    rows = store.select(
        P
        + f"""SELECT ?a ?date ?scope WHERE {{ VALUES ?a {{ {values} }} GRAPH ?g {{
            {{ ?a s22a:dateMade ?date }} UNION {{ ?a s22a:scope ?scope }} }} {REG_OR_REF} }}"""
    )
    facts: dict[str, dict[str, Any]] = {
        a: {"iri": a, "dates": set(), "scopes": set()} for a in iris
    }
    for row in rows:
        entry = facts[str(row["a"])]
        if "date" in row:
            entry["dates"].add(str(row["date"]))
        if "scope" in row:
            entry["scopes"].add(str(row["scope"]))
    titles = d.labels(store, iris)
    for a, entry in facts.items():
        entry["title"] = titles.get(a, d.fallback_label(a))
        entry["date"] = min(entry["dates"]) if entry["dates"] else None
        entry["group"] = scope_group(entry["scopes"])
    return facts


# ---------------------------------------------------------------------------
# Force, body, group


def _named_agreements(store: Store, party: str) -> dict[str, set[str]]:
    """Agreements naming `party` (or a group it belongs to, or listed by its register): how."""
    rows = store.select(
        P
        + f"""SELECT DISTINCT ?a ?how WHERE {{
          {{ GRAPH ?g {{ ?a {PARTY} <{party}> }} {REG_OR_REF} BIND("named" AS ?how) }}
          UNION {{ GRAPH ?g {{ ?a s22a:partyGroup ?grp }} {REG_OR_REF}
                   GRAPH <{GRAPH_REFERENCE}> {{ ?grp org:hasMember <{party}> }}
                   BIND("group" AS ?how) }}
          UNION {{ GRAPH ?r {{ ?r a s22a:Register ; s22a:force <{party}> ; s22a:lists ?a }}
                   BIND("listed" AS ?how) }} }}"""
    )
    found: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        found[str(row["a"])].add(str(row["how"]))
    return found


def partners(store: Store, party: str) -> list[tuple[str, int]]:
    """Forces named alongside `party` as parties, with how many agreements they share."""
    rows = store.select(
        P
        + f"""SELECT ?other (COUNT(DISTINCT ?a) AS ?n) WHERE {{
          GRAPH ?g {{ ?a {PARTY} <{party}> }} {REG_OR_REF}
          GRAPH ?h {{ ?a {PARTY} ?other }}
          FILTER(?h = <{GRAPH_REFERENCE}> || STRSTARTS(STR(?h), "{ns.REGISTER}"))
          FILTER(?other != <{party}>)
          GRAPH <{GRAPH_REFERENCE}> {{ ?other a ?ftype }} {FORCE_TYPES}
        }} GROUP BY ?other ORDER BY DESC(?n) ?other"""
    )
    return [(str(r["other"]), int(r["n"])) for r in rows]


def force(store: Store, iri: str) -> dict[str, Any]:
    """The force page: body, region, agreements by scope, which its register confirms, partners."""
    said = d.statements(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    register = forces(store).get(iri)
    named = _named_agreements(store, iri)
    facts = agreement_facts(store, sorted(named))
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
            "count": len(named),
            "confirmed": len(confirmed & set(named)),
            "partners": partners(store, iri),
            "timeline": sorted(facts.values(), key=lambda f: (f["date"] or "9999", f["title"])),
            "findings": d.findings(store, iri, S22A.aboutForce),
        },
    )


def body(store: Store, iri: str) -> dict[str, Any]:
    """A policing body's (or committee's) page: forces it oversees, agreements naming it."""
    said = d.statements(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    policed = [
        str(r["f"])
        for r in store.select(
            P + f"SELECT DISTINCT ?f WHERE {{ GRAPH ?g {{ ?f s22a:policingBody <{iri}> }} }}"
        )
    ]
    rows = store.select(
        P
        + f"""SELECT DISTINCT ?a ?role WHERE {{ GRAPH ?g {{
            {{ ?a {PARTY} <{iri}> BIND("party" AS ?role) }}
            UNION {{ ?a s22a:oversightCommittee <{iri}> BIND("oversight committee" AS ?role) }}
            UNION {{ ?a s22a:lifecycleEvent/s22a:joiningParty <{iri}> BIND("joining" AS ?role) }}
            ?a a s22a:Agreement }} {REG_OR_REF} }}"""
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
    said = d.statements(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    rows = store.select(
        P + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a s22a:partyGroup <{iri}> }} {REG_OR_REF} }}"
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


# ---------------------------------------------------------------------------
# Capability, scheme, region, register


def agreements_with(store: Store, predicate: str, iri: str) -> list[dict[str, Any]]:
    """Agreements whose `predicate` is `iri` in any register or the reference data."""
    rows = store.select(
        P + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a {predicate} <{iri}> }} {REG_OR_REF} }}"
    )
    facts = agreement_facts(store, sorted(str(r["a"]) for r in rows))
    return sorted(facts.values(), key=lambda e: e["title"].lower())


def capability(store: Store, iri: str) -> dict[str, Any]:
    """A capability's page: its definition, broader and narrower concepts, agreements."""
    ref = d.statements(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    narrower = {str(x) for x in ref.all(SKOS.narrower)} | {
        str(r["c"])
        for r in store.select(P + f"SELECT ?c WHERE {{ GRAPH ?g {{ ?c skos:broader <{iri}> }} }}")
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
    ref = d.statements(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    rows = store.select(
        P
        + f"""SELECT ?c ?broader (COUNT(DISTINCT ?a) AS ?n) WHERE {{
            GRAPH <{GRAPH_REFERENCE}> {{ ?c skos:inScheme <{iri}>
                OPTIONAL {{ ?c skos:broader ?broader }} }}
            OPTIONAL {{ GRAPH ?g {{ ?a s22a:capability ?c }} {REG_OR_REF} }}
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
    ref = d.statements(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
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


def register(store: Store, iri: str) -> dict[str, Any]:
    """A register's page: who publishes it, what it lists (in its own words), its versions."""
    own = d.statements(store, iri).get(iri) or d.Said(iri)
    rows = store.select(
        P
        + f"""SELECT ?a ?title ?date WHERE {{ GRAPH <{iri}> {{ <{iri}> s22a:lists ?a
            OPTIONAL {{ ?a dcterms:title ?title }} OPTIONAL {{ ?a s22a:dateMade ?date }} }} }}"""
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
            "agreements": sorted(listed.values(), key=lambda e: e["title"].lower()),
            "versions": versions.history(store, iri),
        },
    )


def resource(store: Store, iri: str) -> dict[str, Any]:
    """Any other resource the service names (a register version, a finding): its statements."""
    said = d.statements(store, iri, d.NOT_ARCHIVE)
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
