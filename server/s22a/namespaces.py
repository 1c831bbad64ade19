"""RDF namespaces, the service's canonical IRIs, and the slugs that end them."""

from __future__ import annotations

import re

from rdflib import Graph, Namespace
from rdflib.namespace import (
    DCAT,
    DCTERMS,
    FOAF,
    ORG,
    OWL,
    PROV,
    RDF,
    RDFS,
    SH,
    SKOS,
    XSD,
    DefinedNamespace,
)

BASE = "https://w3id.org/s22a/"

S22A = Namespace(BASE + "def/s22a#")
SHAPE = Namespace(BASE + "def/shapes#")
ID = Namespace(BASE + "id/")
AGREEMENT = Namespace(BASE + "id/agreement/")
FORCE = Namespace(BASE + "id/force/")
BODY = Namespace(BASE + "id/body/")
GROUP = Namespace(BASE + "id/group/")
REGION = Namespace(BASE + "id/region/")
CAPABILITY = Namespace(BASE + "id/capability/")
REGISTER = Namespace(BASE + "id/register/")
SCHEMA = Namespace("https://schema.org/")
REG = Namespace("http://purl.org/linked-data/registry#")
VOID = Namespace("http://rdfs.org/ns/void#")
LEGISLATION = Namespace("http://www.legislation.gov.uk/id/")

CAPABILITY_SCHEME = ID["scheme/capabilities"]

# Named graphs besides the registers (each register's graph is its register IRI).
GRAPH_ONTOLOGY = BASE + "graph/ontology"
GRAPH_REFERENCE = BASE + "graph/reference"
GRAPH_META = BASE + "graph/meta"
GRAPH_RECONCILIATION = BASE + "graph/reconciliation"
GRAPH_ARCHIVE = BASE + "graph/archive"

# rdflib's well-known vocabularies are DefinedNamespace classes, not Namespace instances.
PREFIXES: dict[str, Namespace | type[DefinedNamespace]] = {
    "s22a": S22A,
    "shape": SHAPE,
    "agreement": AGREEMENT,
    "force": FORCE,
    "body": BODY,
    "group": GROUP,
    "region": REGION,
    "cap": CAPABILITY,
    "register": REGISTER,
    "dcterms": DCTERMS,
    "dcat": DCAT,
    "foaf": FOAF,
    "org": ORG,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "reg": REG,
    "schema": SCHEMA,
    "sh": SH,
    "skos": SKOS,
    "void": VOID,
    "xsd": XSD,
}


# The prefixes above as a SPARQL prologue, for queries that use them.
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{n}>\n" for p, n in PREFIXES.items())

# An IRI that names no graph: a query dataset of it alone is explicitly empty.
NO_GRAPH = "urn:s22a:no-graph"


def bind_prefixes(graph: Graph) -> None:
    """Bind the project's prefixes on an rdflib graph, for readable Turtle."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)


# The last segment of a thing's IRI: lower-case words joined by single hyphens.
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MAX_SLUG = 120

# The kinds of thing named under /id/, and the class (or scheme) each is an instance of.
TYPES: dict[str, str] = {
    "agreement": "Collaboration agreement",
    "force": "Police force",
    "body": "Policing body or other body",
    "group": "Party group",
    "region": "Policing region",
    "capability": "Capability",
    "register": "Force register",
    "scheme": "Concept scheme",
}


def is_slug(text: str) -> bool:
    """Whether `text` is a whole slug (no trailing newline, no double hyphens, not too long)."""
    return len(text) <= MAX_SLUG and SLUG.fullmatch(text) is not None


def register_iri(force_slug: str) -> str:
    """Return the IRI of a force's register (also its named graph)."""
    return str(REGISTER[force_slug])
