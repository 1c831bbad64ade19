"""What the gate checks of a register version before it may be stored, which needs no store:
that it can be read, that it is valid, and that it speaks for its own force. And, for a load
of many big registers, those checks run in worker processes while this one stores.

Reading and validating are Python through and through (rdflib, pySHACL, the screen): a
catalogue of 40 registers of 500 agreements spends 18 s in them, on one core, while the other
waits. `Checkers` starts two worker processes (``spawn``: nothing of the caller's threads or
open store is inherited) once a register worth sending arrives, and the registers are checked
two at a time while the caller stores the ones checked already. A small catalogue (the seeds:
the largest register is 42 kB) is checked here, as starting the workers would cost more.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

from rdflib import Graph, URIRef
from rdflib.namespace import RDF

from s22a.ingest import parse, validation
from s22a.namespaces import FORCE, S22A

# A register this large (bytes) is worth sending to a worker process: the first one starts them.
WORKER_BYTES = 200_000
WORKERS = 2

_log = logging.getLogger(__name__)


@dataclass
class Checked:
    """A register version as the gate checked it: unreadable (`unreadable` says why), or
    validated (`result`), with what storing it needs."""

    unreadable: str | None = None
    result: validation.ValidationResult | None = None
    content: bytes = b""  # the register's N-Triples
    described: set[str] = field(default_factory=set)  # the registers it describes
    agreements: list[str] = field(default_factory=list)  # the agreements it lists, sorted
    withheld: dict[str, str] = field(default_factory=dict)  # agreement: the provision

    def light(self) -> Checked:
        """The same without the parsed graphs (cheap to send between processes)."""
        if self.result is None:
            return self
        result = self.result
        light = validation.ValidationResult(
            source=result.source,
            findings=result.findings,
            agreements=result.agreement_count(),
            agreements_checked=result.agreements_checked,
        )
        return Checked(None, light, self.content, self.described, self.agreements, self.withheld)


def check(
    register: str,
    data: bytes,
    name: str,
    media_type: str | None,
    force: str | None,
    graph: Graph | None = None,
) -> Checked:
    """Read (unless `graph` is given, parsed already) and validate a version of `register`;
    a violation where it names another force than `force` (None: not checked)."""
    try:
        parsed = graph if graph is not None else parse.parse_register(data, name, media_type)
    except parse.RegisterUnreadable as error:
        return Checked(unreadable=str(error))
    result = validation.validate_graph(parsed, source=name)
    if force is not None:
        _check_force(result, register, force)
    if not result.conforms:
        return Checked(result=result)
    graph = result.graph
    return Checked(
        result=result,
        content=graph.serialize(format="nt", encoding="utf-8"),
        described={str(r) for r in graph.subjects(RDF.type, S22A.Register)},
        agreements=sorted(str(a) for a in graph.objects(URIRef(register), S22A.lists)),
        withheld={str(a): str(p) for a, p in graph.subject_objects(S22A.withheldUnder)},
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


def _warm() -> None:
    """A worker's start: the shapes and reference data parsed before its first check."""
    from s22a.reference import context_graph, shapes_graph

    context_graph(), shapes_graph()


def _check_light(
    register: str, data: bytes, name: str, media_type: str | None, force: str | None
) -> Checked:
    return check(register, data, name, media_type, force).light()


class Checkers:
    """Checks of register versions: in worker processes once one is big enough to gain from
    them (`WORKER_BYTES`), here before that. Use as a context manager; `submit` returns a
    future of the `Checked`, whose result is checked here if a worker failed."""

    def __init__(self, workers: int = WORKERS) -> None:
        self.workers = min(workers, os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def submit(
        self, register: str, data: bytes, name: str, media_type: str | None, force: str | None
    ) -> Future[Checked]:
        arguments = (register, data, name, media_type, force)
        if self._pool is None and (len(data) < WORKER_BYTES or self.workers < 2):
            done: Future[Checked] = Future()
            done.set_result(check(*arguments))
            return done
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_warm)
        checked: Future[Checked] = Future()
        try:
            sent = self._pool.submit(_check_light, *arguments)
        except (BrokenProcessPool, RuntimeError, OSError) as error:  # no pool, or a dead one
            _log.warning("the check workers stopped (%s): checking here", error)
            checked.set_result(check(*arguments))
            return checked

        def settle(sent: Future[Checked]) -> None:
            error = sent.exception()
            if error is None:
                checked.set_result(sent.result())
                return
            _log.warning("a worker could not check %s (%s): checked here instead", name, error)
            try:
                checked.set_result(check(*arguments))
            except BaseException as failure:  # the caller sees it, as it would here
                checked.set_exception(failure)

        sent.add_done_callback(settle)
        return checked

    def __enter__(self) -> Checkers:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
