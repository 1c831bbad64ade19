"""Writes to a force's register: replace it, merge into it, retire it.

The HTTP layer (`views.registers`) checks who is writing and how much; this
module decides what happens to the data, and everything it stores passes the
one gate (`gate.accept_register`): a write that cannot be read, is invalid,
or describes anything its register may not (another register, a force, an
agreement it does not list) changes nothing but the record of the attempt.
Writes to one register are serialised by its lock (`gate.register_lock`), so
a merge reads, validates and stores the same version; and each version is recorded by a
compare-and-set in the same update as the graph (`versions.accepted_update`), so when
another writer stored a version first, the write is made again on top of it (a merge is
computed again from the new version). Writes to different registers run side by side.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rdflib import BNode, Graph

from s22a.history import changes, versions
from s22a.ingest import gate, parse, validation
from s22a.ingest.validation import Finding
from s22a.namespaces import FORCE
from s22a.store import Store

NAME_BY_MEDIA_TYPE = {
    "text/turtle": "register.ttl",
    "application/x-turtle": "register.ttl",
    "application/n-triples": "register.nt",
    "application/ld+json": "register.jsonld",
    "application/rdf+xml": "register.rdf",
}


@dataclass
class WriteResult:
    """What a write did: its status, the version it made, and the agreements it changed."""

    status: str  # created, updated, unchanged, unreadable, invalid, refused, retired
    register: str
    version: versions.Version | None = None
    changes: list[changes.Change] = field(default_factory=list)
    reason: str = ""
    syntax_error: parse.RegisterUnreadable | None = None
    validation: validation.ValidationResult | None = None
    # Finding, not validation.Finding: the field above hides the module in the class body.
    warnings: list[Finding] = field(default_factory=list)

    @property
    def stored(self) -> bool:
        """True when the write made a new version."""
        return self.status in ("created", "updated", "retired")

    def counts(self) -> dict[str, int]:
        """How many agreements were added, changed and removed."""
        effects = [c.effect for c in self.changes]
        return {e: effects.count(e) for e in ("added", "changed", "removed")}


def _refuse(store: Store, register: str, source: str, reason: str, **extra: object) -> WriteResult:
    versions.record_attempt(store, register, source=source, outcome="Refused", reason=reason)
    return WriteResult("refused", register, reason=reason, **extra)  # type: ignore[arg-type]


def _parse(data: bytes, media_type: str) -> Graph:
    name = NAME_BY_MEDIA_TYPE.get(media_type, "register")
    return parse.parse_register(data, name, media_type)


def write(
    store: Store,
    register: str,
    data: bytes,
    media_type: str,
    *,
    source: str,
    merge: bool = False,
    force: str | None = None,
) -> WriteResult:
    """Replace (PUT) or, with `merge`, add to (POST) `register`'s graph, through the gate.

    `force` is the force the writer's token is for (by default, the register's own): the
    gate refuses a register naming another, as it refuses statements about anything the
    register may not describe (shapes/statements.ttl).
    """
    force = force or str(FORCE[register.rsplit("/", 1)[-1]])
    for _ in range(gate.MAX_CONFLICTS):
        try:
            return _write(
                store, register, data, media_type, source=source, merge=merge, force=force
            )
        except versions.VersionConflict:
            continue  # another process stored a version first: read it and write again
    raise versions.VersionConflict(f"{gate.MAX_CONFLICTS} other writes of {register} came first")


def _write(
    store: Store,
    register: str,
    data: bytes,
    media_type: str,
    *,
    source: str,
    merge: bool,
    force: str,
) -> WriteResult:
    with gate.register_lock(register):
        existed = register in store.graphs()
        previous = versions.latest(store, register) if existed else None
        try:
            graph = _parse(data, media_type)
        except parse.RegisterUnreadable as error:
            result = _refuse(store, register, source, f"cannot be read: {error}")
            result.status, result.syntax_error = "unreadable", error
            return result
        payload, payload_type = data, media_type
        # The stored graph is the latest version's content (the gate stores both in one
        # transaction), usually still in memory from the write that stored it: reading the
        # graph back from the store took 3.6 s of a 98,000-triple register's write.
        before = changes.snapshot(store, previous) if previous else Graph()
        stored = before
        if existed and previous is None:  # a graph stored without a version record
            stored = store.graph_triples(register)
        if not merge and existed and changes.same_triples(graph, stored):
            # The same register in other bytes (another format, order or blank node labels).
            return WriteResult("unchanged", register, previous, reason="same triples as stored")
        if merge and existed:
            current = stored
            if not any(isinstance(t, BNode) for triple in graph for t in triple) and all(
                triple in current for triple in graph
            ):
                return WriteResult("unchanged", register, previous, reason="nothing new to add")
            merged = Graph()
            merged += current
            merged += graph
            graph = merged
            payload = merged.serialize(format="nt", encoding="utf-8")
            payload_type = "application/n-triples"
        outcome = gate.accept_register(
            store,
            register,
            payload,
            name=NAME_BY_MEDIA_TYPE.get(payload_type, "register"),
            source=source,
            media_type=payload_type,
            graph=graph,
            retry_conflicts=not merge,
            force=force,
        )
        if outcome.outcome == "Unchanged":
            return WriteResult("unchanged", register, previous, reason=outcome.reason)
        if outcome.outcome == "Refused":
            if outcome.validation is not None:  # invalid, with the full SHACL report
                return WriteResult(
                    "invalid", register, reason=outcome.reason, validation=outcome.validation
                )
            return WriteResult("refused", register, reason=outcome.reason)
        # This write's version (another process may already have stored a newer one).
        version = _version(store, register, outcome.version)
        if outcome.validation is not None:  # what was stored: no need to read it back
            changes.remember(version, outcome.validation.graph)
        after = (
            outcome.validation.graph
            if outcome.validation is not None
            else changes.snapshot(store, version)
        )
        found = changes.agreement_changes(before, after)
        warnings = [f for f in outcome.findings if f.severity == "warning"]
        return WriteResult(
            "updated" if existed else "created", register, version, found, warnings=warnings
        )


def _version(store: Store, register: str, iri: str | None) -> versions.Version:
    found = [v for v in versions.history(store, register) if v.iri == iri]
    assert found, (register, iri)
    return found[0]


def retire(store: Store, register: str, *, source: str) -> WriteResult | None:
    """Withdraw `register`: drop its graph, record a retiring version; None if it is not there."""
    for _ in range(gate.MAX_CONFLICTS):
        try:
            return _retire(store, register, source=source)
        except versions.VersionConflict:
            continue
    raise versions.VersionConflict(f"{gate.MAX_CONFLICTS} other writes of {register} came first")


def _retire(store: Store, register: str, *, source: str) -> WriteResult | None:
    with gate.register_lock(register):
        if register not in store.graphs():
            return None
        previous = versions.latest(store, register)
        before = changes.snapshot(store, previous) if previous else store.graph_triples(register)
        iri = versions.record_accepted(
            store,
            register,
            content=b"",
            source=source,
            content_hash=gate.content_hash(b""),
            triples=0,
            agreements=[],
            warnings=0,
        )
        changes.mark_retired(store, register, iri)
        store.drop_graph(register)
        version = _version(store, register, iri)
    # As after any accepted version: the agreements it listed no longer count as confirmed.
    gate.refresh_reconciliation_report(store)
    return WriteResult("retired", register, version, changes.agreement_changes(before, Graph()))
