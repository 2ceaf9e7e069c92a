"""Hot reload: the knowledge base is reloaded when its files change (or on demand, e.g. SIGHUP).

A reload that reports problems is refused: the problems are logged with file:line and the previous
knowledge base keeps serving.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from bot.kb import last_good
from bot.kb.loader import load_knowledge_base

log = logging.getLogger("fixit.kb")


def snapshot(directory: Path) -> dict[str, int]:
    """Each KB file's modification time, by path: the same files as `entry_files`, found with os.walk,
    which costs much less than pathlib's rglob (this runs every few seconds in a busy server)."""
    seen = {}
    for folder, _, names in os.walk(directory):
        for name in names:
            if name.endswith((".yaml", ".yml")):
                path = os.path.join(folder, name)
                try:
                    seen[path] = os.stat(path).st_mtime_ns
                except OSError:  # removed meanwhile, or a broken link: not an entry file either way
                    pass
    return seen


class Reloader:
    """Holds the current `build(kb)` result and swaps it when the KB folder changes."""

    def __init__(self, directory: Path, build: Callable, interval: float = 2.0, keep: Path | None = None,
                 tool_name: str | None = None) -> None:
        """`keep`: where the last good knowledge base is copied (bot/kb/last_good.py); None: nowhere.
        `tool_name`: the expense tool's name in the prose (FIXIT_TOOL_NAME); None: the KB's own."""
        self.directory = Path(directory)
        self.build = build
        self.interval = interval
        self.keep = keep
        self.tool_name = tool_name
        self._lock = threading.Lock()
        self._seen = snapshot(self.directory)
        kb = load_knowledge_base(self.directory, tool_name)
        for problem in kb.problems:
            log.warning("knowledge base: %s", problem)
        if kb.problems:
            kb = last_good.with_last_good(kb, keep, tool_name)
        elif kb.entries and keep is not None:
            last_good.save(kb, keep)
        self.current = build(kb)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def reload(self) -> bool:
        """Load the KB again; True if the new one now serves."""
        with self._lock:
            self._seen = snapshot(self.directory)
            kb = load_knowledge_base(self.directory, self.tool_name)
            if kb.problems or not kb.entries:
                for problem in kb.problems or [f"{self.directory}: no entries"]:
                    log.error("knowledge base reload refused, previous one keeps serving: %s", problem)
                return False
            self.current = self.build(kb)
            log.info("knowledge base reloaded: %d entries", len(kb))
            if self.keep is not None:
                last_good.save(kb, self.keep)
            return True

    def check(self) -> bool:
        """Reload if any file was added, removed or changed since the last look."""
        if snapshot(self.directory) != self._seen:
            return self.reload()
        return False

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.interval):
                try:
                    self.check()
                except Exception:  # a watcher must never die
                    log.exception("knowledge base watch failed")
        self._thread = threading.Thread(target=loop, name="kb-watch", daemon=True)
        self._thread.start()

    @property
    def watching(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
