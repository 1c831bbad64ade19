"""The pictures of the home and force pages: network and timeline SVG with their tables."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from s22a.read import listing, svg
from s22a.store import Store


def network(store: Store, *, centre: str | None = None, ident: str = "network") -> dict[str, Any]:
    """The collaboration network (or one force's part of it) as SVG, with its rows."""
    data = listing.network(store, centre)
    nodes = [
        svg.Node(n["iri"], n["short"], n["region_label"], max(n["size"], 1)) for n in data["nodes"]
    ]
    if centre:
        # Partners in order of how much they share, so the heaviest links are together.
        weight = {b if a == centre else a: w for a, b, w in data["edges"]}
        nodes.sort(key=lambda n: (n.key != centre, -weight.get(n.key, 0), n.label))
    names = {n["iri"]: n["label"] for n in data["nodes"]}
    count = len(data["nodes"])
    if centre:
        title = f"Forces that share agreements with {names.get(centre, 'this force')}"
        desc = (
            f"{names.get(centre, 'This force')} in the middle, linked to each of "
            f"{count - 1} partner force{'s' * (count != 2)} by a line as thick as the number "
            "of agreements that name both. The table that follows gives the numbers."
        )
    else:
        title = "Which police forces collaborate with which"
        desc = (
            f"{count} forces named as parties, placed round a circle and coloured by "
            "region; a line joins two forces that are named together in an agreement, "
            "thicker the more agreements they share. The table that follows gives the "
            "numbers."
        )
    picture: Markup | None = None
    if len(nodes) > 1:
        picture = svg.network(
            nodes, data["edges"], ident=ident, title=title, desc=desc, centre=centre
        )
    return {
        "svg": picture,
        "title": title,
        "edges": data["edges"],
        "labels": names,
        "nodes": data["nodes"],
    }


TABLE_ROWS = 200  # past this, the table beside the picture counts agreements by year


def timeline(
    entries: list[dict[str, Any]], *, ident: str = "timeline", subject: str = "the register"
) -> dict[str, Any]:
    """Agreements by year as SVG, with a table beside it: the dated agreements, or (past
    `TABLE_ROWS` of them) how many each year has."""
    dated = [e for e in entries if e.get("date")]
    per_year: dict[str, int] = {}
    for entry in dated:
        per_year[entry["date"][:4]] = per_year.get(entry["date"][:4], 0) + 1
    years = sorted(per_year)
    span = f"{years[0]} to {years[-1]}" if years else "no dates"
    title = f"Agreements in {subject} by year"
    desc = (
        f"A bar for each year from {span}, as tall as the number of agreements a register "
        f"dates to that year; {len(dated)} "
        f"{'agreement is' if len(dated) == 1 else 'agreements are'} dated. The table that follows "
        + ("lists them." if len(dated) <= TABLE_ROWS else "gives the number each year.")
    )
    return {
        "svg": svg.timeline([e["date"] for e in dated], ident=ident, title=title, desc=desc)
        if dated
        else None,
        "title": title,
        "entries": dated if len(dated) <= TABLE_ROWS else [],
        "years": [] if len(dated) <= TABLE_ROWS else sorted(per_year.items()),
        "undated": len(entries) - len(dated),
    }
