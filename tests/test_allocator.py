"""The server's memory (bot/slack/allocator.py): threads that contend for malloc share at most MALLOC_ARENAS
arenas, and an operator's MALLOC_ARENA_MAX stands; every RELEASE_EVERY requests, what the free lists and
malloc's heap hold unused is handed back."""

from __future__ import annotations

import ctypes
import gc
import os
import subprocess
import sys

import pytest

from bot.slack.allocator import ENVIRONMENT, MALLOC_ARENAS, MemoryRelease, cap_malloc_arenas, glibc


def is_glibc() -> bool:
    try:
        return sys.platform.startswith("linux") and hasattr(ctypes.CDLL(None), "gnu_get_libc_version")
    except OSError:
        return False


glibc_only = pytest.mark.skipif(not is_glibc(), reason="the cap is glibc's")

# Eight threads malloc and free at once (ctypes calls run without the GIL, so they really contend), then
# glibc's malloc_stats() lists the arenas on stderr, one "Arena N:" per arena.
CONTEND = """
import ctypes, sys, threading
from bot.slack.allocator import cap_malloc_arenas
if sys.argv[1] == "cap":
    print(cap_malloc_arenas())
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
start = threading.Barrier(8)
def churn():
    start.wait()
    for _ in range(20000):
        libc.free(libc.malloc(256))
threads = [threading.Thread(target=churn) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc.malloc_stats()
"""


def python(script: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`script` run by a new interpreter in the repository's folder, which must succeed."""
    done = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr
    return done


def arenas_used(*args: str, env: dict[str, str]) -> tuple[int, str]:
    done = python(CONTEND, *args, env=env)
    return done.stderr.count("Arena "), done.stdout.strip()


@glibc_only
def test_threads_contending_for_malloc_share_at_most_the_capped_arenas():
    env = {k: v for k, v in os.environ.items() if k != ENVIRONMENT}
    capped, said = arenas_used("cap", env=env)
    uncapped, _ = arenas_used("none", env=env)
    assert said == "True"
    assert 1 <= capped <= MALLOC_ARENAS
    assert uncapped > MALLOC_ARENAS  # the test can tell: without the cap the same threads take more


@glibc_only
def test_the_cap_is_passed_on_to_the_processes_it_starts(monkeypatch):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert cap_malloc_arenas() is True
    assert os.environ[ENVIRONMENT] == str(MALLOC_ARENAS)
    done = python(f"import os; print(os.environ['{ENVIRONMENT}'])")
    assert done.stdout.strip() == str(MALLOC_ARENAS)


def test_an_operators_setting_stands(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, "4")
    assert cap_malloc_arenas() is False
    assert os.environ[ENVIRONMENT] == "4"


def numbers_printed(script: str) -> list[int]:
    return [int(n) for n in python(script).stdout.split()]


def test_glibc_is_found_where_the_c_library_is_glibc():
    assert (glibc() is not None) == is_glibc()   # is_glibc, the tests' own check, decides what they skip


# 50 000 tuples of five freed at once: CPython keeps 2 000 of them on its free list for tuples of that size
# and frees the rest. How many blocks Python still holds after a young-generation collection, then after
# the release.
FREE_LISTS = """
import gc, sys
from bot.slack.allocator import release_memory
gc.collect()
made = [(i, i, i, i, i) for i in range(50000)]
del made
before = sys.getallocatedblocks()
gc.collect(1)
young = sys.getallocatedblocks()
release_memory()
print(before - young, before - sys.getallocatedblocks())
"""


def test_a_release_empties_cpythons_free_lists():
    by_young_collection, by_release = numbers_printed(FREE_LISTS)
    assert by_young_collection < 200   # the test can tell: a collection of the young generations keeps them
    assert by_release >= 1_900


# 60 MiB of 2 KiB blocks on malloc's heap, written to, then freed, with one block allocated after them so
# that the heap cannot shrink from its top: the pages stay resident until malloc is asked to trim.
HEAP = """
import ctypes
from bot.slack.allocator import release_memory
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
def rss():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS:"))
start = rss()
blocks = [libc.malloc(2048) for _ in range(30000)]
for b in blocks:
    ctypes.memset(b, 1, 2048)
pin = libc.malloc(2048)
for b in blocks:
    libc.free(b)
freed = rss()
print(freed - start, int(release_memory()), freed - rss())
"""


@glibc_only
def test_a_release_hands_the_heaps_free_pages_back():
    kept_after_free, trimmed, handed_back = numbers_printed(HEAP)
    assert kept_after_free > 50 * 1024   # KiB: freeing alone left the pages resident
    assert trimmed == 1
    assert handed_back > 50 * 1024


def test_every_nth_request_counted_releases_memory():
    def full_collections() -> int:
        return gc.get_stats()[2]["collections"]

    release = MemoryRelease(every=3)
    before = full_collections()
    release.counted()
    release.counted()
    assert full_collections() == before
    release.counted()
    assert full_collections() == before + 1
    for _ in range(6):
        release.counted()
    assert full_collections() == before + 3
