"""Claims made by one thread, committed together.

Every SQLite call releases the GIL, and under load a thread that released it waits for another to hand it
back. A claim made by the thread that answers an event came back to the GIL several times (begin, each
insert, commit) while holding the store's write lock, and the claims behind it queued on that lock. Here
the answering threads hand their claims to one writer thread and wait; the writer runs every claim that is
waiting in one transaction, so a busy server pays one begin and one commit for all of them.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

log = logging.getLogger("fixit.store")


class GroupCommit:
    """`run(work)` calls `work(cursor)` on the writer thread, inside a transaction shared with the other
    claims waiting then, and returns its result (or raises its error) once that transaction is committed.

    `transact(works)` runs a list of works in one transaction and returns their results in order; it
    raises when the transaction fails, and then none of them took effect. A claim that fails alone is
    told so; the others of its batch are run again without it. `idle()` is called whenever no claim is
    waiting after a commit (housekeeping that should not delay one)."""

    def __init__(self, transact: Callable[[list[Callable]], list], idle: Callable[[], None] = lambda: None,
                 name: str = "fixit-claims") -> None:
        self._transact = transact
        self._idle = idle
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._name = name
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.commits = 0

    def run(self, work: Callable):
        future: Future = Future()
        self._waiting.put((work, future))
        self._ensure_writer()
        return future.result()

    def _ensure_writer(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._write_forever, name=self._name, daemon=True)
                self._thread.start()

    def _write_forever(self) -> None:
        while True:
            batch = [self._waiting.get()]
            while True:
                try:
                    batch.append(self._waiting.get_nowait())
                except queue.Empty:
                    break
            self._commit(batch)
            if self._waiting.empty():
                self._when_idle()

    def _when_idle(self) -> None:
        try:
            self._idle()
        except Exception as error:  # noqa: BLE001 - housekeeping; the claims themselves were committed
            log.warning("claims writer: %s failed while idle: %s", getattr(self._idle, "__name__", "work"), error)

    def _commit(self, batch: list[tuple[Callable, Future]]) -> None:
        try:
            results = self._transact([work for work, _ in batch])
        except BaseException as error:  # noqa: BLE001 - handed to the callers, who raise it
            if len(batch) == 1:
                batch[0][1].set_exception(error)
                return
            for one in batch:  # find the claim that failed: each on its own
                self._commit([one])
            return
        self.commits += 1
        for (_, future), result in zip(batch, results, strict=True):
            future.set_result(result)
