"""Posting to Slack, one lane per channel: a channel where Slack is slow holds at most PER_CHANNEL threads,
and the answers for every other channel go out past it.

A listener decides its answer (CPU work, under the GIL) in Bolt's executor, then hands the posting here and
returns: a post waiting on Slack (up to its 10 s timeout) holds no listener thread.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

log = logging.getLogger("fixit.slack")
THREADS = 8
PER_CHANNEL = 4


class Lanes:
    def __init__(self, threads: int = THREADS, per_channel: int = PER_CHANNEL) -> None:
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="fixit-post")
        self.per_channel = per_channel
        self._running: dict[str, int] = defaultdict(int)
        self._waiting: dict[str, deque[Callable[[], None]]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)

    def submit(self, channel: str, work: Callable[[], None]) -> None:
        with self._lock:
            if self._running[channel] >= self.per_channel:
                self._waiting[channel].append(work)
                return
            self._running[channel] += 1
        self.pool.submit(self._run, channel, work)

    def _run(self, channel: str, work: Callable[[], None]) -> None:
        while True:
            try:
                work()
            except Exception:  # noqa: BLE001 (a post that fails is logged where it fails; this keeps the lane)
                log.exception("posting in %s failed", channel)
            with self._lock:
                waiting = self._waiting.get(channel)
                if not waiting:
                    self._running[channel] -= 1
                    if not self._running[channel]:
                        del self._running[channel]
                        self._waiting.pop(channel, None)
                        if not self._running:
                            self._idle.notify_all()
                    return
                work = waiting.popleft()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every lane has posted what it holds; False if some still had work after `timeout`."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._running, timeout)
