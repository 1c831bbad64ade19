"""What the store says about one thing: its identity, its labels, its RDF graph, its page data.

Every query reads the store through the `Store` interface. The register graphs, the reference
graph and the ontology graph are the content; the meta and archive graphs (load records,
snapshots) are left out of documents, and the reconciliation graph is read only for findings.
RDF built here carries canonical IRIs (`https://w3id.org/s22a/...`) whatever server runs it.
"""

from __future__ import annotations

import difflib
import re
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SKOS
from rdflib.term import BNode, Node

from s22a import namespaces as ns
from s22a.history import versions
from s22a.namespaces import (
    BASE,
    GRAPH_ARCHIVE,
    GRAPH_META,
    GRAPH_RECONCILIATION,
    S22A,
    TYPES,
    is_slug,
)
from s22a.read import attribution
from s22a.store import Store

# Other IRIs the service mints under /id/ (register versions and items, findings): any path
# of safe characters, a % only as a whole percent-encoding (RFC 3987 pct-encoded: the SPARQL
# parser refuses any other). Only such paths are ever written into a query as an IRI.
_CHAR = r"(?:[A-Za-z0-9._~-]|%[0-9A-Fa-f]{2})"
PATH = re.compile(rf"^[A-Za-z0-9]{_CHAR}*(/{_CHAR}+){{0,8}}\Z")

PREFIXES = ns.SPARQL_PREFIXES
# Graphs whose triples are content (not load records, snapshots or findings).
CONTENT = f"FILTER(?g NOT IN (<{GRAPH_META}>, <{GRAPH_ARCHIVE}>, <{GRAPH_RECONCILIATION}>))"

# Acts whose sections agreements name as their legal basis (legislation.gov.uk ids).
ACTS = {
    "ukpga/1996/16": "Police Act 1996",
    "ukpga/1997/50": "Police Act 1997",
    "ukpga/2000/23": "Regulation of Investigatory Powers Act 2000",
    "ukpga/2016/25": "Investigatory Powers Act 2016",
}
LEGISLATION_ID = "http://www.legislation.gov.uk/id/"


def canonical(kind: str, slug: str) -> str:
    """The canonical IRI of the thing of `kind` with `slug`."""
    return f"{BASE}id/{kind}/{slug}"


def kind_and_slug(iri: str) -> tuple[str, str] | None:
    """(kind, slug) for a canonical thing IRI, None for anything else."""
    if not iri.startswith(BASE + "id/"):
        return None
    kind, _, slug = iri[len(BASE) + 3 :].partition("/")
    if kind in TYPES and is_slug(slug):
        return kind, slug
    return None


def exists(store: Store, iri: str) -> bool:
    """Whether the graphs that may describe `iri` (`attribution.own_graphs`) do."""
    return store.ask(f"ASK {{ GRAPH ?g {{ <{iri}> ?p ?o }} {attribution.own_graphs(iri)} }}")


def exists_anywhere(store: Store, iri: str) -> bool:
    """Whether any graph but the archive describes `iri` (load records and findings count)."""
    return store.ask(f"ASK {{ GRAPH ?g {{ <{iri}> ?p ?o }} FILTER(?g != <{GRAPH_ARCHIVE}>) }}")


def slugs(store: Store, kind: str) -> list[str]:
    """The slugs of every thing of `kind` the content graphs describe."""
    return _slug_index(store).get(kind, [])


# The slugs of every kind, built with one pass over the content graphs once per dataset
# version, so that a "did you mean" on a 404 is a lookup, not a scan of every graph.
_INDEX: dict[int, tuple[str, dict[str, list[str]]]] = {}
_INDEX_LOCK = threading.Lock()


def _slug_index(store: Store) -> dict[str, list[str]]:
    token = versions.dataset_version(store)
    with _INDEX_LOCK:
        cached = _INDEX.get(id(store))
        if cached and cached[0] == token:
            return cached[1]
    things = f"{BASE}id/"
    rows = store.select(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {CONTENT} "
        f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{things}")) }}'
    )
    index: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        kind, _, slug = str(row["s"])[len(things) :].partition("/")
        if kind in TYPES and slug:
            index[kind].append(slug)
    built = {kind: sorted(found) for kind, found in index.items()}
    with _INDEX_LOCK:
        _INDEX.clear()  # one store per process in production; tests make many
        _INDEX[id(store)] = (token, built)
    return built


def suggestions(store: Store, kind: str, slug: str, limit: int = 5) -> list[tuple[str, str]]:
    """Things whose slug is close to `slug`, of `kind` first: (kind, slug) pairs."""
    slug = slug.lower()[:120]
    found: list[tuple[str, str]] = []
    kinds = [kind] + [k for k in TYPES if k != kind] if kind in TYPES else list(TYPES)
    for other in kinds:
        known = slugs(store, other)
        close = difflib.get_close_matches(slug, known, n=limit, cutoff=0.6)
        close += [s for s in known if slug and len(slug) >= 3 and slug in s and s not in close]
        found += [(other, s) for s in close]
    return found[:limit]


def legislation_label(iri: str) -> str | None:
    """A readable name for a legislation.gov.uk id, e.g. 'Police Act 1996, section 22A'."""
    if not iri.startswith(LEGISLATION_ID):
        return None
    parts = iri[len(LEGISLATION_ID) :].split("/")
    act = ACTS.get("/".join(parts[:3]), " ".join(parts[:3]))
    rest = " ".join(parts[3:])
    return f"{act}, {rest}" if rest else act


def legislation_page(iri: str) -> str:
    """The legislation.gov.uk page for people that a legislation id names."""
    return "https://www.legislation.gov.uk/" + iri[len(LEGISLATION_ID) :]


def fallback_label(iri: str) -> str:
    """A label made from the IRI when the store has none."""
    named = legislation_label(iri)
    if named:
        return named
    tail = re.split(r"[/#]", iri.rstrip("/"))[-1]
    return tail.replace("-", " ").capitalize() if tail else iri


def _best_labels(rows: list[dict[str, Any]], predicates: tuple[URIRef, ...]) -> dict[str, str]:
    """The best label of each subject in `rows` (?s ?p ?o): by predicate, English, least."""
    best: dict[str, tuple[int, int, str]] = {}
    for row in rows:
        o = row["o"]
        english = 0 if isinstance(o, Literal) and o.language in ("en", None) else 1
        key = (predicates.index(URIRef(str(row["p"]))), english, str(o))
        s = str(row["s"])
        if s not in best or key < best[s]:
            best[s] = key
    return {s: key[2] for s, key in best.items()}


# The labels found so far, per store and dataset version: a page names dozens of things
# (parties, capabilities, registers) whose names change only with the data, so a cold render
# reads only those no page has asked for since the last write. At most _LABELS_KEPT per store.
_LABELS: weakref.WeakKeyDictionary[Store, tuple[str, dict[str, str]]] = weakref.WeakKeyDictionary()
_LABELS_LOCK = threading.Lock()
_LABELS_KEPT = 50_000


def labels(store: Store, iris: Iterable[str]) -> dict[str, str]:
    """The name of each IRI, from whoever may give it (`attribution`): the reference data's
    (skos:prefLabel, else rdfs:label) for forces, bodies, regions, capabilities, canonical
    records and ontology terms; an agreement without a canonical record goes by the title
    the register that published it first gives it; a register by its own graph's label."""
    wanted = sorted({str(i) for i in iris if isinstance(i, str | URIRef) and "://" in str(i)})
    token = versions.current_state(store).token
    with _LABELS_LOCK:
        kept = _LABELS.get(store)
        known = kept[1] if kept and kept[0] == token else {}
        missing = [i for i in wanted if i not in known]
    if missing:
        found = _labels(store, missing)
        with _LABELS_LOCK:
            kept = _LABELS.get(store)
            if not kept or kept[0] != token or len(kept[1]) > _LABELS_KEPT:
                kept = (token, {})
                _LABELS[store] = kept
            kept[1].update(found)
        known = {**known, **found}
    return {i: known[i] for i in wanted}


def _labels(store: Store, wanted: list[str]) -> dict[str, str]:
    """`labels` of the IRIs `wanted`, read from the store."""
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 200):
        chunk = " ".join(f"<{i}>" for i in wanted[start : start + 200])
        reference = store.select(
            PREFIXES + f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} "
            f"VALUES ?p {{ skos:prefLabel rdfs:label }} GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER(?g IN (<{ns.GRAPH_REFERENCE}>, <{ns.GRAPH_ONTOLOGY}>)) }}"
        )
        found.update(_best_labels(reference, (SKOS.prefLabel, RDFS.label)))
        own = store.select(
            PREFIXES + f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {chunk} }} "
            f"VALUES ?p {{ rdfs:label dcterms:title }} GRAPH ?s {{ ?s ?p ?o }} }}"
        )
        found.update(_best_labels(own, (RDFS.label, DCTERMS.title)))
    untitled = [i for i in wanted if i not in found and attribution.kind_of(i) == "agreement"]
    for predicate in (DCTERMS.title, RDFS.label):
        for agreement, values in attribution.said(store, untitled, predicate).items():
            if values and agreement not in found:
                found[agreement] = values[0][1]
    return {i: found.get(i) or fallback_label(i) for i in wanted}


# ---------------------------------------------------------------------------
# RDF documents


def cbd_query(iri: str, graphs: str = CONTENT) -> str:
    """A CONSTRUCT of the concise bounded description of `iri` (blank nodes two deep)."""
    return f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH ?g {{
        {{ BIND(<{iri}> AS ?s) <{iri}> ?p ?o }}
        UNION {{ <{iri}> ?p1 ?s . FILTER(isBlank(?s)) ?s ?p ?o }}
        UNION {{ <{iri}> ?p1 ?b . FILTER(isBlank(?b)) ?b ?p2 ?s . FILTER(isBlank(?s)) ?s ?p ?o }}
      }} {graphs} }}"""


# The graph ?g may speak about ?s: the reference data or ontology, ?s's own register graph, or
# a register listing ?s.
SPEAKS_FOR_SUBJECT = (
    f"FILTER(?g IN (<{ns.GRAPH_REFERENCE}>, <{ns.GRAPH_ONTOLOGY}>) || ?g = ?s "
    f"|| EXISTS {{ GRAPH ?g {{ ?g <{S22A.lists}> ?s }} }})"
)


def document_graph(store: Store, iri: str, graphs: str | None = None) -> Graph:
    """The RDF about `iri`: what the graphs that may describe it say of it (by default
    `attribution.own_graphs`), the links into it from statements their graphs may make,
    labels, and for an agreement the reconciliation's findings, which say which register
    gives which title, date and parties where they differ."""
    graph = store.construct(cbd_query(iri, graphs or attribution.own_graphs(iri)))
    inbound = store.construct(
        f"CONSTRUCT {{ ?s ?p <{iri}> }} WHERE {{ GRAPH ?g {{ ?s ?p <{iri}> }} "
        f"{graphs or SPEAKS_FOR_SUBJECT} FILTER(isIRI(?s)) }} LIMIT 2000"
    )
    graph += inbound
    if graphs is None and attribution.kind_of(iri) == "agreement":
        graph += store.construct(
            f"""CONSTRUCT {{ ?f ?p ?o . ?st ?sp ?so }} WHERE {{ GRAPH <{GRAPH_RECONCILIATION}> {{
                ?f <{S22A.aboutAgreement}> <{iri}> ; ?p ?o .
                OPTIONAL {{ ?f <{S22A.statement}> ?st . ?st ?sp ?so }} }} }}"""
        )
    linked = {str(o) for o in graph.objects() if isinstance(o, URIRef)}
    linked |= {str(s) for s in inbound.subjects()}
    linked.discard(iri)
    graph += label_graph(store, linked)
    ns.bind_prefixes(graph)
    return graph


def label_graph(store: Store, iris: Iterable[str]) -> Graph:
    """rdfs:label triples for IRIs under the service's base, so RDF readers can name links."""
    graph = Graph()
    for iri, label in labels(store, (i for i in iris if i.startswith(BASE))).items():
        graph.add((URIRef(iri), RDFS.label, Literal(label, lang="en")))
    return graph


# ---------------------------------------------------------------------------
# What each graph says about a thing, for pages


@dataclass
class Said:
    """What one graph says about a subject: predicate -> objects, and its blank nodes' content."""

    graph: str
    values: dict[str, list[Node]] = field(default_factory=lambda: defaultdict(list))
    nodes: dict[str, dict[str, list[Node]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )

    def all(self, predicate: URIRef) -> list[Node]:
        """Every object of `predicate`, sorted for stable pages."""
        return sorted(self.values.get(str(predicate), []), key=str)

    def one(self, predicate: URIRef) -> Node | None:
        """One object of `predicate` (the least, for stable pages), or None."""
        found = self.all(predicate)
        return found[0] if found else None

    def node(self, bnode: Node) -> dict[str, list[Node]]:
        """The predicate -> objects map of one blank node."""
        return self.nodes.get(str(bnode), {})


NOT_ARCHIVE = f"FILTER(?g != <{GRAPH_ARCHIVE}>)"


def statements(store: Store, iri: str, graphs: str | None = None) -> dict[str, Said]:
    """What each graph that may describe `iri` (by default `attribution.own_graphs`) says
    about it, by graph, blank nodes one level down."""
    graphs = graphs or attribution.own_graphs(iri)
    rows = store.select(
        f"""SELECT ?g ?p ?o ?bp ?bo WHERE {{ GRAPH ?g {{ <{iri}> ?p ?o
              OPTIONAL {{ FILTER(isBlank(?o)) ?o ?bp ?bo }} }} {graphs} }}"""
    )
    said: dict[str, Said] = {}
    seen: set[tuple[str, str, str]] = set()
    for row in rows:
        g = str(row["g"])
        entry = said.get(g) or said.setdefault(g, Said(g))
        p, o = str(row["p"]), row["o"]
        if not isinstance(o, BNode):
            entry.values[p].append(o)  # one row each: the OPTIONAL adds rows for blank nodes only
            continue
        if (g, p, str(o)) not in seen:  # a blank node's row for each of its statements
            seen.add((g, p, str(o)))
            entry.values[p].append(o)
        if "bp" in row:
            entry.nodes[str(o)][str(row["bp"])].append(row["bo"])
    return said


class NotDescribed(LookupError):
    """No graph that may describe an IRI says anything of it: the thing does not exist."""


def described(store: Store, iri: str, graphs: str | None = None) -> dict[str, Said]:
    """`statements`, or `NotDescribed` if there are none (what `exists` asks, in the same
    query: a page that reads the statements needs no question of its own first)."""
    said = statements(store, iri, graphs)
    if not said:
        raise NotDescribed(iri)
    return said


def merged(said: dict[str, Said], predicate: URIRef) -> list[Node]:
    """The objects of `predicate` in any graph, without repeats, sorted."""
    return sorted({o for s in said.values() for o in s.values.get(str(predicate), [])}, key=str)


def text(node: Node | None) -> str:
    """A literal's lexical form (or an IRI's string); empty for None."""
    return "" if node is None else str(node)


def types_of(said: dict[str, Said]) -> list[str]:
    """The rdf:type IRIs any graph gives."""
    return [str(t) for t in merged(said, RDF.type)]


def findings(store: Store, iri: str, about: URIRef = S22A.aboutAgreement) -> list[dict[str, Any]]:
    """Reconciliation findings about `iri`: their types, descriptions and other subjects."""
    rows = store.select(
        PREFIXES
        + f"""SELECT ?f ?type ?desc ?other ?status ?row ?rowsBy ?wholeBy WHERE {{
            GRAPH <{GRAPH_RECONCILIATION}> {{
            ?f <{about}> <{iri}> ; a ?type ; dcterms:description ?desc .
            OPTIONAL {{ ?f <{about}> ?other FILTER(?other != <{iri}>) }}
            OPTIONAL {{ ?f s22a:confirmation ?status }}
            OPTIONAL {{ ?f s22a:row ?row }} OPTIONAL {{ ?f s22a:listedAsRowsBy ?rowsBy }}
            OPTIONAL {{ ?f s22a:listedWholeBy ?wholeBy }} }} }}"""
    )
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        entry = found.setdefault(
            str(row["f"]),
            {
                "iri": str(row["f"]),
                "types": set(),
                "description": str(row["desc"]),
                "others": set(),
                "status": None,
                "rows": set(),
                "rows_by": set(),
                "whole_by": set(),
            },
        )
        for key, column in (("rows", "row"), ("rows_by", "rowsBy"), ("whole_by", "wholeBy")):
            if column in row:
                entry[key].add(str(row[column]))
        entry["types"].add(str(row["type"]).rsplit("#", 1)[-1])
        if "other" in row:
            entry["others"].add(str(row["other"]))
        if "status" in row:
            entry["status"] = str(row["status"]).rsplit("#", 1)[-1]
    return sorted(found.values(), key=lambda f: (sorted(f["types"]), f["description"]))
