"""What the servers the tests start have in common: how a subprocess is stopped, and `with`.

terminate(process, 15, group=True)   # SIGTERM, then SIGKILL for what is left after 15 s

class Thing(Service):                # `with Thing() as thing:` starts it and stops it
    def start(self) -> Thing: ...
    def stop(self) -> None: ...
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Self

__all__ = ["Service", "terminate"]


def terminate(process: subprocess.Popen[bytes], timeout: float, *, group: bool = False) -> None:
    """Stop `process`: SIGTERM, and SIGKILL if it has not exited within `timeout` seconds.

    With `group` (the process leads a process group of its own: a server's master and its
    workers), whatever of the group is still running afterwards is SIGKILLed too, so no
    worker outlives the test. Returns once the process has been reaped.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=timeout)
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    elif process.poll() is None:
        process.kill()
    process.wait()


class Service:
    """A server a test starts and stops; ``with`` starts it (returning it) and stops it."""

    def start(self) -> Self:
        """Start the server and wait until it answers; returns self."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the server and remove what it left behind."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
