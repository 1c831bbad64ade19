"""Facts that many pages and lists share: which registers list an agreement, its scope, date and
parties as they say them, the forces, a party's partners, and labels for every IRI on a page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from rdflib.namespace import DCTERMS

from s22a.namespaces import GRAPH_REFERENCE, PREFIXES, S22A
from s22a.read import attribution
from s22a.read import describe as d
from s22a.store import Store

P = d.PREFIXES


# What graph ?g says about agreement ?a counts: the reference data's, or a register's that
# lists ?a (a register speaks only for itself; see `attribution`).
SAID_OF_A = attribution.entitled("g", "?a")


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


# A term written as a prefixed name in a note (`s22a:notStated`): pages show its label.
TERM = re.compile(r"\b([a-z][a-z0-9]*):([A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)")
# A note naming the transcribed source page by its file's number ("seed 004").
SEED = re.compile(r"\bseeds? ([0-9]{3})\b", re.IGNORECASE)


def _mentions(data: Any) -> tuple[set[str], bool]:
    """Every IRI-like string inside `data` (dicts, lists, sets, tuples), with the IRIs of the
    prefixed names in its text; and whether any text names a source by its file's number.

    One pass over the data without recursion (a page's data holds thousands of strings), then
    one search of all its text: neither pattern matches across the line breaks joining it."""
    found: set[str] = set()
    texts: list[str] = []
    records: list[str] = []  # other objects (a version...): searched for seed mentions only
    stack = [data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if value.startswith(("http://", "https://")):
                found.add(value)
            texts.append(value)
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            stack.extend(value)
        elif value is not None and not isinstance(value, int | float):
            records.append(repr(value))
    words = "\n".join(t for t in texts if not t.startswith(("http://", "https://")))
    for prefix, local in TERM.findall(words):
        if prefix in PREFIXES:
            found.add(f"{PREFIXES[prefix]}{local}")
    return found, bool(SEED.search("\n".join(texts + records)))


def with_labels(store: Store, data: dict[str, Any]) -> dict[str, Any]:
    """Add `labels` for every IRI the page data mentions."""
    iris, seed = _mentions(data)
    data["labels"] = d.labels(store, iris)
    if seed:
        data["labels"].update(seed_names(store))
    return data


def seed_names(store: Store) -> dict[str, str]:
    """'seed 004' -> the title of the source page a register was transcribed from, for notes
    that name a source by the number of its file."""
    rows = store.select(
        P + "SELECT ?id ?title WHERE { GRAPH ?g { ?g dcterms:source ?s . "
        "?s dcterms:identifier ?id ; dcterms:title ?title } }"
    )
    return {f"seed {str(r['id'])[:3]}": str(r["title"]) for r in rows if str(r["id"])[:3].isdigit()}


def forces(store: Store) -> dict[str, str | None]:
    """Every police force in the reference data, with its register's IRI (None if none): the
    register named for it (register:{slug}), never another register claiming it. Read once
    per dataset version (the store's change clock): every agreement page asks."""
    return dict(store.changes.derived("facts.forces", lambda: _forces(store)))


def _forces(store: Store) -> dict[str, str | None]:
    rows = store.select(
        P
        + f"""SELECT ?f ?r WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f a ?ftype }} {FORCE_TYPES}
        OPTIONAL {{ GRAPH ?r {{ ?r a s22a:Register ; s22a:force ?f }}
                    {attribution.same_slug("r", "f")} }} }}"""
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
    """What lists of agreements show of each: its leading title and date by the stated rule
    (`attribution.RULE`), every title and date with the registers giving it, and its scopes.

    `titles` and `dates` are (value, registers) pairs; `other_titles` those titles that are
    not the leading one, `disputed` whether the registers give different dates, `names` the
    names of those registers.
    """
    if not iris:
        return {}
    values = " ".join(f"<{i}>" for i in iris)
    rows = store.select(
        P
        + f"""SELECT DISTINCT ?a ?scope WHERE {{ VALUES ?a {{ {values} }}
            GRAPH ?g {{ ?a s22a:scope ?scope }} {SAID_OF_A} }}"""
    )
    scopes: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        scopes[str(row["a"])].add(str(row["scope"]))
    titles = attribution.said(store, iris, DCTERMS.title)
    dates = attribution.said(store, iris, S22A.dateMade)
    registers = {r for said in (titles, dates) for pairs in said.values() for r, _ in pairs}
    names = d.labels(store, [*iris, *registers])
    facts = {}
    for a in iris:
        title = names.get(a, d.fallback_label(a))
        by_title = attribution.grouped(titles[a])
        by_date = attribution.grouped(dates[a], same=False)
        facts[a] = {
            "iri": a,
            "title": title,
            "titles": by_title,
            "other_titles": [t for t in by_title if not attribution.same_text(t[0], title)],
            "date": by_date[0][0] if by_date else None,
            "dates": by_date,
            "disputed": len(by_date) > 1,
            "scopes": scopes[a],
            "group": scope_group(scopes[a]),
            "names": {r: names[r] for r in registers},  # the registers' names, for attribution
        }
    return facts


def _named_agreements(store: Store, party: str) -> dict[str, set[str]]:
    """Agreements naming `party` (or a group it belongs to, or listed by its register): how."""
    rows = store.select(
        P
        + f"""SELECT DISTINCT ?a ?how WHERE {{
          {{ GRAPH ?g {{ ?a {PARTY} <{party}> }} {SAID_OF_A} BIND("named" AS ?how) }}
          UNION {{ GRAPH ?g {{ ?a s22a:partyGroup ?grp }} {SAID_OF_A}
                   GRAPH <{GRAPH_REFERENCE}> {{ ?grp org:hasMember <{party}> }}
                   BIND("group" AS ?how) }}
          UNION {{ GRAPH ?r {{ ?r a s22a:Register ; s22a:force <{party}> ; s22a:lists ?a }}
                   BIND(<{party}> AS ?f) {attribution.same_slug("r", "f")}
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
          GRAPH ?g {{ ?a {PARTY} <{party}> }} {SAID_OF_A}
          GRAPH ?h {{ ?a {PARTY} ?other }} {attribution.entitled("h", "?a")}
          FILTER(?other != <{party}>)
          GRAPH <{GRAPH_REFERENCE}> {{ ?other a ?ftype }} {FORCE_TYPES}
        }} GROUP BY ?other ORDER BY DESC(?n) ?other"""
    )
    return [(str(r["other"]), int(r["n"])) for r in rows]


def agreements_with(store: Store, predicate: str, iri: str) -> list[dict[str, Any]]:
    """Agreements whose `predicate` is `iri` in any register or the reference data."""
    rows = store.select(
        P + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a {predicate} <{iri}> }} {SAID_OF_A} }}"
    )
    facts = agreement_facts(store, sorted(str(r["a"]) for r in rows))
    return sorted(facts.values(), key=lambda e: e["title"].lower())
