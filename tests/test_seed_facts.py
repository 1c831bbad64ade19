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
