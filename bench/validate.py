"""How long `s22a validate` takes: the seed registers and a 2,000-agreement register.

Run from the repository root:  python -m bench.validate [--agreements 2000] [--repeat 3]

Prints parse and validation time per register, and the time per agreement
for the synthetic register next to the seed registers' (the ratio shows how
validation scales with size on this machine, whatever else it is doing).
"""

from __future__ import annotations

import argparse
import statistics
import time
import tracemalloc

from bench.synthetic import register_turtle
from s22a import reference, resources
from s22a.ingest import parse, validation


def measure(name: str, data: bytes, repeat: int) -> tuple[float, float, int, float]:
    """Median parse and validate seconds, agreements, and peak MiB of one validation."""
    parse_times, validate_times = [], []
    for _ in range(repeat):
        start = time.perf_counter()
        graph = parse.parse_register(data, name)
        parsed = time.perf_counter()
        result = validation.validate_graph(graph, name)
        done = time.perf_counter()
        assert result.conforms, validation.format_text(result)
        parse_times.append(parsed - start)
        validate_times.append(done - parsed)
    tracemalloc.start()
    validation.validate_graph(parse.parse_register(data, name), name)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return (
        statistics.median(parse_times),
        statistics.median(validate_times),
        result.agreement_count(),
        peak,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    reference.context_graph(), reference.shapes_graph()  # load once, as the CLI does

    rows = []
    for path in resources.register_paths():
        rows.append((path.name, *measure(path.name, path.read_bytes(), args.repeat)))
    synthetic = register_turtle("merseyside", args.agreements).encode()
    rows.append((f"synthetic-{args.agreements}.ttl", *measure("s.ttl", synthetic, args.repeat)))

    print(
        f"{'register':28} {'agreements':>10} {'parse s':>9} {'validate s':>11} "
        f"{'ms/agreement':>13} {'peak MiB':>9}"
    )
    for name, parse_s, check, count, peak in rows:
        per = 1000 * (parse_s + check) / max(count, 1)
        print(f"{name:28} {count:10d} {parse_s:9.3f} {check:11.3f} {per:13.2f} {peak:9.1f}")
    seeds = rows[:-1]
    seed_per = sum(p + c for _, p, c, _, _ in seeds) / sum(n for _, _, _, n, _ in seeds)
    big = rows[-1]
    big_per = (big[1] + big[2]) / big[3]
    print(
        f"\nper-agreement cost, synthetic vs seeds: {big_per / seed_per:.2f}x "
        f"(1.0 would be perfectly linear)"
    )


if __name__ == "__main__":
    main()
