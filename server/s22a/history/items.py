"""The register items of a version (UKGovLD ``reg:RegisterItem``s in the meta graph): one per
listed agreement, with its definition, status and first submission, and the changes a new
version makes to them spelt out as DATA (`as_data`) for the embedded store."""

from __future__ import annotations

from collections import defaultdict

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, RDF
from rdflib.term import Node

from s22a.namespaces import GRAPH_META, REG, S22A, SPARQL_PREFIXES
from s22a.store import Store

PREFIXES = SPARQL_PREFIXES


def item(register: str, agreement: str) -> str:
    """The IRI of the register's item listing `agreement`."""
    return f"{register}/item/{agreement.rsplit('/', 1)[-1]}"


def statements(register: str, withheld: str | None) -> list[tuple[URIRef, Node]]:
    """What a listed agreement's register item says of itself (`withheld`: the provision it is
    withheld under), but for its definition (a blank node naming the agreement) and when it was
    first submitted: one list for the guarded update's template and for the DATA."""
    said: list[tuple[URIRef, Node]] = [
        (RDF.type, REG.RegisterItem),
        (REG.register, URIRef(register)),
        (REG.status, REG.statusValid),
    ]
    return said + ([(S22A.withheldUnder, URIRef(withheld))] if withheld else [])


def turtle(register: str, agreement: str, withheld: str | None) -> str:
    """A listed agreement's register item, with its definition, as Turtle."""
    said = " ; ".join(f"{p.n3()} {o.n3()}" for p, o in statements(register, withheld))
    return f"<{item(register, agreement)}> {said} ; reg:definition [ reg:entity <{agreement}> ] ."


def as_data(
    store: Store,
    register: str,
    record: str,
    archive: str,
    agreements: list[str],
    withheld: dict[str, str],
    stamp: Literal,
) -> str | None:
    """The record of a new version as DATA operations: what the guarded update does (supersede
    the register's valid versions, retire the items it no longer lists, make each listed item
    valid with its definition, keeping when it was first submitted), worked out from the
    stored items. None where an item's definition is not the one it would be given (another
    entity, or more than one): blank nodes cannot be deleted by DATA, so the caller uses the
    guarded update instead."""
    meta = f"GRAPH <{GRAPH_META}>"
    stated: dict[str, set[tuple[Node, Node]]] = defaultdict(set)
    for row in store.select(
        PREFIXES + f"SELECT ?item ?p ?o WHERE {{ {meta} {{ ?item reg:register <{register}> ; "
        f"?p ?o FILTER(?p != reg:definition) }} }}"
    ):
        stated[str(row["item"])].add((row["p"], row["o"]))
    defined: dict[str, set[tuple[str, Node | None, Node | None]]] = defaultdict(set)
    for row in store.select(
        PREFIXES + f"SELECT ?item ?d ?p ?o WHERE {{ {meta} {{ ?item reg:register <{register}> ; "
        f"reg:definition ?d OPTIONAL {{ ?d ?p ?o }} }} }}"
    ):
        defined[str(row["item"])].add((str(row["d"]), row.get("p"), row.get("o")))
    removed: list[str] = []
    added: list[str] = []
    listed = {item(register, a): a for a in agreements}
    for iri, agreement in listed.items():
        definitions = defined.get(iri, set())
        if not definitions:
            added.append(f"<{iri}> reg:definition [ reg:entity <{agreement}> ] .")
        elif [(p, o) for _, p, o in definitions] != [(REG.entity, URIRef(agreement))]:
            return None
        want: set[tuple[Node, Node]] = set(statements(register, withheld.get(agreement)))
        have = stated.get(iri, set())
        if not any(p == DCTERMS.dateSubmitted for p, _ in have):
            want.add((DCTERMS.dateSubmitted, stamp))
        removed += (
            f"<{iri}> {p.n3()} {o.n3()} ." for p, o in have - want if p != DCTERMS.dateSubmitted
        )
        added += (f"<{iri}> {p.n3()} {o.n3()} ." for p, o in want - have)
    for iri, have in stated.items():  # the items no longer listed are retired
        if iri not in listed and (REG.status, REG.statusValid) in have:
            removed.append(f"<{iri}> reg:status reg:statusValid .")
            added.append(f"<{iri}> reg:status reg:statusRetired .")
    for row in store.select(
        PREFIXES + f"SELECT ?old WHERE {{ {meta} {{ ?old a s22a:RegisterVersion ; "
        f"dcterms:isVersionOf <{register}> ; reg:status reg:statusValid }} }}"
    ):
        removed.append(f"<{row['old']}> reg:status reg:statusValid .")
        added.append(f"<{row['old']}> reg:status reg:statusSuperseded .")
    # DELETE DATA first (nothing it names is in INSERT DATA); no prologue, as `Then`'s.
    lines = "\n".join
    deletion = f"DELETE DATA {{ {meta} {{ {lines(removed)} }} }} ;\n" if removed else ""
    return deletion + f"INSERT DATA {{ {meta} {{ {record}\n{lines(added)} }}\n{archive} }}"
