"""The gate every new register version passes, whatever its source: unchanged, refused (and
recorded, with why), or validated and stored atomically as a new version.

A register that cannot be fetched, is too large, cannot be parsed or is invalid leaves the
force's previous version in place.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from dataclasses import dataclass, field

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from s22a.history import versions
from s22a.ingest import parse, validation
from s22a.namespaces import FORCE, S22A
from s22a.reconcile.compute import reconcile
from s22a.reconcile.findings import store_report
from s22a.store import Store, StoreError


@dataclass
class LoadOutcome:
    """The result of loading one source."""

    register: str
    outcome: str  # "Accepted", "Unchanged" or "Refused"
    reason: str = ""
    triples: int = 0
    agreements: int = 0
    warnings: int = 0
    version: str | None = None
    findings: list[validation.Finding] = field(default_factory=list)
    validation: validation.ValidationResult | None = None  # the full report, when validated


def content_hash(data: bytes) -> str:
    """The hash recorded for a version: 'sha256:' and the hex digest."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


def refuse(
    store: Store,
    register: str,
    source: str,
    reason: str,
    violations: int | None = None,
    result: validation.ValidationResult | None = None,
) -> LoadOutcome:
    """Record a refused attempt for `register` and return its outcome."""
    versions.record_attempt(
        store, register, source=source, outcome="Refused", reason=reason, violations=violations
    )
    findings = result.findings if result is not None else []
    return LoadOutcome(register, "Refused", reason, findings=findings, validation=result)


def accept_register(
    store: Store,
    register: str,
    data: bytes,
    *,
    name: str,
    source: str,
    media_type: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    refresh_reconciliation: bool = True,
    graph: Graph | None = None,
    force: str | None = None,
) -> LoadOutcome:
    """The gate every new register version passes: unchanged, refused, or validated and stored.

    Identical bytes to the stored version change nothing; unreadable or invalid data, data
    describing another register, or a register naming another force than `force` (the force
    of its catalogue entry, or of the token that uploads it) is refused and recorded; a valid
    register replaces the graph atomically, is recorded as a new version and (unless told not
    to, as a catalogue load does until its end) the cross-register reconciliation is refreshed.
    """
    with register_lock(register):
        previous = versions.latest(store, register)
        digest = content_hash(data)
        if previous is not None and previous.content_hash == digest and register in store.graphs():
            return LoadOutcome(register, "Unchanged", "same content as the stored version")
        try:
            parsed = graph if graph is not None else parse.parse_register(data, name, media_type)
        except parse.RegisterUnreadable as error:
            return refuse(store, register, source, f"cannot be read: {error}")
        result = validation.validate_graph(parsed, source=name)
        if force is not None:
            _check_force(result, register, force)
        if not result.conforms:
            first = result.violations[0].message
            return refuse(
                store,
                register,
                source,
                f"invalid: {len(result.violations)} violation(s), the first: {first}",
                violations=len(result.violations),
                result=result,
            )
        described = {str(r) for r in result.graph.subjects(RDF.type, S22A.Register)}
        if described != {register}:
            return refuse(
                store,
                register,
                source,
                f"the data describes {', '.join(sorted(described))}, but this is {register}: "
                "a force may write only its own register",
            )
        content = result.graph.serialize(format="nt", encoding="utf-8")
        agreements = sorted(str(a) for a in result.graph.objects(URIRef(register), S22A.lists))
        recorded: list[str] = []

        def record(triples: int) -> str:
            """The version's record, stored in the same transaction as the graph."""
            version, update = versions.accepted_update(
                store,
                register,
                content=content,
                source=source,
                content_hash=digest,
                triples=triples,
                agreements=agreements,
                warnings=len(result.warnings),
                withheld={
                    str(a): str(provision)
                    for a, provision in result.graph.subject_objects(S22A.withheldUnder)
                },
                etag=etag,
                last_modified=last_modified,
            )
            recorded.append(version)
            return update

        triples = store.replace_graph(register, content, then=record)
        version = recorded[0]
    if refresh_reconciliation:
        try:
            refresh_reconciliation_report(store)
        except StoreError as error:  # the version is stored; the report catches up next time
            logging.getLogger(__name__).warning("reconciliation not refreshed: %s", error)
    return LoadOutcome(
        register,
        "Accepted",
        triples=triples,
        agreements=len(agreements),
        warnings=len(result.warnings),
        version=version,
        findings=result.findings,
        validation=result,
    )


def _short(iri: str) -> str:
    """'force:merseyside' for a force's IRI, else the IRI in angle brackets."""
    return f"force:{iri[len(FORCE) :]}" if iri.startswith(str(FORCE)) else f"<{iri}>"


def _check_force(result: validation.ValidationResult, register: str, force: str) -> None:
    """A violation when the register names another force than the one it is loaded for."""
    for stated in result.graph.objects(URIRef(register), S22A.force):
        if str(stated) != force:
            result.add_violation(
                f"This register is loaded for {_short(force)} (its catalogue entry, or the "
                f"token that uploads it), but it names {_short(str(stated))} as its force "
                "(s22a:force): a register speaks only for its own force.",
                register,
                S22A.force,
            )


_RECONCILIATION_LOCK = threading.Lock()


def refresh_reconciliation_report(store: Store) -> None:
    """Recompute and store the reconciliation report; one at a time, so the last one stored
    was computed from the newest data."""
    with _RECONCILIATION_LOCK:
        store_report(store, reconcile(store))


_LOCKS: dict[str, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def register_lock(register: str) -> threading.RLock:
    """One lock per register, so concurrent writes to it in this process are serialised.

    Re-entrant: a write from the API holds it across its read, merge and `accept_register`.
    """
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(register, threading.RLock())
