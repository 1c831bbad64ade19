"""Facts that many pages and lists share: which registers list an agreement, its scope, date and
parties as they say them, the forces, a party's partners, and labels for every IRI on a page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from s22a import namespaces as ns
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


def agreements_with(store: Store, predicate: str, iri: str) -> list[dict[str, Any]]:
    """Agreements whose `predicate` is `iri` in any register or the reference data."""
    rows = store.select(
        P + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a {predicate} <{iri}> }} {REG_OR_REF} }}"
    )
    facts = agreement_facts(store, sorted(str(r["a"]) for r in rows))
    return sorted(facts.values(), key=lambda e: e["title"].lower())
