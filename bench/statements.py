r"""The statement shapes (what a register may say) on rdflib's SPARQL and Oxigraph's, side by side.

Run from the repository root:  python -m bench.statements [--triples 100000] [--repeat 3]

`s22a.ingest.validation` checks every register against shapes/statements.ttl on the register
alone, with pySHACL; the shapes are SHACL-SPARQL, and pySHACL runs their queries on whatever
holds the data graph. This prints, for each seed register and for one of `--triples` triples
(Merseyside's register with blank nodes added, the upload cap), the median seconds of that
pass with the register in rdflib's in-memory graph and in Oxigraph (oxrdflib, what the
service uses, including copying the register there), and the ratio. rdflib's REGEX is
Python's `re`, which has no Unicode classes (\p{Cc}), so it cannot run the Text shape at
all: the side-by-side columns leave that shape out, and the last column is the whole pass
on Oxigraph.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pyshacl
from rdflib import Graph, Literal
from rdflib.namespace import SH

from s22a import reference, resources
from s22a.ingest import parse, shacl
from s22a.namespaces import SHAPE


def seconds(run: Callable[[], object], repeat: int) -> float:
    """The median wall time of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def without_text() -> Graph:
    """The statement shapes with the Text shape deactivated (rdflib cannot run it)."""
    shapes = Graph()
    shapes += reference.statement_shapes()
    shapes.add((SHAPE.Text, SH.deactivated, Literal(True)))
    return shapes


def on_rdflib(register: Graph, shapes: Graph) -> None:
    """The statement shapes with the register in rdflib's memory store (rdflib's SPARQL)."""
    data = Graph()
    data += register
    pyshacl.validate(data, shacl_graph=shapes, inplace=True)


def on_oxigraph(register: Graph, shapes: Graph) -> None:
    """The statement shapes as the service runs them: the register copied into Oxigraph."""
    shacl.run(shacl.on_oxigraph(register), shapes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    registers = {p.name: p.read_bytes() for p in resources.register_paths()}
    merseyside = registers["merseyside.ttl"]
    padding = args.triples - len(parse.parse_register(merseyside, "m.ttl")) - 1
    registers[f"{args.triples:,} triples"] = (
        merseyside
        + b"\n<https://w3id.org/s22a/id/register/merseyside> <http://example.org/p> "
        + b"[]," * padding
        + b"[] ."
    )
    partial, whole = without_text(), reference.statement_shapes()
    print(
        f"{'register':22} {'triples':>8} {'rdflib s':>9} {'Oxigraph s':>11} {'ratio':>7} "
        f"{'all shapes, Oxigraph s':>23}"
    )
    for name, data in registers.items():
        graph = parse.parse_register(data, "r.ttl")
        repeat = 1 if len(graph) > 10_000 else args.repeat
        slow = seconds(lambda g=graph: on_rdflib(g, partial), repeat)
        fast = seconds(lambda g=graph: on_oxigraph(g, partial), repeat)
        full = seconds(lambda g=graph: on_oxigraph(g, whole), repeat)
        print(
            f"{name:22} {len(graph):8d} {slow:9.3f} {fast:11.3f} {slow / fast:6.1f}x {full:23.3f}"
        )


if __name__ == "__main__":
    main()
