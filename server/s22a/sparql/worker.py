"""A query worker: a child process that holds a copy of the dataset and runs SPARQL queries.

Started by `s22a.sparql.pool.WorkerPool` as ``python -P worker.py`` (a script, so it
imports only the standard library and pyoxigraph and starts in a fraction of a second). The
parent talks to it over stdin/stdout with length-prefixed messages (`write_message`,
`read_message`): a JSON header and a body of bytes. The parent enforces the time limit by
killing this process; nothing here needs to cooperate, which is the point: pyoxigraph cannot
cancel a running query, but a process can always be killed and its memory freed.

Requests: ``{"op": "load", "path": ..., "token": ...}`` replaces the dataset by the N-Quads
file at ``path`` (the archive graph is dropped); ``{"op": "query", ...}`` runs a query (see
`run_query`). Replies: ``{"ok": true, ...}`` or ``{"ok": false, "error": kind, "message": ...}``.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import sys
from typing import IO, Any, BinaryIO, cast

import pyoxigraph as ox

HEADER = struct.Struct("!II")  # JSON header length, body length
ARCHIVE_GRAPH = "https://w3id.org/s22a/graph/archive"
MERGE = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


class ResultTooLarge(Exception):
    """The serialized result passed the size cap."""


def write_message(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    """Write one message (a JSON header and a body) to file descriptor `fd`."""
    data = json.dumps(header).encode("utf-8")
    view = memoryview(HEADER.pack(len(data), len(body)) + data + body)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def read_exactly(fd: int, size: int) -> bytes:
    """Read `size` bytes from `fd`; raise EOFError if it closes first."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            raise EOFError("the other end closed the pipe")
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int) -> tuple[dict[str, Any], bytes]:
    """Read one message from `fd` (blocking)."""
    header_size, body_size = HEADER.unpack(read_exactly(fd, HEADER.size))
    header = json.loads(read_exactly(fd, header_size))
    return header, read_exactly(fd, body_size)


class _CappedOutput:
    """A write-only file that refuses to grow past `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, data: bytes) -> int:
        self.size += len(data)
        if self.size > self.limit:
            raise ResultTooLarge(f"the result is larger than {self.limit} bytes")
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: the parts are kept in memory."""


class Worker:
    """The dataset copy and the query loop of one worker process."""

    def __init__(self, memory_mib: int = 0) -> None:
        self.store = ox.Store()
        self.token: str | None = None
        self.memory_mib = memory_mib  # what a query may take beyond the copy (0: no cap)
        limit_memory(memory_mib)

    def load(self, path: str, token: str) -> dict[str, Any]:
        """Replace the dataset by the N-Quads file at `path`, without the archive graph, and
        put the RDF merge of its named graphs in its default graph.

        The copy is the store's own dump, made without a cap (20,000 agreements take about
        550 MiB, over the 512 a query may use); queries are then capped beyond it."""
        limit_memory(0)
        store = ox.Store()
        store.load(path=path, format=ox.RdfFormat.N_QUADS)
        store.remove_graph(ox.NamedNode(ARCHIVE_GRAPH))
        # SPARQL's default graph is a graph, a set of triples. pyoxigraph's union default graph
        # is a union of quads (a triple two registers state matches twice), so the merge is
        # written once per copy: the store's own default graph holds each triple once.
        store.update(MERGE)
        self.store, self.token = store, token
        limit_memory(self.memory_mib)
        return {"ok": True, "token": token}

    def run_query(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Run one query; reply with the engine's serialization of its result.

        ``dataset`` is "union" (the whole copy: the merge of every graph, each triple once, in
        the default graph, every graph named), "query" (the query's own FROM clauses) or
        "protocol" (the ``default`` and ``named`` IRI lists). ``results_format`` and
        ``graph_format`` are the media types wanted for solutions/booleans and for graphs;
        null means "not acceptable".
        """
        if request.get("token") != self.token:
            return {"ok": False, "error": "stale", "message": "dataset not loaded"}, b""
        kwargs: dict[str, Any] = {}
        # "union": no dataset arguments, so the default graph is the merge written at load.
        if request["dataset"] == "protocol":
            kwargs["default_graph"] = [ox.NamedNode(g) for g in request["default"]]
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in request["named"]]
        if request.get("base"):
            kwargs["base_iri"] = request["base"]
        try:
            result = self.store.query(request["query"], **kwargs)
        except SyntaxError as error:
            return {"ok": False, "error": "syntax", "message": error.msg or str(error)}, b""
        fmt: ox.RdfFormat | ox.QueryResultsFormat | None
        if isinstance(result, ox.QueryTriples):
            kind, wanted = "graph", request.get("graph_format")
            fmt = ox.RdfFormat.from_media_type(wanted) if wanted else None
        else:
            kind = "boolean" if isinstance(result, ox.QueryBoolean) else "solutions"
            wanted = request.get("results_format")
            fmt = ox.QueryResultsFormat.from_media_type(wanted) if wanted else None
        if fmt is None:
            return {"ok": False, "error": "not_acceptable", "kind": kind, "message": kind}, b""
        output = _CappedOutput(int(request["max_bytes"]))
        # pyoxigraph writes to any object with write(); its stubs ask for a real IO[bytes].
        sink = cast(IO[bytes], output)
        try:
            if isinstance(result, ox.QueryTriples):
                assert isinstance(fmt, ox.RdfFormat)  # chosen above for a graph result
                result.serialize(sink, format=fmt)
            else:
                assert isinstance(fmt, ox.QueryResultsFormat)
                result.serialize(sink, format=fmt)
        except ResultTooLarge as error:
            return {"ok": False, "error": "too_large", "kind": kind, "message": str(error)}, b""
        return {"ok": True, "kind": kind, "media_type": fmt.media_type}, b"".join(output.parts)

    def handle(self, request: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """Answer one request, turning engine failures into error replies."""
        try:
            if request["op"] == "load":
                return self.load(request["path"], request["token"]), b""
            if request["op"] == "query":
                return self.run_query(request)
            if request["op"] == "ping":
                return {"ok": True, "pid": os.getpid()}, b""
            return {"ok": False, "error": "engine", "message": f"unknown op {request['op']}"}, b""
        except MemoryError:
            return {"ok": False, "error": "memory", "message": "out of memory"}, b""
        except (OSError, RuntimeError, ValueError, TypeError) as error:
            return {"ok": False, "error": "engine", "message": str(error)}, b""


def limit_memory(mib: int) -> None:
    """Cap this process's address space at what it maps now plus `mib` MiB (0: lift the cap).

    An allocation past it fails: in Python a MemoryError (answered as an error), in the engine
    (Rust) an abort, which the parent sees as this process ending by SIGABRT. Either way the
    memory of one query stays bounded, whatever the query. Only the soft limit is set, so that
    the next load can lift it (no query can: a query runs no code of its own).
    """
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if mib <= 0:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
        return
    mapped = 0
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                mapped = int(line.split()[1]) * 1024
    limit = mapped + mib * 2**20
    resource.setrlimit(
        resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard)
    )


def main(stdin: BinaryIO | None = None) -> None:
    """Serve requests from stdin until it closes (``--memory-mib N``: what a query may take
    beyond the copy of the data)."""
    memory_mib = 0
    if "--memory-mib" in sys.argv:
        memory_mib = int(sys.argv[sys.argv.index("--memory-mib") + 1])
    # Keep the protocol channel private: anything printed goes to stderr.
    channel = os.dup(1)
    os.dup2(2, 1)
    source = (stdin or sys.stdin.buffer).fileno()
    worker = Worker(memory_mib)
    while True:
        try:
            request, _ = read_message(source)
        except EOFError:
            return
        header, body = worker.handle(request)
        try:
            write_message(channel, header, body)
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
