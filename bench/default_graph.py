"""What a default graph that is a set costs, on the bench datasets (the seed plus synthetic
registers at 10x and 100x, built as `bench.sparql` builds them).

Run from the repository root:

    python -m bench.default_graph                 # 10x and 100x
    python -m bench.default_graph --scales 10 --repeat 3

For each scale, side by side in one run:

* the embedded store's query workers: loading a worker's copy of the dataset as before, and
  with the merge of its named graphs written into its default graph (what a worker does now);
  then the same queries on the union of quads (``use_default_graph_as_union``, the old default
  graph: a triple several registers state matches once per register) and on the merged graph;
* a remote store (``oxigraph serve --union-default-graph`` on 127.0.0.1, through `RemoteStore`):
  building its merged graph once (opening a store that has none), the cost of keeping it on a
  write (replacing the largest register, with and without the merged graph's update), and the
  same queries sent with the offered graphs as ``default-graph-uri`` (old) and with the merged
  graph and the meta graph (new).

Figures are medians of `--repeat` runs; quads and rows are printed to show what differs.
Nothing asserts a time; only loopback is used.
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from bench.sparql import build, start_oxigraph

ARCHIVE = "https://w3id.org/s22a/graph/archive"
MERGE = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"
PREFIX = "PREFIX s22a: <https://w3id.org/s22a/def/s22a#>\n"
QUERIES = {
    "count agreements": PREFIX + "SELECT (COUNT(*) AS ?n) { ?a a s22a:Agreement }",
    "parties": PREFIX + "SELECT (COUNT(*) AS ?n) { ?a a s22a:Agreement ; s22a:party ?p }",
    "all triples": "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
}


def timed(action: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median seconds of `repeat` runs of `action`, and its last result."""
    seconds, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), result


def first_number(result: object) -> int:
    """The one number of a one-cell pyoxigraph SELECT result."""
    assert isinstance(result, ox.QuerySolutions)
    return int(next(iter(result))[0].value)


def worker_copy(dump: Path, merge: bool) -> ox.Store:
    """A worker's copy, as `s22a.sparql.worker.Worker.load` makes it (with or without merge)."""
    store = ox.Store()
    store.load(path=str(dump), format=ox.RdfFormat.N_QUADS)
    store.remove_graph(ox.NamedNode(ARCHIVE))
    if merge:
        store.update(MERGE)
    return store


def embedded(dump: Path, repeat: int) -> None:
    """Worker copies: load time, size, and query time, union of quads vs merged graph."""
    old_load, old = timed(lambda: worker_copy(dump, False), repeat)
    new_load, new = timed(lambda: worker_copy(dump, True), repeat)
    assert isinstance(old, ox.Store) and isinstance(new, ox.Store)
    print(f"  worker copy load:  union of quads {old_load * 1000:8.0f} ms ({len(old)} quads)")
    print(
        f"                     merged         {new_load * 1000:8.0f} ms ({len(new)} quads, "
        f"x{new_load / old_load:.2f} time, x{len(new) / len(old):.2f} quads)"
    )
    for name, query in QUERIES.items():
        t_old, r_old = timed(
            lambda q=query: first_number(old.query(q, use_default_graph_as_union=True)), repeat
        )
        t_new, r_new = timed(lambda q=query: first_number(new.query(q)), repeat)
        print(
            f"  {name:18} union {t_old * 1000:7.1f} ms ({r_old} rows)   merged "
            f"{t_new * 1000:7.1f} ms ({r_new} rows)   x{t_new / t_old:.2f}"
        )


def remote(dump: Path, repeat: int) -> None:
    """A remote store: the merged graph's cost to build and to keep (per register write), and
    queries on it (with the meta graph) vs on the list of offered graphs (the old default)."""
    from s22a.store import RemoteStore
    from s22a.store import remote as remote_module
    from s22a.store.base import MERGED_GRAPH

    peer = start_oxigraph(dump)  # holding the dump, as bench.sparql serves it
    url = f"http://{peer.host}:{peer.port}"
    try:
        started = time.perf_counter()
        store = RemoteStore(url, timeout=600)  # builds the merged graph: none yet
        print(
            f"  merged graph built once (opening the store): {time.perf_counter() - started:.2f} s"
        )
        graphs = [g for g in store.graphs() if g != ARCHIVE]
        register = max(
            (g for g in graphs if "/id/register/" in g),
            key=lambda g: len(store.graph_triples(g)),
        )
        data = store.graph_triples(register).serialize(format="nt", encoding="utf-8")

        def write() -> object:
            return store.replace_graph(register, data)

        kept, count = timed(write, repeat)
        real = remote_module.merged
        remote_module.merged = lambda graph: False  # the same write without the merged graph
        try:
            plain, _ = timed(write, repeat)
        finally:
            remote_module.merged = real
        print(
            f"  replacing the largest register ({count} triples): {plain * 1000:.0f} ms plain, "
            f"{kept * 1000:.0f} ms keeping the merged graph (x{kept / plain:.2f})"
        )

        def ask(query: str, defaults: list[str]) -> int:
            params = [("query", query)] + [("default-graph-uri", g) for g in defaults]
            params += [("named-graph-uri", g) for g in graphs]
            body = urllib.parse.urlencode(params).encode()
            request = urllib.request.Request(
                f"{url}/query",
                data=body,
                headers={"Accept": "text/csv", "Content-Type": "application/x-www-form-urlencoded"},
            )
            with urllib.request.urlopen(request, timeout=600) as response:
                return int(response.read().decode().split()[1])

        merged = [MERGED_GRAPH, "https://w3id.org/s22a/graph/meta"]
        for name, query in QUERIES.items():
            t_old, r_old = timed(lambda q=query: ask(q, graphs), repeat)
            t_new, r_new = timed(lambda q=query: ask(q, merged), repeat)
            print(
                f"  {name:18} list  {t_old * 1000:7.1f} ms ({r_old} rows)   merged "
                f"{t_new * 1000:7.1f} ms ({r_new} rows)   x{t_new / t_old:.2f}"
            )
        store.close()
    finally:
        peer.close()


def main() -> None:
    """Build each scale, measure both mechanisms, print the figures and the command."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scales", default="10,100", help="comma-separated multiples")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (median)")
    parser.add_argument("--data", help="a folder with a bench.sparql build (data.nq) to reuse")
    args = parser.parse_args()
    for scale in [int(s) for s in args.scales.split(",")]:
        with tempfile.TemporaryDirectory(prefix=f"s22a-bench-dg-{scale}x-") as tmp:
            folder = Path(args.data) if args.data else Path(tmp)
            if not (folder / "data.nq").exists():
                info = build(scale, folder)
                print(f"\n== {scale}x: {info['quads']} quads, {info['agreements']} listings")
            else:
                print(f"\n== {scale}x (from {folder})")
            embedded(folder / "data.nq", args.repeat)
            remote(folder / "data.nq", args.repeat)
    print("\n$ python -m bench.default_graph " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    main()
