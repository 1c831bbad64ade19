"""Example queries for the `/sparql` page: real questions the seed registers answer.

Each runs on the endpoint's default dataset (the union of the registers and the reference,
ontology and meta graphs); `GRAPH ?register` reaches one register's own statements, since a
register's graph is named by the register's IRI. The default graph is a set (each triple once,
however many registers state it), so counts over it need no DISTINCT: the examples that had one
only for that (`NO_LONGER_DISTINCT`) count plainly; a DISTINCT left counts across GRAPH patterns,
where one agreement is matched once per register. tests/test_sparql_protocol.py runs every
example and checks that it answers with rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH

from s22a.namespaces import SCHEMA

PREFIXES = """PREFIX s22a: <https://w3id.org/s22a/def/s22a#>
PREFIX force: <https://w3id.org/s22a/id/force/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX schema: <https://schema.org/>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX void: <http://rdfs.org/ns/void#>
"""


@dataclass(frozen=True)
class Example:
    """A question and the query that answers it."""

    slug: str
    question: str
    body: str  # the query without its PREFIX lines

    @property
    def query(self) -> str:
        """The full query text, with the prefixes it uses."""
        used = [line for line in PREFIXES.splitlines() if line.split()[1] in self.body]
        return "\n".join(used) + "\n\n" + self.body.strip() + "\n"


# Examples that counted with DISTINCT only because the default graph repeated triples.
NO_LONGER_DISTINCT = ("merseyside-partners", "national-agreements", "capabilities")

EXAMPLES: tuple[Example, ...] = (
    Example(
        "merseyside-partners",
        "Which forces does Merseyside collaborate with most?",
        """
SELECT ?partner ?name (COUNT(?agreement) AS ?agreements) WHERE {
  ?agreement a s22a:Agreement ;
             s22a:party force:merseyside, ?partner .
  FILTER(?partner != force:merseyside)
  ?partner rdfs:label ?name .
}
GROUP BY ?partner ?name
ORDER BY DESC(?agreements) ?name
""",
    ),
    Example(
        "no-confirmed-lead",
        "Which agreements have no lead force confirmed by that force's own register?",
        """
SELECT ?agreement (SAMPLE(?title) AS ?aTitle)
       (GROUP_CONCAT(DISTINCT ?leadName; separator="; ") AS ?leadNamedByOthers) WHERE {
  GRAPH ?register { ?register s22a:lists ?agreement . ?agreement dcterms:title ?title }
  OPTIONAL { GRAPH ?other { ?agreement s22a:leadForce ?lead } ?lead rdfs:label ?leadName }
  FILTER NOT EXISTS {
    GRAPH ?own { ?own s22a:force ?force ; s22a:lists ?agreement .
                 ?agreement s22a:leadForce ?force }
  }
}
GROUP BY ?agreement
ORDER BY ?aTitle
""",
    ),
    Example(
        "national-agreements",
        "Every national agreement, and how many registers list it",
        """
SELECT ?agreement ?name (COUNT(?register) AS ?registers) WHERE {
  ?agreement s22a:scope s22a:National ;
             skos:prefLabel ?name .
  OPTIONAL { GRAPH ?register { ?register s22a:lists ?agreement } }
}
GROUP BY ?agreement ?name
ORDER BY DESC(?registers) ?name
""",
    ),
    Example(
        "budgets-by-region",
        "Budgets by region (of the force whose register states them), by kind of budget",
        """
SELECT ?regionName ?kindName (SUM(?value) AS ?totalGBP) (COUNT(DISTINCT ?agreement) AS ?agreements)
WHERE {
  GRAPH ?register {
    ?register s22a:force ?force ; s22a:lists ?agreement .
    ?agreement s22a:budget ?budget .
    ?budget schema:value ?value ; schema:currency "GBP" .
    OPTIONAL { ?budget s22a:budgetKind ?kind }
  }
  ?force s22a:region ?region .
  ?region rdfs:label ?regionName .
  OPTIONAL { ?kind rdfs:label ?label }
  BIND(COALESCE(?label, "not stated") AS ?kindName)
}
GROUP BY ?regionName ?kindName
ORDER BY ?regionName DESC(?totalGBP)
""",
    ),
    Example(
        "agreements-per-register",
        "How many agreements does each force's register list?",
        """
SELECT ?register ?forceName (COUNT(DISTINCT ?agreement) AS ?agreements) WHERE {
  GRAPH ?register { ?register a s22a:Register ; s22a:force ?force ; s22a:lists ?agreement }
  ?force rdfs:label ?forceName .
}
GROUP BY ?register ?forceName
ORDER BY DESC(?agreements)
""",
    ),
    Example(
        "shared-agreements",
        "Which agreements are listed by more than one register, and by whom?",
        """
SELECT ?agreement (COUNT(DISTINCT ?register) AS ?registers)
       (GROUP_CONCAT(DISTINCT ?forceName; separator=", ") AS ?listedBy) WHERE {
  GRAPH ?register { ?register s22a:force ?force ; s22a:lists ?agreement }
  ?force rdfs:label ?forceName .
}
GROUP BY ?agreement
HAVING (COUNT(DISTINCT ?register) > 1)
ORDER BY DESC(?registers) ?agreement
""",
    ),
    Example(
        "unconfirmed-parties",
        "Which forces are named as a party by another register but do not list the agreement "
        "in their own?",
        """
SELECT DISTINCT ?agreement ?title ?forceName ?namedBy WHERE {
  GRAPH ?other { ?other s22a:force ?otherForce .
                 ?agreement s22a:party ?force ; dcterms:title ?title }
  GRAPH ?own { ?own a s22a:Register ; s22a:force ?force }
  FILTER(?own != ?other)
  FILTER NOT EXISTS { GRAPH ?own { ?own s22a:lists ?agreement } }
  ?force rdfs:label ?forceName .
  ?otherForce rdfs:label ?namedBy .
}
ORDER BY ?forceName ?title
""",
    ),
    Example(
        "capabilities",
        "Which capabilities do most collaborations provide?",
        """
SELECT ?capability ?name (COUNT(?agreement) AS ?agreements) WHERE {
  ?agreement a s22a:Agreement ; s22a:capability ?capability .
  ?capability skos:prefLabel ?name .
}
GROUP BY ?capability ?name
ORDER BY DESC(?agreements) ?name
LIMIT 20
""",
    ),
    Example(
        "firearms",
        "Which agreements are about firearms (a text search of purposes)?",
        """
SELECT DISTINCT ?agreement ?title ?purpose WHERE {
  GRAPH ?register { ?agreement s22a:purpose ?purpose ; dcterms:title ?title }
  FILTER(CONTAINS(LCASE(STR(?purpose)), "firearm"))
}
ORDER BY ?title
""",
    ),
    Example(
        "titles-differ",
        "Where do registers give the same agreement different titles?",
        """
SELECT ?agreement (COUNT(DISTINCT ?title) AS ?titles)
       (GROUP_CONCAT(DISTINCT CONCAT(?forceName, ": ", STR(?title)); separator=" | ") AS ?byForce)
WHERE {
  GRAPH ?register { ?register s22a:force ?force ; s22a:lists ?agreement .
                    ?agreement dcterms:title ?title }
  ?force rdfs:label ?forceName .
}
GROUP BY ?agreement
HAVING (COUNT(DISTINCT ?title) > 1)
ORDER BY DESC(?titles)
""",
    ),
    Example(
        "staff-posts",
        "Which collaborations have the most staff posts, and who leads them?",
        """
SELECT ?agreement ?title ?staffPosts ?leadName WHERE {
  GRAPH ?register { ?agreement s22a:staffPosts ?staffPosts ; dcterms:title ?title .
                    OPTIONAL { ?agreement s22a:leadForce ?lead } }
  OPTIONAL { ?lead rdfs:label ?leadName }
}
ORDER BY DESC(?staffPosts)
""",
    ),
    Example(
        "versions",
        "When was each register last loaded, and how big is it?",
        """
SELECT ?register ?version ?loaded ?triples ?agreements WHERE {
  GRAPH <https://w3id.org/s22a/graph/meta> {
    ?version a s22a:RegisterVersion ; dcterms:isVersionOf ?register ;
             prov:generatedAtTime ?loaded ; void:triples ?triples ;
             s22a:agreementCount ?agreements .
    FILTER NOT EXISTS { ?newer dcterms:isVersionOf ?register ;
                               s22a:versionNumber ?n .
                        ?version s22a:versionNumber ?m . FILTER(?n > ?m) }
  }
}
ORDER BY ?register
""",
    ),
    Example(
        "cheshire-network",
        "Cheshire's collaborations as a graph: each agreement Cheshire lists and its parties "
        "(a CONSTRUCT)",
        """
CONSTRUCT {
  ?agreement dcterms:title ?title ; s22a:party ?party .
  ?party rdfs:label ?name .
} WHERE {
  GRAPH <https://w3id.org/s22a/id/register/cheshire> {
    ?agreement dcterms:title ?title ; s22a:party ?party .
  }
  ?party rdfs:label ?name .
}
""",
    ),
)


def by_slug(slug: str | None) -> Example | None:
    """The example named `slug`, if any."""
    return next((e for e in EXAMPLES if e.slug == slug), None)


def _form(query: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the query's form, after its prologue."""
    for line in query.splitlines():
        words = line.split()
        if words and words[0].upper() not in ("PREFIX", "BASE"):
            return words[0].upper()
    return "SELECT"


def examples_graph(document: str, endpoint: str, permalink: Callable[[Example], str]) -> Graph:
    """The examples as RDF: each a SHACL SPARQL executable (sh:select, sh:ask...) with
    schema:target the endpoint that runs it, as public SPARQL endpoints publish their examples.
    Each is `document#slug`; `permalink` gives the address that runs it."""
    graph = Graph()
    graph.bind("sh", SH)
    graph.bind("schema", SCHEMA)
    graph.bind("dcterms", DCTERMS)
    catalogue = URIRef(document)
    graph.add((catalogue, DCTERMS.title, Literal("Example queries of the register", lang="en")))
    for example in EXAMPLES:
        node = URIRef(f"{document}#{example.slug}")
        form = _form(example.body)
        graph.add((node, RDF.type, SH.SPARQLExecutable))
        # SHACL-AF's executables: sh:select, sh:ask, sh:construct (and by their convention
        # sh:describe, which rdflib's closed SH namespace lacks, hence the plain IRIs).
        graph.add((node, RDF.type, URIRef(f"{SH}SPARQL{form.capitalize()}Executable")))
        graph.add((node, RDFS.label, Literal(example.question, lang="en")))
        graph.add((node, URIRef(f"{SH}{form.lower()}"), Literal(example.query)))
        graph.add((node, SCHEMA.target, URIRef(endpoint)))
        graph.add((node, SCHEMA.url, URIRef(permalink(example))))
        graph.add((catalogue, DCTERMS.hasPart, node))
    return graph
