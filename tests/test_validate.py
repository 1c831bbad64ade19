"""`s22a validate`: the seed registers pass, and each broken fixture fails with its own message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from click.testing import CliRunner

from s22a import resources
from s22a.cli import cli
from s22a.ingest import shacl, validation

FIXTURES = Path(__file__).parent / "fixtures" / "registers"

# (fixture, exit status, a phrase the report must contain)
BROKEN = [
    ("syntax-error.ttl", 2, "line 23, column 5: Turtle syntax error"),
    ("json-syntax-error.jsonld", 2, "JSON syntax error"),
    ("rdfxml-syntax-error.rdf", 2, "RDF/XML syntax error: mismatched tag"),
    ("not-utf8.ttl", 2, "not UTF-8 text (byte 0x96"),
    ("empty.ttl", 1, "The file must describe exactly one register"),
    ("two-registers.ttl", 1, "The file must describe exactly one register"),
    ("unknown-force.ttl", 1, "is not a force or body in the reference data"),
    ("misspelt-class.ttl", 1, "s22a#Agrement is not a term of the s22a ontology"),
    ("misspelt-property.ttl", 1, "s22a#partie is not a term of the s22a ontology"),
    ("missing-title.ttl", 1, "This agreement has no title"),
    ("missing-title.rdf", 1, "This agreement has no title"),
    ("date-not-a-date.ttl", 1, "The date of this agreement is not a date"),
    ("date-impossible-day.ttl", 1, "The date of this agreement is not a date"),
    ("one-party.ttl", 1, "names 1 of its parties, fewer than two"),
    ("force-not-a-party.ttl", 1, "names neither its own force nor its force's policing body"),
    ("lead-force-not-a-party.ttl", 1, "as lead force but not as a party"),
    ("budget-without-currency.ttl", 1, "it needs an amount (schema:value) and a currency"),
    ("capability-outside-scheme.ttl", 1, "is not in the capability scheme"),
    ("duplicate-iri-two-titles.ttl", 1, "This agreement has more than one title"),
    ("unknown-scope.ttl", 1, "The scope must be one of"),
    ("legal-basis-as-text.ttl", 1, "must be a legislation.gov.uk identifier"),
    ("staff-posts-not-a-number.ttl", 1, "staff posts must be one whole number"),
    ("no-force.ttl", 1, "The register must name exactly one force"),
    ("agreement-without-iri.ttl", 1, "An agreement needs an identifier"),
    ("bilateral-with-three-parties.ttl", 0, "is bilateral (s22a:scope s22a:Bilateral) but names 3 "
     "parties"),
    # What a register may say (issue 13): only about itself and what it lists, for its force.
    ("describes-another-force.ttl", 1, "Your register may not describe force:merseyside: forces "
     "are described by the reference data. Remove the 2 statements about it."),
    ("describes-an-unlisted-agreement.ttl", 1, "may not describe agreement:minerva-programme: "
     "your register does not list it"),
    ("describes-the-ontology.ttl", 1, "may not describe s22a:Agreement: the ontology and the "
     "shapes are the project's"),
    ("same-as-an-unlisted-agreement.ttl", 1, "owl:sameAs may join only agreements your register "
     "lists, and agreement:minerva-programme is not one of them"),
    ("force-of-another-register.ttl", 1, "This is register:cheshire, so its force (s22a:force) "
     "must be force:cheshire, not force:merseyside"),
    ("publisher-of-another-force.ttl", 1, "publisher must be its force's policing body, "
     "body:cheshire-pcc, not body:merseyside-pcc"),
    ("lists-a-force.ttl", 1, "which is not an agreement's identifier"),
    ("covered-by-an-unlisted-agreement.ttl", 1, "is covered by (s22a:coveredBy) "
     "agreement:north-west-forensics, which your register does not list"),
    ("blank-node-nothing-leads-to.ttl", 1, "1 statement(s) about blank nodes that nothing in it "
     "leads to"),
    ("blank-node-cycle-nothing-leads-to.ttl", 1, "2 statement(s) about blank nodes that "
     "nothing in it leads to"),
    ("reference-label.ttl", 1, "skos:prefLabel names things in the reference data"),
    # Text a reader can trust: the character and its position, and length limits.
    ("zero-width-space-in-title.ttl", 1, "The dcterms:title of agreement:example-forensics has a "
     "zero-width space (U+200B) at character 9"),
    ("bidi-override-in-purpose.ttl", 1, "The s22a:purpose of agreement:example-forensics has a "
     "right-to-left override (U+202E) at character 1"),
    ("control-character-in-title.ttl", 1, "has a control character (U+0007) at character 8"),
    ("title-too-long.ttl", 1, "is 301 characters long; at most 300 are allowed"),
    ("invisible-title.ttl", 1, "has no letter or digit"),
]  # fmt: skip

VALID = ["valid.ttl", "valid.rdf", "valid.jsonld", "valid.nt", "valid-rdfxml-no-extension"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_seed_registers_are_valid(runner: CliRunner) -> None:
    paths = [str(p) for p in resources.register_paths()]
    assert len(paths) == 5
    result = runner.invoke(cli, ["validate", *paths])
    assert result.exit_code == 0, result.output
    assert result.output.count(": valid (0 violation(s)") == 5


@pytest.mark.parametrize("name", VALID)
def test_valid_fixture_in_every_syntax(runner: CliRunner, name: str) -> None:
    result = runner.invoke(cli, ["validate", str(FIXTURES / name)])
    assert result.exit_code == 0, result.output
    assert "valid (0 violation(s), 0 warning(s), 1 agreement(s))" in result.output


@pytest.mark.parametrize(("name", "status", "phrase"), BROKEN)
def test_broken_fixture(runner: CliRunner, name: str, status: int, phrase: str) -> None:
    result = runner.invoke(cli, ["validate", str(FIXTURES / name)])
    assert result.exit_code == status, result.output
    assert phrase in result.output


def test_there_are_at_least_fifteen_broken_registers() -> None:
    broken = {name for name, _, _ in BROKEN}
    assert len(broken) >= 15
    on_disk = {p.name for p in FIXTURES.iterdir()} - set(VALID)
    assert on_disk == broken, "every broken fixture must be exercised"


def test_defects_are_grouped_under_their_agreement(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", str(FIXTURES / "one-party.ttl")])
    lines = result.output.splitlines()
    heading = lines.index(
        "  Agreement 'Example Forensics Collaboration' "
        "<https://w3id.org/s22a/id/agreement/example-forensics>"
    )
    assert "fewer than two" in lines[heading + 1]


def test_a_syntax_error_is_reported_on_its_own_line_after_non_ascii_text(
    runner: CliRunner, tmp_path: Path
) -> None:
    # Issue 18: the error on line 454 of a 457-line register was reported on line 453, because
    # the parser's character offset was applied to the UTF-8 bytes (each "£" or "–" before it
    # counted twice or three times).
    valid = (FIXTURES / "valid.ttl").read_text(encoding="utf-8").splitlines()
    padding = [f"# Note {n}: budget £{n}m – “quoted”" for n in range(453 - len(valid))]
    lines = [
        *valid,
        *padding,
        "agreement:example-forensics s22a:staffPosts 13 ;; %%% .",
        "",
        "",
        "",
    ]
    assert len(lines) == 457
    register = tmp_path / "long.ttl"
    register.write_text("\n".join(lines), encoding="utf-8")
    result = runner.invoke(cli, ["validate", "--format", "json", str(register)])
    assert result.exit_code == 2, result.output
    [document] = json.loads(result.output)["results"]
    assert document["line"] == 454, document
    text = runner.invoke(cli, ["validate", str(register)]).output
    assert "line 454, column " in text, text


def test_a_misspelt_property_is_reported_under_its_agreement(
    runner: CliRunner, tmp_path: Path
) -> None:
    result = runner.invoke(cli, ["validate", str(FIXTURES / "misspelt-property.ttl")])
    assert "The register as a whole" not in result.output, result.output
    heading = "  Agreement 'Example Forensics Collaboration' "
    after = result.output[result.output.index(heading) :]
    assert "s22a#partie is not a term of the s22a ontology" in after
    # Also on a blank node the agreement leads to (its budget).
    text = (FIXTURES / "valid.ttl").read_text(encoding="utf-8")
    budget = tmp_path / "misspelt-in-budget.ttl"
    budget.write_text(text.replace("s22a:budgetKind", "s22a:budgetKnd"), encoding="utf-8")
    output = runner.invoke(cli, ["validate", "--format", "json", str(budget)]).output
    [finding] = json.loads(output)["results"][0]["results"]
    assert "s22a#budgetKnd is not a term" in finding["message"]
    assert finding["agreement"] == "https://w3id.org/s22a/id/agreement/example-forensics"


def test_one_bad_date_is_one_violation(runner: CliRunner) -> None:
    # Both the date's datatype and its pattern refuse "Febuary 2022": the reader is told once.
    result = runner.invoke(cli, ["validate", str(FIXTURES / "date-not-a-date.ttl")])
    assert "INVALID (1 violation(s)" in result.output, result.output
    assert result.output.count("The date of this agreement is not a date") == 1


def test_missing_file_is_unreadable(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["validate", str(tmp_path / "nope.ttl")])
    assert result.exit_code == 2
    assert "no such file" in result.output


def test_worst_status_wins_over_several_files(runner: CliRunner) -> None:
    files = [str(FIXTURES / n) for n in ("valid.ttl", "one-party.ttl", "syntax-error.ttl")]
    result = runner.invoke(cli, ["validate", *files])
    assert result.exit_code == 2
    assert "valid.ttl: valid" in result.output
    assert "one-party.ttl: INVALID" in result.output


def test_json_output(runner: CliRunner) -> None:
    files = [str(FIXTURES / n) for n in ("valid.ttl", "missing-title.ttl", "syntax-error.ttl")]
    result = runner.invoke(cli, ["validate", "--format", "json", *files])
    assert result.exit_code == 2
    document = json.loads(result.output)["results"]
    assert [r["readable"] for r in document] == [True, True, False]
    assert document[0]["conforms"] is True
    assert document[1]["conforms"] is False
    messages = [r["message"] for r in document[1]["results"] if r["severity"] == "violation"]
    assert any("no title" in m for m in messages)
    assert (document[2]["line"], document[2]["column"]) == (23, 5)


def test_turtle_output_is_a_shacl_report(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", "--format", "turtle", str(FIXTURES / "one-party.ttl")])
    assert result.exit_code == 1
    report = rdflib.Graph().parse(data=result.output, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert (None, sh.conforms, rdflib.Literal(False)) in report
    assert len(list(report.objects(None, sh.result))) >= 1


def test_warnings_do_not_fail_a_register() -> None:
    data = (
        (FIXTURES / "valid.ttl")
        .read_bytes()
        .replace(b'    s22a:dateMade "2022-02"^^xsd:gYearMonth ;\n', b"")
    )
    result = validation.validate_bytes(data, "no-date.ttl")
    assert result.conforms
    assert [w.message for w in result.warnings] == [
        "This agreement has no date: add s22a:dateMade, or s22a:notStated s22a:dateMade "
        "if your source does not give one."
    ]


def test_not_stated_parties_are_allowed() -> None:
    data = (
        (FIXTURES / "one-party.ttl")
        .read_bytes()
        .replace(
            b"s22a:party force:cheshire ;",
            b"s22a:party force:cheshire ;\n    s22a:notStated s22a:party ;",
        )
    )
    assert validation.validate_bytes(data, "not-stated.ttl").conforms


def test_help_text_describes_exit_status(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0
    assert "0 all valid" in result.output


def test_many_findings_count_the_register_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # pySHACL tests the data graph's truth, a len(), twice per result it reports; on Oxigraph
    # each len() was a COUNT of the whole store, so the time grew with findings x triples.
    # 30 agreements with one party each: 30 results of a SPARQL constraint, one count per graph.
    from oxrdflib import OxigraphStore

    one = (FIXTURES / "one-party.ttl").read_text(encoding="utf-8")
    head, agreement = one.split("agreement:example-forensics a s22a:Agreement ;")
    copies = [f"agreement:example-{n}" for n in range(30)]
    data = head.replace("s22a:lists agreement:example-forensics", f"s22a:lists {', '.join(copies)}")
    for iri in copies:
        data += f"{iri} a s22a:Agreement ;" + agreement.replace("Forensics", iri[-2:])
    counted = []
    real = OxigraphStore.__len__

    def counting(self: OxigraphStore, context: object = None) -> int:
        counted.append(context)
        return real(self, context)  # type: ignore[arg-type]

    monkeypatch.setattr(OxigraphStore, "__len__", counting)
    result = validation.validate_bytes(data.encode(), "thirty.ttl")
    few = [v for v in result.violations if "fewer than two" in v.message]
    assert len(few) == 30
    assert 1 <= len(counted) <= 2  # the register with its context, and on its own

    graph = shacl.on_oxigraph(rdflib.Graph().parse(data=data, format="turtle"))
    size = len(graph)
    graph.add((rdflib.URIRef("http://example.org/a"), rdflib.RDF.type, rdflib.OWL.Thing))
    assert len(graph) == size + 1  # a write forgets the count
    graph.remove((rdflib.URIRef("http://example.org/a"), None, None))
    assert len(graph) == size


def test_validation_leaves_the_register_graph_as_it_was() -> None:
    # The ontology and reference data are added to the register's own graph while the Core
    # shapes run (no copy of a big register), and taken out again, but for what it states.
    from s22a.reference import context_graph

    register = rdflib.Graph().parse(FIXTURES / "valid.ttl", format="turtle")
    stated = next(iter(context_graph()))  # a triple of the reference data the register repeats
    register.add(stated)
    before = set(register)
    validation.validate_graph(register, "valid.ttl")  # (a violation: it describes a force)
    assert set(register) == before and stated in register
