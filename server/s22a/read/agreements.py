"""One agreement as the registers describe it: each register's statement side by side, the
canonical record, whether every party force's register lists it, and where registers differ.

Confirmation and the title, date and party differences are worked out from the statements
the page shows (`summary`); the reconciliation graph adds only splits and likely duplicates.
"""

from __future__ import annotations

import re
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from rdflib import URIRef
from rdflib.namespace import DCTERMS, ORG, OWL, RDFS, SKOS

from s22a import namespaces as ns
from s22a.namespaces import GRAPH_REFERENCE, S22A
from s22a.read import describe as d
from s22a.read import summary
from s22a.read.facts import P, forces, short_keys, with_labels
from s22a.store import Store

_FORM_WORDS = {"and", "clause", "arrangement"}  # words that add nothing to an aspect's name


def _words(text: str) -> set[str]:
    """A phrase's words, lower case and singular ('Funding models' -> {'funding', 'model'})."""
    found = re.findall(r"[a-z]+", re.sub(r"(?<=[a-z])(?=[A-Z])", " ", text).lower())
    return {w[:-1] if len(w) > 3 and w.endswith("s") else w for w in found} - _FORM_WORDS


def _governance(node: dict[str, list[str]]) -> dict[str, list[str]]:
    """A governance term, without a description that only repeats its aspect's name (Merseyside's
    page lists the aspects by name: "committee structures", "funding models")."""
    aspect = node.get("aspect", [""])[0].rsplit("#", 1)[-1]
    said = node.get("description", [])
    if aspect and said and all(_words(d) <= _words(aspect) for d in said):
        node = {k: v for k, v in node.items() if k != "description"}
    return node


# The terms a register's statement is read by, made once: rdflib's namespaces make a new URIRef
# at every attribute access, and a page reads dozens.
_S = SimpleNamespace(
    budget=S22A.budget,
    capability=S22A.capability,
    contribution=S22A.contribution,
    coveredBy=S22A.coveredBy,
    dateMade=S22A.dateMade,
    document=S22A.document,
    established=S22A.established,
    governance=S22A.governance,
    hostForce=S22A.hostForce,
    leadForce=S22A.leadForce,
    legalBasis=S22A.legalBasis,
    lifecycleEvent=S22A.lifecycleEvent,
    notStated=S22A.notStated,
    oversightCommittee=S22A.oversightCommittee,
    party=S22A.party,
    partyGroup=S22A.partyGroup,
    purpose=S22A.purpose,
    scope=S22A.scope,
    staffPosts=S22A.staffPosts,
    withheldUnder=S22A.withheldUnder,
    title=DCTERMS.title,
    alternative=DCTERMS.alternative,
    sameAs=OWL.sameAs,
    comment=RDFS.comment,
)


def _register_statement(said: d.Said) -> dict[str, Any]:
    """One register's statement about an agreement, as the template shows it."""
    roles: dict[str, set[str]] = defaultdict(set)
    for predicate, role in (
        (_S.party, "party"),
        (_S.leadForce, "lead force"),
        (_S.hostForce, "host force"),
    ):
        for party in said.all(predicate):
            roles[str(party)].add(role)
    not_stated = {str(n) for n in said.all(_S.notStated)}

    def nodes(predicate: URIRef) -> list[dict[str, list[str]]]:
        return [short_keys(said.node(b)) for b in said.all(predicate)]

    return {
        "graph": said.graph,
        "title": d.text(said.one(_S.title)),
        "alternatives": [str(a) for a in said.all(_S.alternative)],
        "purpose": d.text(said.one(_S.purpose)),
        "dates": [str(x) for x in said.all(_S.dateMade)],
        "date_not_stated": str(_S.dateMade) in not_stated,
        "established": [str(x) for x in said.all(_S.established)],
        "parties": sorted(roles.items(), key=lambda kv: ("lead force" not in kv[1], kv[0])),
        "parties_not_stated": str(_S.party) in not_stated,
        "groups": [str(g) for g in said.all(_S.partyGroup)],
        "scopes": [str(s) for s in said.all(_S.scope)],
        "legal": [str(x) for x in said.all(_S.legalBasis)],
        "capabilities": [str(c) for c in said.all(_S.capability)],
        "committees": [str(c) for c in said.all(_S.oversightCommittee)],
        "governance": sorted(
            map(_governance, nodes(_S.governance)), key=lambda n: n.get("aspect", [""])
        ),
        "budgets": nodes(_S.budget),
        "staff": [str(s) for s in said.all(_S.staffPosts)],
        "contributions": nodes(_S.contribution),
        "lifecycle": nodes(_S.lifecycleEvent),
        "documents": nodes(_S.document),
        "covered_by": [str(c) for c in said.all(_S.coveredBy)],
        "same_as": [str(c) for c in said.all(_S.sameAs)],
        "withheld": [str(w) for w in said.all(_S.withheldUnder)],
        "comments": [str(c) for c in said.all(_S.comment)],
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
    if groups:
        values = " ".join(f"<{group}>" for group in sorted(groups))
        rows = store.select(
            f"SELECT ?m WHERE {{ VALUES ?group {{ {values} }} "
            f"GRAPH ?g {{ ?group <{ORG.hasMember}> ?m }} }}"
        )
        members = {str(r["m"]) for r in rows}
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
    found = {
        "forces": states,
        "listed": listing,
        "confirmed": len(confirmed),
        "published": sum(1 for s in states if s["register"]),
        "lists": [s["force"] for s in confirmed],
        "unlisted": [s["force"] for s in states if s["register"] and s["state"] != "confirms"],
        "unpublished": [s["force"] for s in states if not s["register"]],
    }
    found["status"] = summary.status(statements, found)
    return found


def _listing(store: Store, iri: str) -> tuple[list[str], dict[str, str]]:
    """The registers that list agreement `iri` (sorted), and the title of each one's source."""
    rows = store.select(
        P
        + f"""SELECT ?r ?title WHERE {{ GRAPH ?r {{ ?r s22a:lists <{iri}>
            OPTIONAL {{ ?r dcterms:source/dcterms:title ?title }} }} }}"""
    )
    sources = {str(r["r"]): str(r["title"]) for r in rows if "title" in r}
    return sorted({str(r["r"]) for r in rows}), sources


# The finding types an agreement page shows (the rest it works out from the statements).
_SHOWN_FINDINGS = {"SplitListing", "LikelyDuplicate"}


def _flagged(store: Store) -> frozenset[str]:
    """The agreements that a finding the page shows is about, read once per dataset version:
    most agreements have none, and then their page asks nothing of the reconciliation."""

    def read() -> frozenset[str]:
        types = " ".join(f"s22a:{t}" for t in sorted(_SHOWN_FINDINGS))
        rows = store.select(
            P + f"SELECT DISTINCT ?a WHERE {{ GRAPH <{ns.GRAPH_RECONCILIATION}> {{ "
            f"?f s22a:aboutAgreement ?a ; a ?type }} VALUES ?type {{ {types} }} }}"
        )
        return frozenset(str(r["a"]) for r in rows)

    return store.changes.derived("agreements.flagged", read)


def page(store: Store, iri: str) -> dict[str, Any]:
    """The agreement page: canonical record, each register's statement, confirmation, findings.
    Raises `describe.NotDescribed` if no graph that may describe the agreement does."""
    listing, sources = _listing(store, iri)
    # The graphs that may speak of it (`attribution.own_graphs`), known now: no EXISTS per row.
    graphs = " ".join(f"<{g}>" for g in [GRAPH_REFERENCE, *listing])
    said = d.described(store, iri, f"VALUES ?g {{ {graphs} }}")
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

    # Confirmation and differences come from the statements this page shows (summary.py);
    # of the reconciliation's findings, only what the page cannot see: splits and duplicates.
    confirmation = _confirmation(store, iri, statements, listing, canonical)
    problems = []
    if iri in _flagged(store):
        problems = [f for f in d.findings(store, iri) if f["types"] & _SHOWN_FINDINGS]
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
            "differences": summary.differences(statements),
            "findings": problems,
        },
    )
