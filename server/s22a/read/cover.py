"""Is there cover? The agreements that have every one of some forces as parties and provide a
capability (or a narrower one), in force on a day, each with who confirms it.

An agreement counts when a force is named as its party, lead or host force (or is a member of a
party group such as "all forces of England and Wales") by a register or by the canonical record
in the reference data, and a capability it provides is the one asked for or narrower (SKOS
broader, any depth). On a day, the registers are taken as they stood at the end of that day
(`s22a.history.asof`), and an agreement dated after it, or terminated by then, is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from s22a import namespaces as ns
from s22a.history import asof
from s22a.namespaces import CAPABILITY, FORCE, REGISTER
from s22a.read import describe as d
from s22a.read.facts import FORCE_TYPES, PARTY, SAID_OF_A
from s22a.store import Store

P = d.PREFIXES
MAX_FORCES = 10


@dataclass
class Cover:
    """The question and its answer: the agreements, each a dict of its facts."""

    forces: list[str]
    capability: str | None
    day: date | None
    agreements: list[dict[str, Any]] = field(default_factory=list)


def _names_force(force: str) -> str:
    """A SPARQL condition: agreement ?a names `force` as a party, directly or by its group."""
    return (
        f"FILTER(EXISTS {{ GRAPH ?g {{ ?a {PARTY} <{force}> }} {SAID_OF_A} }} || "
        f"EXISTS {{ GRAPH ?g {{ ?a s22a:partyGroup ?group }} {SAID_OF_A} "
        f"GRAPH ?k {{ ?group org:hasMember <{force}> }} }})"
    )


def _provides(capability: str) -> str:
    return (
        f"FILTER EXISTS {{ GRAPH ?g {{ ?a s22a:capability ?c }} {SAID_OF_A} "
        f"GRAPH ?k {{ ?c skos:broader* <{capability}> }} }}"
    )


def _in_force(dates: set[str], ended: set[str], day: date) -> bool:
    """Made by `day` (or undated), and not terminated by then. Dates are compared at the
    precision they were given (a year, a month or a day)."""
    iso = day.isoformat()
    made = [x for x in dates if x[: len(iso)] <= iso[: len(x)]]
    if dates and not made:
        return False
    return not any(e[: len(iso)] <= iso[: len(e)] for e in ended)


def cover(store: Store, forces: list[str], capability: str | None, day: date | None) -> Cover:
    """The agreements covering `forces` (IRIs) for `capability` (an IRI, or None: any), on
    `day` (None: as the registers stand now)."""
    answer = Cover(forces, capability, day)
    if not forces:
        return answer
    source = asof.dataset_at(store, asof.as_instant(day)) if day else store
    conditions = " ".join(_names_force(f) for f in forces)
    if capability:
        conditions += " " + _provides(capability)
    rows = source.select(
        P
        + f"""SELECT DISTINCT ?a WHERE {{ GRAPH ?r {{ ?r s22a:lists ?a }}
        FILTER(STRSTARTS(STR(?r), "{REGISTER}")) {conditions} }} ORDER BY ?a"""
    )
    found = [str(r["a"]) for r in rows]
    if not found:
        return answer
    values = " ".join(f"<{a}>" for a in found)
    said = source.select(
        P
        + f"""SELECT ?a ?p ?o ?g WHERE {{ VALUES ?a {{ {values} }}
        VALUES ?p {{ s22a:dateMade s22a:party s22a:leadForce s22a:hostForce }}
        GRAPH ?g {{ ?a ?p ?o }} {SAID_OF_A} }}"""
    )
    ended = source.select(
        P
        + f"""SELECT ?a ?when WHERE {{ VALUES ?a {{ {values} }} GRAPH ?g {{
        ?a s22a:lifecycleEvent ?e . ?e a s22a:Termination ; dcterms:date ?when }} {SAID_OF_A} }}"""
    )
    members = source.select(
        P
        + f"""SELECT ?a ?m WHERE {{ VALUES ?a {{ {values} }}
        GRAPH ?g {{ ?a s22a:partyGroup ?group }}
        {SAID_OF_A} GRAPH ?k {{ ?group org:hasMember ?m }} }}"""
    )
    listing = source.select(
        P + f"SELECT ?a ?r WHERE {{ VALUES ?a {{ {values} }} GRAPH ?r {{ ?r s22a:lists ?a }} }}"
    )
    registers_of = {
        str(r["f"]): str(r["r"])
        for r in source.select(
            P + "SELECT ?f ?r WHERE { GRAPH ?r { ?r a s22a:Register ; s22a:force ?f } }"
        )
    }
    police = {
        str(r["f"])
        for r in source.select(
            P + f"SELECT ?f WHERE {{ GRAPH ?x {{ ?f a ?ftype }} {FORCE_TYPES} }}"
        )
    }
    titles = d.labels(source, found)
    for agreement in found:
        dates = {
            str(r["o"]) for r in said if str(r["a"]) == agreement and r["p"].endswith("dateMade")
        }
        stops = {str(r["when"]) for r in ended if str(r["a"]) == agreement}
        if day is not None and not _in_force(dates, stops, day):
            continue
        named = {
            str(r["o"])
            for r in said
            if str(r["a"]) == agreement and not r["p"].endswith("dateMade")
        }
        named |= {str(r["m"]) for r in members if str(r["a"]) == agreement}
        parties = sorted(named & police)
        lists = sorted(str(r["r"]) for r in listing if str(r["a"]) == agreement)
        confirming = [f for f in parties if registers_of.get(f) in lists]
        answer.agreements.append(
            {
                "iri": agreement,
                "title": titles.get(agreement, agreement),
                "dates": sorted(dates),
                "parties": parties,
                "listed_by": lists,
                "confirmed_by": confirming,
                "confirmation": _confirmation(len(confirming), len(parties)),
            }
        )
    return answer


def _confirmation(confirming: int, parties: int) -> str:
    if parties and confirming == parties:
        return "all"
    if confirming:
        return "some"
    return "none"


def force_iri(slug: str) -> str:
    """The IRI of the force `slug`."""
    return str(FORCE[slug])


def capability_iri(slug: str) -> str:
    """The IRI of the capability `slug`."""
    return str(CAPABILITY[slug])


def choices(store: Store) -> dict[str, list[tuple[str, str]]]:
    """What the question may name: police forces and capabilities, as (slug, name) by name."""
    forces = store.select(
        P
        + f"""SELECT ?f (SAMPLE(?name) AS ?n) WHERE {{ GRAPH <{ns.GRAPH_REFERENCE}> {{
        ?f a ?ftype ; rdfs:label ?name }} {FORCE_TYPES} }} GROUP BY ?f"""
    )
    capabilities = store.select(
        P
        + f"""SELECT ?c (SAMPLE(?name) AS ?n) WHERE {{ GRAPH <{ns.GRAPH_REFERENCE}> {{
        ?c skos:inScheme <{ns.CAPABILITY_SCHEME}> ; skos:prefLabel ?name }} }} GROUP BY ?c"""
    )

    def pairs(rows: list[dict[str, Any]], prefix: str) -> list[tuple[str, str]]:
        found = [
            (str(r["f" if "f" in r else "c"])[len(prefix) :], str(r["n"]))
            for r in rows
            if str(r["f" if "f" in r else "c"]).startswith(prefix)
        ]
        return sorted(found, key=lambda pair: pair[1].casefold())

    return {
        "forces": pairs(forces, str(FORCE)),
        "capabilities": pairs(capabilities, str(CAPABILITY)),
    }
