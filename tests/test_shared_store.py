"""The embedded store shared by the processes of `s22a serve --workers N`
(`s22a.store.shared`), beyond the behaviours every backend has (tests/test_store.py): who may
open it beside whom, a write seen by the others' next read, a write's own reads from the disk,
writes from many threads of two openers, and what a failed write leaves.

Two `SharedOxigraphStore` objects in one process stand for two processes: each takes its own
`flock`s (locks belong to an open file, not to a process), and each has its own copy.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from s22a.store import OxigraphStore, SharedOxigraphStore, StoreInUse, StoreQueryError, changes
from s22a.store.shared import OLD_LOGS

EX = "http://example.org/"


def triple(number: int) -> bytes:
    return f'<{EX}s> <{EX}p> "{number}" .\n'.encode()


@pytest.fixture
def signalled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Writes signalled in a folder of this test's, as `S22A_LOCKS` is for `s22a serve`."""
    monkeypatch.setattr(changes, "_SHARED", dict(changes._SHARED))  # undone after the test
    changes.share(tmp_path / "locks")
    return tmp_path / "store"


def test_one_opener_alone_keeps_out_the_sharing_ones_and_back(tmp_path: Path) -> None:
    path = tmp_path / "store"
    alone = OxigraphStore(path)
    with pytest.raises(StoreInUse, match="is in use by another process"):
        SharedOxigraphStore(path)
    alone.close()
    first, second = SharedOxigraphStore(path), SharedOxigraphStore(path)
    with pytest.raises(StoreInUse, match="is in use by another process"):
        OxigraphStore(path)
    first.close()
    with pytest.raises(StoreInUse):  # while any of them is open
        OxigraphStore(path)
    second.close()
    OxigraphStore(path).close()


def test_a_write_through_one_is_read_through_the_other(signalled: Path) -> None:
    one, other = SharedOxigraphStore(signalled), SharedOxigraphStore(signalled)
    assert other.graphs() == []  # its copy made, empty
    one.replace_graph(f"{EX}g1", triple(1))
    assert other.graphs() == [f"{EX}g1"]
    assert other.ask(f"ASK {{ <{EX}s> <{EX}p> '1' }}")
    one.drop_graph(f"{EX}g1")
    assert other.graphs() == [] and not other.ask(f"ASK {{ <{EX}s> <{EX}p> '1' }}")
    one.close()
    other.close()


def test_a_write_reads_the_disk_where_its_copy_is_behind(tmp_path: Path) -> None:
    # No signal folder: the other opener's write leaves this one's copy as it was, as in the
    # moment between another process's write and its signal.
    path = tmp_path / "store"
    one, other = SharedOxigraphStore(path), SharedOxigraphStore(path)
    assert one.graphs() == []
    other.replace_graph(f"{EX}g1", triple(1))
    assert one.graphs() == [], "reads come from this opener's copy"
    seen: list[tuple[list[str], bool]] = []

    def then(count: int, exclusive: bool) -> tuple[str, None]:
        seen.append((one.graphs(), exclusive))
        return "", None

    one.replace_graph(f"{EX}g2", triple(2), then=then)
    assert seen == [([f"{EX}g1"], True)], "inside the write, the store on disk is read"
    assert one.graphs() == [f"{EX}g1", f"{EX}g2"]  # its own write: the copy made again
    one.close()
    other.close()


def test_writes_from_many_threads_of_two_openers_all_land(signalled: Path) -> None:
    openers = [SharedOxigraphStore(signalled), SharedOxigraphStore(signalled)]
    errors: list[BaseException] = []

    def write(index: int) -> None:
        store = openers[index % 2]
        try:
            for number in range(5):
                store.replace_graph(f"{EX}g{index}-{number}", triple(number))
                assert f"{EX}g{index}-{number}" in store.graphs()  # its own write, read back
        except BaseException as error:  # reported below, with the thread's others
            errors.append(error)

    threads = [threading.Thread(target=write, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    expected = sorted(f"{EX}g{index}-{number}" for index in range(8) for number in range(5))
    for store in openers:
        assert store.graphs() == expected
        store.close()
    with OxigraphStore(signalled) as alone:
        assert alone.graphs() == expected


def test_a_failed_write_leaves_the_store_writable_at_once(signalled: Path) -> None:
    store = SharedOxigraphStore(signalled)
    # The error is kept, and with it its traceback: it must not keep the database open.
    with pytest.raises(StoreQueryError) as failed:
        store.update("INSERT DATA { GRAPH <http://example.org/g> { <a> <b> ")
    assert failed.value is not None
    store.replace_graph(f"{EX}g1", triple(1))
    assert store.graphs() == [f"{EX}g1"]
    store.close()


def test_each_write_leaves_few_old_rocksdb_logs(signalled: Path) -> None:
    store = SharedOxigraphStore(signalled)
    for number in range(OLD_LOGS + 6):
        store.replace_graph(f"{EX}g", triple(number))
    logs = [name for name in (p.name for p in signalled.iterdir()) if name.startswith("LOG.old.")]
    assert len(logs) == OLD_LOGS
    store.close()


def test_a_closed_store_refuses_reads_and_writes(signalled: Path) -> None:
    store = SharedOxigraphStore(signalled)
    store.close()
    with pytest.raises(Exception, match="closed"):
        store.graphs()
    with pytest.raises(Exception, match="closed"):
        store.drop_graph(f"{EX}g")
