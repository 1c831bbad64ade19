"""When a store last changed, as this process can tell without asking the store.

Pages, documents and `/sparql` are cached per dataset version (a token read from the meta
graph by a query). Asking the store for that token on every request would cost a query even
for a 304, so each `Store` keeps a `Changes` clock and a value derived from the store (the
token) is read again only when the clock's stamp has moved:

* every write through a `Store` in this process moves it, after the write (`Store` wraps its
  subclasses' write methods), so this process never serves an old token after its own write;
* with a remote store, the processes that share a folder of write locks (`S22A_LOCKS`, see
  `share`) also share a signal file in it: each write replaces its content with a fresh nonce
  and every process reads the file's few bytes per request (microseconds, no query), so a
  write through any of them is seen by all the others at once;
* a remote store can also be written by something that does not signal (another machine, a
  SPARQL client writing to the store itself), so a derived value of a remote store is trusted
  for at most `ttl` seconds (`S22A_TOKEN_TTL`) and then read again: that bounds staleness.

An embedded store opened by one process (RocksDB's lock) needs neither. One that several
`s22a serve` processes share (`s22a.store.shared`) is written only through them, each write
signalled: it reads the signal but trusts its values without a time limit.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

SIGNAL_NAME = "dataset-changed"

# Process-wide, as the write locks are (`s22a.ingest.gate.share_locks`): the folder of the
# signal file and the trust period of remote stores' derived values.
_SHARED: dict[str, Any] = {"folder": None, "signal": None, "ttl": 2.0}


def share(folder: str | Path | None, ttl: float | None = None) -> None:
    """Signal and watch writes to remote stores in `folder` (None: this process only); trust
    a remote store's derived values for `ttl` seconds at most (None: keep the current)."""
    _SHARED["folder"] = Path(folder) if folder else None
    _SHARED["signal"] = os.path.join(folder, SIGNAL_NAME) if folder else None
    if ttl is not None:
        _SHARED["ttl"] = float(ttl)


_EXCLUSIVE = threading.Lock()


@contextmanager
def exclusive(name: str) -> Iterator[None]:
    """Hold the process-wide lock `name`: a thread lock here, and an exclusive `flock` on the
    file `name` in the shared folder (`share`) if there is one, for every process on the
    store. Used by updates that are not one register's and that snapshot-isolated servers
    would let run side by side (the merged graph's)."""
    with _EXCLUSIVE:
        folder = _SHARED["folder"]
        if folder is None:
            yield
            return
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / name, "ab") as file:  # closing the file releases the flock
            fcntl.flock(file, fcntl.LOCK_EX)
            yield


class Changes:
    """A store's change clock and the values derived from the store at its current stamp."""

    def __init__(self, remote: bool, shared: bool | None = None) -> None:
        """A clock for a remote store (signal file, trust period) or an embedded one; `shared`
        (default: `remote`): other processes write it too and signal their writes."""
        self.remote = remote
        self.shared = remote if shared is None else shared
        self.generation = 0  # writes through this process's store
        self._values: dict[str, tuple[tuple[int, bytes], float, Any]] = {}
        self._lock = threading.Lock()

    def _signal(self) -> str | None:
        return _SHARED["signal"] if self.shared else None

    def changed(self) -> None:
        """Record that the store has just been written (call after the write)."""
        with self._lock:
            self.generation += 1
        if (name := self._signal()) is None:
            return
        signal = Path(name)
        try:
            signal.parent.mkdir(parents=True, exist_ok=True)
            # A fresh file renamed over the old one: readers see the old nonce or the new.
            staging = signal.with_name(f".{SIGNAL_NAME}-{uuid.uuid4().hex}")
            staging.write_bytes(uuid.uuid4().hex.encode())
            os.replace(staging, signal)
        except OSError:
            pass  # other processes then see the write within the trust period (`ttl`)

    def stamp(self) -> tuple[int, bytes]:
        """What identifies the store's state as far as this process can tell cheaply."""
        signal = self._signal()
        shared = b""
        if signal is not None:  # once or twice a request: os calls, a third of pathlib's cost
            try:
                file = os.open(signal, os.O_RDONLY)
            except OSError:
                return self.generation, b"-"  # no write signalled yet
            try:
                shared = os.read(file, 64)  # a nonce: 32 bytes
            except OSError:
                shared = b"-"
            finally:
                os.close(file)
        return self.generation, shared

    def _fresh(self, name: str, stamp: tuple[int, bytes], now: float) -> tuple[bool, Any]:
        """Whether the value kept for `name` still stands at `stamp` and `now`, and the value."""
        known = self._values.get(name)
        if known is None or known[0] != stamp:
            return False, None
        return not self.remote or now - known[1] < _SHARED["ttl"], known[2]

    def derived(self, name: str, read: Callable[[], T]) -> T:
        """`read()`'s value, read again only when the store may have changed since."""
        stamp = self.stamp()  # taken before the read: a write during it moves the stamp
        now = time.monotonic()
        fresh, value = self._fresh(name, stamp, now)
        if fresh:
            return value
        value = read()
        self._values[name] = (stamp, now, value)
        return value

    def known(self, name: str) -> Any:
        """`derived(name, ...)`'s value if it stands without reading the store, else None."""
        fresh, value = self._fresh(name, self.stamp(), time.monotonic())
        return value if fresh else None

    def holds(self, name: str, value: object) -> bool:
        """Whether `derived(name, ...)` would still give `value` without reading the store."""
        fresh, known = self._fresh(name, self.stamp(), time.monotonic())
        return fresh and known == value
