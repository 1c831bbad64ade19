"""Mementos (RFC 7089) at version granularity: the instants at which a document or a register
changed, and the one that stood at a given instant.

A register's mementos are its accepted versions (not a version that withdrew it), each at the
instant it was accepted. A document's mementos are the instants at which a register version
was accepted that changed the document's RDF (`describe.document_graph` of the registers as
they stood then, `s22a.history.asof`); a version that changed other things makes none. Instants
are kept to the second, as HTTP dates carry them.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from s22a.history import asof, changes, versions
from s22a.history.versions import current_state
from s22a.read import describe as d
from s22a.store import Store

_KEPT: dict[tuple[int, str, str], list[datetime]] = {}
_LOCK = threading.Lock()


def second(moment: datetime) -> datetime:
    """`moment` to the second, in UTC."""
    return moment.astimezone(UTC).replace(microsecond=0)


def end_of_second(moment: datetime) -> datetime:
    """The last instant of `moment`'s second: what stood "at" an HTTP date."""
    return second(moment) + timedelta(seconds=1) - timedelta(microseconds=1)


def register_mementos(store: Store, register: str) -> list[tuple[datetime, versions.Version]]:
    """The accepted versions of `register` (withdrawals left out), each at its instant."""
    retired = changes.retired_versions(store, register)
    return [
        (second(v.generated), v) for v in versions.history(store, register) if v.iri not in retired
    ]


def _instants(store: Store) -> list[datetime]:
    """Every instant (to the second) at which some register version was accepted, oldest first."""
    found = {
        second(v.generated)
        for register in changes.registers_with_history(store)
        for v in versions.history(store, register)
    }
    return sorted(found)


def document_mementos(store: Store, iri: str) -> list[datetime]:
    """The instants at which the document about `iri` changed (its first appearance included)."""
    key = (id(store), current_state(store).token, iri)
    with _LOCK:
        if key in _KEPT:
            return _KEPT[key]
    found: list[datetime] = []
    previous = None
    for instant in _instants(store):
        then = asof.dataset_at(store, end_of_second(instant))
        if not d.exists(then, iri):
            graph = None
        else:
            graph = d.document_graph(then, iri)
        if graph is not None and (previous is None or not changes.same_triples(previous, graph)):
            found.append(instant)
        previous = graph
    with _LOCK:
        _KEPT[key] = found
    return found


def standing(mementos: list[datetime], moment: datetime) -> datetime | None:
    """The memento that stood at `moment`: the last at or before it; before the first, the
    first (RFC 7089 section 4.1.1 leaves the choice to the server; the nearest is the first)."""
    if not mementos:
        return None
    earlier = [m for m in mementos if m <= moment]
    return earlier[-1] if earlier else mementos[0]
