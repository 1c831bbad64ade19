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
from rdflib.namespace import DCTERMS, ORG, OWL, RDF, RDFS, SKOS

from . import describe as d
from . import namespaces as ns
from . import versions
from .namespaces import GRAPH_REFERENCE, S22A
from .store import Store

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
        P + f"""SELECT ?f ?r WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f a ?ftype }} {FORCE_TYPES}
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
        P + f"""SELECT ?a ?date ?scope WHERE {{ VALUES ?a {{ {values} }} GRAPH ?g {{
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
# Agreement


def _register_statement(said: d.Said) -> dict[str, Any]:
    """One register's statement about an agreement, as the template shows it."""
    roles: dict[str, set[str]] = defaultdict(set)
    for predicate, role in ((S22A.party, "party"), (S22A.leadForce, "lead force"),
                            (S22A.hostForce, "host force")):
        for party in said.all(predicate):
            roles[str(party)].add(role)
    not_stated = {str(n) for n in said.all(S22A.notStated)}

    def nodes(predicate: URIRef) -> list[dict[str, list[str]]]:
        return [short_keys(said.node(b)) for b in said.all(predicate)]

    return {
        "graph": said.graph,
        "title": d.text(said.one(DCTERMS.title)),
        "alternatives": [str(a) for a in said.all(DCTERMS.alternative)],
        "purpose": d.text(said.one(S22A.purpose)),
        "dates": [str(x) for x in said.all(S22A.dateMade)],
        "date_not_stated": str(S22A.dateMade) in not_stated,
        "established": [str(x) for x in said.all(S22A.established)],
        "parties": sorted(roles.items(), key=lambda kv: ("lead force" not in kv[1], kv[0])),
        "parties_not_stated": str(S22A.party) in not_stated,
        "groups": [str(g) for g in said.all(S22A.partyGroup)],
        "scopes": [str(s) for s in said.all(S22A.scope)],
        "legal": [str(x) for x in said.all(S22A.legalBasis)],
        "capabilities": [str(c) for c in said.all(S22A.capability)],
        "committees": [str(c) for c in said.all(S22A.oversightCommittee)],
        "governance": sorted(nodes(S22A.governance), key=lambda n: n.get("aspect", [""])),
        "budgets": nodes(S22A.budget),
        "staff": [str(s) for s in said.all(S22A.staffPosts)],
        "contributions": nodes(S22A.contribution),
        "lifecycle": nodes(S22A.lifecycleEvent),
        "documents": nodes(S22A.document),
        "covered_by": [str(c) for c in said.all(S22A.coveredBy)],
        "same_as": [str(c) for c in said.all(OWL.sameAs)],
        "withheld": [str(w) for w in said.all(S22A.withheldUnder)],
        "comments": [str(c) for c in said.all(RDFS.comment)],
    }


def _confirmation(store: Store, iri: str, statements: list[dict[str, Any]],
                  listing: list[str], canonical: dict[str, Any] | None) -> dict[str, Any]:
    """Whether every party force's register lists the agreement (computed from the graphs)."""
    all_forces = forces(store)
    named = {p for s in statements for p, _ in s["parties"]}
    groups = {g for s in statements for g in s["groups"]}
    if canonical:
        groups |= set(canonical["groups"])
    members: set[str] = set()
    for group in sorted(groups):
        rows = store.select(f"SELECT ?m WHERE {{ GRAPH ?g {{ <{group}> <{ORG.hasMember}> ?m }} }}")
        members |= {str(r["m"]) for r in rows}
    party_forces = sorted((named | members) & set(all_forces))
    states = []
    for force in party_forces:
        register = all_forces[force]
        state = ("confirms" if register in listing else
                 "register does not list it" if register else "no register published")
        states.append({"force": force, "register": register, "state": state})
    confirmed = [s for s in states if s["state"] == "confirms"]
    if party_forces and len(confirmed) == len(party_forces):
        status = "all"
    elif len(listing) > 1 or len(confirmed) > 1:
        status = "some"
    else:
        status = "publisher-only"
    return {"status": status, "forces": states, "confirmed": len(confirmed),
            "published": sum(1 for s in states if s["register"]), "description": None}


def _fallback_discrepancies(statements: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Title, date and party differences between registers, when no reconciliation is stored."""
    found = []
    for aspect, key in (("titles", "title"), ("dates", "dates"), ("parties", "parties")):
        values = {}
        for s in statements:
            value = s[key]
            if key == "parties":
                value = tuple(sorted(p for p, _ in value))
            elif isinstance(value, list):
                value = tuple(value)
            if value and not (key == "parties" and s["parties_not_stated"]):
                values[s["graph"]] = value
        if len(set(values.values())) > 1:
            found.append({"types": {"Discrepancy"}, "aspect": aspect, "others": set(),
                          "description": f"The registers give different {aspect}: compare "
                                         "what each register says above.",
                          "iri": None, "status": None})
    return found


def _status(name: str, default: str) -> str:
    """'all', 'some' or 'publisher-only' for a reconciliation status term's local name."""
    for word, status in (("All", "all"), ("Some", "some"), ("Publisher", "publisher-only")):
        if word in name:
            return status
    return default


def agreement(store: Store, iri: str) -> dict[str, Any]:
    """The agreement page: canonical record, each register's statement, confirmation, findings."""
    said = d.statements(store, iri)
    listing = listed_by(store, [iri])[iri]
    canonical = None
    if GRAPH_REFERENCE in said:
        ref = said[GRAPH_REFERENCE]
        canonical = {
            "pref_label": d.text(ref.one(SKOS.prefLabel)),
            "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
            "comment": d.text(ref.one(RDFS.comment)),
            "scopes": [str(x) for x in ref.all(S22A.scope)],
            "groups": [str(x) for x in ref.all(S22A.partyGroup)],
            "parties": [str(x) for x in ref.all(S22A.party)],
            "legal": [str(x) for x in ref.all(S22A.legalBasis)],
            "capabilities": [str(x) for x in ref.all(S22A.capability)],
            "parties_not_stated": S22A.party in ref.all(S22A.notStated),
        }
    register_graphs = sorted(g for g in said if g.startswith(str(ns.REGISTER)))
    statements = [_register_statement(said[g]) for g in register_graphs]
    if register_graphs:
        rows = store.select(
            P + f"""SELECT ?g ?title WHERE {{ VALUES ?g {{ {' '.join(f'<{g}>' for g in
            register_graphs)} }} GRAPH ?g {{ ?g dcterms:source/dcterms:title ?title }} }}""")
        sources = {str(r["g"]): str(r["title"]) for r in rows}
        for statement in statements:
            statement["source"] = sources.get(statement["graph"], "")
    title = d.labels(store, [iri])[iri]
    parties: dict[str, dict[str, Any]] = {}
    for s in statements:
        for party, roles in s["parties"]:
            entry = parties.setdefault(party, {"iri": party, "roles": set(), "stated_by": []})
            entry["roles"] |= roles
            entry["stated_by"].append(s["graph"])
    for party in (canonical or {}).get("parties", []):
        parties.setdefault(party, {"iri": party, "roles": {"party"}, "stated_by": []})

    def union(key: str) -> list[str]:
        values = {v for s in statements for v in s[key]} | set((canonical or {}).get(key, []))
        return sorted(values)

    recorded = d.findings(store, iri)
    confirmation = _confirmation(store, iri, statements, listing, canonical)
    for finding in recorded:
        if "AgreementConfirmation" in finding["types"]:
            confirmation["description"] = finding["description"]
            confirmation["status"] = _status(finding["status"] or "", confirmation["status"])
    problems = [f for f in recorded if "AgreementConfirmation" not in f["types"]]
    reconciled = d.has_reconciliation(store)
    if not reconciled:
        problems = _fallback_discrepancies(statements)
    purposes = [s["purpose"] for s in statements if s["purpose"]]
    return with_labels(store, {
        "kind": "agreement", "iri": iri, "title": title, "canonical": canonical,
        "statements": statements, "listed_by": listing,
        "parties": sorted(parties.values(), key=lambda p: ("lead force" not in p["roles"],
                                                         p["iri"])),
        "groups": union("groups"), "scopes": union("scopes"), "legal": union("legal"),
        "capabilities": union("capabilities"), "committees": union("committees"),
        "purpose": purposes[0] if purposes else (canonical or {}).get("comment", ""),
        "confirmation": confirmation, "findings": problems, "reconciled": reconciled,
    })


# ---------------------------------------------------------------------------
# Force, body, group


def _named_agreements(store: Store, party: str) -> dict[str, set[str]]:
    """Agreements naming `party` (or a group it belongs to, or listed by its register): how."""
    rows = store.select(
        P + f"""SELECT DISTINCT ?a ?how WHERE {{
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
        P + f"""SELECT ?other (COUNT(DISTINCT ?a) AS ?n) WHERE {{
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
        confirmed = {str(r["a"]) for r in store.select(
            P + f"SELECT ?a WHERE {{ GRAPH <{register}> {{ <{register}> s22a:lists ?a }} }}")}
    grouped: dict[str, list[dict[str, Any]]] = {g: [] for g in GROUP_ORDER}
    for a, how in named.items():
        entry = dict(facts[a], how=sorted(how), confirmed=a in confirmed)
        grouped[entry["group"]].append(entry)
    for entries in grouped.values():
        entries.sort(key=lambda e: e["title"].lower())
    return with_labels(store, {
        "kind": "force", "iri": iri,
        "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
        "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
        "types": d.types_of(said), "police_uk_id": d.text(ref.one(S22A.policeUkId)),
        "body": d.text(ref.one(S22A.policingBody)), "region": d.text(ref.one(S22A.region)),
        "comment": d.text(ref.one(RDFS.comment)), "register": register,
        "grouped": {g: v for g, v in grouped.items() if v}, "count": len(named),
        "confirmed": len(confirmed & set(named)), "partners": partners(store, iri),
        "timeline": sorted(facts.values(), key=lambda f: (f["date"] or "9999", f["title"])),
        "findings": d.findings(store, iri, S22A.aboutForce),
    })


def body(store: Store, iri: str) -> dict[str, Any]:
    """A policing body's (or committee's) page: forces it oversees, agreements naming it."""
    said = d.statements(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    policed = [str(r["f"]) for r in store.select(
        P + f"SELECT DISTINCT ?f WHERE {{ GRAPH ?g {{ ?f s22a:policingBody <{iri}> }} }}")]
    rows = store.select(
        P + f"""SELECT DISTINCT ?a ?role WHERE {{ GRAPH ?g {{
            {{ ?a {PARTY} <{iri}> BIND("party" AS ?role) }}
            UNION {{ ?a s22a:oversightCommittee <{iri}> BIND("oversight committee" AS ?role) }}
            UNION {{ ?a s22a:lifecycleEvent/s22a:joiningParty <{iri}> BIND("joining" AS ?role) }}
            ?a a s22a:Agreement }} {REG_OR_REF} }}"""
    )
    roles: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        roles[str(row["a"])].add(str(row["role"]))
    facts = agreement_facts(store, sorted(roles))
    publishes = [str(r["r"]) for r in store.select(
        P + f"SELECT DISTINCT ?r WHERE {{ GRAPH ?r {{ ?r a s22a:Register ; "
        f"dcterms:publisher <{iri}> }} }}")]
    return with_labels(store, {
        "kind": "body", "iri": iri,
        "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
        "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
        "types": d.types_of(said), "comment": d.text(ref.one(RDFS.comment)),
        "policed": sorted(policed), "publishes": sorted(publishes),
        "agreements": sorted((dict(facts[a], roles=sorted(r)) for a, r in roles.items()),
                             key=lambda e: e["title"].lower()),
    })


def group(store: Store, iri: str) -> dict[str, Any]:
    """A party group's page: its members and the agreements made with all of them."""
    said = d.statements(store, iri)
    ref = said.get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    rows = store.select(
        P + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a s22a:partyGroup <{iri}> }} {REG_OR_REF} }}"
    )
    facts = agreement_facts(store, sorted(str(r["a"]) for r in rows))
    return with_labels(store, {
        "kind": "group", "iri": iri,
        "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
        "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
        "comment": d.text(ref.one(RDFS.comment)),
        "members": [str(m) for m in ref.all(ORG.hasMember)],
        "agreements": sorted(facts.values(), key=lambda e: e["title"].lower()),
    })


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
    narrower = {str(x) for x in ref.all(SKOS.narrower)} | {str(r["c"]) for r in store.select(
        P + f"SELECT ?c WHERE {{ GRAPH ?g {{ ?c skos:broader <{iri}> }} }}")}
    return with_labels(store, {
        "kind": "capability", "iri": iri,
        "title": d.text(ref.one(SKOS.prefLabel)) or d.text(ref.one(RDFS.label))
        or d.fallback_label(iri),
        "alt_labels": [str(x) for x in ref.all(SKOS.altLabel)],
        "definition": d.text(ref.one(SKOS.definition)),
        "scope_note": d.text(ref.one(SKOS.scopeNote)),
        "broader": [str(x) for x in ref.all(SKOS.broader)], "narrower": sorted(narrower),
        "schemes": [str(x) for x in ref.all(SKOS.inScheme)],
        "agreements": agreements_with(store, "s22a:capability", iri),
    })


def scheme(store: Store, iri: str) -> dict[str, Any]:
    """A concept scheme's page: its concepts as a tree, with how many agreements each has."""
    ref = d.statements(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    rows = store.select(
        P + f"""SELECT ?c ?broader (COUNT(DISTINCT ?a) AS ?n) WHERE {{
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
    data = with_labels(store, {
        "kind": "scheme", "iri": iri,
        "title": d.text(ref.one(SKOS.prefLabel)) or d.text(ref.one(RDFS.label)),
        "comment": d.text(ref.one(RDFS.comment)), "counts": counts,
        "children": dict(children), "concepts": sorted(counts),
    })
    for key in data["children"]:
        data["children"][key].sort(key=lambda c: data["labels"].get(c, c).lower())
    return data


def region(store: Store, iri: str) -> dict[str, Any]:
    """A region's page: its forces and the agreements among them."""
    ref = d.statements(store, iri).get(GRAPH_REFERENCE) or d.Said(GRAPH_REFERENCE)
    members = sorted(str(r["f"]) for r in store.select(
        P + f"SELECT ?f WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f s22a:region <{iri}> }} }}"))
    named: dict[str, set[str]] = defaultdict(set)
    for force_iri in members:
        for a, how in _named_agreements(store, force_iri).items():
            if how & {"named", "listed"}:
                named[a].add(force_iri)
    facts = agreement_facts(store, sorted(named))
    regional = [dict(facts[a], forces=sorted(fs)) for a, fs in named.items()
                if facts[a]["group"] != "National"]
    return with_labels(store, {
        "kind": "region", "iri": iri,
        "title": d.text(ref.one(RDFS.label)) or d.fallback_label(iri),
        "comment": d.text(ref.one(RDFS.comment)), "forces": members,
        "counts": {f: sum(1 for fs in named.values() if f in fs) for f in members},
        "agreements": sorted(regional, key=lambda e: e["title"].lower()),
    })


def register(store: Store, iri: str) -> dict[str, Any]:
    """A register's page: who publishes it, what it lists (in its own words), its versions."""
    own = d.statements(store, iri).get(iri) or d.Said(iri)
    rows = store.select(
        P + f"""SELECT ?a ?title ?date WHERE {{ GRAPH <{iri}> {{ <{iri}> s22a:lists ?a
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
    return with_labels(store, {
        "kind": "register", "iri": iri,
        "title": d.text(own.one(DCTERMS.title)) or d.text(own.one(RDFS.label))
        or d.fallback_label(iri),
        "force": d.text(own.one(S22A.force)), "publisher": d.text(own.one(DCTERMS.publisher)),
        "comment": d.text(own.one(RDFS.comment)), "listed_count": d.text(own.one(S22A.listedCount)),
        "source": source, "types": [str(t) for t in own.all(RDF.type)],
        "agreements": sorted(listed.values(), key=lambda e: e["title"].lower()),
        "versions": versions.history(store, iri),
    })


BUILDERS = {
    "agreement": agreement, "force": force, "body": body, "group": group,
    "capability": capability, "scheme": scheme, "region": region, "register": register,
}
