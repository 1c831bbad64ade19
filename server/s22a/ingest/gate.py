"""The gate every new register version passes, whatever its source: unchanged, refused (and
recorded, with why), or validated and stored atomically as a new version.

A register that cannot be fetched, is too large, cannot be parsed or is invalid leaves the
force's previous version in place.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from rdflib import Graph

from s22a.history import versions
from s22a.ingest import validation
from s22a.ingest.checks import Checked, check
from s22a.reconcile.compute import reconcile
from s22a.reconcile.findings import store_report
from s22a.store import Store, StoreError, changes


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
    retry_conflicts: bool = True,
    force: str | None = None,
    checked: Checked | None = None,
) -> LoadOutcome:
    """The gate every new register version passes: unchanged, refused, or validated and stored.

    Identical bytes to the stored version change nothing; unreadable or invalid data, data
    describing another register, or a register naming another force than `force` (the force
    of its catalogue entry, or of the token that uploads it) is refused and recorded; a valid
    register replaces the graph atomically, is recorded as a new version and (unless told not
    to, as a catalogue load does until its end) the cross-register reconciliation is refreshed.

    If another process stores a version of the register between this one's reading of the
    latest version and its write (`versions.VersionConflict`), the write is made again on top
    of it (up to `MAX_CONFLICTS` times), unless `retry_conflicts` is False (a merge, whose
    data was computed from the version it read, must be computed again by its caller).

    `checked`: the checks of `data` (`s22a.ingest.checks.check`), made already elsewhere.
    """
    digest = content_hash(data)
    validated = [checked] if checked is not None else []  # checked once, stored on any retry
    for _ in range(MAX_CONFLICTS):
        try:
            outcome = _accept(
                store, register, data, digest, name=name, source=source,
                media_type=media_type, etag=etag, last_modified=last_modified,
                graph=graph, validated=validated, force=force,
            )  # fmt: skip
        except versions.VersionConflict:
            if not retry_conflicts:
                raise
            continue
        # (Here, not in `_accept`: what only the write needed, such as the N-Triples of the
        # register, is let go before the reconciliation's own write, the peak of memory.)
        validated.clear()
        checked = None
        if outcome.outcome == "Accepted" and refresh_reconciliation:
            try:
                refresh_reconciliation_report(store)
            except StoreError as error:  # the version is stored; the report catches up next time
                logging.getLogger(__name__).warning("reconciliation not refreshed: %s", error)
        return outcome
    raise versions.VersionConflict(
        f"{MAX_CONFLICTS} other writes of {register} came first; try again"
    )


# How many times a write is made again when another process stores a version first.
MAX_CONFLICTS = 20


def _accept(
    store: Store,
    register: str,
    data: bytes,
    digest: str,
    *,
    name: str,
    source: str,
    media_type: str | None,
    etag: str | None,
    last_modified: str | None,
    graph: Graph | None,
    validated: list[Checked],
    force: str | None,
) -> LoadOutcome:
    with register_lock(register):
        previous = versions.latest(store, register)
        if previous is not None and previous.content_hash == digest and register in store.graphs():
            return LoadOutcome(register, "Unchanged", "same content as the stored version")
        if not validated:
            validated.append(check(register, data, name, media_type, force, graph))
        checked = validated[0]
        if checked.unreadable is not None:
            return refuse(store, register, source, f"cannot be read: {checked.unreadable}")
        result = checked.result
        assert result is not None
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
        if checked.described != {register}:
            return refuse(
                store,
                register,
                source,
                f"the data describes {', '.join(sorted(checked.described))}, but this is "
                f"{register}: a force may write only its own register",
            )
        content, agreements = checked.content, checked.agreements
        recorded: list[str] = []

        def record(triples: int, exclusive: bool) -> tuple[str, str | None]:
            """The version's record, stored in the same transaction as the graph, and the
            guard under which the graph is replaced (the record is this write's): none under
            the store's one write lock, where the record is worked out from what is stored."""
            version, update, guard = versions.accepted_update(
                store,
                register,
                content=content,
                source=source,
                content_hash=digest,
                triples=triples,
                agreements=agreements,
                warnings=len(result.warnings),
                withheld=checked.withheld,
                etag=etag,
                last_modified=last_modified,
                exclusive=exclusive,
            )
            recorded[:] = [version, guard]
            return update, None if exclusive else guard

        triples = store.replace_graph(register, content, then=record)
        version, guard = recorded
        versions.check_recorded(store, guard)  # else another writer took the number first
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


_RECONCILIATION_LOCK = threading.Lock()


def refresh_reconciliation_report(store: Store) -> None:
    """Recompute and store the reconciliation report, so that the last one stored was computed
    from the newest data: one at a time in this process, and, for other processes writing to
    the same store, again whenever the data changed while it was being computed (whoever
    stores a version refreshes the report after it, so the last refresh sees the last data).

    The data is compared without the report itself, whose storing changes the dataset's state
    too: else every refresh that stored a report would compute it again (a second, unchanged
    report; 3 of 27 s of a 5,450-agreement upload)."""
    with _RECONCILIATION_LOCK:
        for _ in range(MAX_CONFLICTS):
            basis = versions.dataset_state(store, reconciliation=False).token
            store_report(store, reconcile(store))
            if versions.dataset_state(store, reconciliation=False).token == basis:
                return


_LOCKS: dict[str, _RegisterLock] = {}
_LOCKS_GUARD = threading.Lock()
# The folder of the write locks shared by every process on one remote store (`share_locks`).
_SHARED: list[Path] = []


def share_locks(folder: str | Path | None) -> None:
    """Take each register's write lock in `folder` too (a file per register, `flock`), so
    that every process on one remote store writes one register at a time; None: this
    process's lock only (an embedded store belongs to one process anyway)."""
    _SHARED[:] = [Path(folder)] if folder else []
    changes.share(folder)  # and signal each write there, for the others' caches


class _RegisterLock:
    """A re-entrant lock of one register: a thread lock, and, while the outermost holder holds
    it, an exclusive `flock` on the register's file in the shared folder. (Snapshot-isolated
    stores such as Oxigraph's server let two updates that each check "no version N yet" both
    succeed, so the store's compare-and-set alone cannot be relied on.)"""

    def __init__(self, register: str) -> None:
        self.name = hashlib.sha256(register.encode()).hexdigest()[:32] + ".lock"
        self.thread_lock = threading.RLock()
        self.depth = 0
        self.file: IO[bytes] | None = None

    def __enter__(self) -> _RegisterLock:
        self.thread_lock.acquire()
        try:
            if self.depth == 0 and _SHARED:
                _SHARED[0].mkdir(parents=True, exist_ok=True)
                self.file = open(_SHARED[0] / self.name, "ab")  # held until the outermost exit
                fcntl.flock(self.file, fcntl.LOCK_EX)  # waits for the other processes
        except BaseException:
            self._release_file()
            self.thread_lock.release()
            raise
        self.depth += 1
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.depth -= 1
        if self.depth == 0:
            self._release_file()
        self.thread_lock.release()

    def _release_file(self) -> None:
        file, self.file = self.file, None
        if file is not None:
            file.close()  # closing the file releases the flock


def register_lock(register: str) -> _RegisterLock:
    """One lock per register, so concurrent writes to it are serialised: in this process, and
    in every process sharing the lock folder (`share_locks`).

    Re-entrant: a write from the API holds it across its read, merge and `accept_register`.
    """
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(register, _RegisterLock(register))
