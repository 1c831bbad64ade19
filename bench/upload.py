"""Uploading big valid registers: seconds and the server's peak memory per size.

Run from the repository root after ``python3 -m pip install -r requirements/dev.lock -e .``:

    python -m bench.upload                          # 10,000, 50,000 and 99,000 triples
    python -m bench.upload --agreements 550,2750    # other sizes (about 18 triples each)

Serves the seed registers with `s22a serve` (on-disk store), then PUTs Merseyside's register as
synthetic registers of growing size (`bench/synthetic.py`: made-up agreements between
reference forces, all valid), each with the force's token, one at a time, and each again with
one agreement's title edited (validation then checks that agreement only). For each it prints
the triples, the bytes, the seconds the PUT took (parse, validate, store, version, reconcile)
and the server worker's peak resident memory during it (VmHWM, reset before each), and the
memory per 10,000 triples above the worker's memory before the upload. Loopback only; nothing
asserts a time.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

import pyoxigraph as ox

from bench.synthetic import register_turtle
from tests.support.server import ServerProcess, peak_rss_mib, reset_peak, rss_mib, seeded_store


def main() -> None:
    """Run the uploads and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--agreements",
        default="550,2750,5450",
        help="agreements per upload, comma-separated (about 18 triples each)",
    )
    args = parser.parse_args()
    print("command:", shlex.join([sys.executable, "-m", "bench.upload", *sys.argv[1:]]))
    from s22a.web.tokens import TokenStore

    rows = []
    with tempfile.TemporaryDirectory(prefix="s22a-bench-upload-") as folder:
        base = Path(folder)
        server = ServerProcess(base / "server", store=seeded_store(base, base / "store"))
        token = TokenStore(server.tokens).create("merseyside")[1]
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "text/turtle",
            "Accept": "application/json",
        }
        with server:
            for count in (int(n) for n in args.agreements.split(",")):
                body = register_turtle("merseyside", count, prefix=f"upload{count}").encode()
                # The same register again with one agreement's title edited: what a PCC office
                # does most (the history of changes compares it with the version before).
                edited = body.replace(
                    b"Synthetic collaboration 0 ", b"Synthetic collaboration 0, edited, ", 1
                )
                assert edited != body
                for kind, data in (("new", body), ("1 edited", edited)):
                    worker = server.worker_pid()
                    assert worker is not None
                    before = rss_mib(worker)
                    reset_peak(worker)
                    started = time.monotonic()
                    reply = server.request("PUT", "/registers/merseyside", data, headers, 600)
                    seconds = time.monotonic() - started
                    peak = peak_rss_mib(worker)
                    triples = sum(1 for _ in ox.parse(data, format=ox.RdfFormat.TURTLE))
                    rows.append(
                        (count, kind, triples, len(data), reply.status, seconds, before, peak)
                    )
                    print(
                        f"{count} agreements, {kind}: {reply.status} in {seconds:.1f} s", flush=True
                    )
    print(
        f"\n{'agreements':>10} {'upload':>9} {'triples':>8} {'MB':>6} {'status':>6} {'seconds':>8} "
        f"{'RSS before':>11} {'peak MiB':>9} {'MiB per 10k triples':>20}"
    )
    for count, kind, triples, size, status, seconds, before, peak in rows:
        per = (peak - before) / max(triples, 1) * 10_000
        print(
            f"{count:>10,} {kind:>9} {triples:>8,} {size / 1e6:>6.1f} {status:>6} {seconds:>8.1f} "
            f"{before:>11.0f} {peak:>9.0f} {per:>20.0f}"
        )


if __name__ == "__main__":
    main()
