"""What sharing the embedded store costs (`s22a serve --workers N`, `s22a.store.shared`).

Run from the repository root after ``python3 -m pip install -r requirements/dev.lock -e .``:

    python -m bench.shared                     # 1x and 10x the seed data, 20 writes each
    python -m bench.shared --scales 1 --writes 10

For each scale it builds the store `bench/sparql.py` builds (seed and synthetic registers,
validated), then on two copies of it, one after the other, replaces Merseyside's register
`--writes` times (two versions in turn) through the store as one process opens it
(`OxigraphStore`, the peer) and as two processes share it (two `SharedOxigraphStore`
openers in this process, which take their locks as two processes would). It prints the median
seconds of a replacement, and of the first read after it (a list of the graphs): for the one
opener its own read, for the shared store the other opener's, which makes its copy of the
store again first. Rounds alternate the two, twice. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.sparql import build

ROOT = Path(__file__).resolve().parents[1]
GRAPH = "https://w3id.org/s22a/id/register/merseyside"


def versions() -> list[bytes]:
    """Two valid versions of Merseyside's register, differing in one title."""
    first = (ROOT / "data" / "registers" / "merseyside.ttl").read_bytes()
    second = first.replace(b'"Minerva Programme"@en', b'"Minerva Programme, again"@en')
    assert second != first
    return [first, second]


def measure(store_folder: Path, shared: bool, writes: int) -> tuple[float, float]:
    """Median seconds of a replacement and of the next read, on a copy of `store_folder`."""
    from s22a.store import OxigraphStore, SharedOxigraphStore, changes

    data = versions()
    with tempfile.TemporaryDirectory(prefix="s22a-bench-shared-") as tmp:
        copy = Path(tmp) / "store"
        shutil.copytree(store_folder, copy)
        changes.share(Path(tmp) / "locks")  # the signal both openers read, as S22A_LOCKS
        if shared:
            writer, reader = SharedOxigraphStore(copy), SharedOxigraphStore(copy)
        else:
            writer = reader = OxigraphStore(copy)
        reader.graphs()
        replacing, reading = [], []
        for n in range(writes):
            started = time.perf_counter()
            writer.replace_graph(GRAPH, data[n % 2], "text/turtle")
            replacing.append(time.perf_counter() - started)
            started = time.perf_counter()
            reader.graphs()
            reading.append(time.perf_counter() - started)
        for store in {id(writer): writer, id(reader): reader}.values():
            store.close()
        changes.share(None)
    return statistics.median(replacing), statistics.median(reading)


def main() -> None:
    """Build each scale, measure both ways in alternating rounds, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="1,10", help="comma-separated multiples")
    parser.add_argument("--writes", type=int, default=20, help="replacements per round")
    args = parser.parse_args()
    command = "python -m bench.shared " + shlex.join(sys.argv[1:])
    print(f"$ {command}")
    print("| scale (quads) | store | replacement ms (rounds) | next read ms (rounds) |")
    print("|---|---|---:|---:|")
    for scale in (int(s) for s in args.scales.split(",")):
        with tempfile.TemporaryDirectory(prefix=f"s22a-bench-shared-{scale}x-") as tmp:
            info = build(scale, Path(tmp))
            figures: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
            for _ in range(2):
                for shared in (False, True):
                    figures[shared].append(measure(Path(tmp) / "store", shared, args.writes))
            for shared, rounds in figures.items():
                name = "shared by two" if shared else "one process (peer)"
                write = ", ".join(f"{w * 1000:.1f}" for w, _ in rounds)
                read = ", ".join(f"{r * 1000:.1f}" for _, r in rounds)
                print(f"| {scale}x ({info['quads']:,}) | {name} | {write} | {read} |", flush=True)


if __name__ == "__main__":
    main()
