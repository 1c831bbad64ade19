"""The soak of `bench/soak.py` in its short form: the production server (`s22a serve`,
on-disk store) under a mix of page reads, Turtle documents, SPARQL queries, register uploads
from five forces and one runaway query, all at once, over loopback.

The long form, with its figures, is `python -m bench.soak` (see bench/README.md). Run this
with ``-s`` to see the short form's figures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import soak as soak_module

# How much the worker's resident memory may grow from the first quarter of the short soak to
# the last: what caches may fill (the SPARQL result cache alone may hold 64 MiB) plus a little
# per version stored, since every version is kept and the store's native caches grow with the
# data (0.7 MiB per version over `bench/soak.py --seconds 150`; see bench/README.md). Before
# each write was flushed to disk, RocksDB held every write in memory: about 7 MiB per version.
CACHES_MIB = 64
PER_VERSION_MIB = 2


@pytest.mark.slow
def test_a_short_soak_answers_everything_and_keeps_every_version(tmp_path: Path) -> None:
    soak = soak_module.run(
        requests=600, seconds=25, clients=6, query_timeout=3, folder=tmp_path,
        command="tests/test_soak.py: bench/soak.py --requests 600 --seconds 25 --query-timeout 3",
    )  # fmt: skip
    print("\n" + soak.report())

    # Every kind of request was made, and each answered as it should.
    kinds = {kind for kind, _ in soak.answers}
    assert kinds == {"page-html", "page-turtle", "sparql", "upload", "description", "runaway"}
    assert not soak.unexpected, soak.unexpected
    assert soak.uploads >= 3, soak.answers  # versions really were written meanwhile
    assert soak.runaway.startswith("503 "), soak.runaway
    assert "did not finish within the time limit (3 s)" in soak.runaway

    # No accepted version was lost, and the server neither failed nor leaked a token.
    assert not soak.lost, soak.lost
    assert "Traceback" not in soak.logs
    assert "PUT /registers/" in soak.logs  # the request log was read
    for secret in soak.secrets:
        assert secret not in soak.logs

    # Memory is sampled through the run, and grows no more than the caches and the versions
    # stored account for. The sampler takes one every half second for as long as the run
    # lasts, which is however long this machine took for the requests (at least the runaway
    # query's wait and its time limit): at least half of those samples, whatever its speed.
    # (Regression: a count of 20 failed once the server got faster: 19 in a 10.2 s run.)
    assert len(soak.samples) >= soak.seconds, (soak.seconds, soak.samples)
    assert soak.growth() < CACHES_MIB + PER_VERSION_MIB * soak.uploads, soak.report()
