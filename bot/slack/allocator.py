"""glibc's allocator in a threaded server: at most MALLOC_ARENAS malloc arenas.

glibc gives threads their own arenas (up to 8 per core) as they contend for malloc, and each arena keeps the
freed memory of its threads. In a server whose listener, posting and store threads take turns under the GIL,
that fragmentation showed as memory that kept growing long after the caches were full (docs/benchmarks.md).
Python's GIL already serialises most allocations, so fewer arenas cost no speed here.
"""

from __future__ import annotations

import ctypes
import os
import sys

MALLOC_ARENAS = 2
ENVIRONMENT = "MALLOC_ARENA_MAX"   # glibc's own setting: an operator's value stands
_M_ARENA_MAX = -8                  # mallopt's parameter number for it (malloc.h)


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Ask glibc for at most `arenas` arenas, in this process (before it starts its threads) and in the
    processes it starts (uvicorn's workers read it from the environment when they start). False, and
    nothing changed, where MALLOC_ARENA_MAX is set already or the C library is not glibc."""
    if os.environ.get(ENVIRONMENT) or not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (glibc's alone: musl's mallopt does nothing)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    if not mallopt(_M_ARENA_MAX, arenas):
        return False
    os.environ[ENVIRONMENT] = str(arenas)
    return True
