"""A few threads at a time, the others let in in the order they came."""

from __future__ import annotations

import threading
from collections import deque


class InTurn:
    """At most `at_once` threads inside at a time (`with`), the others let in in the order they came: a place
    that comes free passes straight to the thread that waited longest. (`threading.Semaphore` lets a thread
    that just arrived take it first, and under load one waiting thread could be passed over for a second.)"""

    def __init__(self, at_once: int) -> None:
        self._free = at_once
        self._lock = threading.Lock()
        self._waiting: deque[threading.Lock] = deque()

    def __enter__(self) -> None:
        with self._lock:
            if self._free and not self._waiting:
                self._free -= 1
                return
            turn = threading.Lock()
            turn.acquire()
            self._waiting.append(turn)
        turn.acquire()  # released by the thread that hands over its place

    def __exit__(self, *_exc) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().release()
            else:
                self._free += 1
