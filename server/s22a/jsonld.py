"""The register's JSON-LD context (served at `/context.jsonld`), and JSON-LD written with it.

Every JSON-LD document the service writes carries the context inline, so that any JSON-LD
processor reads it with no network (JSON-LD 1.1 section 3.1: a remote context is a request to
its URL, and the canonical `CONTEXT_URL` may not resolve, or the client may be offline). The
context is still published at `/context.jsonld` for documents of one's own. The writing side
(documents, dumps) and the reading side (uploads, `s22a validate`, which reads a document
naming `CONTEXT_URL` with this context instead of fetching it) both need it, so it lives below
both.
"""

from __future__ import annotations

import json
from typing import Any

from rdflib import BNode, Graph, Literal
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from s22a.namespaces import BASE, PREFIXES

CONTEXT_URL = BASE + "context.jsonld"


# Terms whose values are IRIs ("@type": "@id"), by prefixed name.
_LINKS = {
    "type": "@type",
    "id": "@id",
    # DCTERMS, RDFS, OWL
    "source": "dcterms:source",
    "publisher": "dcterms:publisher",
    "isVersionOf": "dcterms:isVersionOf",
    "conformsTo": "dcterms:conformsTo",
    "sameAs": "owl:sameAs",
    "subClassOf": "rdfs:subClassOf",
    "domain": "rdfs:domain",
    "range": "rdfs:range",
    "seeAlso": "rdfs:seeAlso",
    # SKOS and ORG
    "broader": "skos:broader",
    "narrower": "skos:narrower",
    "inScheme": "skos:inScheme",
    "topConceptOf": "skos:topConceptOf",
    "hasTopConcept": "skos:hasTopConcept",
    "member": "org:hasMember",
    # the s22a ontology
    "party": "s22a:party",
    "leadForce": "s22a:leadForce",
    "hostForce": "s22a:hostForce",
    "partyGroup": "s22a:partyGroup",
    "legalBasis": "s22a:legalBasis",
    "scope": "s22a:scope",
    "capability": "s22a:capability",
    "coveredBy": "s22a:coveredBy",
    "document": "s22a:document",
    "notStated": "s22a:notStated",
    "withheldUnder": "s22a:withheldUnder",
    "policingBody": "s22a:policingBody",
    "policingRegion": "s22a:region",
    "oversightCommittee": "s22a:oversightCommittee",
    "governance": "s22a:governance",
    "aspect": "s22a:aspect",
    "responsible": "s22a:responsible",
    "budget": "s22a:budget",
    "budgetKind": "s22a:budgetKind",
    "contribution": "s22a:contribution",
    "contributor": "s22a:contributor",
    "lifecycleEvent": "s22a:lifecycleEvent",
    "joiningParty": "s22a:joiningParty",
    "registerOf": "s22a:force",
    "lists": "s22a:lists",
    # DCAT and VoID
    "dataset": "dcat:dataset",
    "distribution": "dcat:distribution",
    "service": "dcat:service",
    "downloadURL": "dcat:downloadURL",
    "accessURL": "dcat:accessURL",
    "endpointURL": "dcat:endpointURL",
    "servesDataset": "dcat:servesDataset",
    "mediaType": "dcat:mediaType",
    "sparqlEndpoint": "void:sparqlEndpoint",
    "dataDump": "void:dataDump",
    "subset": "void:subset",
    "vocabulary": "void:vocabulary",
    "exampleResource": "void:exampleResource",
    "class": "void:class",
    "classPartition": "void:classPartition",
}


# Terms whose values are literals, by prefixed name.
_VALUES = {
    "title": "dcterms:title",
    "alternative": "dcterms:alternative",
    "description": "dcterms:description",
    "identifier": "dcterms:identifier",
    "date": "dcterms:date",
    "modified": "dcterms:modified",
    "issued": "dcterms:issued",
    "label": "rdfs:label",
    "comment": "rdfs:comment",
    "prefLabel": "skos:prefLabel",
    "altLabel": "skos:altLabel",
    "hiddenLabel": "skos:hiddenLabel",
    "definition": "skos:definition",
    "scopeNote": "skos:scopeNote",
    "purpose": "s22a:purpose",
    "dateMade": "s22a:dateMade",
    "established": "s22a:established",
    "policeUkId": "s22a:policeUkId",
    "staffPosts": "s22a:staffPosts",
    "approximate": "s22a:approximate",
    "officers": "s22a:officers",
    "armedResponseVehicles": "s22a:armedResponseVehicles",
    "policeSupportUnits": "s22a:policeSupportUnits",
    "planned": "s22a:planned",
    "listedCount": "s22a:listedCount",
    "value": "schema:value",
    "currency": "schema:currency",
    "triples": "void:triples",
    "entities": "void:entities",
    "uriSpace": "void:uriSpace",
}


# A term that is also a prefix would stop compact IRIs such as force:merseyside expanding.
assert not (set(_LINKS) | set(_VALUES)) & set(PREFIXES), "terms must not shadow prefixes"


def _context() -> dict[str, Any]:
    context: dict[str, Any] = {"@language": "en"}
    context.update({prefix: str(namespace) for prefix, namespace in PREFIXES.items()})
    for term, target in _LINKS.items():
        context[term] = target if target.startswith("@") else {"@id": target, "@type": "@id"}
    context.update(_VALUES)
    return context


CONTEXT: dict[str, Any] = _context()


def context_document() -> bytes:
    """The JSON-LD context document served at /context.jsonld."""
    return json.dumps({"@context": CONTEXT}, indent=2, sort_keys=True).encode("utf-8")


# Writing JSON-LD ourselves: rdflib 7's compacting serializer drops the content of blank
# nodes that a term coerced to "@id" points at. Output is a flat, sorted "@graph".
_NAMESPACES = sorted(((str(n), p) for p, n in PREFIXES.items()), key=lambda x: -len(x[0]))


_TERMS: dict[str, tuple[str, bool]] = {}  # predicate IRI -> (term, values are IRIs)


for _term, _target in {**_LINKS, **_VALUES}.items():
    if not _target.startswith("@"):
        _prefix, _, _local = _target.partition(":")
        _TERMS[str(PREFIXES[_prefix]) + _local] = (_term, _term in _LINKS)


def compact_iri(iri: str) -> str:
    """`prefix:local` for an IRI in one of the context's namespaces, else the IRI."""
    for namespace, prefix in _NAMESPACES:
        if iri.startswith(namespace) and len(iri) > len(namespace):
            local = iri[len(namespace) :]
            if not local.startswith("//"):
                return f"{prefix}:{local}"
    return iri


def _ref(node: Node) -> str:
    return f"_:{node}" if isinstance(node, BNode) else compact_iri(str(node))


def _literal(value: Literal) -> Any:
    if value.language == "en":
        return str(value)  # the context's default language
    if value.language:
        return {"@value": str(value), "@language": value.language}
    if value.datatype is None or value.datatype == XSD.string:
        return {"@value": str(value)}
    return {"@value": str(value), "type": compact_iri(str(value.datatype))}


def to_jsonld(graph: Graph) -> dict[str, Any]:
    """`graph` as a JSON-LD document with the register's context inline."""
    nodes = []
    for subject in sorted(set(graph.subjects()), key=lambda n: (isinstance(n, BNode), str(n))):
        node: dict[str, Any] = {"id": _ref(subject)}
        for predicate, value in sorted(graph.predicate_objects(subject)):
            if predicate == RDF.type and not isinstance(value, Literal):
                node.setdefault("type", []).append(_ref(value))
                continue
            term, links = _TERMS.get(str(predicate), (None, False))
            if isinstance(value, Literal):
                key = term if term and not links else compact_iri(str(predicate))
                item = _literal(value)
            elif term and links:
                key, item = term, _ref(value)
            else:
                key, item = term or compact_iri(str(predicate)), {"id": _ref(value)}
            node.setdefault(key, []).append(item)
        nodes.append(
            {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in sorted(node.items())}
        )
    return {"@context": CONTEXT, "@graph": nodes}
