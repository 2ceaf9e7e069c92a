"""The server's memory in a long run: at most MALLOC_ARENAS glibc malloc arenas, and what is no longer used
handed back every RELEASE_EVERY requests.

glibc gives threads their own arenas (up to 8 per core) as they contend for malloc, and each arena keeps the
freed memory of its threads. In a server whose listener, posting and store threads take turns under the GIL,
that fragmentation showed as memory that kept growing long after the caches were full (docs/benchmarks.md).
Python's GIL already serialises most allocations, so fewer arenas cost no speed here.

CPython keeps freed tuples, lists, dicts and floats on free lists for reuse, and empties them only in a full
collection of the cyclic garbage collector. The server freezes its long-lived objects (the knowledge base)
out of the collector, so a full collection otherwise comes seldom while the lists fill as bursts of requests
free their objects; the blocks the lists hold keep Python's pools and malloc's heap from serving anything
else. `MemoryRelease` runs a full collection now and then, and asks glibc to return the free pages that
leaves (`malloc_trim`).
"""

from __future__ import annotations

import ctypes
import functools
import gc
import itertools
import os
import sys

MALLOC_ARENAS = 2
ENVIRONMENT = "MALLOC_ARENA_MAX"   # glibc's own setting: an operator's value stands
_M_ARENA_MAX = -8                  # mallopt's parameter number for it (malloc.h)
RELEASE_EVERY = 2_000              # requests between releases; counted, not timed, so a release costs each
                                   # request the same share however fast the requests come


@functools.cache
def glibc() -> ctypes.CDLL | None:
    """The C library, where it is glibc (whose malloc the settings here are for); None elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 (glibc's alone: musl's mallopt and malloc_trim do nothing)
        return libc
    except (OSError, AttributeError):
        return None


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Ask glibc for at most `arenas` arenas, in this process (before it starts its threads) and in the
    processes it starts (uvicorn's workers read it from the environment when they start). False, and
    nothing changed, where MALLOC_ARENA_MAX is set already or the C library is not glibc."""
    libc = None if os.environ.get(ENVIRONMENT) else glibc()
    if libc is None or not libc.mallopt(_M_ARENA_MAX, arenas):
        return False
    os.environ[ENVIRONMENT] = str(arenas)
    return True


def release_memory() -> bool:
    """A full collection (which empties CPython's free lists), then glibc's malloc_trim. Whether glibc was
    asked to hand pages back (False where the C library is not glibc: the collection still ran)."""
    gc.collect()
    libc = glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


class MemoryRelease:
    """Counts the requests a served app dispatches; every `every`-th one releases memory (`release_memory`)
    before it is dispatched, on the thread that dispatches it. A full collection takes a few milliseconds
    with the knowledge base frozen, and holds the GIL wherever it runs."""

    def __init__(self, every: int = RELEASE_EVERY) -> None:
        self.every = every
        self._requests = itertools.count(1)   # next() on it is atomic under the GIL: no lock on every request

    def counted(self) -> None:
        if next(self._requests) % self.every == 0:
            release_memory()
