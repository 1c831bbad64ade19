"""Load time and peak memory: the seed registers and synthetic unions, on both store backends.

Run from the repository root (needs the `oxigraph` server from the test extra):

    python -m bench.load                 # seeds, 40 registers x 50 (2,000 agreements)
    python -m bench.load --scale 10      # ... and 40 x 500 (20,000 agreements)

Each scenario runs in a fresh Python process, so its peak RSS is its own (and, apart, the
largest of the worker processes a load checks big registers in). For the
remote backend the Oxigraph server's peak RSS is reported too. The peer is pyoxigraph's bulk
loader putting the same quads (the embedded store's dump after the load: registers, versions,
reconciliation) into a fresh on-disk store, with no parsing of Turtle and no validation.
Figures are printed side by side with the ratios, measured in one run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# A register speaks only for its own force (register:{force}), so the union has one register
# for each of 40 reference forces.
REGISTERS = 40
PER_REGISTER = 50


def write_synthetic(folder: Path, per_register: int) -> Path:
    """Write the synthetic registers and a catalogue of them; return the catalogue path."""
    from bench.synthetic import reference_slugs, register_turtle

    forces, _ = reference_slugs()
    entries = []
    for n, slug in enumerate(forces[:REGISTERS]):
        path = folder / f"{slug}.ttl"
        path.write_text(register_turtle(slug, per_register, seed=n))
        entries.append(
            f"<https://w3id.org/s22a/id/register/{slug}> a dcat:Dataset ; "
            f"dcat:distribution [ dcat:downloadURL <{path.as_uri()}> ] ."
        )
    catalog = folder / "catalog.ttl"
    catalog.write_text("@prefix dcat: <http://www.w3.org/ns/dcat#> .\n" + "\n".join(entries))
    return catalog


def child(store_spec: str, catalog: str | None, dump: str | None) -> None:
    """Measure one load in this process and print JSON; write the loaded quads to `dump`."""
    from s22a.ingest.load import load_catalog
    from s22a.store import open_store

    start = time.perf_counter()
    with open_store(store_spec) as store:
        outcomes = load_catalog(store, catalog)
        seconds = time.perf_counter() - start
        triples = store.select("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")
        if dump:
            with open(dump, "wb") as out:
                for chunk in store.dump("application/n-quads"):
                    out.write(chunk)
    refused = [o.reason for o in outcomes if o.outcome == "Refused"]
    assert not refused, refused
    print(
        json.dumps(
            {
                "seconds": seconds,
                "registers": len(outcomes),
                "agreements": sum(o.agreements for o in outcomes),
                "triples": int(triples[0]["n"]),
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                # The largest of the load's worker processes that check big registers.
                "workers_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            }
        )
    )


def bulk_child(dump: str, folder: str) -> None:
    """The peer: pyoxigraph's bulk loader, the same quads into a fresh on-disk store; JSON."""
    import pyoxigraph

    start = time.perf_counter()
    store = pyoxigraph.Store(folder)
    store.bulk_load(path=dump, format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "seconds": seconds,
                "triples": len(store),
                "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def bulk(dump: Path, workdir: Path) -> dict:
    """Run the bulk loader's scenario in a child process."""
    command = [sys.executable, "-m", "bench.load", "--bulk", str(dump)]
    command += ["--store", tempfile.mkdtemp(dir=workdir)]
    return _parse(subprocess.run(command, capture_output=True, text=True))


def peak_rss_mib(pid: int) -> float:
    """The peak resident set size of a running process (Linux VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(backend: str, catalog: str | None, workdir: Path, dump: Path | None = None) -> dict:
    """Run one scenario in a child process against a fresh store of `backend`."""
    from tests.support.oxigraph import OxigraphServer

    command = [sys.executable, "-m", "bench.load", "--child"]
    if catalog:
        command += ["--catalog", catalog]
    if backend == "embedded":
        spec = f"oxigraph:{tempfile.mkdtemp(dir=workdir)}"
        command += ["--dump", str(dump)] if dump else []
        output = subprocess.run(command + ["--store", spec], capture_output=True, text=True)
        return _parse(output)
    with OxigraphServer() as server:
        output = subprocess.run(
            command + ["--store", f"sparql:{server.url}"], capture_output=True, text=True
        )
        figures = _parse(output)
        figures["server_peak_mib"] = peak_rss_mib(server.process.pid)
    return figures


def _parse(output: subprocess.CompletedProcess) -> dict:
    if output.returncode != 0:
        raise SystemExit(output.stderr)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=1, help="also run 10x when 10")
    parser.add_argument(
        "--remote", action=argparse.BooleanOptionalAction, default=True,
        help="also load into an Oxigraph server over HTTP (default: yes)",
    )  # fmt: skip
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--store", help=argparse.SUPPRESS)
    parser.add_argument("--catalog", help=argparse.SUPPRESS)
    parser.add_argument("--dump", help=argparse.SUPPRESS)
    parser.add_argument("--bulk", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.store, args.catalog, args.dump)
        return
    if args.bulk:
        bulk_child(args.bulk, args.store)
        return

    with tempfile.TemporaryDirectory(prefix="s22a-bench-") as tmp:
        workdir = Path(tmp)
        scenarios: list[tuple[str, str | None]] = [("seed registers", None)]
        for scale in sorted({1, args.scale}):
            folder = workdir / f"x{scale}"
            folder.mkdir()
            catalog = write_synthetic(folder, PER_REGISTER * scale)
            scenarios.append((f"{REGISTERS} x {PER_REGISTER * scale} synthetic", str(catalog)))
        print(
            f"{'scenario':26} {'backend':11} {'agreements':>10} {'triples':>9} {'load s':>8} "
            f"{'client MiB':>10} {'workers MiB':>11} {'server MiB':>10}"
        )
        for index, (name, catalog) in enumerate(scenarios):
            dump = workdir / f"loaded-{index}.nq"
            results = {"embedded": run("embedded", catalog, workdir, dump)}
            if args.remote:
                results["remote"] = run("remote", catalog, workdir)
            results["bulk loader"] = bulk(dump, workdir)
            results["bulk loader"]["agreements"] = results["embedded"]["agreements"]
            for backend, r in results.items():
                server, workers = r.get("server_peak_mib"), r.get("workers_mib")
                print(
                    f"{name:26} {backend:11} {r['agreements']:10d} {r['triples']:9d} "
                    f"{r['seconds']:8.2f} {r['peak_mib']:10.1f} "
                    f"{(f'{workers:.1f}' if workers else '-'):>11} "
                    f"{(f'{server:.1f}' if server else '-'):>10}"
                )
            embedded = results["embedded"]["seconds"]
            peer = results["bulk loader"]["seconds"]
            remote = results.get("remote", {}).get("seconds")
            versus_remote = f"remote/embedded: {remote / embedded:.2f}x; " if remote else ""
            print(f"{'':26} load time, {versus_remote}embedded/bulk loader: {embedded / peer:.1f}x")


if __name__ == "__main__":
    main()
