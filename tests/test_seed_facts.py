"""The seed registers, loaded with the reference data, answer the facts the seed pages state."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rdflib import Graph

from s22a import resources
from s22a.namespaces import AGREEMENT
from s22a.store import Store, open_store
from tests.support.app import seed_dump

PREFIXES = """
PREFIX s22a: <https://w3id.org/s22a/def/s22a#>
PREFIX schema: <https://schema.org/>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX force: <https://w3id.org/s22a/id/force/>
PREFIX agreement: <https://w3id.org/s22a/id/agreement/>
PREFIX register: <https://w3id.org/s22a/id/register/>
"""


@pytest.fixture(scope="module")
def union() -> Iterator[Store]:
    """The bundled catalogue loaded into an in-memory store: one named graph per register."""
    with open_store("memory:") as store:
        store.add_dataset(seed_dump())  # every register accepted (`seed_dump` checks)
        yield store


def select(store: Store, query: str, *names: str) -> list[tuple]:
    """Run a SELECT with the prefixes; each row as a tuple of the named variables."""
    return [tuple(row.get(n) for n in names) for row in store.select(PREFIXES + query)]


def test_merseyside_lists_24_collaborations(union: Store) -> None:
    rows = select(
        union,
        "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE "
        "{ GRAPH register:merseyside { register:merseyside s22a:lists ?a } }",
        "n",
    )
    assert int(rows[0][0]) == 24


def test_north_west_forensics_parties(union: Store) -> None:
    expected = {"cheshire", "cumbria", "lancashire", "merseyside", "north-wales"}
    for register in ("merseyside", "north-wales"):
        rows = select(
            union,
            f"SELECT ?party WHERE {{ GRAPH register:{register} "
            "{ agreement:north-west-forensics s22a:party ?party } }",
            "party",
        )
        assert {str(r[0]).rsplit("/", 1)[1] for r in rows} == expected, register


def test_titan_budget_and_posts(union: Store) -> None:
    rows = select(
        union,
        """SELECT ?value ?currency ?posts WHERE {
             agreement:north-west-rocu s22a:budget [ schema:value ?value ;
                                                     schema:currency ?currency ] ;
                                       s22a:staffPosts ?posts .
           }""",
        "value",
        "currency",
        "posts",
    )
    assert [(int(v), str(c), int(p)) for v, c, p in rows] == [(18_300_000, "GBP", 336)]


def test_npas_dates_disagree_between_registers(union: Store) -> None:
    rows = select(
        union,
        """SELECT ?register ?date WHERE {
             GRAPH ?register { agreement:national-police-air-service s22a:dateMade ?date } }""",
        "register",
        "date",
    )
    dates = {str(r).rsplit("/", 1)[1]: str(d) for r, d in rows}
    assert dates["merseyside"] == "2012-08"
    assert dates["leicestershire"] == "2012-10"


def test_ssas_titles_differ(union: Store) -> None:
    rows = select(
        union,
        """SELECT ?register ?title WHERE { GRAPH ?register {
             agreement:surveillance-situational-awareness-system dcterms:title ?title } }""",
        "register",
        "title",
    )
    titles = {str(r).rsplit("/", 1)[1]: str(t) for r, t in rows}
    assert titles["merseyside"] == "Shared Situational Awareness System"
    assert titles["leicestershire"] == "Surveillance Situational Awareness System (SSAS)"


def test_navcis_rows_are_covered_by_one_agreement(union: Store) -> None:
    rows = select(
        union,
        """SELECT ?row WHERE { GRAPH register:merseyside {
             ?row s22a:coveredBy agreement:navcis-nwcu-npfdu } }""",
        "row",
    )
    assert {str(r[0]) for r in rows} == {
        str(AGREEMENT[s]) for s in ("navcis", "national-wildlife-crime-unit", "npfdu")
    }


def test_every_force_has_a_policing_body_and_region() -> None:
    reference = Graph()
    for path in resources.reference_paths():
        reference.parse(path)
    rows = list(
        reference.query(
            PREFIXES
            + """SELECT ?force ?body ?region WHERE {
                   ?force a s22a:TerritorialPoliceForce ; s22a:policeUkId ?id .
                   OPTIONAL { ?force s22a:policingBody ?body }
                   OPTIONAL { ?force s22a:region ?region }
                   FILTER (?id NOT IN ("northern-ireland"))
                 }"""
        )
    )
    assert len(rows) == 43
    assert all(body is not None and region is not None for _, body, region in rows)


# Issue 18: the rows checked against the seed pages.


def test_bluelight_parties_are_the_commissioner_and_the_fire_authority(union: Store) -> None:
    # Seed 002 names "Cheshire Fire Authority and the Commissioner", not the force.
    rows = select(
        union,
        "SELECT ?party WHERE { GRAPH register:cheshire "
        "{ agreement:cheshire-bluelight-collaboration s22a:party ?party } }",
        "party",
    )
    assert {str(r[0]).rsplit("/", 2)[-1] for r in rows} == {
        "cheshire-pcc",
        "cheshire-fire-authority",
    }


def test_motorway_group_parties_follow_one_rule_in_every_register(union: Store) -> None:
    # Neither page names the Highways Agency among those making up the group (Cheshire's: "set
    # up in partnership with"; Lancashire's: its premises house the control room).
    parties: dict[str, set[str]] = {}
    for register, party in select(
        union,
        "SELECT ?register ?party WHERE { GRAPH ?register "
        "{ agreement:north-west-motorway-police-group s22a:party ?party } }",
        "register",
        "party",
    ):
        parties.setdefault(str(register).rsplit("/", 1)[1], set()).add(str(party).rsplit("/", 1)[1])
    four = {"cheshire", "greater-manchester", "lancashire", "merseyside"}
    assert parties == {"cheshire": four, "lancashire": four}


def test_public_order_requirement_is_not_recorded_as_an_agreement(union: Store) -> None:
    # Seed 003 3.10 describes a national mutual-aid requirement and never calls it an agreement.
    rows = select(
        union,
        "SELECT ?g WHERE { GRAPH ?g { { ?r s22a:lists agreement:public-order-capability } "
        "UNION { agreement:public-order-capability ?p ?o } } }",
        "g",
    )
    assert rows == []
    [(comment,)] = select(
        union,
        "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?c WHERE "
        "{ GRAPH register:lancashire { register:lancashire rdfs:comment ?c } }",
        "c",
    )
    assert "Public Order Capability" in str(comment) and "297" in str(comment)


def test_every_label_is_its_own_registers_name_for_the_agreement(union: Store) -> None:
    # A register's rdfs:label must be one of the names its own page gives (its title or another
    # name it records), never a name borrowed from another register; a trailing full stop aside.
    rows = select(
        union,
        """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
           SELECT ?register ?a ?label ?name WHERE { GRAPH ?register {
             ?register s22a:lists ?a . ?a rdfs:label ?label .
             { ?a dcterms:title ?name } UNION { ?a dcterms:alternative ?name } } }""",
        "register",
        "a",
        "label",
        "name",
    )
    names: dict[tuple[str, str, str], set[str]] = {}
    for register, agreement, label, name in rows:
        key = (str(register).rsplit("/", 1)[1], str(agreement).rsplit("/", 1)[1], str(label))
        names.setdefault(key, set()).add(str(name).rstrip("."))
    assert len(names) > 30  # the registers label most of their agreements
    borrowed = sorted(key for key, own in names.items() if key[2].rstrip(".") not in own)
    assert borrowed == []


def test_kent_is_in_the_south_east() -> None:
    reference = Graph()
    for path in resources.reference_paths():
        reference.parse(path)
    regions = {
        str(r[0]).rsplit("/", 1)[1]
        for r in reference.query(
            PREFIXES + "SELECT ?region WHERE { force:kent s22a:region ?region }"
        )
    }
    assert regions == {"south-east"}


def test_the_mayor_of_greater_manchester_has_only_the_mayors_names() -> None:
    # The Deputy Mayor for Policing and Crime is a different office from the Mayor's.
    reference = Graph()
    for path in resources.reference_paths():
        reference.parse(path)
    names = [
        str(r[0])
        for r in reference.query(
            "PREFIX skos: <http://www.w3.org/2004/02/skos/core#> "
            "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?name WHERE { "
            "<https://w3id.org/s22a/id/body/greater-manchester-mayor> "
            "rdfs:label|skos:prefLabel|skos:altLabel ?name }"
        )
    ]
    assert names and all("Mayor" in n and "Deputy" not in n for n in names), names
