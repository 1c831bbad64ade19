"""Listings that answer questions: every agreement as one row of facts, filters that combine
(force, capability with its narrower ones, region, scope, year range, confirmation), counts per
value beside each filter (facets), and the same rows for spreadsheets (CSV) and programs (JSON).

The rows are worked out once per dataset version (a write or a harvest changes the version)
and kept for the store; filtering, counting and paging happen on them in Python, so a facet
count is always the count of the rows the same filters list.
"""

from __future__ import annotations

import csv
import io
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from s22a.history.versions import current_state
from s22a.namespaces import CAPABILITY, FORCE, GRAPH_REFERENCE, REGION, S22A, is_slug
from s22a.read import describe as d
from s22a.read.facts import FORCE_TYPES, SAID_OF_A, agreement_facts
from s22a.store import Store

P = d.PREFIXES
ROLES = {
    str(S22A.party): "party",
    str(S22A.leadForce): "lead force",
    str(S22A.hostForce): "host force",
}
GROUP_ROLE = "party, as a member of a party group"
SCOPES = ("National", "PartNational", "Regional", "SubRegional", "CrossRegional", "Bilateral")
CONFIRMATIONS = {
    "all": "Every party force's register lists it",
    "some": "Some party forces' registers list it",
    "none": "No party force's register lists it",
}
SORTS = {
    "title": "Title (A to Z)",
    "newest": "Newest first",
    "oldest": "Oldest first",
    "registers": "Listed by most registers",
}
# The columns of the agreements' CSV and JSON (stable: documented in the OpenAPI document).
# parties: "Name (role, role); ...", named forces first, then party groups.
COLUMNS = ("iri", "title", "date", "scope", "parties", "capabilities", "registers", "confirmation")


@dataclass
class Row:
    """One agreement and what the registers and the reference data say of it."""

    iri: str
    title: str
    dates: list[str] = field(default_factory=list)
    scopes: set[str] = field(default_factory=set)
    roles: dict[str, set[str]] = field(default_factory=dict)  # force IRI -> its roles
    groups: set[str] = field(default_factory=set)  # party groups (their members are in roles)
    capabilities: set[str] = field(default_factory=set)  # those stated
    covers: set[str] = field(default_factory=set)  # those stated and every broader one
    regions: set[str] = field(default_factory=set)
    registers: list[str] = field(default_factory=list)
    confirmation: str = "none"
    # Its title and dates as pages show them: each with the registers that give it, and the
    # one that leads (`attribution.RULE`; `read.facts.agreement_facts`).
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def date(self) -> str:
        """The leading date (`attribution.RULE`) at its own precision, or ''."""
        return self.facts.get("date") or (min(self.dates) if self.dates else "")

    @property
    def named(self) -> dict[str, set[str]]:
        """The forces named themselves (not only as members of a party group), with roles."""
        return {f: r - {GROUP_ROLE} for f, r in self.roles.items() if r - {GROUP_ROLE}}

    @property
    def year(self) -> int | None:
        """The year of `date`, if there is one."""
        return int(self.date[:4]) if self.date[:4].isdigit() else None


@dataclass(frozen=True)
class Filters:
    """What a listing is narrowed to; empty means everything."""

    forces: tuple[str, ...] = ()
    capability: str | None = None
    region: str | None = None
    scope: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    confirmation: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> tuple[Filters, list[tuple[str, str]]]:
        """Filters from query parameters (force, capability, region, scope, from, to,
        confirmation), and the (parameter, message) of each value that cannot be used."""
        errors: list[tuple[str, str]] = []

        def slug(name: str, value: str | None) -> str | None:
            if value and not is_slug(value):
                errors.append((name, f"“{value}” is not an identifier such as north-west"))
                return None
            return value or None

        def year(name: str) -> int | None:
            value = args.get(name) or ""
            if value and not (value.isdigit() and len(value) == 4):
                errors.append((name, f"“{value}” is not a year such as 2015"))
                return None
            return int(value) if value else None

        getlist = getattr(args, "getlist", lambda key: [args[key]] if key in args else [])
        forces = tuple(f for f in (slug("force", v) for v in getlist("force")) if f)
        scope = args.get("scope") or None
        if scope and scope not in SCOPES:
            errors.append(("scope", f"“{scope}” is not a scope: use one of {', '.join(SCOPES)}"))
            scope = None
        confirmation = args.get("confirmation") or None
        if confirmation and confirmation not in CONFIRMATIONS:
            errors.append(("confirmation", "use all, some or none"))
            confirmation = None
        found = cls(
            forces=tuple(str(FORCE[f]) for f in forces),
            capability=str(CAPABILITY[c])
            if (c := slug("capability", args.get("capability")))
            else None,
            region=str(REGION[r]) if (r := slug("region", args.get("region"))) else None,
            scope=str(S22A[scope]) if scope else None,
            year_from=year("from"),
            year_to=year("to"),
            confirmation=confirmation,
        )
        return found, errors

    def active(self) -> bool:
        """Whether anything is filtered."""
        return self != Filters()

    def matches(self, row: Row, leave_out: str = "") -> bool:
        """Whether `row` passes every filter but `leave_out` (a facet's own)."""
        if leave_out != "force" and not all(f in row.roles for f in self.forces):
            return False
        if leave_out != "capability" and self.capability and self.capability not in row.covers:
            return False
        if leave_out != "region" and self.region and self.region not in row.regions:
            return False
        if leave_out != "scope" and self.scope and self.scope not in row.scopes:
            return False
        if leave_out != "year" and (self.year_from or self.year_to):
            if row.year is None:
                return False
            if self.year_from and row.year < self.year_from:
                return False
            if self.year_to and row.year > self.year_to:
                return False
        return (
            leave_out == "confirmation"
            or not self.confirmation
            or (row.confirmation == self.confirmation)
        )


# ---------------------------------------------------------------------------------------------
# The rows, once per dataset version

_ROWS: dict[int, tuple[str, list[Row]]] = {}
_LOCK = threading.Lock()


def rows(store: Store) -> list[Row]:
    """Every agreement as a row, sorted by title (computed once per dataset version)."""
    token = current_state(store).token
    with _LOCK:
        kept = _ROWS.get(id(store))
        if kept and kept[0] == token:
            return kept[1]
    built = _build(store)
    with _LOCK:
        _ROWS[id(store)] = (token, built)
    return built


def _build(store: Store) -> list[Row]:
    iris = [
        str(r["a"])
        for r in store.select(
            P + f"SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{ ?a a s22a:Agreement }} {SAID_OF_A} }}"
        )
    ]
    titles = d.labels(store, iris)
    found = {a: Row(a, titles.get(a, a)) for a in iris}
    police, members, broader, region_of = _reference(store)
    said = store.select(
        P
        + f"""SELECT DISTINCT ?a ?p ?o WHERE {{ GRAPH ?g {{ ?a ?p ?o }} {SAID_OF_A}
        VALUES ?p {{ s22a:party s22a:leadForce s22a:hostForce s22a:partyGroup s22a:scope
                     s22a:dateMade s22a:capability }} }}"""
    )
    _add_statements(found, said, police, members, broader)
    register_force = {
        str(r["r"]): str(r["f"])
        for r in store.select(
            P + "SELECT ?r ?f WHERE { GRAPH ?r { ?r a s22a:Register ; s22a:force ?f } }"
        )
    }
    listing: dict[str, set[str]] = defaultdict(set)
    for r in store.select(
        P
        + """SELECT ?r ?a WHERE { GRAPH ?r { { ?r s22a:lists ?a }
             UNION { ?r s22a:lists ?row . ?row s22a:coveredBy ?a } } }"""
    ):
        listing[str(r["a"])].add(str(r["r"]))
    facts = agreement_facts(store, iris)
    for row in found.values():
        row.facts = facts.get(row.iri, {"iri": row.iri, "title": row.title})
        row.title = row.facts["title"]
        row.dates = sorted(set(row.dates))
        row.regions = {reg for f in row.roles for reg in region_of.get(f, ())}
        row.registers = sorted(r for r in listing.get(row.iri, ()) if r in register_force)
        confirming = {register_force[r] for r in row.registers} & set(row.roles)
        row.confirmation = (
            "all"
            if row.roles and confirming == set(row.roles)
            else "some"
            if confirming
            else "none"
        )
    return sorted(found.values(), key=lambda r: (r.title.casefold(), r.iri))


def _reference(
    store: Store,
) -> tuple[set[str], dict[str, set[str]], dict[str, set[str]], dict[str, set[str]]]:
    """From the reference data: the police forces, each party group's members, each
    capability's broader ones (any depth), and each force's regions."""
    police = {
        str(r["f"])
        for r in store.select(
            P + f"SELECT ?f WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f a ?ftype }} {FORCE_TYPES} }}"
        )  # fmt: skip
    }
    members: dict[str, set[str]] = defaultdict(set)
    for r in store.select(P + "SELECT ?g ?m WHERE { GRAPH ?x { ?g org:hasMember ?m } }"):
        members[str(r["g"])].add(str(r["m"]))
    broader: dict[str, set[str]] = defaultdict(set)
    for r in store.select(
        P + f"SELECT ?c ?b WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?c skos:broader+ ?b }} }}"
    ):
        broader[str(r["c"])].add(str(r["b"]))
    region_of: dict[str, set[str]] = defaultdict(set)
    for r in store.select(
        P + f"SELECT ?f ?r WHERE {{ GRAPH <{GRAPH_REFERENCE}> {{ ?f s22a:region ?r }} }}"
    ):
        region_of[str(r["f"])].add(str(r["r"]))
    return police, members, broader, region_of


def _add_statements(
    found: dict[str, Row],
    said: list[dict[str, Any]],
    police: set[str],
    members: dict[str, set[str]],
    broader: dict[str, set[str]],
) -> None:
    """Put what the registers and the reference data say of each agreement on its row."""
    for r in said:
        row = found.get(str(r["a"]))
        if row is None:
            continue
        p, o = str(r["p"]), str(r["o"])
        if p in ROLES and o in police:
            row.roles.setdefault(o, set()).add(ROLES[p])
        elif p == str(S22A.partyGroup):
            row.groups.add(o)
            for m in members.get(o, ()):
                if m in police:
                    row.roles.setdefault(m, set()).add(GROUP_ROLE)
        elif p == str(S22A.scope):
            row.scopes.add(o)
        elif p == str(S22A.dateMade):
            row.dates.append(o)
        elif p == str(S22A.capability):
            row.capabilities.add(o)
            row.covers |= {o, *broader.get(o, ())}


# ---------------------------------------------------------------------------------------------
# Filtering, facets, sorting


def select(store: Store, filters: Filters, sort: str = "title") -> list[Row]:
    """The agreements the filters let through, sorted."""
    chosen = [r for r in rows(store) if filters.matches(r)]
    if sort == "newest":
        chosen.sort(key=lambda r: r.date, reverse=True)
        chosen.sort(key=lambda r: not r.date)  # undated last
    elif sort == "oldest":
        chosen.sort(key=lambda r: (not r.date, r.date))
    elif sort == "registers":
        chosen.sort(key=lambda r: -len(r.registers))
    return chosen


def facets(
    store: Store, filters: Filters, within: set[str] | None = None
) -> dict[str, list[tuple[str, int]]]:
    """For each filter, its values with how many agreements each would list (the other
    filters applied), most first; `within` limits the count to those agreements (a search's)."""
    keys = ("force", "capability", "region", "scope", "confirmation")
    counts: dict[str, Counter[str]] = {k: Counter() for k in keys}
    years: Counter[str] = Counter()
    for row in rows(store):
        if within is not None and row.iri not in within:
            continue
        if filters.matches(row, "force"):
            counts["force"].update(row.roles.keys())
        if filters.matches(row, "capability"):
            counts["capability"].update(row.covers)
        if filters.matches(row, "region"):
            counts["region"].update(row.regions)
        if filters.matches(row, "scope"):
            counts["scope"].update(row.scopes)
        if filters.matches(row, "confirmation"):
            counts["confirmation"][row.confirmation] += 1
        if filters.matches(row, "year") and row.year:
            years[str(row.year)] += 1
    result = {k: sorted(c.items(), key=lambda kv: (-kv[1], kv[0])) for k, c in counts.items()}
    result["year"] = sorted(years.items())
    return result


def derived(chosen: Iterable[Row], key: str) -> list[tuple[str, int]]:
    """The forces, capabilities or regions of `chosen`, with how many of them each has."""
    counter: Counter[str] = Counter()
    for row in chosen:
        counter.update({"force": set(row.roles), "capability": row.capabilities,
                        "region": row.regions}[key])  # fmt: skip
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


# ---------------------------------------------------------------------------------------------
# For spreadsheets and programs


def records(chosen: Iterable[Row], names: Mapping[str, str]) -> list[dict[str, Any]]:
    """Rows with the stable documented COLUMNS, names for IRIs; parties with their roles."""
    out = []
    for row in chosen:
        out.append(
            {
                "iri": row.iri,
                "title": row.title,
                "date": row.date,
                "scope": "; ".join(sorted(s.rsplit("#", 1)[-1] for s in row.scopes)),
                "parties": "; ".join(
                    f"{names.get(f, f)} ({', '.join(sorted(roles))})"
                    for f, roles in sorted(
                        row.roles.items(), key=lambda kv: names.get(kv[0], kv[0])
                    )
                ),
                "capabilities": "; ".join(sorted(names.get(c, c) for c in row.capabilities)),
                "registers": "; ".join(names.get(r, r) for r in row.registers),
                "confirmation": row.confirmation,
            }
        )
    return out


def to_csv(table: list[dict[str, Any]], columns: Iterable[str] = COLUMNS) -> str:
    """A CSV document (RFC 4180) of `table` with a header row of `columns`."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()
