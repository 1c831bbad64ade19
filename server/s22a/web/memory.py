"""Keeping a long-running threaded server's memory from creeping up.

glibc's malloc gives each thread that allocates concurrently an arena of its own, up to eight
per core, and memory freed into one arena is not reused by the others. In a gunicorn worker
with eight threads, parsing and validating uploads on some threads and reading pages on
others, that shows as resident memory creeping up with no Python object to account for it:
`bench/soak.py --seconds 150` measured the worker at 439 MiB at the end with glibc's default
and 282 MiB with two arenas, at the same throughput (bench/README.md). Two arenas cost nothing
measurable here: the threads hold the GIL for most of their work anyway.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

_log = logging.getLogger(__name__)

M_ARENA_MAX = -8  # from glibc's <malloc.h>


def limit_malloc_arenas(arenas: int) -> bool:
    """Cap the number of glibc malloc arenas of this process (0 leaves glibc's default).

    Affects arenas created from now on, so it is called before the server's threads start.
    Returns whether the limit was set (False where the C library is not glibc).
    """
    if arenas <= 0:
        return False
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        mallopt = None
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    if mallopt(M_ARENA_MAX, arenas) != 1:
        _log.warning("could not limit malloc arenas to %d", arenas)
        return False
    return True
