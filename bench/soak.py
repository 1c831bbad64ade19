"""A bounded soak of the production server: pages, queries, a runaway query and uploads.

Run from the repository root (loopback only):

    python -m bench.soak                                  # 20,000 requests or 180 s
    python -m bench.soak --requests 600 --seconds 25      # the short form tests/test_soak.py runs

Serves the seed registers from an on-disk store with `s22a serve` (the production server;
`tests/support/server.py`), then `--clients` threads send requests, each from its own loopback
address and one at a time, until `--requests` have been sent or `--seconds` have passed,
whichever is first.
The mix, by weight: HTML pages 40, Turtle documents 20, SPARQL queries (each with its own
LIMIT, so the result cache does not answer them) 30, register uploads (a new version of one of
five forces' registers, each force with its own token) 5, and the service description 5; and,
a quarter of the way in, one runaway query (a triple cross product) that must be stopped at
the query time limit with a 503. Every other answer must be a 2xx.

Prints the command, the requests and errors by kind (only the runaway's 503 is expected), p50,
p99 and worst latency per kind, whether each force's version listing holds exactly its first
version plus one per upload answered 2xx, and the resident memory of the server worker (and
of its SPARQL query workers) sampled every half second: at the start, averaged over the first
and the last quarter of the run, at its peak, and at every tenth of the run. Exits 1 if any
answer was unexpected or a version is missing.

With `--hostile`, the readers are attacked all along, each attack from addresses of its own:
16 connections drip their headers and 16 their bodies (reconnecting when cut off), 8 clients
send runaway queries back to back, one sends a memory-hungry GROUP_CONCAT every 5 s and one
posts an 18,000-triple register to `/publish/validate` again and again. Their answers are
counted (`hostile-*`) but not judged; the readers' p50 and p99 are the figures to read.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import shlex
import socket
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import (
    ServerProcess,
    children,
    request,
    revision,
    rss_mib,
    seeded_store,
)

FORCES = ("merseyside", "cheshire", "lancashire", "north-wales", "leicestershire")
PAGES_HTML = (
    "/", "/agreements", "/forces", "/doc/agreement/north-west-rocu", "/doc/force/merseyside",
    "/search?q=forensic", "/registers/cheshire/versions", "/sparql",
)  # fmt: skip
PAGES_TURTLE = (
    "/doc/agreement/north-west-rocu.ttl", "/doc/force/merseyside.ttl", "/registers/cheshire",
    "/doc/force/lancashire.ttl",
)  # fmt: skip
QUERIES = (
    "SELECT ?a ?title WHERE { ?a a <https://w3id.org/s22a/def/s22a#Agreement> ; "
    "<http://purl.org/dc/terms/title> ?title } ORDER BY ?title LIMIT {n}",
    "SELECT ?force (COUNT(?a) AS ?n) WHERE { ?r <https://w3id.org/s22a/def/s22a#lists> ?a ; "
    "<https://w3id.org/s22a/def/s22a#force> ?force } GROUP BY ?force LIMIT {n}",
    "SELECT ?s ?p ?o WHERE { GRAPH <https://w3id.org/s22a/id/register/merseyside> "
    "{ ?s ?p ?o } } LIMIT {n}",
)
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
WEIGHTS = {"page-html": 40, "page-turtle": 20, "sparql": 30, "upload": 5, "description": 5}


def percentile(values: list[float], fraction: float) -> float:
    """The `fraction` percentile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


@dataclass
class Soak:
    """What one soak run measured."""

    command: str
    seconds: float = 0.0
    latencies: dict[str, list[float]] = field(default_factory=dict)
    answers: Counter[tuple[str, str]] = field(default_factory=Counter)  # (kind, status)
    unexpected: list[str] = field(default_factory=list)
    runaway: str = ""  # the runaway query's status and message
    samples: list[tuple[float, float, float]] = field(default_factory=list)  # t, worker, queries
    hostile: dict[str, list[float]] = field(default_factory=dict)  # kind: seconds
    uploads: int = 0
    stored: Counter[str] = field(default_factory=Counter)  # force: uploads answered 2xx
    lost: list[str] = field(default_factory=list)  # forces whose versions do not add up
    logs: str = field(default="", repr=False)  # what the server logged
    secrets: list[str] = field(default_factory=list, repr=False)  # the write tokens used
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def record_hostile(self, kind: str, status: str, seconds: float) -> None:
        """Count one answer to a hostile request (any answer will do; the readers' matter)."""
        with self.lock:
            self.hostile.setdefault(kind, []).append(seconds)
            self.answers[(kind, status)] += 1

    def record(self, kind: str, status: str, seconds: float, text: str, force: str = "") -> None:
        """Count one answer; anything but a 2xx (a 503 for the runaway) is unexpected."""
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            self.answers[(kind, status)] += 1
            if kind == "upload" and status in ("200", "201"):
                self.uploads += 1
                self.stored[force] += 1
            expected = status == "503" if kind == "runaway" else status.startswith("2")
            if not expected:
                self.unexpected.append(f"{kind} {status}: {text[:120]!r}")

    @property
    def requests(self) -> int:
        """How many requests were answered (or failed)."""
        return sum(self.answers.values())

    def memory(self) -> dict[str, float]:
        """The worker's RSS (MiB): at the start, mean of the first and last quarter, peak."""
        if not self.samples:
            return {}
        end = self.samples[-1][0]
        first = [w for t, w, _ in self.samples if t <= end / 4] or [self.samples[0][1]]
        last = [w for t, w, _ in self.samples if t >= 3 * end / 4] or [self.samples[-1][1]]
        return {
            "start": self.samples[0][1],
            "first quarter": statistics.fmean(first),
            "last quarter": statistics.fmean(last),
            "peak": max(w for _, w, _ in self.samples),
            "query workers peak": max(q for _, _, q in self.samples),
        }

    def timeline(self, points: int = 10) -> list[float]:
        """The worker's RSS (MiB) at `points` evenly spaced moments of the run."""
        if not self.samples:
            return []
        step = max(1, len(self.samples) // points)
        return [w for _, w, _ in self.samples[step - 1 :: step]][:points]

    def growth(self) -> float:
        """MiB the worker's mean RSS grew from the first quarter to the last."""
        memory = self.memory()
        return memory["last quarter"] - memory["first quarter"] if memory else 0.0

    def report(self) -> str:
        """The figures, for people."""
        lines = [
            f"$ {self.command}",
            f"{self.requests} requests in {self.seconds:.1f} s "
            f"({self.requests / max(self.seconds, 1e-9):.1f}/s), {self.uploads} versions stored",
            "",
            f"{'kind':12} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  answers",
        ]
        for kind in sorted(self.latencies) + sorted(self.hostile):
            values = [v * 1000 for v in (self.latencies.get(kind) or self.hostile[kind])]
            answers = ", ".join(
                f"{status} x{n}" for (k, status), n in sorted(self.answers.items()) if k == kind
            )
            lines.append(
                f"{kind:12} {len(values):8d} {percentile(values, 0.5):8.0f} "
                f"{percentile(values, 0.99):8.0f} {max(values):8.0f}  {answers}"
            )
        lines += ["", f"runaway query: {self.runaway}"]
        lines.append("versions listed = 1 + uploads stored, for every force: "
                     + ("no: " + "; ".join(self.lost) if self.lost else "yes"))  # fmt: skip
        lines.append(
            "unexpected answers: "
            + (f"{len(self.unexpected)}: " + "; ".join(self.unexpected[:5]) if self.unexpected
               else "none")
        )  # fmt: skip
        memory = self.memory()
        lines.append(
            "server worker RSS (MiB): "
            + ", ".join(f"{k} {v:.0f}" for k, v in memory.items() if k != "query workers peak")
            + f"; growth first to last quarter {self.growth():+.0f}"
            + (f" ({self.growth() / self.uploads:+.2f} per version stored)" if self.uploads else "")
        )
        lines.append(
            "server worker RSS over the run (MiB, every tenth): "
            + ", ".join(f"{w:.0f}" for w in self.timeline())
        )
        lines.append(f"SPARQL query workers, RSS at peak (MiB, all): "
                     f"{memory.get('query workers peak', 0):.0f}")  # fmt: skip
        return "\n".join(lines)


class Client(threading.Thread):
    """Sends requests of the mix, one at a time, until the shared budget is spent."""

    def __init__(self, soak: Soak, server: ServerProcess, tokens: dict[str, str],
                 budget: Budget, seed: int, weights: dict[str, int]) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.soak, self.server, self.tokens, self.budget = soak, server, tokens, budget
        self.rng = random.Random(seed)
        self.seed = seed
        self.weights = weights

    def pick(self, number: int) -> tuple[str, str, str, bytes | None, dict[str, str], str]:
        """The next request: kind, method, path, body, headers and (for uploads) the force."""
        kind = self.rng.choices(list(self.weights), weights=list(self.weights.values()))[0]
        if kind == "page-html":
            return kind, "GET", self.rng.choice(PAGES_HTML), None, {"Accept": "text/html"}, ""
        if kind == "page-turtle":
            path = self.rng.choice(PAGES_TURTLE)
            return kind, "GET", path, None, {"Accept": "text/turtle"}, ""
        if kind == "sparql":
            query = self.rng.choice(QUERIES).replace("{n}", str(self.rng.randint(1, 10_000)))
            path = "/sparql?" + urllib.parse.urlencode({"query": query})
            return kind, "GET", path, None, {"Accept": "application/sparql-results+json"}, ""
        if kind == "description":
            return kind, "GET", "/sparql", None, {"Accept": "text/turtle"}, ""
        force = self.rng.choice(FORCES)
        headers = {"Authorization": f"Bearer {self.tokens[force]}", "Content-Type": "text/turtle"}
        body = revision(force, self.seed * 10**6 + number)
        return kind, "PUT", f"/registers/{force}", body, headers, force

    def run(self) -> None:
        number = 0
        while self.budget.take():
            number += 1
            kind, method, path, body, headers, force = self.pick(number)
            # Each reader from its own loopback address, as readers on the internet are.
            answer = send(
                self.server, method, path, body, headers, source=f"127.0.1.{self.seed + 1}"
            )
            self.soak.record(kind, *answer, force=force)


def send(server: ServerProcess, method: str, path: str, body: bytes | None,
         headers: dict[str, str], timeout: float = 120,
         source: str | None = None) -> tuple[str, float, str]:  # fmt: skip
    """One request: its status (or the exception's name), seconds and the start of its body."""
    started = time.monotonic()
    try:
        reply = request(server.url, method, path, body, headers, timeout, source)
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, time.monotonic() - started, str(error)
    return str(reply.status), reply.seconds, reply.text[:300]


class Budget:
    """A fixed number of requests and a fixed time, shared by the clients."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.deadline = time.monotonic() + seconds
        self.lock = threading.Lock()

    def take(self) -> bool:
        """Whether another request may be sent (and count it)."""
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


# The hostile mix (`--hostile`), each from loopback addresses of its own: clients that drip
# headers and bodies, runaway queries, a memory-hungry query and big anonymous validations.
GREEDY = (
    "SELECT (STRLEN(GROUP_CONCAT(?x)) AS ?n) WHERE { ?s ?p ?o . FILTER(isIRI(?s) && isIRI(?o)) "
    "BIND(CONCAT(STR(?s), STR(?p), STR(?o)) AS ?a) BIND(CONCAT(?a,?a,?a,?a,?a,?a,?a,?a) AS ?b) "
    "BIND(CONCAT(?b,?b,?b,?b,?b,?b,?b,?b) AS ?c) BIND(CONCAT(?c,?c,?c,?c,?c,?c,?c,?c) AS ?d) "
    "BIND(CONCAT(?d,?d,?d,?d,?d,?d,?d,?d) AS ?x) }"
)


def _drip(server: ServerProcess, stop: threading.Event, source: str, body: bool) -> None:
    """Drip a request's headers (or body) a line (byte) a second; reconnect when cut off."""
    while not stop.is_set():
        try:
            with socket.create_connection(
                ("127.0.0.1", server.port), timeout=10, source_address=(source, 0)
            ) as sock:
                head = b"POST /publish/validate HTTP/1.1\r\nHost: x\r\nContent-Length: 99999\r\n"
                sock.sendall(head + b"\r\nturtle=" if body else b"GET / HTTP/1.1\r\nHost: x\r\n")
                while not stop.wait(1):
                    sock.sendall(b"a" if body else b"X-Drip: y\r\n")
        except OSError:
            stop.wait(0.5)  # closed at a deadline, or refused: come back


def _repeat(soak: Soak, server: ServerProcess, stop: threading.Event, kind: str,
            source: str, make: Callable[[], tuple[str, str, bytes | None, dict[str, str]]],
            pause: float) -> None:  # fmt: skip
    """Send the same hostile request again and again until `stop`."""
    while not stop.is_set():
        method, path, body, headers = make()
        status, took, _ = send(server, method, path, body, headers, 180, source)
        soak.record_hostile(kind, status, took)
        stop.wait(pause)


def hostile(soak: Soak, server: ServerProcess, stop: threading.Event) -> list[threading.Thread]:
    """Start the hostile mix; it runs until `stop` is set."""
    from bench.synthetic import register_turtle

    big = register_turtle("merseyside", 1000, prefix="hostile").encode()  # 18,000 triples
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    threads = [
        threading.Thread(target=_drip, args=(server, stop, "127.0.2.1", False), daemon=True)
        for _ in range(16)
    ] + [
        threading.Thread(target=_drip, args=(server, stop, "127.0.2.2", True), daemon=True)
        for _ in range(16)
    ]
    for n in range(8):
        query = "/sparql?" + urllib.parse.urlencode({"query": f"{RUNAWAY} # {n}"})
        threads.append(threading.Thread(target=_repeat, daemon=True, args=(
            soak, server, stop, "hostile-runaway", f"127.0.3.{n + 1}",
            lambda q=query: ("GET", q, None, {"Accept": "text/csv"}), 0.1)))  # fmt: skip
    greedy = "/sparql?" + urllib.parse.urlencode({"query": GREEDY})
    threads.append(threading.Thread(target=_repeat, daemon=True, args=(
        soak, server, stop, "hostile-memory", "127.0.4.1",
        lambda: ("GET", greedy, None, {"Accept": "text/csv"}), 5)))  # fmt: skip
    body = b"turtle=" + urllib.parse.quote(big).encode()
    threads.append(threading.Thread(target=_repeat, daemon=True, args=(
        soak, server, stop, "hostile-validate", "127.0.5.1",
        lambda: ("POST", "/publish/validate", body, form), 1)))  # fmt: skip
    for thread in threads:
        thread.start()
    return threads


def sample(soak: Soak, server: ServerProcess, stop: threading.Event, started: float) -> None:
    """Every half second, the RSS of the server worker and of its query workers."""
    while not stop.wait(0.5):
        worker = server.worker_pid()
        if worker is None:
            continue
        queries = sum(rss_mib(pid) for pid in children(worker))
        soak.samples.append((time.monotonic() - started, rss_mib(worker), queries))


def run(requests: int, seconds: float, clients: int = 6, query_timeout: float = 5,
        folder: Path | None = None, command: str = "",
        weights: dict[str, int] | None = None, env: dict[str, str] | None = None,
        attack: bool = False) -> Soak:  # fmt: skip
    """Start the server, run the soak, stop the server; return the figures."""
    from s22a.web.tokens import TokenStore

    with tempfile.TemporaryDirectory(prefix="s22a-soak-") as temporary:
        base = folder or Path(temporary)
        store = seeded_store(base, base / "store")
        settings = {"S22A_SPARQL_TIMEOUT": str(query_timeout), **(env or {})}
        server = ServerProcess(base / "server", store=store, env=settings)
        tokens = {force: TokenStore(server.tokens).create(force)[1] for force in FORCES}
        soak = Soak(command or shlex.join([sys.executable, *sys.argv]))
        with server:
            budget = Budget(requests, seconds)
            stop = threading.Event()
            started = time.monotonic()
            sampler = threading.Thread(target=sample, args=(soak, server, stop, started))
            sampler.start()
            mix = weights or WEIGHTS
            workers = [Client(soak, server, tokens, budget, seed, mix) for seed in range(clients)]
            for worker in workers:
                worker.start()
            attacking = threading.Event()
            attackers = hostile(soak, server, attacking) if attack else []
            time.sleep(seconds / 4)
            query = "/sparql?" + urllib.parse.urlencode({"query": RUNAWAY})
            status, took, text = send(server, "GET", query, None,
                                      {"Accept": "application/sparql-results+json"})  # fmt: skip
            soak.record("runaway", status, took, text)
            soak.runaway = f"{status} after {took:.1f} s: {text.strip()[:90]}"
            for worker in workers:
                worker.join(timeout=seconds + 300)
            soak.seconds = time.monotonic() - started
            attacking.set()
            for attacker in attackers:
                attacker.join(timeout=200)
            stop.set()
            sampler.join(timeout=5)
            check_versions(soak, server)
        soak.logs = server.logs()
        soak.secrets = list(tokens.values())
        return soak


def check_versions(soak: Soak, server: ServerProcess) -> None:
    """Each force's version listing holds its first version and one per upload stored."""
    for force in FORCES:
        reply = request(server.url, "GET", f"/registers/{force}/versions", None,
                        {"Accept": "application/json"})  # fmt: skip
        listed = len(json.loads(reply.body)["versions"]) if reply.status == 200 else -1
        if listed != 1 + soak.stored[force]:
            soak.lost.append(f"{force}: {listed} listed, {soak.stored[force]} stored + 1")


def main() -> None:
    """Run the soak from the command line and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000, help="at most this many")
    parser.add_argument("--seconds", type=float, default=180, help="at most this long")
    parser.add_argument("--clients", type=int, default=6, help="concurrent clients")
    parser.add_argument("--query-timeout", type=float, default=5,
                        help="the server's SPARQL time limit (S22A_SPARQL_TIMEOUT)")  # fmt: skip
    parser.add_argument("--mix", default=",".join(f"{k}={v}" for k, v in WEIGHTS.items()),
                        help="kinds of request and their weights")  # fmt: skip
    parser.add_argument("--hostile", action="store_true",
                        help="meanwhile: slow clients, runaway and memory-hungry queries, big "
                        "anonymous validations (see bench/README.md)")  # fmt: skip
    parser.add_argument("--malloc-arenas", type=int, default=None,
                        help="the server's S22A_MALLOC_ARENAS (0: glibc's default)")  # fmt: skip
    args = parser.parse_args()
    env = {} if args.malloc_arenas is None else {"S22A_MALLOC_ARENAS": str(args.malloc_arenas)}
    weights = {k: int(v) for k, v in (item.split("=") for item in args.mix.split(","))}
    soak = run(args.requests, args.seconds, args.clients, args.query_timeout, weights=weights,
               env=env, attack=args.hostile)  # fmt: skip
    print(soak.report())
    sys.exit(1 if soak.unexpected or soak.lost else 0)


if __name__ == "__main__":
    main()
