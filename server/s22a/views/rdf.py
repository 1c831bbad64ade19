"""RDF serialization for documents, and the published JSON-LD context with its short keys.

JSON-LD output is compacted with `CONTEXT` and then names it by reference
(`"@context": "https://w3id.org/s22a/context.jsonld"`), so documents stay short and a
client that fetches the context (served at `/context.jsonld`) gets the same graph back.
"""

from __future__ import annotations

import json
from typing import Any

from rdflib import Graph

from ..conneg import JSONLD, Format
from ..namespaces import BASE, PREFIXES

CONTEXT_URL = BASE + "context.jsonld"

# Terms whose values are IRIs ("@type": "@id"), by prefixed name.
_LINKS = {
    "type": "@type",
    "id": "@id",
    # DCTERMS, RDFS, OWL
    "source": "dcterms:source", "publisher": "dcterms:publisher",
    "isVersionOf": "dcterms:isVersionOf", "conformsTo": "dcterms:conformsTo",
    "sameAs": "owl:sameAs", "subClassOf": "rdfs:subClassOf", "domain": "rdfs:domain",
    "range": "rdfs:range", "seeAlso": "rdfs:seeAlso",
    # SKOS and ORG
    "broader": "skos:broader", "narrower": "skos:narrower", "inScheme": "skos:inScheme",
    "topConceptOf": "skos:topConceptOf", "hasTopConcept": "skos:hasTopConcept",
    "member": "org:hasMember",
    # the s22a ontology
    "party": "s22a:party", "leadForce": "s22a:leadForce", "hostForce": "s22a:hostForce",
    "partyGroup": "s22a:partyGroup", "legalBasis": "s22a:legalBasis", "scope": "s22a:scope",
    "capability": "s22a:capability", "coveredBy": "s22a:coveredBy",
    "document": "s22a:document", "notStated": "s22a:notStated",
    "withheldUnder": "s22a:withheldUnder", "policingBody": "s22a:policingBody",
    "region": "s22a:region", "oversightCommittee": "s22a:oversightCommittee",
    "governance": "s22a:governance", "aspect": "s22a:aspect",
    "responsible": "s22a:responsible", "budget": "s22a:budget",
    "budgetKind": "s22a:budgetKind", "contribution": "s22a:contribution",
    "contributor": "s22a:contributor", "lifecycleEvent": "s22a:lifecycleEvent",
    "joiningParty": "s22a:joiningParty", "force": "s22a:force", "lists": "s22a:lists",
    # DCAT and VoID
    "dataset": "dcat:dataset", "distribution": "dcat:distribution",
    "service": "dcat:service", "downloadURL": "dcat:downloadURL",
    "accessURL": "dcat:accessURL", "endpointURL": "dcat:endpointURL",
    "servesDataset": "dcat:servesDataset", "mediaType": "dcat:mediaType",
    "sparqlEndpoint": "void:sparqlEndpoint", "dataDump": "void:dataDump",
    "subset": "void:subset", "vocabulary": "void:vocabulary",
    "exampleResource": "void:exampleResource", "class": "void:class",
    "classPartition": "void:classPartition",
}
# Terms whose values are literals, by prefixed name.
_VALUES = {
    "title": "dcterms:title", "alternative": "dcterms:alternative",
    "description": "dcterms:description", "identifier": "dcterms:identifier",
    "date": "dcterms:date", "modified": "dcterms:modified", "issued": "dcterms:issued",
    "label": "rdfs:label", "comment": "rdfs:comment",
    "prefLabel": "skos:prefLabel", "altLabel": "skos:altLabel",
    "hiddenLabel": "skos:hiddenLabel", "definition": "skos:definition",
    "scopeNote": "skos:scopeNote",
    "purpose": "s22a:purpose", "dateMade": "s22a:dateMade", "established": "s22a:established",
    "policeUkId": "s22a:policeUkId", "staffPosts": "s22a:staffPosts",
    "approximate": "s22a:approximate", "officers": "s22a:officers",
    "armedResponseVehicles": "s22a:armedResponseVehicles",
    "policeSupportUnits": "s22a:policeSupportUnits", "planned": "s22a:planned",
    "listedCount": "s22a:listedCount", "value": "schema:value", "currency": "schema:currency",
    "triples": "void:triples", "entities": "void:entities", "uriSpace": "void:uriSpace",
}


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


def serialize(graph: Graph, fmt: Format) -> bytes:
    """`graph` in RDF format `fmt`; JSON-LD is compacted and names the context by URL."""
    if fmt is JSONLD:
        document = json.loads(graph.serialize(format="json-ld", context=CONTEXT,
                                              auto_compact=True))
        document["@context"] = CONTEXT_URL
        return json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
    assert fmt.rdflib_format, fmt
    return graph.serialize(format=fmt.rdflib_format, encoding="utf-8")


def inline_context(data: bytes) -> str:
    """A JSON-LD document of ours with the context inlined (for parsers that must not fetch)."""
    document = json.loads(data)
    if document.get("@context") == CONTEXT_URL:
        document["@context"] = CONTEXT
    return json.dumps(document)
