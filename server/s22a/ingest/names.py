"""Matching what a spreadsheet says to the reference data: names of forces, bodies, regions
and national agreements, and dates written the ways registers write them.

Names are folded before comparison (`normalise`): case, "&" and "and", hyphens, dots and
apostrophes do not matter, so "Dyfed Powys" is "Dyfed-Powys". Nothing is fuzzy-matched:
a close name is offered as a hint, never used.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from difflib import get_close_matches

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS, XSD

from s22a.namespaces import BODY, FORCE, S22A

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
NUMBERS = {
    w: n
    for n, w in enumerate(
        ("zero one two three four five six seven eight nine ten eleven twelve").split()
    )
}


def normalise(text: str) -> str:
    """A name folded for matching: case, '&', hyphens, dots and apostrophes do not matter."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    text = re.sub(r"[-‐‑–—_/]", " ", text)
    text = re.sub(r"[.'’,()]", "", text)
    return " ".join(text.split())


def slugify(text: str) -> str:
    """A readable IRI slug made from a title."""
    ascii_text = unicodedata.normalize("NFKD", normalise(text)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:80] or "agreement"


def parse_date(text: str, today: date | None = None) -> Literal | None:
    """'Feb-22' -> 2022-02 (xsd:gYearMonth); also 2022-02, 2009, 2022-02-14, 14/02/2022."""
    value = " ".join(text.strip().split())
    today = today or date.today()
    if m := re.fullmatch(r"([A-Za-z]{3,9})\.?[-\s/]+(\d{2}|\d{4})", value):
        month = MONTHS.get(m.group(1).lower())
        year = int(m.group(2))
        if month is None:
            return None
        if year < 100:  # two-digit years: this century unless that is in the future
            year += 2000 if 2000 + year <= today.year + 1 else 1900
        return Literal(f"{year:04d}-{month:02d}", datatype=XSD.gYearMonth)
    if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
        if 1 <= int(m.group(2)) <= 12:
            return Literal(f"{m.group(1)}-{int(m.group(2)):02d}", datatype=XSD.gYearMonth)
        return None
    if re.fullmatch(r"\d{4}", value):
        return Literal(value, datatype=XSD.gYear)
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d %B %Y", "%d %b %Y"):
        try:
            day = datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        return Literal(day.isoformat(), datatype=XSD.date)
    return None


class Names:
    """The names the reference data gives forces, bodies, regions and national agreements."""

    def __init__(self, context: Graph) -> None:
        """Index the labels in `context` (the ontology and reference data)."""
        self.context = context
        self.parties: dict[str, set[URIRef]] = {}
        self.agreements: dict[str, set[URIRef]] = {}
        self.regions: dict[str, URIRef] = {}
        label_properties = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel)
        for subject, predicate, label in context:
            if not isinstance(subject, URIRef) or not isinstance(label, Literal):
                continue
            if predicate not in (*label_properties, S22A.policeUkId):
                continue
            iri = str(subject)
            if iri.startswith((str(FORCE), str(BODY))):
                self.parties.setdefault(normalise(str(label)), set()).add(subject)
            elif (subject, RDF.type, S22A.Agreement) in context:
                self.agreements.setdefault(normalise(str(label)), set()).add(subject)
            elif (subject, RDF.type, S22A.Region) in context:
                name = normalise(str(label))
                self.regions[name] = subject
                self.regions["".join(word[0] for word in name.split())] = subject  # NW

    def party(self, name: str) -> tuple[URIRef | None, str]:
        """The force or body called `name`, or None and why."""
        found = self.parties.get(normalise(name), set())
        if len(found) == 1:
            return next(iter(found)), ""
        if found:
            return None, f"“{name}” could be any of {', '.join(sorted(found))}"
        close = get_close_matches(normalise(name), list(self.parties), n=1, cutoff=0.8)
        hint = f" (did you mean “{close[0]}”?)" if close else ""
        return None, f"no force or body in the reference data is called “{name}”{hint}"

    def region_forces(self, words: str, count: str | None) -> tuple[list[URIRef], str]:
        """The forces of the region `words` names ('NW', 'North West'), checked against `count`."""
        region = self.regions.get(normalise(words))
        if region is None:
            return [], f"no region is called “{words}”"
        forces = sorted(
            f
            for f in self.context.subjects(S22A.region, region)
            if isinstance(f, URIRef) and str(f).startswith(str(FORCE))
        )
        if count is not None:
            expected = int(count) if count.isdigit() else NUMBERS.get(count.lower())
            if expected != len(forces):
                return [], (
                    f"the reference data has {len(forces)} forces in that region, not {count}"
                )
        return forces, ""


def police_forces(context: Graph) -> dict[str, str]:
    """Every police force in `context` (the reference data): slug -> name, sorted by name."""
    kinds = (S22A.PoliceForce, S22A.TerritorialPoliceForce, S22A.SpecialPoliceForce)
    found = {
        force
        for kind in kinds
        for force in context.subjects(RDF.type, kind)
        if str(force).startswith(str(FORCE))
    }
    named = {str(f)[len(str(FORCE)) :]: str(context.value(f, RDFS.label) or f) for f in found}
    return dict(sorted(named.items(), key=lambda item: item[1]))
