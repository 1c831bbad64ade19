"""Graphs as people read them on the history pages: the names of the things in them (from the
reference data and the ontology), what a graph says of one node, and triples as rows."""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Sequence
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, SKOS, XSD

from s22a.namespaces import FORCE, GRAPH_ONTOLOGY, GRAPH_REFERENCE, bind_prefixes
from s22a.store import Store


def reference_labels(store: Store, iris: Sequence[str]) -> dict[str, str]:
    """English labels of `iris` from the reference data and the ontology (never a register)."""
    wanted = sorted({i for i in iris if i.startswith(("http://", "https://"))})
    if not wanted:
        return {}
    values = " ".join(f"<{i}>" for i in wanted)
    rows = store.select(
        f"""SELECT ?s ?l WHERE {{ VALUES ?s {{ {values} }}
            VALUES ?g {{ <{GRAPH_REFERENCE}> <{GRAPH_ONTOLOGY}> }}
            GRAPH ?g {{ ?s <{RDFS.label}>|<{SKOS.prefLabel}> ?l }}
            FILTER(LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }}"""
    )
    return {str(r["s"]): str(r["l"]) for r in rows}


def register_name(store: Store, force: str) -> str:
    """What to call a force's register, e.g. 'Merseyside Police register'."""
    iri = str(FORCE[force])
    return f"{reference_labels(store, [iri]).get(iri, force)} register"


def iris_in(graph: Graph) -> list[str]:
    """Every IRI that stands in `graph`, in any position."""
    return [str(t) for triple in graph for t in triple if isinstance(t, URIRef)]


def statements(
    graph: Graph, node: URIRef, names: dict[str, str], link: Callable[[str], str]
) -> list[dict[str, Any]]:
    """What `graph` says about `node`, as rows of a property and its values (`link` makes an
    IRI's address on this server)."""
    rows: dict[str, dict[str, Any]] = {}
    for p, o in sorted(graph.predicate_objects(node)):
        row = rows.setdefault(str(p), {"property": names.get(str(p)) or term_words(p), "terms": []})
        if isinstance(o, URIRef):
            row["terms"].append({"text": names.get(str(o), str(o)), "href": link(str(o))})
        elif isinstance(o, Literal):
            row["terms"].append({"text": readable_literal(o), "href": None})
        else:  # a blank node: its own words, or what it says
            words = graph.value(o, DCTERMS.description) or graph.value(o, RDFS.label)
            text = (
                str(words)
                if words is not None
                else "; ".join(
                    readable_literal(v)
                    if isinstance(v, Literal)
                    else names.get(str(v)) or term_words(v)
                    for _, v in graph.predicate_objects(o)
                )
            )
            row["terms"].append({"text": text, "href": None})
    return list(rows.values())


def ntriples_lines(graph: Graph) -> list[str]:
    """The N-Triples lines of `graph`."""
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return [line for line in text.splitlines() if line.strip()]


def term_words(term: object) -> str:
    """A term without a label, as words: `dcterms:title` -> 'Title', `rdf:type` -> 'Type'."""
    local = re.split(r"[#/]", str(term).rstrip("/#"))[-1]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", local).capitalize()


def readable_literal(value: Literal) -> str:
    """A literal as people read it: its text, a date at its own precision ('March 2025'),
    never its datatype (`"2025-03"^^xsd:gYearMonth`)."""
    text = str(value)
    if value.datatype in (XSD.date, XSD.gYearMonth, XSD.gYear):
        parts = text.split("-")
        if len(parts) >= 2 and parts[1].isdigit() and 1 <= int(parts[1]) <= 12:
            month = calendar.month_name[int(parts[1])]
            day = parts[2][:2] if len(parts) > 2 and parts[2][:2].isdigit() else ""
            return f"{int(day)} {month} {parts[0]}" if day else f"{month} {parts[0]}"
    return text


def triple_rows(graph: Graph, names: dict[str, str]) -> list[tuple[str, str, str]]:
    """The triples of `graph` as people read them (labels, prefixed names, literals), sorted."""
    bind_prefixes(graph)
    manager = graph.namespace_manager

    def show(term: object) -> str:
        """A term as people read it: a label, a prefixed name, or a literal."""
        if isinstance(term, URIRef):
            return names.get(str(term)) or term.n3(manager)
        if isinstance(term, Literal):
            return readable_literal(term)
        return term.n3(manager) if hasattr(term, "n3") else str(term)

    return sorted((show(s), show(p), show(o)) for s, p, o in graph)
