"""SQLite's WAL copied into the database by a thread of its own, while claims go on being committed.

SQLite checkpoints (copies the WAL into the database) inside the commit that takes the WAL past 1 000 pages;
the claims that come meanwhile wait for the whole copy. A passive checkpoint on another connection does
the same copy without blocking the writer, so this thread does it whenever enough commits have piled up.
SQLite's own checkpoint stays: it then finds little left to copy, and it is what restarts the WAL.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("fixit.store")


class Checkpointer:
    """`committed()` after each commit of claims; `start()` when no claim is waiting: once `every` commits
    have been made since the last checkpoint, it wakes the thread, which checkpoints on its own connection
    (`connect()`)."""

    def __init__(self, connect: Callable, every: int, name: str = "fixit-checkpoint") -> None:
        self._connect = connect
        self.every = every
        self._commits = 0
        self._wake = threading.Event()
        self._name = name
        self._thread: threading.Thread | None = None
        self.checkpoints = 0

    def committed(self) -> None:
        self._commits += 1

    def start(self) -> None:
        """Checkpoint on the thread (at once if it is idle; after its current checkpoint if not)."""
        if self._commits < self.every:
            return
        self._commits = 0
        self._wake.set()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._checkpoint_forever, name=self._name, daemon=True)
            self._thread.start()

    def _checkpoint_forever(self) -> None:
        connection = None
        while True:
            self._wake.wait()
            self._wake.clear()
            try:
                if connection is None:
                    connection = self._connect()
                cursor = connection.cursor()
                cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                cursor.close()
                self.checkpoints += 1
            except Exception as error:  # noqa: BLE001 - SQLite's own checkpoint still bounds the WAL
                log.warning("WAL checkpoint failed (the next one will retry): %s", error)
                connection = None
