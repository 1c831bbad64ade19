"""Who says what: which graphs may speak about a thing, and whose word leads where they differ.

A register speaks only for itself (DESIGN.md): what a register graph says about an agreement
counts only if that register lists the agreement; forces, bodies, regions, groups,
capabilities and the ontology are described by the reference data (and the ontology) alone;
a register is described by its own graph. The gate refuses anything else, and the read side
reads only these statements, so data that reached the store some other way is not shown.

Where registers give an agreement different titles or dates, each is shown with the register
that gives it, and one leads (it names the agreement in lists and sorts them) by a rule the
pages state: the canonical record's name where there is one, else the title given by the
register that published the agreement first (whose register item for it is the oldest); a
date is that register's too, or, where it gives none, the next register's. A register that
lists an agreement later cannot take over how it is named or dated.
"""

from __future__ import annotations

from collections.abc import Iterable

from rdflib.namespace import DCTERMS
from rdflib.term import URIRef

from s22a import namespaces as ns
from s22a.namespaces import BASE, GRAPH_META, GRAPH_ONTOLOGY, GRAPH_REFERENCE, TYPES, is_slug
from s22a.store import Store

REF = GRAPH_REFERENCE
# The kinds of thing only the reference data describes.
REFERENCE_KINDS = frozenset({"force", "body", "region", "group", "capability", "scheme"})
AGREEMENTS = str(ns.AGREEMENT)

# Said in every list that sorts or names agreements.
RULE = (
    "An agreement goes by the name of its canonical record where it has one, else by the "
    "title given by the register that published it first; its date is that register's (or, "
    "where it gives none, the next register's). Where other registers give another title or "
    "date, each is shown with the register that gives it."
)


def kind_of(iri: str) -> str | None:
    """The kind of a canonical thing IRI ('agreement', 'force'...), None for anything else."""
    if not iri.startswith(BASE + "id/"):
        return None
    kind, _, slug = iri[len(BASE) + 3 :].partition("/")
    return kind if kind in TYPES and is_slug(slug) else None


def entitled(graph: str, subject: str) -> str:
    """A SPARQL filter: graph ?`graph` may speak about agreement `subject` (a variable such as
    '?a', or an <IRI>): it is the reference data, or a register that lists it."""
    return (
        f"FILTER(?{graph} = <{REF}> || EXISTS {{ GRAPH ?{graph} {{ ?{graph} "
        f"<{ns.S22A.lists}> {subject} }} }})"
    )


def own_graphs(iri: str, graph: str = "g") -> str:
    """A SPARQL filter on ?`graph`: the graphs that may describe `iri`, by what it is."""
    kind = kind_of(iri)
    if kind == "agreement":
        return entitled(graph, f"<{iri}>")
    if kind == "register":
        return f"FILTER(?{graph} = <{iri}>)"
    return f"FILTER(?{graph} IN (<{REF}>, <{GRAPH_ONTOLOGY}>))"


def same_slug(register: str, force: str) -> str:
    """A SPARQL filter: register ?`register` is the register of force ?`force` (register:{slug}
    speaks for force:{slug}, as the catalogue and the tokens pair them)."""
    return (
        f'FILTER(STRAFTER(STR(?{register}), "{ns.REGISTER}") = '
        f'STRAFTER(STR(?{force}), "{ns.FORCE}"))'
    )


# SPARQL: ?first is when register ?r first listed agreement ?s (its register item's
# dcterms:dateSubmitted; for an item recorded before those were kept, when ?r's first version
# was accepted); unbound if the store has no record of either.
FIRST_LISTED = f"""OPTIONAL {{ GRAPH <{GRAPH_META}> {{ ?item <{ns.REG.register}> ?r ;
        <{ns.REG.definition}> ?definition ; <{DCTERMS.dateSubmitted}> ?submitted .
        ?definition <{ns.REG.entity}> ?s }} }}
    OPTIONAL {{ GRAPH <{GRAPH_META}> {{ ?firstVersion <{DCTERMS.isVersionOf}> ?r ;
        <{ns.S22A.versionNumber}> 1 ; <{ns.PROV.generatedAtTime}> ?registered }} }}
    BIND(COALESCE(?submitted, ?registered) AS ?first)"""


def lead_key(predicate: str, name: str) -> str:
    """A SPARQL subquery binding ?s and ?`name`: '{first listed} {register} {value}' for the
    register that first listed ?s among those listing it and giving a `predicate`; the value
    follows the second space (`lead_value`). Registers with no record come last."""
    return f"""{{ SELECT ?s (MIN(?key) AS ?{name}) WHERE {{
        GRAPH ?r {{ ?r <{ns.S22A.lists}> ?s . ?s {predicate} ?v }} {FIRST_LISTED}
        BIND(CONCAT(COALESCE(STR(?first), "~"), " ", STR(?r), " ", STR(?v)) AS ?key)
      }} GROUP BY ?s }}"""


def lead_value(name: str) -> str:
    """The SPARQL expression of the value in a `lead_key`."""
    return f'STRAFTER(STRAFTER(?{name}, " "), " ")'


def said(
    store: Store, agreements: Iterable[str], predicate: URIRef
) -> dict[str, list[tuple[str, str]]]:
    """For each agreement, (register, value) for every `predicate` value a register listing it
    gives, the register that listed it first first (as `lead_key` orders them)."""
    wanted = sorted(set(agreements))
    found: dict[str, list[tuple[str, str]]] = {a: [] for a in wanted}
    order: dict[tuple[str, str], tuple[str, str]] = {}
    for start in range(0, len(wanted), 200):
        values = " ".join(f"<{a}>" for a in wanted[start : start + 200])
        rows = store.select(
            f"""SELECT DISTINCT ?s ?r ?v ?first WHERE {{ VALUES ?s {{ {values} }}
            GRAPH ?r {{ ?r <{ns.S22A.lists}> ?s . ?s <{predicate}> ?v }} {FIRST_LISTED} }}"""
        )
        for row in rows:
            agreement, register = str(row["s"]), str(row["r"])
            found[agreement].append((register, str(row["v"])))
            order[agreement, register] = (str(row.get("first", "~")), register)
    for agreement, pairs in found.items():
        pairs.sort(key=lambda rv: (order[agreement, rv[0]], rv[1]))
    return found


def same_text(first: str, second: str) -> bool:
    """Whether two titles say the same, whatever their case, spacing and punctuation."""

    def words(text: str) -> list[str]:
        return "".join(c if c.isalnum() else " " for c in text.casefold()).split()

    return words(first) == words(second)


def grouped(values: list[tuple[str, str]], same: bool = True) -> list[tuple[str, list[str]]]:
    """(value, registers giving it) in the order of `values`; with `same`, titles that differ
    only in case, spacing or punctuation count as one (the first one's words are kept)."""
    groups: list[tuple[str, list[str]]] = []
    for register, value in values:
        for text, registers in groups:
            if same_text(text, value) if same else text == value:
                if register not in registers:
                    registers.append(register)
                break
        else:
            groups.append((value, [register]))
    return groups
