"""The summary sentences of a page, computed from the facts the same page shows: where the
registers' statements about an agreement differ, and who confirms it.

One rule: a page never summarises from another computation (the reconciliation graph, a count
made by another query) what it also shows row by row, so the two cannot disagree.
"""

from __future__ import annotations

import re
from typing import Any

ASPECTS = ("title", "date", "parties")


def _title_key(title: str) -> str:
    """A title as compared: case, spacing and punctuation aside, every word counts."""
    return " ".join(re.findall(r"\w+", title.lower()))


def _date_said(statement: dict[str, Any]) -> tuple[str, ...]:
    """What one register says of the date: its dates, or that the source states none."""
    if statement["dates"]:
        return tuple(sorted(statement["dates"]))
    return ("not stated",) if statement["date_not_stated"] else ()


def differences(statements: list[dict[str, Any]]) -> dict[str, list[tuple[str, Any]]]:
    """Per aspect the registers differ on (title, date, parties): (register, what it says).

    Each register's value is the one its section of the agreement page shows; a register that
    says nothing of an aspect is left out of that comparison, and a register saying the
    source does not state the date differs from one giving a date.
    """
    found: dict[str, list[tuple[str, Any]]] = {}
    said: dict[str, list[tuple[str, Any, Any]]] = {aspect: [] for aspect in ASPECTS}
    for s in statements:
        if s["title"]:
            said["title"].append((s["graph"], s["title"], _title_key(s["title"])))
        date = _date_said(s)
        if date:
            said["date"].append((s["graph"], list(date), date))
        parties = sorted({p for p, _ in s["parties"]} | set(s["groups"]))
        if parties and not s["parties_not_stated"]:
            said["parties"].append((s["graph"], parties, tuple(parties)))
    for aspect, values in said.items():
        if len({key for _, _, key in values}) > 1:
            found[aspect] = [(graph, shown) for graph, shown, _ in values]
    return found


def status(statements: list[dict[str, Any]], confirmation: dict[str, Any]) -> str:
    """'all', 'some' or 'publisher-only', from the per-force table and the registers listing it.

    'all' when every party force the page names lists it; where every register says the
    source does not name all the parties, 'all-named' (every party force named lists it).
    """
    states = confirmation["forces"]
    confirmed = [s for s in states if s["state"] == "confirms"]
    if states and len(confirmed) == len(states):
        if statements and all(s["parties_not_stated"] for s in statements):
            return "all-named"
        return "all"
    if len(confirmation["listed"]) > 1 or len(confirmed) > 1:
        return "some"
    return "publisher-only"
