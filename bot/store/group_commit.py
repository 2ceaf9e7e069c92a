"""Claims committed together: whoever makes a claim while none is being made commits every claim waiting.

Every SQLite call releases the GIL, and under load a thread that released it waits for another to hand it
back. A claim came back to the GIL several times (begin, each insert, commit) while holding the store's
write lock, and the claims behind it queued on that lock, each then paying the same. Here a claim is queued
first; the thread that gets to commit (the leader) commits every claim queued by then in one transaction,
so the threads that queued behind it find theirs made when their turn comes. With nobody waiting, a claim
costs what it did: no other thread takes part.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("fixit.store")


class _Claim:
    """A claim's work and, once its transaction is over, its outcome. Read only by its thread, and only after
    it has had the leader's turn, so it needs no lock of its own."""

    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work: Callable) -> None:
        self.work = work
        self.done = False
        self.result = None
        self.error: BaseException | None = None


class GroupCommit:
    """`run(work)` calls `work(cursor)` inside a transaction shared with the other claims waiting then, and
    returns its result (or raises its error) once that transaction is committed.

    `transact(works)` runs a list of works in one transaction and returns their results in order; it
    raises when the transaction fails, and then none of them took effect. A claim that fails alone is
    told so; the others of its batch are run again without it. `idle()` is called whenever no claim is
    waiting after a commit (housekeeping that should not delay one)."""

    def __init__(self, transact: Callable[[list[Callable]], list], idle: Callable[[], None] = lambda: None) -> None:
        self._transact = transact
        self._idle = idle
        self._waiting: queue.SimpleQueue = queue.SimpleQueue()
        self._leading = threading.Lock()
        self.commits = 0

    def run(self, work: Callable):
        claim = _Claim(work)
        self._waiting.put(claim)
        with self._leading:
            # a leader before this one either made this claim (its outcome was set before that leader let go)
            # or never saw it, and then it is still waiting here
            if not claim.done:
                self._commit(self._take_waiting())
                if self._waiting.empty():
                    self._when_idle()
        if claim.error is not None:
            raise claim.error
        return claim.result

    def _take_waiting(self) -> list[_Claim]:
        batch = []
        while True:
            try:
                batch.append(self._waiting.get_nowait())
            except queue.Empty:
                return batch

    def _when_idle(self) -> None:
        try:
            self._idle()
        except Exception as error:  # noqa: BLE001 - housekeeping; the claims themselves were committed
            log.warning("claims: %s failed while idle: %s", getattr(self._idle, "__name__", "work"), error)

    def _commit(self, batch: list[_Claim]) -> None:
        try:
            results = self._transact([claim.work for claim in batch])
        except BaseException as error:  # noqa: BLE001 - handed to the claim's thread, which raises it
            if len(batch) == 1:
                batch[0].error, batch[0].done = error, True
                return
            for one in batch:  # find the claim that failed: each on its own
                self._commit([one])
            return
        self.commits += 1
        for claim, result in zip(batch, results, strict=True):
            claim.result, claim.done = result, True
