"""Reading a force's spreadsheet of agreements (CSV): its columns, found by their headings, and
its rows; and the problems found in them, each with its row and column.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from s22a.ingest.names import normalise

COLUMNS = {
    "title": (
        "collaboration name",
        "collaboration",
        "name",
        "title",
        "agreement",
        "agreement name",
        "collaboration title",
        "name of collaboration",
    ),
    "purpose": ("purpose", "description", "summary", "objective", "purpose of collaboration"),
    "parties": (
        "force areas involved",
        "forces involved",
        "force areas",
        "forces",
        "parties",
        "partners",
        "participating forces",
        "areas involved",
    ),
    "date": (
        "date",
        "date made",
        "date signed",
        "signed",
        "start date",
        "date of agreement",
        "agreement date",
    ),
    "identifier": ("identifier", "id", "iri", "uri", "slug"),
}


class CsvImportError(ValueError):
    """The table cannot be converted at all (not CSV, or no column of names)."""


@dataclass(frozen=True)
class Problem:
    """A cell that could not be matched: spreadsheet row (the headings are row 1) and column."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, column “{self.column}”: {self.message}"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:120]


@dataclass
class _Row:
    number: int
    title: str
    cells: dict[str, tuple[str, str]]  # field -> (heading, value)


def read_table(data: bytes | str) -> tuple[list[_Row], list[str], list[str]]:
    """The rows of a CSV table, keyed by field; and notes, and the headings that were ignored."""
    notes: list[str] = []
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
            notes.append("The file is not UTF-8; it was read as Windows-1252 (Excel’s default).")
    else:
        text = data
    if not text.strip():
        raise CsvImportError("the table is empty")
    first = text.lstrip().splitlines()[0]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(first, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    try:
        table = list(csv.reader(io.StringIO(text.lstrip()), dialect))
    except csv.Error as error:
        raise CsvImportError(f"the file is not a CSV table: {error}") from None
    headings = [h.strip() for h in table[0]]
    fields: dict[int, str] = {}
    ignored = []
    for index, heading in enumerate(headings):
        key = normalise(heading)
        name = next((f for f, names in COLUMNS.items() if key in names), None)
        if name and name not in fields.values():
            fields[index] = name
        elif heading:
            ignored.append(heading)
    if "title" not in fields.values():
        raise CsvImportError(
            "no column of agreement names: the first row must be headings, "
            "one of them “Collaboration Name” (or “Name”, “Title”)"
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        # A short row's missing cells are empty, as in a spreadsheet.
        values = {
            name: (headings[i], cells[i].strip() if i < len(cells) else "")
            for i, name in fields.items()
        }
        if not any(v for _, v in values.values()):
            continue
        rows.append(_Row(number, values.get("title", ("", ""))[1], values))
    return rows, notes, ignored
