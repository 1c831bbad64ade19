"""The dataset described in VoID (`/void`) and catalogued in DCAT (`/catalog`).

Both describe the whole register (the union of every named graph), each force's
register (one named graph, a `void:subset` and a `dcat:Dataset`), the SPARQL endpoint
(a `dcat:DataService`) and the dumps. Counts come from the store, so they are current.
"""

from __future__ import annotations

from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, XSD

from s22a import namespaces as ns
from s22a.history import versions
from s22a.namespaces import BASE, GRAPH_REFERENCE, S22A, VOID
from s22a.store import Store

DATASET = URIRef(BASE + "id/dataset")
CATALOG = URIRef(BASE + "id/catalog")
SERVICE = URIRef(BASE + "id/service/sparql")
ENDPOINT = URIRef(BASE + "sparql")
DUMPS = {"dump.nq": "application/n-quads", "dump.trig": "application/trig"}
TITLE = "Section 22A Collaboration Register"
DESCRIPTION = (
    "The collaboration agreements that UK police forces make with each other, mostly under "
    "section 22A of the Police Act 1996, as each force's policing body publishes them: one "
    "named graph per force register, with reference data on forces, policing bodies, "
    "regions and capabilities."
)
VOCABULARIES = [
    str(S22A)[:-1],
    "http://www.w3.org/ns/org#",
    "http://purl.org/dc/terms/",
    "http://www.w3.org/2004/02/skos/core#",
    "http://www.w3.org/ns/prov#",
    "https://schema.org/",
]
IANA = "https://www.iana.org/assignments/media-types/"


def registers(store: Store, sizes: dict[str, int] | None = None) -> list[dict[str, Any]]:
    """Every register graph: IRI, title, force, publisher, triples and latest version time."""
    rows = store.select(
        f"""SELECT ?r ?title ?force ?publisher WHERE {{ GRAPH ?r {{ ?r a <{S22A.Register}>
            OPTIONAL {{ ?r <{DCTERMS.title}> ?title }} OPTIONAL {{ ?r <{S22A.force}> ?force }}
            OPTIONAL {{ ?r <{DCTERMS.publisher}> ?publisher }} }} }} ORDER BY ?r ?title"""
    )
    sizes = sizes if sizes is not None else graph_sizes(store)
    found: dict[str, dict[str, Any]] = {}
    for row in rows:
        iri = str(row["r"])
        if iri in found:
            continue
        latest = versions.latest(store, iri)
        found[iri] = {
            "iri": iri,
            "title": str(row.get("title", iri)),
            "triples": sizes.get(iri, 0),
            "force": str(row["force"]) if "force" in row else None,
            "publisher": str(row["publisher"]) if "publisher" in row else None,
            "modified": latest.generated if latest else None,
            "agreements": latest.agreements if latest else None,
            "version": latest.number if latest else None,
        }
    return list(found.values())


def graph_sizes(store: Store) -> dict[str, int]:
    """The number of triples in each named graph."""
    rows = store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
    return {str(r["g"]): int(r["n"]) for r in rows}


def class_partitions(store: Store) -> dict[str, int]:
    """How many distinct things of each class the registers and reference data describe."""
    rows = store.select(
        f"""SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s a ?c }}
            FILTER(?g = <{GRAPH_REFERENCE}> || STRSTARTS(STR(?g), "{ns.REGISTER}"))
            FILTER(isIRI(?s)) }} GROUP BY ?c ORDER BY ?c"""
    )
    return {str(r["c"]): int(r["n"]) for r in rows}


def summary(store: Store) -> dict[str, Any]:
    """The figures both descriptions (and their HTML pages) show."""
    sizes = graph_sizes(store)
    return {
        "registers": registers(store, sizes),
        "sizes": sizes,
        "triples": sum(sizes.values()),
        "classes": class_partitions(store),
    }


def void_graph(store: Store, data: dict[str, Any] | None = None) -> Graph:
    """The VoID description of the dataset and of each register graph."""
    data = data or summary(store)
    graph = Graph()
    ns.bind_prefixes(graph)
    add = graph.add
    add((DATASET, RDF.type, VOID.Dataset))
    add((DATASET, DCTERMS.title, Literal(TITLE, lang="en")))
    add((DATASET, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    add((DATASET, FOAF.homepage, URIRef(BASE)))
    add((DATASET, VOID.sparqlEndpoint, ENDPOINT))
    for dump in DUMPS:
        add((DATASET, VOID.dataDump, URIRef(BASE + dump)))
    add((DATASET, VOID.uriSpace, Literal(BASE + "id/")))
    add((DATASET, VOID.triples, Literal(data["triples"])))
    for vocabulary in VOCABULARIES:
        add((DATASET, VOID.vocabulary, URIRef(vocabulary)))
    add((DATASET, VOID.exampleResource, URIRef(BASE + "id/agreement/north-west-rocu")))
    add((DATASET, VOID.exampleResource, URIRef(BASE + "id/force/merseyside")))
    for cls, count in data["classes"].items():
        partition = BNode()
        add((DATASET, VOID.classPartition, partition))
        add((partition, VOID["class"], URIRef(cls)))
        add((partition, VOID.entities, Literal(count)))
    for register in data["registers"]:
        subset = URIRef(register["iri"])
        add((DATASET, VOID.subset, subset))
        add((subset, RDF.type, VOID.Dataset))
        add((subset, DCTERMS.title, Literal(register["title"], lang="en")))
        add((subset, VOID.triples, Literal(register["triples"])))
        add((subset, VOID.sparqlEndpoint, ENDPOINT))
    return graph


def catalog_graph(store: Store, data: dict[str, Any] | None = None) -> Graph:
    """The DCAT catalogue: the dataset, each register, the SPARQL service and the dumps."""
    data = data or summary(store)
    graph = Graph()
    ns.bind_prefixes(graph)
    add = graph.add
    add((CATALOG, RDF.type, DCAT.Catalog))
    add((CATALOG, DCTERMS.title, Literal(TITLE, lang="en")))
    add((CATALOG, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    add((CATALOG, FOAF.homepage, URIRef(BASE)))
    add((CATALOG, DCAT.service, SERVICE))
    add((SERVICE, RDF.type, DCAT.DataService))
    add((SERVICE, DCTERMS.title, Literal("SPARQL 1.1 endpoint", lang="en")))
    add((SERVICE, DCAT.endpointURL, ENDPOINT))
    add((SERVICE, DCTERMS.conformsTo, URIRef("https://www.w3.org/TR/sparql11-protocol/")))
    add((CATALOG, DCAT.dataset, DATASET))
    add((DATASET, RDF.type, DCAT.Dataset))
    add((DATASET, DCTERMS.title, Literal(TITLE, lang="en")))
    add((DATASET, DCTERMS.description, Literal(DESCRIPTION, lang="en")))
    add((SERVICE, DCAT.servesDataset, DATASET))
    for dump, media_type in DUMPS.items():
        distribution = BNode()
        add((DATASET, DCAT.distribution, distribution))
        add((distribution, RDF.type, DCAT.Distribution))
        add((distribution, DCTERMS.title, Literal(f"The whole register ({dump})", lang="en")))
        add((distribution, DCAT.downloadURL, URIRef(BASE + dump)))
        add((distribution, DCAT.mediaType, URIRef(IANA + media_type)))
    for register in data["registers"]:
        dataset = URIRef(register["iri"])
        add((CATALOG, DCAT.dataset, dataset))
        add((SERVICE, DCAT.servesDataset, dataset))
        add((dataset, RDF.type, DCAT.Dataset))
        add((dataset, DCTERMS.title, Literal(register["title"], lang="en")))
        add((dataset, DCTERMS.isPartOf, DATASET))
        if register["force"]:
            add((dataset, S22A.force, URIRef(register["force"])))
        if register["publisher"]:
            add((dataset, DCTERMS.publisher, URIRef(register["publisher"])))
        if register["modified"]:
            stamp = register["modified"].isoformat(timespec="seconds")
            add((dataset, DCTERMS.modified, Literal(stamp, datatype=XSD.dateTime)))
        slug = register["iri"].rsplit("/", 1)[-1]
        distribution = BNode()
        add((dataset, DCAT.distribution, distribution))
        add((distribution, RDF.type, DCAT.Distribution))
        add((distribution, RDFS.label, Literal(f"{register['title']} as Turtle", lang="en")))
        add((distribution, DCAT.accessURL, URIRef(f"{BASE}doc/register/{slug}")))
        add((distribution, DCAT.downloadURL, URIRef(f"{BASE}registers/{slug}")))
        add((distribution, DCAT.mediaType, URIRef(IANA + "text/turtle")))
    return graph
