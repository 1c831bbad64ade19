"""`s22a import-csv`: the spreadsheets forces keep, turned into registers without guessing."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, XSD

from s22a.cli import cli
from s22a.ingest import csv_import, validation
from s22a.namespaces import FORCE, S22A

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "fixtures" / "merseyside.csv"
HAND_WRITTEN = ROOT / "data" / "registers" / "merseyside.ttl"
NORTH_WEST = {
    FORCE[f]
    for f in (
        "cheshire",
        "cumbria",
        "greater-manchester",
        "lancashire",
        "merseyside",
        "north-wales",
    )
}


def facts(graph: Graph) -> dict[str, tuple[frozenset, object, frozenset]]:
    """Each listed agreement's title -> (parties, date, what is marked not stated)."""
    return {
        str(graph.value(a, DCTERMS.title)): (
            frozenset(graph.objects(a, S22A.party)),
            graph.value(a, S22A.dateMade),
            frozenset(graph.objects(a, S22A.notStated)),
        )
        for a in graph.objects(None, S22A.lists)
    }


@pytest.fixture(scope="module")
def merseyside() -> csv_import.ImportResult:
    return csv_import.convert(TABLE.read_bytes(), "merseyside", source=TABLE.name)


def test_the_merseyside_table_gives_a_valid_register(merseyside: csv_import.ImportResult) -> None:
    assert merseyside.problems == []
    assert merseyside.agreements == 24
    result = validation.validate_graph(merseyside.graph)
    assert result.conforms, validation.format_text(result)
    assert result.violations == []


def test_it_matches_the_hand_written_register_on_titles_parties_and_dates(
    merseyside: csv_import.ImportResult,
) -> None:
    converted = facts(merseyside.graph)
    hand_written = facts(Graph().parse(HAND_WRITTEN))
    assert set(converted) == set(hand_written)  # titles
    assert {t: f[0] for t, f in converted.items()} == {t: f[0] for t, f in hand_written.items()}
    assert {t: f[1] for t, f in converted.items()} == {t: f[1] for t, f in hand_written.items()}
    # "National" rows: no invented parties, marked not stated as the hand-written one does.
    assert {t: f[2] for t, f in converted.items()} == {t: f[2] for t, f in hand_written.items()}


def test_names_in_the_table_are_matched_to_reference_iris(
    merseyside: csv_import.ImportResult,
) -> None:
    rows = facts(merseyside.graph)
    assert FORCE["greater-manchester"] in rows["North West Counter-Terrorism Collaboration"][0]
    assert FORCE["dyfed-powys"] in rows["West Coast Collaboration"][0]
    assert rows["North West Chronicle"][0] == NORTH_WEST  # "All 6 NW Forces"
    assert rows["National Police Air Service"][0] == {FORCE.merseyside}
    graph = merseyside.graph
    scopes = {
        str(graph.value(a, DCTERMS.title)): graph.value(a, S22A.scope)
        for a in graph.objects(None, S22A.lists)
    }
    assert scopes["Minerva Programme"] == S22A.PartNational
    assert scopes["National Police Air Service"] == S22A.National
    assert scopes["North West Chronicle"] == S22A.Regional
    assert scopes["West Coast Collaboration"] is None  # the table does not say; not guessed


def test_a_previous_register_keeps_its_agreement_iris() -> None:
    previous = Graph().parse(HAND_WRITTEN)
    result = csv_import.convert(TABLE.read_bytes(), "merseyside", previous=previous)
    assert set(result.graph.objects(None, S22A.lists)) == set(previous.objects(None, S22A.lists))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Feb-22", Literal("2022-02", datatype=XSD.gYearMonth)),
        ("Apr-05", Literal("2005-04", datatype=XSD.gYearMonth)),
        ("Sept 2021", Literal("2021-09", datatype=XSD.gYearMonth)),
        ("2022-02", Literal("2022-02", datatype=XSD.gYearMonth)),
        ("2009", Literal("2009", datatype=XSD.gYear)),
        ("2022-02-14", Literal("2022-02-14", datatype=XSD.date)),
        ("14/02/2022", Literal("2022-02-14", datatype=XSD.date)),
        ("14 February 2022", Literal("2022-02-14", datatype=XSD.date)),
        ("Febtember-22", None),
        ("2022-13", None),
        ("31/02/2022", None),
        ("soon", None),
    ],
)
def test_dates(text: str, expected: Literal | None) -> None:
    assert csv_import.parse_date(text, today=date(2026, 1, 1)) == expected


def test_two_digit_years_in_the_future_are_last_century() -> None:
    assert csv_import.parse_date("Mar-99", today=date(2026, 1, 1)) == Literal(
        "1999-03", datatype=XSD.gYearMonth
    )


UNMATCHED = (
    "Name,Purpose,Forces,Date\r\n"
    "Good row,Fine.,GMP; Merseyside,Feb-22\r\n"
    "Misspelt force,Bad.,Dyfed Powis; Merseyside,Mar-22\r\n"
    "Wrong count,Bad.,All 7 NW Forces,Apr-22\r\n"
    "Bad date,Bad.,Cheshire and Merseyside,Febtember-22\r\n"
    ",No name.,Merseyside,May-22\r\n"
)


def test_every_cell_it_cannot_match_is_reported_with_row_and_column() -> None:
    result = csv_import.convert(UNMATCHED, "merseyside")
    found = {(p.row, p.column, p.value) for p in result.problems}
    assert found == {
        (3, "Forces", "Dyfed Powis"),
        (4, "Forces", "All 7 NW Forces"),
        (5, "Date", "Febtember-22"),
        (6, "Name", ""),
    }
    misspelt = next(p for p in result.problems if p.row == 3)
    assert "did you mean" in misspelt.message  # a hint, never applied
    rows = facts(result.graph)
    assert rows["Misspelt force"][0] == {FORCE.merseyside}  # Dyfed-Powys was not guessed
    assert rows["Bad date"][0] == {FORCE.cheshire, FORCE.merseyside}  # "X and Y" split
    assert rows["Bad date"][1] is None
    assert "# NOT MATCHED, left out: row 3, column “Forces”" in result.turtle()


def test_the_command_writes_turtle_and_exits_0_when_everything_matched(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["import-csv", str(TABLE), "--force", "merseyside"])
    assert result.exit_code == 0, result.output
    graph = Graph().parse(data=result.stdout, format="turtle")
    assert len(set(graph.objects(None, S22A.lists))) == 24
    assert "valid (0 violation(s)" in result.stderr
    out = tmp_path / "merseyside.ttl"
    result = runner.invoke(cli, ["import-csv", str(TABLE), "--force", "merseyside", "-o", str(out)])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert validation.validate_file(out).conforms


def test_without_previous_a_known_agreement_keeps_its_iri_and_the_match_is_reported(
    tmp_path: Path,
) -> None:
    # Issue 18: North Wales's table naming the agreement Merseyside's register lists as
    # "North West Forensics Collaboration", with the same parties, must not mint
    # north-west-forensics-collaboration; the same title with other parties is another one.
    table = tmp_path / "north-wales.csv"
    table.write_text(
        "Collaboration Name,Purpose,Force Areas Involved,Date\n"
        "North West Forensics Collaboration,Forensic services.,"
        "Cheshire; Cumbria; Lancashire; Merseyside; North Wales,Aug-23\n"
        "North West Chronicle,Records.,North Wales; Cheshire,Apr-23\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["import-csv", str(table), "--force", "north-wales"])
    graph = Graph().parse(data=result.stdout, format="turtle")
    listed = {str(a).rsplit("/", 1)[1] for a in graph.objects(None, S22A.lists)}
    assert listed == {"north-west-forensics", "north-west-chronicle-2"}
    assert "Row 2 (“North West Forensics Collaboration”) is agreement:north-west-forensics" in (
        result.stderr
    )
    assert "is agreement:north-west-chronicle-2, not agreement:north-west-chronicle" in (
        result.stderr
    )


def test_the_command_exits_1_and_reports_unmatched_cells(tmp_path: Path) -> None:
    table = tmp_path / "table.csv"
    table.write_text(UNMATCHED, encoding="utf-8")
    result = CliRunner().invoke(cli, ["import-csv", str(table), "--force", "merseyside"])
    assert result.exit_code == 1
    assert "NOT MATCHED: row 3, column “Forces”" in result.stderr
    Graph().parse(data=result.stdout, format="turtle")  # still written, to finish by hand


@pytest.mark.parametrize(
    ("content", "force", "message"),
    [
        (b"Purpose,Date\r\nSomething,Feb-22\r\n", "merseyside", "no column of agreement names"),
        (b"", "merseyside", "empty"),
        (TABLE.read_bytes(), "atlantis", "no force"),
    ],
)
def test_the_command_exits_2_when_it_cannot_convert(
    tmp_path: Path, content: bytes, force: str, message: str
) -> None:
    table = tmp_path / "table.csv"
    table.write_bytes(content)
    result = CliRunner().invoke(cli, ["import-csv", str(table), "--force", force])
    assert result.exit_code == 2
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_excel_exports_semicolons_and_windows_1252_are_read() -> None:
    table = (
        "Collaboration Name;Purpose;Force Areas Involved;Date\r\n"
        "Café collaboration;Shared “services”.;Cheshire, Merseyside;Jan-21\r\n"
    )
    result = csv_import.convert(table.encode("cp1252"), "merseyside")
    assert result.problems == []
    assert any("Windows-1252" in note for note in result.notes)
    titles = {str(t) for t in result.graph.objects(None, DCTERMS.title)}
    assert "Café collaboration" in titles
    agreement = URIRef("https://w3id.org/s22a/id/agreement/cafe-collaboration")
    assert str(result.graph.value(agreement, S22A.purpose)) == "Shared “services”."


def test_help_documents_the_columns_and_exit_status() -> None:
    result = CliRunner().invoke(cli, ["import-csv", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    for words in ("Force Areas Involved", "Feb-22", "Exit status", "nothing is guessed"):
        assert words in text
