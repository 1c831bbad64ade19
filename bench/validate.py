"""How long `s22a validate` takes, beside its peer: pySHACL with the plain shapes.

Run from the repository root:  python -m bench.validate [--agreements 2000] [--repeat 3]

For each seed register and a synthetic register of `--agreements` agreements it prints the
parse time, the validation time of `s22a.ingest.validation` (the register shapes' Core
constraints on rdflib's graph, their SPARQL constraints and the statement shapes on Oxigraph),
and, measured in the same run, the peer's: pySHACL with every shape on rdflib's in-memory
graph over the register, ontology and reference data (the statement shapes run as the service
runs them in both), with the same options. Both must report the same findings; the
ratio is peer seconds over ours. It also prints how many agreements pySHACL's Core constraints
ran on in ours (the others the screen passed, `s22a.ingest.screen`), time per agreement and
peak traced memory.
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc
from collections.abc import Callable

from rdflib import Graph

from bench.synthetic import register_turtle
from s22a import reference, resources
from s22a.ingest import parse, shacl, validation


def plain(graph: Graph, name: str) -> list[validation.Finding]:
    """The peer: pySHACL with the plain register shapes on rdflib's in-memory graph."""
    data = Graph()
    data += reference.context_graph()
    data += graph
    report = shacl.run(data, reference.register_shapes())
    # The statement shapes run as the service runs them (on Oxigraph): on rdflib's engine they
    # take minutes for a big register and its REGEX lacks Unicode classes (bench/statements.py).
    report += shacl.run(shacl.on_oxigraph(graph), reference.statement_shapes())
    return validation._findings(report, graph)


def ours(graph: Graph, name: str) -> list[validation.Finding]:
    """What the service runs: pySHACL's Core constraints only on what the screen flags."""
    return validation.validate_graph(graph, name).findings


def timed(check: Callable[[Graph, str], list[validation.Finding]], graph: Graph, name: str,
          repeat: int) -> tuple[float, list[validation.Finding]]:  # fmt: skip
    """Median seconds of `repeat` runs of `check`, and its findings."""
    times, findings = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        findings = check(graph, name)
        times.append(time.perf_counter() - start)
    return statistics.median(times), findings


def summary(findings: list[validation.Finding]) -> list[tuple[str, str, str | None]]:
    """What a PCC office reads of each finding (blank node labels differ between runs)."""
    return sorted((f.severity, f.message, f.agreement) for f in findings)


def measure(name: str, data: bytes, repeat: int, peer: bool) -> dict[str, float]:
    """Parse, our validation and the peer's, the agreements and the peak MiB of ours."""
    start = time.perf_counter()
    graph = parse.parse_register(data, name)
    parsed = time.perf_counter() - start
    seconds, findings = timed(ours, graph, name, repeat)
    assert not [f for f in findings if f.severity == "violation"], findings
    row = {"parse": parsed, "ours": seconds, "peer": float("nan")}
    if peer:
        row["peer"], theirs = timed(plain, graph, name, repeat)
        assert summary(theirs) == summary(findings), (name, summary(theirs), summary(findings))
    row["checked"] = validation.validate_graph(graph, name).agreements_checked or 0
    tracemalloc.start()
    validation.validate_graph(graph, name)
    row["peak"] = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    row["agreements"] = len(set(graph.objects(None, validation.S22A.lists)))
    return row


def main() -> None:
    """Measure and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true", help="skip pySHACL on plain shapes")
    args = parser.parse_args()
    reference.context_graph(), reference.register_shape_halves()  # load once, as the CLI does
    rows = []
    for path in resources.register_paths():
        rows.append((path.name, measure(path.name, path.read_bytes(), args.repeat, True)))
    synthetic = register_turtle("merseyside", args.agreements).encode()
    name = f"synthetic-{args.agreements}.ttl"
    rows.append((name, measure(name, synthetic, args.repeat, not args.no_peer)))

    print(
        f"{'register':26} {'agreements':>10} {'parse s':>8} {'s22a s':>8} {'pySHACL s':>10} "
        f"{'pySHACL/s22a':>12} {'checked':>8} {'ms/agreement':>12} {'peak MiB':>9}"
    )
    for name, r in rows:
        per = 1000 * (r["parse"] + r["ours"]) / max(r["agreements"], 1)
        print(
            f"{name:26} {r['agreements']:10.0f} {r['parse']:8.3f} {r['ours']:8.3f} "
            f"{r['peer']:10.3f} {r['peer'] / r['ours']:11.1f}x {r['checked']:8.0f} "
            f"{per:12.2f} {r['peak']:9.1f}"
        )
    seeds = rows[:-1]
    seed_per = sum(r["parse"] + r["ours"] for _, r in seeds) / sum(
        r["agreements"] for _, r in seeds
    )
    big = rows[-1][1]
    big_per = (big["parse"] + big["ours"]) / big["agreements"]
    print(
        f"\nper-agreement cost, synthetic vs seeds: {big_per / seed_per:.2f}x "
        f"(below 1.0: the fixed cost of a validation dominates small registers)"
    )


if __name__ == "__main__":
    main()
