"""Anonymous checks (the `/publish/validate` and `/publish/csv` forms) in a worker process of
their own, with a time limit and a memory limit.

Anyone may post these forms, and a 3.7 MB register takes pySHACL the best part of a minute. In
the server's own process that would hold the validation lock (`shacl.LOCK`)
and the interpreter, and a force's write would wait behind it. Here the check runs in one
long-lived process (started with ``spawn``: nothing of the threaded server is inherited),
which has the reference data and shapes parsed already. One check runs at a time: another
that arrives meanwhile waits for it only as long as its own time limit allows, and a client
address may have one check running or waiting at once (more: `SandboxBusy`). A check past its
time limit kills the process (`SandboxTimeout`); a fresh one starts with the next check. Its
address space is capped, so a hostile file ends in `SandboxMemory`, never in the machine's
memory running out.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
import weakref
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from rdflib import Graph

from s22a.ingest import csv_import, csv_table, parse, validation
from s22a.ingest.csv_import import ImportResult
from s22a.ingest.validation import ValidationResult


class SandboxError(Exception):
    """A check that could not be run; the message says why."""


class SandboxBusy(SandboxError):
    """This client already has a check running or waiting, or the queue is full."""


class SandboxTimeout(SandboxError):
    """The check passed its time limit and was stopped."""


class SandboxMemory(SandboxError):
    """The check needed more memory than it may use and was stopped."""


# ---------------------------------------------------------------------------------------------
# The worker process


def _light(result: ValidationResult) -> ValidationResult:
    """The result without its graphs (which the pages do not show), cheap to send back."""
    count = result.agreement_count()
    return ValidationResult(source=result.source, findings=result.findings, agreements=count)


def _handle(kind: str, payload: dict[str, Any]) -> tuple[str, Any]:
    if kind == "validate":
        try:
            result = validation.validate_bytes(payload["data"], payload["name"])
        except parse.RegisterUnreadable as error:
            return "unreadable", (type(error).__name__, error.message, error.line, error.column)
        return "ok", _light(result)
    if kind == "csv":
        previous = Graph()
        if payload["previous"]:
            previous.parse(data=payload["previous"], format="nt")
        try:
            converted = csv_import.convert(
                payload["data"],
                payload["force"],
                previous=previous if len(previous) else None,
                source=payload["name"],
            )
        except csv_table.CsvImportError as error:
            return "csv_error", str(error)
        report = validation.validate_graph(converted.graph, source=f"{payload['force']}.ttl")
        light = ImportResult(
            Graph(),
            converted.register,
            problems=converted.problems,
            notes=converted.notes,
            agreements=converted.agreements,
        )
        return "ok", (light, converted.turtle(), _light(report))
    raise ValueError(f"unknown check {kind!r}")


def _serve(connection: Connection, memory_mib: int) -> None:
    """The worker's loop: answer checks until the pipe closes."""
    import resource

    if memory_mib > 0:
        limit = memory_mib * 2**20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    from s22a.reference import context_graph, shapes_graph

    context_graph(), shapes_graph()  # parsed once, before the first check
    connection.send(("ready", None))
    while True:
        try:
            kind, payload = connection.recv()
        except (EOFError, OSError):
            return
        try:
            answer = _handle(kind, payload)
        except MemoryError:
            answer = ("memory", None)
        try:
            connection.send(answer)
        except (BrokenPipeError, OSError):
            return
        del payload, answer


# ---------------------------------------------------------------------------------------------
# The parent's side


class Sandbox:
    """One worker process for anonymous checks, started on first use."""

    def __init__(self, timeout: float, memory_mib: int) -> None:
        """Checks stop after `timeout` seconds; the process may use `memory_mib` MiB."""
        self.timeout = timeout
        self.memory_mib = memory_mib
        self._lock = threading.Lock()  # one check at a time
        self._clients: set[str] = set()
        self._clients_lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._finalizer = weakref.finalize(self, _stop, self.__dict__)

    def validate(self, data: bytes, name: str, client: str) -> ValidationResult:
        """Parse and validate a register; raises RegisterUnreadable or a SandboxError."""
        status, value = self._call("validate", {"data": data, "name": name}, client)
        if status == "unreadable":
            kind, message, line, column = value
            cls = parse.RegisterSyntaxError if kind == "RegisterSyntaxError" else None
            raise (cls or parse.RegisterUnreadable)(message, line, column)
        return value

    def convert_csv(
        self, data: bytes, force: str, previous: bytes, name: str, client: str
    ) -> tuple[ImportResult, str, ValidationResult]:
        """Convert a CSV table and validate the register made (raises CsvImportError too)."""
        payload = {"data": data, "force": force, "previous": previous, "name": name}
        status, value = self._call("csv", payload, client)
        if status == "csv_error":
            raise csv_table.CsvImportError(value)
        return value

    def _call(self, kind: str, payload: dict[str, Any], client: str) -> tuple[str, Any]:
        deadline = time.monotonic() + self.timeout
        with self._clients_lock:
            if client in self._clients:
                raise SandboxBusy("a check of yours is already running: wait for its report")
            self._clients.add(client)
        try:
            if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.001)):
                raise SandboxBusy("other checks are running: try again in a minute")
            try:
                return self._run(kind, payload, deadline)
            finally:
                self._lock.release()
        finally:
            with self._clients_lock:
                self._clients.discard(client)

    def _run(self, kind: str, payload: dict[str, Any], deadline: float) -> tuple[str, Any]:
        before = time.monotonic()
        connection = self._ready()
        deadline += time.monotonic() - before  # starting the process is not the check's time
        try:
            connection.send((kind, payload))
            if not connection.poll(max(deadline - time.monotonic(), 0.001)):
                self.stop()
                raise SandboxTimeout(f"the check took longer than {self.timeout:g} s")
            status, value = connection.recv()
        except (EOFError, OSError):
            self.stop()
            raise SandboxMemory(
                f"the check needed more than the {self.memory_mib} MiB of memory it may use"
            ) from None
        if status == "memory":
            self.stop()
            raise SandboxMemory(
                f"the check needed more than the {self.memory_mib} MiB of memory it may use"
            )
        return status, value

    def _ready(self) -> Connection:
        """The connection to a live worker, starting one if need be."""
        if self._process is not None and self._process.is_alive() and self._connection:
            return self._connection
        self.stop()
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_serve, args=(child, self.memory_mib), name="s22a-sandbox", daemon=True
        )
        process.start()
        child.close()
        # Starting (imports, reference data, shapes) is not the check's time.
        if not parent.poll(120) or parent.recv()[0] != "ready":
            _kill(process)
            raise SandboxError("the checking process did not start")
        self._process, self._connection = process, parent
        return parent

    def pid(self) -> int | None:
        """The worker's process id, if one is running."""
        process = self._process
        return process.pid if process is not None and process.is_alive() else None

    def stop(self) -> None:
        """Kill the worker process (a new one starts with the next check)."""
        _stop(self.__dict__)


def _kill(process: BaseProcess) -> None:
    if process.is_alive():
        process.kill()
    process.join(5)


def _stop(state: dict[str, Any]) -> None:
    process, connection = state.get("_process"), state.get("_connection")
    state["_process"] = state["_connection"] = None
    if connection is not None:
        connection.close()
    if process is not None:
        _kill(process)


EXTENSION = "s22a_sandbox"


def get_sandbox() -> Sandbox:
    """The current app's sandbox (S22A_ANONYMOUS_TIMEOUT, S22A_ANONYMOUS_MEMORY)."""
    from flask import current_app

    sandbox = current_app.extensions.get(EXTENSION)
    if sandbox is None:
        config = current_app.config
        sandbox = Sandbox(
            float(config["S22A_ANONYMOUS_TIMEOUT"]), int(config["S22A_ANONYMOUS_MEMORY"])
        )
        sandbox = current_app.extensions.setdefault(EXTENSION, sandbox)
    return sandbox
