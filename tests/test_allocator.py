"""The server's cap on glibc's malloc arenas (bot/slack/allocator.py): threads that contend for malloc share
at most MALLOC_ARENAS arenas, and an operator's MALLOC_ARENA_MAX stands."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys

import pytest

from bot.slack.allocator import ENVIRONMENT, MALLOC_ARENAS, cap_malloc_arenas


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


def arenas_used(*args: str, env: dict[str, str]) -> tuple[int, str]:
    done = subprocess.run([sys.executable, "-c", CONTEND, *args], capture_output=True, text=True, env=env,
                          timeout=60, cwd=os.path.dirname(os.path.dirname(__file__)))
    assert done.returncode == 0, done.stderr
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
    done = subprocess.run([sys.executable, "-c", f"import os; print(os.environ['{ENVIRONMENT}'])"],
                          capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == str(MALLOC_ARENAS)


def test_an_operators_setting_stands(monkeypatch):
    monkeypatch.setenv(ENVIRONMENT, "4")
    assert cap_malloc_arenas() is False
    assert os.environ[ENVIRONMENT] == "4"
