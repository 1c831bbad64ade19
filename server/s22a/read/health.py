"""Publication health: for each police force, how its register is kept, what it has still to
confirm, where other registers describe its agreements differently, and a status by one rule.

The rule (`RULE`, shown on the pages):
- red: the force has published no register, or its register has been withdrawn;
- amber: it has published, but its register does not list an agreement that another register
  names it as a party to (it has something to confirm), or another register describes an
  agreement it lists differently, or its current version has warnings;
- green: it has published, and none of those holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from s22a.history import changes, versions
from s22a.namespaces import FORCE, GRAPH_META, REGISTER
from s22a.read import describe as d
from s22a.read.facts import PARTY, listed_by
from s22a.read.facts import forces as police_forces
from s22a.reconcile.compute import reconcile
from s22a.reconcile.findings import Report
from s22a.store import Store

RULE = (
    "Red: no register published (or it was withdrawn). Amber: published, but the register does "
    "not list an agreement another register names the force in, or another register describes "
    "an agreement it lists differently, or its current version has warnings. Green: published, "
    "with none of those."
)
COLOURS = {"green": "#00703c", "amber": "#f47738", "red": "#d4351c"}


@dataclass
class Health:
    """One force's publication health."""

    force: str
    register: str | None
    status: str
    published: datetime | None = None
    route: str | None = None
    versions: int = 0
    warnings: int = 0
    to_confirm: list[str] = field(default_factory=list)
    disagreements: list[dict[str, str]] = field(default_factory=list)
    last_refusal: dict[str, str] | None = None

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "force": self.force,
            "register": self.register,
            "status": self.status,
            "rule": RULE,
            "published": self.published.isoformat() if self.published else None,
            "route": self.route,
            "versions": self.versions,
            "warnings": self.warnings,
            "toConfirm": self.to_confirm,
            "disagreements": self.disagreements,
            "lastRefusal": self.last_refusal,
        }


def route(source: str | None) -> str | None:
    """How a version arrived, in words: uploaded with a token, harvested, or loaded from a file."""
    if not source:
        return None
    if source.startswith(("PUT ", "POST ", "DELETE ")):
        return "uploaded by the force (HTTP, with its token)"
    if source.startswith(("http://", "https://")):
        return "harvested from the force's web site"
    return "loaded from the register's file in the catalogue"


def unconfirmed(store: Store, force: str, register: str | None) -> list[str]:
    """The agreements a register names `force` in (as a party, lead or host force, or as a
    member of a party group), which its own register does not list, itself or as rows that
    are `s22a:coveredBy` it. With no register, every agreement naming it."""
    own = ""
    if register:
        own = f"""FILTER NOT EXISTS {{ GRAPH <{register}> {{ <{register}> s22a:lists ?a }} }}
        FILTER NOT EXISTS {{ GRAPH <{register}> {{
            <{register}> s22a:lists ?row . ?row s22a:coveredBy ?a }} }}"""
    rows = store.select(
        d.PREFIXES
        + f"""SELECT DISTINCT ?a WHERE {{ GRAPH ?r {{ ?r s22a:lists ?a }}
        FILTER(STRSTARTS(STR(?r), "{REGISTER}"))
        {{ GRAPH ?g {{ ?a {PARTY} <{force}> }} FILTER(STRSTARTS(STR(?g), "{REGISTER}")) }}
        UNION {{ GRAPH ?g {{ ?a s22a:partyGroup ?group }}
                 FILTER(STRSTARTS(STR(?g), "{REGISTER}"))
                 GRAPH ?k {{ ?group org:hasMember <{force}> }} }}
        {own} }} ORDER BY ?a"""
    )
    return [str(r["a"]) for r in rows]


def _warnings(store: Store, version: str) -> int:
    rows = store.select(
        f"SELECT ?n WHERE {{ GRAPH <{GRAPH_META}> {{ <{version}> "
        f"<https://w3id.org/s22a/def/s22a#warningCount> ?n }} }}"
    )
    return int(rows[0]["n"]) if rows else 0


def health(store: Store, force: str, report: Report | None = None) -> Health:
    """The health of `force` (an IRI); `report` is the reconciliation, if already computed."""
    report = report or reconcile(store)
    register = police_forces(store).get(force)
    expected = str(REGISTER[force.rsplit("/", 1)[-1]])
    history = versions.history(store, register or expected)
    retired = bool(history) and history[-1].iri in changes.retired_versions(
        store, register or expected
    )
    to_confirm = unconfirmed(store, force, register)
    disagreements = [
        {"agreement": x.agreement, "aspect": x.aspect}
        for x in report.discrepancies
        if register and register in {r for r, _ in x.values}
    ]
    result = Health(force, register, "red", to_confirm=to_confirm, disagreements=disagreements)
    refusals = [
        a for a in versions.attempts(store, register or expected) if a["outcome"] == "Refused"
    ]
    result.last_refusal = refusals[0] if refusals else None
    if history:
        latest = history[-1]
        result.published, result.versions = latest.generated, len(history)
        result.route = route(latest.source)
        result.warnings = _warnings(store, latest.iri)
    if register is None or retired:
        result.register = None
        return result
    amber = to_confirm or disagreements or result.warnings
    result.status = "amber" if amber else "green"
    return result


def national(store: Store) -> list[Health]:
    """Every police force's health, by name."""
    report = reconcile(store)
    everyone = police_forces(store)
    names = d.labels(store, list(everyone))
    rows = [health(store, force, report) for force in everyone]
    return sorted(rows, key=lambda h: names.get(h.force, h.force).casefold())


def force_iri(slug: str) -> str:
    """The IRI of the force `slug`."""
    return str(FORCE[slug])


def badge(status: str, label: str = "s22a register") -> str:
    """A small SVG badge saying `status`, for a force to embed on its own site."""
    text = {"green": "up to date", "amber": "to check", "red": "not published"}[status]
    left, right = 7 * len(label) + 12, 7 * len(text) + 12
    width = left + right
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{label}: {text}"><title>{label}: {text}</title>'
        f'<rect width="{left}" height="20" fill="#505a5f"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{COLOURS[status]}"/>'
        f'<g fill="#fff" font-family="Arial,sans-serif" font-size="11">'
        f'<text x="6" y="14">{label}</text><text x="{left + 6}" y="14">{text}</text></g></svg>'
    )


def stated_at(store: Store, agreements: list[str], force: str) -> dict[str, datetime]:
    """For each agreement, when a register listing it (other than `force`'s) last published."""
    listing = listed_by(store, agreements)
    own = police_forces(store).get(force)
    newest: dict[str, datetime] = {}
    moments: dict[str, datetime | None] = {}
    for agreement, registers in listing.items():
        for register in registers:
            if register == own:
                continue
            if register not in moments:
                latest = versions.latest(store, register)
                moments[register] = latest.generated if latest else None
            moment = moments[register]
            if moment and (agreement not in newest or moment > newest[agreement]):
                newest[agreement] = moment
    return newest
