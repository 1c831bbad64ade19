"""Who has an embedded store on disk open: two lock files in its folder.

RocksDB's own lock lets one process at a time open a store for writing, and it holds that lock
for as long as the store is open. The processes of one `s22a serve --workers N` share a store
(`s22a.store.shared`): none keeps it open, each opens it for one write at a time. So `flock`s
in the store's folder say who may open it:

* `SERVING`, for as long as a store is open: held exclusively by an `OxigraphStore` (`s22a
  load`, a one-worker `s22a serve`), and shared by each process of a shared store. Whoever
  comes second is told that the store is in use, whichever kind of opener each is.
* `WRITING`, held exclusively by a shared store's process while it writes, and shared while
  one copies the store into its memory: a copy never has half of a write.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from s22a.store.base import StoreInUse

SERVING = "s22a-serving.lock"
WRITING = "s22a-writing.lock"


def hold(folder: str, name: str, *, exclusive: bool) -> BinaryIO:
    """Take the lock `name` in `folder` without waiting; return its open file, whose closing
    lets go of it. `StoreInUse` if another holder keeps it from being taken."""
    file = open(os.path.join(folder, name), "ab")  # the caller closes it
    try:
        fcntl.flock(file, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        file.close()
        raise StoreInUse(f"the store at {folder} is in use by another process") from None
    return file


@contextmanager
def holding(folder: str, name: str, *, exclusive: bool) -> Iterator[None]:
    """Hold the lock `name` in `folder` while the block runs, waiting for it first."""
    with open(os.path.join(folder, name), "ab") as file:  # closing the file lets go of it
        fcntl.flock(file, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
