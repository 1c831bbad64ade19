"""One agreement as the registers describe it: each register's statement side by side, the
canonical record, whether every party force's register lists it, and where registers differ.

Reconciliation findings (the reconciliation graph) are used when they have been stored;
without them, confirmation and title, date and party differences are worked out here from
the register graphs.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from rdflib import URIRef
from rdflib.namespace import DCTERMS, ORG, OWL, RDFS, SKOS

from s22a import namespaces as ns
from s22a.namespaces import GRAPH_REFERENCE, S22A
from s22a.read import describe as d
from s22a.read.facts import P, forces, listed_by, short_keys, with_labels
from s22a.store import Store


def _register_statement(said: d.Said) -> dict[str, Any]:
    """One register's statement about an agreement, as the template shows it."""
    roles: dict[str, set[str]] = defaultdict(set)
    for predicate, role in (
        (S22A.party, "party"),
        (S22A.leadForce, "lead force"),
        (S22A.hostForce, "host force"),
    ):
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


def _confirmation(
    store: Store,
    iri: str,
    statements: list[dict[str, Any]],
    listing: list[str],
    canonical: dict[str, Any] | None,
) -> dict[str, Any]:
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
        state = (
            "confirms"
            if register in listing
            else "register does not list it"
            if register
            else "no register published"
        )
        states.append({"force": force, "register": register, "state": state})
    confirmed = [s for s in states if s["state"] == "confirms"]
    if party_forces and len(confirmed) == len(party_forces):
        status = "all"
    elif len(listing) > 1 or len(confirmed) > 1:
        status = "some"
    else:
        status = "publisher-only"
    return {
        "status": status,
        "forces": states,
        "confirmed": len(confirmed),
        "published": sum(1 for s in states if s["register"]),
        "description": None,
    }


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
            found.append(
                {
                    "types": {"Discrepancy"},
                    "aspect": aspect,
                    "others": set(),
                    "description": f"The registers give different {aspect}: compare "
                    "what each register says above.",
                    "iri": None,
                    "status": None,
                }
            )
    return found


def _status(name: str, default: str) -> str:
    """'all', 'some' or 'publisher-only' for a reconciliation status term's local name."""
    for word, status in (("All", "all"), ("Some", "some"), ("Publisher", "publisher-only")):
        if word in name:
            return status
    return default


def page(store: Store, iri: str) -> dict[str, Any]:
    """The agreement page: canonical record, each register's statement, confirmation, findings."""
    said = d.statements(store, iri)
    listing = listed_by(store, [iri])[iri]
    canonical: dict[str, Any] | None = None
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
            P
            + f"""SELECT ?g ?title WHERE {{ VALUES ?g {{ {
                " ".join(f"<{g}>" for g in register_graphs)
            } }} GRAPH ?g {{ ?g dcterms:source/dcterms:title ?title }} }}"""
        )
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
    return with_labels(
        store,
        {
            "kind": "agreement",
            "iri": iri,
            "title": title,
            "canonical": canonical,
            "statements": statements,
            "listed_by": listing,
            "parties": sorted(
                parties.values(), key=lambda p: ("lead force" not in p["roles"], p["iri"])
            ),
            "groups": union("groups"),
            "scopes": union("scopes"),
            "legal": union("legal"),
            "capabilities": union("capabilities"),
            "committees": union("committees"),
            "purpose": purposes[0] if purposes else (canonical or {}).get("comment", ""),
            "confirmation": confirmation,
            "findings": problems,
            "reconciled": reconciled,
        },
    )
