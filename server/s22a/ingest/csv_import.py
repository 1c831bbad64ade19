"""Turn the table a force already publishes (CSV) into a register in Turtle.

The model is the Merseyside table (seed 000): one row per agreement with its
name, purpose, the force areas involved and a date such as ``Feb-22``. Column
headings are matched loosely and in any order. Force names are matched to the
reference data by label, other label or data.police.uk id ("GMP", "Dyfed
Powys"); "All 6 NW Forces" names every force of a region (and the count must
agree); "National" and "Part-National" give the scope and name no parties, so
the register's own force is the party and the parties are marked not stated
(as the hand-written registers do), unless the row is a canonical national
agreement whose record names its party group.

Nothing is guessed: a cell that cannot be matched is reported with its row and
column, left out of the register, and may come with a suggestion to check.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import click
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, RDFS

from s22a.ingest.csv_table import CsvImportError, Problem, _one_line, _Row, read_table
from s22a.ingest.names import Names, normalise, parse_date, police_forces, slugify
from s22a.namespaces import AGREEMENT, FORCE, REGISTER, S22A, bind_prefixes, is_slug

SCOPES = {"national": S22A.National, "part national": S22A.PartNational}


ALL_FORCES = re.compile(r"^all(?: the)?(?: (\w+))? (.+?) (?:police )?forces$")


@dataclass
class ImportResult:
    """The register made from a table, and what could not be matched."""

    graph: Graph
    register: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    agreements: int = 0

    def turtle(self) -> str:
        """The register in Turtle, headed by comments listing the unmatched cells."""
        head = [f"# Converted by `s22a import-csv`: {self.agreements} agreement(s)."]
        # One comment line each: a cell's CR or LF would end the comment and start Turtle.
        head += [
            f"# NOT MATCHED, left out: {' '.join(str(p).split())} ({_one_line(p.value)!r})"
            for p in self.problems
        ]
        return "\n".join(head) + "\n\n" + self.graph.serialize(format="turtle")


def convert(
    data: bytes | str,
    force: str,
    *,
    context: Graph | None = None,
    previous: Graph | None = None,
    known: Sequence[Graph] = (),
    source: str = "table.csv",
) -> ImportResult:
    """Convert a CSV table into `force`'s register; see the module docstring for the rules."""
    if context is None:
        from s22a.reference import context_graph

        context = context_graph()
    names = Names(context)
    force_iri = FORCE[force]
    if force not in police_forces(context):
        raise CsvImportError(f"there is no force “{force}” in the reference data")
    rows, notes, ignored = read_table(data)
    notes += [f"Column “{h}” is not one the register uses; it was left out." for h in ignored]
    register = REGISTER[force]
    graph = Graph()
    bind_prefixes(graph)
    result = ImportResult(graph, str(register), notes=notes)
    titles = _previous_titles(previous, register)
    elsewhere = _known_agreements(known)
    canonical: set[URIRef] = set().union(*names.agreements.values())
    used: dict[URIRef, int] = {}
    for row in rows:
        agreement = _agreement(row, names, titles, used, result)
        if agreement is None:
            continue
        minted = agreement not in titles.values() and not row.cells.get("identifier", ("", ""))[1]
        _describe(graph, agreement, row, names, force_iri, result)
        if minted and agreement not in canonical:
            agreement = _match_known(graph, agreement, row, elsewhere, used, result)
        used[agreement] = row.number
        graph.add((register, S22A.lists, agreement))
    _register(graph, register, force_iri, context, source)
    result.agreements = len(used)
    return result


def _previous_titles(previous: Graph | None, register: URIRef) -> dict[str, URIRef]:
    known: dict[str, URIRef] = {}
    if previous is None:
        return known
    for agreement in previous.objects(None, S22A.lists):
        if isinstance(agreement, URIRef):
            for p in (DCTERMS.title, RDFS.label, DCTERMS.alternative):
                for label in previous.objects(agreement, p):
                    known.setdefault(normalise(str(label)), agreement)
    return known


def _known_agreements(known: Sequence[Graph]) -> dict[str, dict[URIRef, set[frozenset]]]:
    """The agreements other registers list: by each name they give it, the IRI and the
    parties each of them names."""
    found: dict[str, dict[URIRef, set[frozenset]]] = {}
    for graph in known:
        for agreement in set(graph.objects(None, S22A.lists)):
            if not isinstance(agreement, URIRef):
                continue
            parties = frozenset(graph.objects(agreement, S22A.party))
            for p in (DCTERMS.title, RDFS.label, DCTERMS.alternative):
                for label in graph.objects(agreement, p):
                    found.setdefault(normalise(str(label)), {}).setdefault(agreement, set()).add(
                        parties
                    )
    return found


def _match_known(
    graph: Graph,
    minted: URIRef,
    row: _Row,
    known: dict[str, dict[URIRef, set[frozenset]]],
    used: dict[URIRef, int],
    result: ImportResult,
) -> URIRef:
    """The IRI of an agreement already known by this row's title with the same parties (a
    register names it so), reported to the user; else the minted one, unless that is a known
    agreement's with other parties."""
    parties = frozenset(graph.objects(minted, S22A.party))
    matches = [
        iri
        for iri, named in known.get(normalise(row.title), {}).items()
        if iri not in used and (parties in named or not parties)
    ]
    taken = {iri for named in known.values() for iri in named}
    if len(matches) == 1:
        [iri] = matches
        note = "which a published register already lists under that name with the same parties"
    elif minted in taken:
        # The slug is a known agreement's, but the parties differ: not silently the same one.
        base, counter = str(minted), 2
        while URIRef(f"{base}-{counter}") in taken or URIRef(f"{base}-{counter}") in used:
            counter += 1
        iri = URIRef(f"{base}-{counter}")
        note = (
            f"not agreement:{base[len(str(AGREEMENT)) :]}, which a published register lists "
            "with other parties: check, and give the row an Identifier if they are the same"
        )
    else:
        return minted
    for _, p, o in list(graph.triples((minted, None, None))):
        graph.remove((minted, p, o))
        graph.add((iri, p, o))
    slug = str(iri)[len(str(AGREEMENT)) :]
    result.notes.append(f"Row {row.number} (“{row.title}”) is agreement:{slug}, {note}.")
    return iri


def _agreement(
    row: _Row, names: Names, known: dict[str, URIRef], used: dict[URIRef, int], result: ImportResult
) -> URIRef | None:
    heading = row.cells["title"][0]
    if not row.title:
        result.problems.append(Problem(row.number, heading, "", "the agreement has no name"))
        return None
    given = row.cells.get("identifier", ("", ""))
    iri: URIRef | None = None
    if given[1]:
        if given[1].startswith(("http://", "https://")):
            iri = URIRef(given[1])
        elif is_slug(given[1]):
            iri = AGREEMENT[given[1]]
        else:
            result.problems.append(
                Problem(
                    row.number,
                    given[0],
                    given[1],
                    "not an IRI or a slug such as west-coast-collaboration",
                )
            )
    key = normalise(row.title)
    if iri is None:
        canonical = names.agreements.get(key, set())
        iri = known.get(key) or (next(iter(canonical)) if len(canonical) == 1 else None)
    if iri is not None and iri in used:
        result.notes.append(
            f"Row {row.number} names the same agreement as row {used[iri]}; "
            "it is kept as a separate agreement."
        )
        iri = None
    if iri is None:
        slug = base = slugify(row.title)
        counter = 2
        while AGREEMENT[slug] in used:
            slug, counter = f"{base}-{counter}", counter + 1
        iri = AGREEMENT[slug]
    return iri


def _describe(
    graph: Graph, agreement: URIRef, row: _Row, names: Names, force: URIRef, result: ImportResult
) -> None:
    graph.add((agreement, RDF.type, S22A.Agreement))
    graph.add((agreement, DCTERMS.title, Literal(row.title, lang="en")))
    purpose = row.cells.get("purpose", ("", ""))[1]
    if purpose:
        graph.add((agreement, S22A.purpose, Literal(purpose, lang="en")))
    heading, cell = row.cells.get("parties", ("Force Areas Involved", ""))
    parties, scope, unmatched = _parties(cell, names, row.number, heading, result)
    if force not in parties:
        if parties and not unmatched:
            result.notes.append(
                f"Row {row.number} does not name the register’s own force; it "
                "is added as a party, since the register lists the agreement."
            )
        parties.append(force)
    for party in parties:
        graph.add((agreement, S22A.party, party))
    if scope is not None:
        graph.add((agreement, S22A.scope, scope))
    named_group = (agreement, S22A.partyGroup, None) in names.context
    if (scope in SCOPES.values() or not cell) and not named_group:
        graph.add((agreement, S22A.notStated, S22A.party))
    heading, cell = row.cells.get("date", ("Date", ""))
    if not cell:
        graph.add((agreement, S22A.notStated, S22A.dateMade))
        return
    made = parse_date(cell)
    if made is None:
        result.problems.append(
            Problem(
                row.number, heading, cell, f"“{cell}” is not a date such as Feb-22 or 2022-02-14"
            )
        )
    else:
        graph.add((agreement, S22A.dateMade, made))


def _parties(
    cell: str, names: Names, number: int, heading: str, result: ImportResult
) -> tuple[list[URIRef], URIRef | None, bool]:
    """The parties and scope a cell names, reporting the names it cannot match."""
    parties: list[URIRef] = []
    scope = None
    unmatched = False
    for piece in (p.strip() for p in re.split(r"[;,\n]", cell)):
        if not piece:
            continue
        key = normalise(piece)
        if key in SCOPES:
            scope = SCOPES[key]
            continue
        if m := ALL_FORCES.match(key):
            forces, why = names.region_forces(m.group(2), m.group(1))
            if why:
                result.problems.append(Problem(number, heading, piece, f"“{piece}”: {why}"))
                unmatched = True
            else:
                parties += [f for f in forces if f not in parties]
                scope = S22A.Regional
            continue
        candidates = [piece]
        if names.party(piece)[0] is None and " and " in f" {key} ":
            candidates = [c.strip() for c in re.split(r"\s+(?:and|&)\s+", piece)]
        for name in candidates:
            party, why = names.party(name)
            if party is None:
                result.problems.append(Problem(number, heading, name, why))
                unmatched = True
            elif party not in parties:
                parties.append(party)
    return parties, scope, unmatched


def _register(graph: Graph, register: URIRef, force: URIRef, context: Graph, source: str) -> None:
    label = str(context.value(force, RDFS.label) or force.rsplit("/", 1)[-1])
    short = re.sub(r"\s+(Police|Constabulary|Police Service)$", "", label)
    title = Literal(f"{short} collaboration register", lang="en")
    graph.add((register, RDF.type, S22A.Register))
    graph.add((register, RDFS.label, title))
    graph.add((register, DCTERMS.title, title))
    graph.add((register, S22A.force, force))
    body = context.value(force, S22A.policingBody)
    if body is not None:
        graph.add((register, DCTERMS.publisher, body))
    document = BNode()
    graph.add((register, DCTERMS.source, document))
    graph.add((document, RDF.type, FOAF.Document))
    graph.add((document, DCTERMS.title, Literal(f"Spreadsheet {source}", lang="en")))
    graph.add((document, DCTERMS.identifier, Literal(source)))
    graph.add(
        (
            register,
            RDFS.comment,
            Literal(
                f"Converted from the table {source} by `s22a import-csv`: parties matched to the "
                "reference data by name; rows marked National or Part-National name no parties, so "
                "the register's own force is given as party and the parties are marked not stated, "
                "unless the row is a national agreement whose record names its party group.",
                lang="en",
            ),
        )
    )


@click.command("import-csv")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--force", required=True, help="The force whose register this is, e.g. merseyside.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, writable=True),
    help="Write the Turtle to this file (default: standard output).",
)
@click.option(
    "--previous",
    type=click.Path(exists=True, dir_okay=False),
    help="An earlier register (Turtle): rows with the same title keep its IRIs. Without it, "
    "a row with the title and parties of an agreement a published register lists keeps that "
    "agreement's IRI, and the match is reported.",
)
def import_csv(file: str, force: str, output: str | None, previous: str | None) -> None:
    """Convert a table of agreements (CSV) into FORCE's register in Turtle.

    The first row holds headings, in any order: the agreement's name (“Collaboration Name”,
    “Name” or “Title”), “Purpose”, the forces (“Force Areas Involved”, “Parties”), “Date”
    (Feb-22, 2022-02, 2009, 2022-02-14 or 14/02/2022) and, optionally, “Identifier” (an IRI
    or slug to keep). Forces are matched by name (“GMP”, “Dyfed Powys”, “All 6 NW Forces”);
    “National” and “Part-National” give the scope. Each cell that cannot be matched is
    reported with its row and column on standard error and left out: nothing is guessed.
    The register is then validated like `s22a validate`.

    Exit status: 0 every cell matched and the register is valid; 1 some cell could not be
    matched or the register is not valid (the Turtle is still written, for you to finish);
    2 the table cannot be read.
    """
    from s22a import resources
    from s22a.ingest import parse, validation

    try:
        earlier = parse.read_register(previous) if previous else None
        # The published registers (those bundled with the service): a row naming one of their
        # agreements by its title, with the same parties, keeps that agreement's identifier.
        published = [parse.read_register(p) for p in resources.register_paths()]
        result = convert(
            Path(file).read_bytes(),
            force,
            previous=earlier,
            known=published,
            source=Path(file).name,
        )
    except (CsvImportError, parse.RegisterUnreadable, OSError) as error:
        click.echo(f"{file}: cannot convert: {error}", err=True)
        sys.exit(2)
    if output:
        Path(output).write_text(result.turtle(), encoding="utf-8")
    else:
        click.echo(result.turtle())
    for note in result.notes:
        click.echo(f"{file}: note: {note}", err=True)
    for problem in result.problems:
        click.echo(f"{file}: NOT MATCHED: {problem}", err=True)
    report = validation.validate_graph(result.graph, source=output or f"{file} (converted)")
    click.echo(validation.format_text(report), err=True)
    sys.exit(1 if result.problems or not report.conforms else 0)
