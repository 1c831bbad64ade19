"""Reconciliation of the seed registers: disagreements, split listings, duplicates, confirmation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, RDF, RDFS

from s22a import resources
from s22a.ingest import gate
from s22a.namespaces import AGREEMENT, FORCE, GRAPH_RECONCILIATION, GRAPH_REFERENCE, REGISTER, S22A
from s22a.reconcile.compute import reconcile
from s22a.reconcile.findings import Confirmation, Discrepancy, Report, store_report
from s22a.store import OxigraphStore, Store, StoreError, open_store
from tests.support.app import seed_dump
from tests.support.server import revision

PREFIXES = """
PREFIX s22a: <https://w3id.org/s22a/def/s22a#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX agreement: <https://w3id.org/s22a/id/agreement/>
PREFIX register: <https://w3id.org/s22a/id/register/>
PREFIX region: <https://w3id.org/s22a/id/region/>
"""


def a(slug: str) -> str:
    return str(AGREEMENT[slug])


def r(slug: str) -> str:
    return str(REGISTER[slug])


def f(slug: str) -> str:
    return str(FORCE[slug])


@pytest.fixture(scope="module")
def store() -> Iterator[Store]:
    """The bundled catalogue loaded into an in-memory store: one named graph per register."""
    with open_store("memory:") as store:
        store.add_dataset(seed_dump())  # every register accepted (`seed_dump` checks)
        yield store


@pytest.fixture(scope="module")
def report(store: Store) -> Report:
    return reconcile(store)


def discrepancy(report: Report, agreement: str, aspect: str) -> dict[str, tuple[str, ...]]:
    """What each register says, for the one discrepancy of `aspect` on `agreement`."""
    [found] = [d for d in report.discrepancies if d.agreement == agreement and d.aspect == aspect]
    return dict(found.values)


def values(graph: Graph) -> set[tuple[object, ...]]:
    """The triples, literals by value: the store gives 0.40 back as 0.4."""
    return {(s, p, o.toPython() if isinstance(o, Literal) else o) for s, p, o in graph}


def pairs(report: Report) -> set[frozenset[str]]:
    return {frozenset((d.first, d.second)) for d in report.duplicates}


def test_npas_is_dated_differently_by_merseyside_and_leicestershire(report: Report) -> None:
    dates = discrepancy(report, a("national-police-air-service"), "date")
    # Lancashire and North Wales give no date (s22a:notStated), so they are not in it.
    assert dates == {r("leicestershire"): ("2012-10",), r("merseyside"): ("2012-08",)}


def test_ssas_is_named_differently(report: Report) -> None:
    titles = discrepancy(report, a("surveillance-situational-awareness-system"), "title")
    assert titles == {
        r("merseyside"): ("Shared Situational Awareness System",),
        r("leicestershire"): ("Surveillance Situational Awareness System (SSAS)",),
    }


def test_cosmetic_title_differences_are_not_discrepancies(report: Report) -> None:
    # "National Police Air Service" / "... (NPAS)"; "NW Police Underwater Search & Marine
    # Unit" / "North West Underwater Search & Marine Unit" / "Underwater Search and Marine Unit".
    titled = {d.agreement for d in report.discrepancies if d.aspect == "title"}
    assert a("national-police-air-service") not in titled
    assert a("north-west-underwater-search-marine") not in titled
    assert a("north-west-rocu") in titled  # "TITAN" is another name, not a spelling


def test_parties_differ_where_both_registers_state_them(report: Report) -> None:
    parties = discrepancy(report, a("north-west-counter-terrorism"), "parties")
    assert set(parties[r("lancashire")]) == {f("greater-manchester"), f("lancashire")}
    assert len(parties[r("merseyside")]) == 5
    # Registers that mark the parties not stated (s22a:notStated) are not compared.
    assert not [
        d
        for d in report.discrepancies
        if d.agreement == a("north-west-rocu") and d.aspect == "parties"
    ]


def test_navcis_nwcu_npfdu_three_rows_against_one_agreement(report: Report) -> None:
    [split] = report.splits
    assert split.agreement == a("navcis-nwcu-npfdu")
    assert split.rows == (a("national-wildlife-crime-unit"), a("navcis"), a("npfdu"))
    assert split.listed_as_rows_by == (r("merseyside"),)
    assert split.listed_whole_by == (r("leicestershire"), r("north-wales"))
    assert "as 3 rows by merseyside" in split.description
    assert "as one agreement by leicestershire, north-wales" in split.description


def test_north_west_forces_named_without_a_register(store: Store, report: Report) -> None:
    north_west = {
        str(row["f"])
        for row in store.select(PREFIXES + "SELECT ?f WHERE { ?f s22a:region region:north-west }")
    }
    unpublished = {p.force for p in report.parties if p.register is None}
    assert unpublished & north_west == {f("cumbria"), f("greater-manchester")}
    [cumbria] = [p for p in report.parties if p.force == f("cumbria")]
    assert cumbria.unconfirmed == cumbria.named_in and len(cumbria.named_in) == 12
    assert cumbria.description.startswith("Cumbria has not published a register; it is named")


def test_cheshire_counts_by_hand(report: Report) -> None:
    # Cheshire is named directly in: 10 of its own 11 rows (the Bluelight collaboration names
    # its commissioner and the fire authority, not the force); Merseyside's West Coast, armed
    # policing training, counter-terrorism, ANPR and forensics rows (and rows Cheshire lists
    # too); Lancashire's firearms training unit; North Wales's forensics.
    [cheshire] = [p for p in report.parties if p.force == f("cheshire")]
    assert (len(cheshire.named_in), len(cheshire.confirmed)) == (16, 10)
    assert set(cheshire.unconfirmed) == {
        a(s)
        for s in (
            "west-coast-collaboration",
            "north-west-armed-policing-training",
            "north-west-counter-terrorism",
            "north-west-anpr",
            "north-west-forensics",
            "north-west-firearms-training-unit",
        )
    }
    assert cheshire.description.startswith(
        "Cheshire is named in 16 agreements; its register "
        "confirms 10 (not listed: north-west-anpr, "
    )


def test_likely_duplicates_are_the_real_cases(report: Report) -> None:
    assert pairs(report) == {
        frozenset((a(x), a(y)))
        for x, y in [
            ("north-west-anpr", "north-west-strategic-roads-anpr"),
            ("north-west-armed-policing-training", "north-west-firearms-policy"),
            ("north-west-armed-policing-training", "north-west-firearms-training-unit"),
            ("north-west-firearms-policy", "north-west-firearms-training-unit"),
        ]
    }
    assert all(0.2 <= d.score <= 1 for d in report.duplicates)


@pytest.mark.parametrize(
    "first, second",
    [
        ("national-police-air-service", "national-ballistics-intelligence-service"),  # "Service"
        ("west-coast-collaboration", "west-and-southern-coast-consortium"),  # both Merseyside's
        ("cheshire-north-wales-firearms-alliance", "north-west-armed-policing-training"),
        ("navcis", "navcis-nwcu-npfdu"),  # linked by s22a:coveredBy
    ],
)
def test_unrelated_pairs_are_not_duplicates(report: Report, first: str, second: str) -> None:
    assert frozenset((a(first), a(second))) not in pairs(report)


def confirmation(report: Report, agreement: str) -> Confirmation:
    [found] = [c for c in report.confirmations if c.agreement == a(agreement)]
    return found


def test_confirmation_status_by_hand(report: Report) -> None:
    # Listed by Cheshire, Lancashire and Merseyside; its six North West parties include North
    # Wales, whose register does not list it, and Cumbria and Greater Manchester (no register).
    rocu = confirmation(report, "north-west-rocu")
    assert rocu.status == "some"
    assert rocu.confirmed_by == (r("cheshire"), r("lancashire"), r("merseyside"))
    assert rocu.unlisted == (f("north-wales"),)
    assert rocu.unpublished == (f("cumbria"), f("greater-manchester"))
    # Only Merseyside lists the West Coast Collaboration.
    west_coast = confirmation(report, "west-coast-collaboration")
    assert west_coast.status == "publisher-only"
    assert west_coast.unlisted == (f("cheshire"), f("north-wales"))
    # Merseyside confirms the national agreement through the three rows it covers; its 43
    # party forces are the forces of England and Wales (s22a:partyGroup).
    navcis = confirmation(report, "navcis-nwcu-npfdu")
    assert navcis.confirmed_by == (r("leicestershire"), r("merseyside"), r("north-wales"))
    assert (navcis.status, len(navcis.party_forces)) == ("some", 43)
    # Two registers, but both mark the parties not stated: not "all".
    assert confirmation(report, "surveillance-situational-awareness-system").status == "some"


def test_all_parties_confirm_and_dates_at_other_precision_agree() -> None:
    with open_store("memory:") as store:
        store.replace_graph(
            GRAPH_REFERENCE,
            "".join(f"<{f(x)}> <{RDF.type}> <{S22A.PoliceForce}> .\n" for x in "xy").encode(),
        )
        for force, date in [("x", "2015-04"), ("y", "2015-04-01")]:
            store.replace_graph(
                r(force),
                f"""
                @prefix s22a: <{S22A}> .
                <{r(force)}> a s22a:Register ; s22a:force <{f(force)}> ; s22a:lists <{a("xy")}> .
                <{a("xy")}> s22a:party <{f("x")}>, <{f("y")}> ; s22a:dateMade "{date}" .
                """.encode(),
                "text/turtle",
            )
        report = reconcile(store)
    assert [(c.agreement, c.status) for c in report.confirmations] == [(a("xy"), "all")]
    assert report.discrepancies == []


def test_same_as_is_honoured_from_a_register_listing_both(store: Store) -> None:
    cheshire = store.graph_triples(r("cheshire"))
    joined = Graph()
    joined += cheshire
    joined.add((URIRef(r("cheshire")), S22A.lists, URIRef(a("north-west-anpr"))))
    joined.add(
        (URIRef(a("north-west-anpr")), OWL.sameAs, URIRef(a("north-west-strategic-roads-anpr")))
    )
    store.replace_graph(r("cheshire"), joined.serialize(format="nt", encoding="utf-8"))
    try:
        report = reconcile(store)
    finally:
        store.replace_graph(r("cheshire"), cheshire.serialize(format="nt", encoding="utf-8"))
    assert frozenset((a("north-west-anpr"), a("north-west-strategic-roads-anpr"))) not in pairs(
        report
    )
    # One agreement (it goes by the lesser IRI), described differently by its two registers.
    titles = discrepancy(report, a("north-west-anpr"), "title")
    assert set(titles) == {r("cheshire"), r("merseyside")}
    parties = discrepancy(report, a("north-west-anpr"), "parties")
    assert (len(parties[r("merseyside")]), len(parties[r("cheshire")])) == (5, 6)
    assert any(
        d.description.startswith("north-west-anpr (= north-west-strategic-roads-anpr) ")
        for d in report.discrepancies
    )
    anpr = confirmation(report, "north-west-anpr")
    assert anpr.confirmed_by == (r("cheshire"), r("merseyside"))
    assert a("north-west-strategic-roads-anpr") not in {c.agreement for c in report.confirmations}


def test_same_as_from_a_register_listing_neither_is_ignored(store: Store) -> None:
    """A register may join only agreements it lists (issue 13: NPAS sameAs Minerva)."""
    graph = r("same-as-test")
    store.replace_graph(
        graph,
        f"""
        <{graph}> <{RDF.type}> <{S22A.Register}> .
        <{a("national-police-air-service")}> <{OWL.sameAs}> <{a("minerva-programme")}> .
        <{a("north-west-anpr")}> <{OWL.sameAs}> <{a("north-west-strategic-roads-anpr")}> .
        """.encode(),
    )
    try:
        report = reconcile(store)
    finally:
        store.drop_graph(graph)
    confirmed = {c.agreement for c in report.confirmations}
    assert {a("minerva-programme"), a("north-west-strategic-roads-anpr")} <= confirmed
    assert confirmation(report, "minerva-programme").confirmed_by == (r("merseyside"),)
    assert not any("(= " in d.description for d in report.discrepancies)


def test_stored_report_answers_sparql(store: Store, report: Report) -> None:
    store.drop_graph(GRAPH_RECONCILIATION)
    assert store_report(store, report)
    assert not store_report(store, report)  # the same findings: nothing is rewritten
    rows = store.select(
        PREFIXES
        + f"""
        SELECT ?register ?date ?text WHERE {{ GRAPH <{GRAPH_RECONCILIATION}> {{
            ?d a s22a:Discrepancy ; s22a:aboutAgreement agreement:national-police-air-service ;
               s22a:differsIn s22a:dateMade ; dcterms:description ?text ;
               s22a:statement [ s22a:register ?register ; s22a:statedValue ?date ] }} }}"""
    )
    assert {(str(row["register"]), str(row["date"])) for row in rows} == {
        (r("merseyside"), "2012-08"),
        (r("leicestershire"), "2012-10"),
    }
    assert "2012-08 by merseyside" in str(rows[0]["text"])
    unpublished = store.select(
        PREFIXES
        + f"""
        SELECT ?force WHERE {{
            GRAPH <{GRAPH_RECONCILIATION}> {{ ?c a s22a:PartyCoverage ; s22a:aboutForce ?force
                FILTER NOT EXISTS {{ ?c s22a:ownRegister ?register }} }}
            ?force s22a:region region:north-west }}"""
    )
    assert {str(row["force"]) for row in unpublished} == {f("cumbria"), f("greater-manchester")}
    assert values(store.graph_triples(GRAPH_RECONCILIATION)) == values(report.to_graph())


def test_a_first_report_left_part_written_is_completed_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A first report is bulk-loaded (`Store.write_new_graph`), outside a transaction: a
    # failure may leave part of it. The next report writes it whole, even where the hash of
    # the same report was stored before (its graph dropped since).
    with open_store(f"oxigraph:{tmp_path / 'store'}") as store:
        store.add_dataset(seed_dump())  # with the report, and its hash
        report = reconcile(store)
        store.drop_graph(GRAPH_RECONCILIATION)
        lines = report.ntriples().splitlines(keepends=True)

        def part_way(graph: str, data: bytes, media_type: str = "") -> int:
            OxigraphStore.write_new_graph(store, graph, b"".join(lines[: len(lines) // 3]))
            raise StoreError("the disk is full")

        monkeypatch.setattr(store, "write_new_graph", part_way)
        with pytest.raises(StoreError):
            store_report(store, report)
        monkeypatch.undo()
        assert 0 < len(store.graph_triples(GRAPH_RECONCILIATION)) < len(lines)
        assert store_report(store, report)
        assert values(store.graph_triples(GRAPH_RECONCILIATION)) == values(report.to_graph())
        assert not store_report(store, report)


def test_a_changed_report_replaces_the_stored_one(store: Store, report: Report) -> None:
    store_report(store, report)
    smaller = Report(registers=report.registers, parties=report.parties)
    assert store_report(store, smaller)  # replaced, not added to
    assert len(store.graph_triples(GRAPH_RECONCILIATION)) == len(smaller.to_graph())
    assert len(smaller.to_graph()) < len(report.to_graph())
    assert store_report(store, report)  # as the other tests in this module expect


def test_report_is_deterministic(store: Store, report: Report) -> None:
    again = reconcile(store)
    assert again.text() == report.text()
    assert isomorphic(again.to_graph(), report.to_graph())
    text = report.text()
    for heading in (
        "published no register",
        "described differently",
        "several rows",
        "Likely duplicates",
        "Confirmation: all",
        "Confirmation: publisher-only",
    ):
        assert heading in text
    assert (
        "national-police-air-service is dated 2012-10 by leicestershire; 2012-08 by "
        "merseyside." in text
    )


def test_every_term_the_report_uses_is_in_the_ontology(report: Report) -> None:
    ontology = Graph().parse(resources.ontology_path())
    graph = report.to_graph()
    used = {
        t
        for triple in graph
        for t in triple[1:]
        if isinstance(t, URIRef) and str(t).startswith(str(S22A))
    } | {S22A.RegisterStatement}
    for term in used - {RDF.type}:
        assert ontology.value(term, RDFS.label) is not None, term
        assert ontology.value(term, RDFS.comment) is not None, term


def _counting_reconcile(
    monkeypatch: pytest.MonkeyPatch, meanwhile: Callable[[], None] = lambda: None
) -> list[int]:
    """Count the refresh's computations of the report; `meanwhile` runs during the first."""
    calls: list[int] = []

    def counted(store: Store) -> Report:
        calls.append(1)
        if len(calls) == 1:
            meanwhile()
        return reconcile(store)

    monkeypatch.setattr(gate, "reconcile", counted)
    return calls


def test_a_refresh_computes_the_report_once_when_nothing_changed_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with open_store("memory:") as store:
        store.add_dataset(seed_dump())
        store_report(store, Report(registers=[]))  # so that the refresh stores another report
        calls = _counting_reconcile(monkeypatch)
        gate.refresh_reconciliation_report(store)
        # Storing the report changes the dataset's state, but not what the report is computed
        # from: it is not computed a second time.
        assert len(calls) == 1
        assert not store_report(store, reconcile(store))  # what it stored is the report


def test_a_refresh_computes_again_when_a_register_changed_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    register = r("merseyside")
    with open_store("memory:") as store:
        store.add_dataset(seed_dump())

        def another_write() -> None:  # another writer stores a version while it is computed
            outcome = gate.accept_register(
                store,
                register,
                revision("merseyside", 1),
                name="merseyside.ttl",
                source="test",
                refresh_reconciliation=False,
            )
            assert outcome.outcome == "Accepted", outcome.reason

        calls = _counting_reconcile(monkeypatch, another_write)
        gate.refresh_reconciliation_report(store)
        assert len(calls) == 2  # the first report's data changed before it was stored
        assert not store_report(store, reconcile(store))  # the stored one is of the last data


def test_the_stored_n_triples_are_the_report_whatever_the_text(report: Report) -> None:
    awkward = Discrepancy(
        agreement=a("national-police-air-service"),
        aspect="title",
        values=((r("merseyside"), ('The "Air" Service \\ NPAS\r\nline two',)),),
        description='A title with "quotes", a backslash \\ and\na line break.',
    )
    mixed = Report(registers=report.registers, discrepancies=[*report.discrepancies, awkward])
    for each in (report, mixed):
        ntriples = each.ntriples()
        assert isomorphic(Graph().parse(data=ntriples, format="nt"), each.to_graph())
        assert ntriples.splitlines() == sorted(set(ntriples.splitlines()))
