"""The store, answering on when its database does not: a database that is down, full, read-only or deleted
must not silence the bot.

The last MAX_REMEMBERED claims are also remembered in this process (event ids for WINDOW_SECONDS), so while the
database fails a Slack retry is still answered once: Slack retries an event after a minute and after five; and
so are the last MAX_REMEMBERED one-time notices (a thread escalated, an admin told of bad credentials).
Bounded by count as well as time, so that what the process holds does not grow with its traffic. Writes that
fail (feedback, unmatched pastes, claims made meanwhile) wait in memory and go in when the database answers
again, followed by what this process remembers; it is tried again every RETRY_SECONDS. Each degraded call is
logged with its event id and channel, never a body. A SQLite file deleted or replaced under the running
process is noticed (its writes would go to a file nobody can open again) and a new one is started, with what
this process remembers written into it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DataError, IntegrityError, SQLAlchemyError

from bot.store import Store

log = logging.getLogger("fixit.store")
RETRY_SECONDS = 5.0
WINDOW_SECONDS = 900.0
MAX_REMEMBERED = 5_000
MAX_PENDING = 10_000
KEPT_TRIES = 3          # recoveries a kept write may fail (the database taking writes) before it is left out
REFUSED_SOUGHT = 50     # refused rows a recovery finds before it takes the rest of the batches for refused too
MODES_SECONDS = 5.0   # a mode an admin sets reaches other instances within this
STORE_ERRORS: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, sqlite3.Error)
# The database answered and refused the row (a value too long for its column, a missing value): not an outage.
# Kept or retried, such a write would fail on every try and hold the store down with it.
REFUSALS: tuple[type[BaseException], ...] = (DataError, IntegrityError, sqlite3.DataError, sqlite3.IntegrityError)


def first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 (Store reports a bad URL itself)
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    database = parsed.database.removeprefix("file:").split("?", 1)[0]
    return Path(database)


def where(event_id: str, channel: str) -> str:
    return (f" for event {event_id}" if event_id else "") + (f" in {channel}" if channel else "")


def remember(memory: OrderedDict, key: str, value) -> None:
    """`key` put last in `memory`, the oldest forgotten beyond MAX_REMEMBERED."""
    memory[key] = value
    memory.move_to_end(key)
    while len(memory) > MAX_REMEMBERED:
        memory.popitem(last=False)


def thread_key(channel: str, thread_ts: str) -> str:
    """One string for a thread (channel ids hold no space): a remembered claim costs one object, not three."""
    return f"{channel} {thread_ts}"


class ResilientStore:
    def __init__(self, url: str = "sqlite:///fixit.db", retention_days: int = 30,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url, self.retention_days, self.clock = url, retention_days, clock
        self.file = sqlite_file(url)
        self._store: Store | None = None
        self._errors, self._refusals = STORE_ERRORS, REFUSALS
        self._file_id: tuple[int, int] | None = None
        self._next_look = 0.0
        self._down_since: float | None = None
        self._lock = threading.RLock()
        self._seen: OrderedDict[str, float] = OrderedDict()          # event ids, and when
        self._claims: OrderedDict[str, tuple[str, ...]] = OrderedDict()   # thread_key → (team, entry, entry, …)
        self._notices: OrderedDict[str, None] = OrderedDict()       # one-time notices given, the latest last
        self._modes: dict[str, dict[str, str]] = {}      # team → channel → mode, as last read
        self._modes_read: dict[str, float] = {}
        self._pending: deque[tuple[str, Callable[[Store], object]]] = deque(maxlen=MAX_PENDING)
        self._kept_failures: tuple[object, int] = (None, 0)   # a kept write, and the recoveries it failed
        self._open("start")

    # -- the database, while it answers --

    @property
    def degraded(self) -> bool:
        return self._store is None or self._down_since is not None

    @property
    def engine(self):
        return self._store.engine if self._store is not None else None

    def _open(self, when: str) -> bool:
        try:
            store = Store(self.url, self.retention_days)
        except ArgumentError:
            raise  # a URL that can never work is a setting to fix, not a database that is down
        except STORE_ERRORS as exc:
            if when == "start":
                self._down_since, self._next_look = self.clock(), self.clock() + RETRY_SECONDS
                log.error("FIXIT_DATABASE_URL: %s (%s): answering meanwhile, with what would be stored kept in "
                          "memory; trying again every %g s", self._unreachable(), first_line(exc), RETRY_SECONDS)
            else:
                self._fail(exc, f"opening the store at {when}")
            return False
        self._store = store
        dbapi = store.engine.dialect.loaded_dbapi
        self._errors = STORE_ERRORS + (dbapi.Error,)
        self._refusals = REFUSALS + (dbapi.DataError, dbapi.IntegrityError)
        self._file_id = self._identify()
        return True

    def _unreachable(self) -> str:
        folder = self.file.expanduser().resolve().parent if self.file is not None else None
        if folder is not None and not folder.is_dir():
            return f"the folder of the SQLite file, {folder}, does not exist: create it"
        if self.file is not None:
            return f"the SQLite file {self.file} cannot be opened"
        return f"the database at {make_url(self.url).render_as_string(hide_password=True)} is not reachable"

    def _identify(self) -> tuple[int, int] | None:
        if self.file is None:
            return None
        try:
            st = os.stat(self.file)
            return st.st_dev, st.st_ino
        except OSError:
            return None

    def _fail(self, exc: BaseException, what: str, event_id: str = "", channel: str = "") -> None:
        first = self._down_since is None
        if first:
            self._down_since = self.clock()
            self._next_look = self.clock() + RETRY_SECONDS
        log.log(logging.ERROR if first else logging.WARNING, "store unavailable (%s): %s%s done in memory%s",
                first_line(exc), what, where(event_id, channel),
                f"; trying again every {RETRY_SECONDS:g} s" if first else "")

    def _available(self) -> Store | None:
        """The store when its database answers (trying again when due), else None."""
        now = self.clock()
        if now < self._next_look:
            return None if self._down_since is not None else self._store
        with self._lock:
            if now < self._next_look:
                return None if self._down_since is not None else self._store
            self._next_look = now + RETRY_SECONDS
            if self._store is not None and self.file is not None and self._file_id != self._identify():
                log.error("the SQLite file %s was deleted or replaced while Fixit ran: what it held (events seen, "
                          "answers, feedback) is gone; starting a new one with what this process remembers",
                          self.file)
                self._store.engine.dispose()
                self._store = None
                self._down_since = self._down_since or now
            if self._store is None and not self._open("retry"):
                return None
            if self._down_since is not None:
                if not self._recover():
                    return None
            return self._store

    def _recover(self) -> bool:
        store = self._store
        try:
            store.first_delivery(f"fixit:probe:{time.time()}")
            written = self._write_kept(store, recovering=True)
            self._remembered_into(store)   # after the kept releases: a claim made again since then stays
            written += self._write_kept(store, recovering=True)   # kept while the memory went in
        except self._errors as exc:
            self._fail(exc, "recovering")
            return False
        log.warning("store back after %.0f s: %d kept writes done", self.clock() - self._down_since, written)
        self._down_since = None
        return True

    def _write_kept(self, store: Store, recovering: bool = False) -> int:
        """The writes kept while the database failed, oldest first; how many. Each is taken off the queue while
        it is tried (a write kept meanwhile into a full queue cannot push out another in its place) and put
        back if the database failed. In a recovery, whose probe has just written, a write that fails
        KEPT_TRIES recoveries in a row may never go in, and is left out."""
        written = 0
        with self._lock:
            while self._pending:
                item = self._pending.popleft()
                what, write = item
                try:
                    write(store)
                    written += 1
                except self._refusals as exc:
                    log.error("the database refused a write kept while it was away (%s): %s; left out", what,
                              first_line(exc))
                except self._errors as exc:
                    if recovering:
                        failed, tries = self._kept_failures
                        self._kept_failures = (item, tries + 1 if failed is item else 1)
                    if not recovering or self._kept_failures[1] < KEPT_TRIES:
                        if len(self._pending) == self._pending.maxlen:
                            log.error("store unavailable: more than %d writes kept; the newest is dropped",
                                      MAX_PENDING)
                        self._pending.appendleft(item)
                        raise
                    log.error("a write kept while the database was away (%s) failed in %d recoveries (%s): left "
                              "out", what, self._kept_failures[1], first_line(exc))
        return written

    def _catch_up(self, store: Store) -> None:
        try:
            self._write_kept(store)
        except self._errors as exc:
            self._fail(exc, "writing what was kept")

    def _remembered_into(self, store: Store) -> None:
        """In one transaction, so that the answers waiting on the lock meanwhile wait for one round trip, not one
        per event and claim remembered."""
        rows = [("seen", row) for row in self._seen.items()] + [("notice", key) for key in self._notices]
        rows += [("claim", (*key.split(" ", 1), entry_id, team))
                 for key, (team, *entries) in self._claims.items() for entry_id in entries]
        # A row the database refuses must keep neither the others out nor the lock held: a refused batch is
        # halved until what it refuses is found (a few round trips for one row among thousands). Past
        # REFUSED_SOUGHT refused rows the refusal is taken for the whole table's, not a row's: the batches not
        # yet sent are left out with them.
        batches, refused, untried, refusal = [rows] if rows else [], 0, 0, None
        while batches:
            batch = batches.pop()
            if refused >= REFUSED_SOUGHT:
                untried += len(batch)
                continue
            try:
                store.write_remembered(*(self._of_kind(batch, kind) for kind in ("seen", "claim", "notice")))
            except self._refusals as exc:
                refusal = exc
                if len(batch) == 1:
                    refused += 1
                else:
                    batches += [batch[len(batch) // 2:], batch[:len(batch) // 2]]
        if refused:
            log.error("the database refused %d of the %d things this process remembered (%s): left out%s", refused,
                      len(rows), first_line(refusal), f", and {untried} not tried after them" if untried else "")

    @staticmethod
    def _of_kind(rows: list[tuple[str, object]], kind: str) -> list:
        return [row for of, row in rows if of == kind]

    def _call(self, what: str, work: Callable[[Store], object], fallback: Callable[[], object],
              event_id: str = "", channel: str = "", kept: bool = False):
        """`work` on the database, else `fallback`: while the database cannot be reached, and when it answers but
        refuses the write. A `kept` fallback keeps the write for later, so a refused one is left out instead:
        it would be refused again."""
        store = self._available()
        if store is not None:
            try:
                result = work(store)
            except self._refusals as exc:
                log.error("the database refused %s%s (%s): %s", what, where(event_id, channel), first_line(exc),
                          "left out" if kept else "done in memory")
                return None if kept else fallback()
            except self._errors as exc:
                self._fail(exc, what + (" (kept for later)" if kept else ""), event_id, channel)
            else:
                if self._pending:   # kept by a call that raced the recovery
                    self._catch_up(store)
                return result
        else:
            log.warning("store unavailable: %s%s%s done in memory", what, " (kept for later)" if kept else "",
                        where(event_id, channel))
        return fallback()

    def reachable(self) -> bool:
        """Whether the database answers now (for readiness probes; a failure is logged like any other)."""
        store = self._available()
        if store is None:
            return False
        try:
            store.ping()
            return True
        except self._errors as exc:
            self._fail(exc, "a readiness probe")
            return False

    # -- what this process remembers --

    def _remember_event(self, event_id: str) -> bool:
        """True the first time this process sees the id (within the window)."""
        now = time.time()
        with self._lock:
            while self._seen and (len(self._seen) >= MAX_REMEMBERED
                                  or next(iter(self._seen.values())) < now - WINDOW_SECONDS):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True

    def _remember_claims(self, channel: str, thread_ts: str, entry_ids: list[str], team: str) -> list[str]:
        with self._lock:
            key = thread_key(channel, thread_ts)
            team, *claimed = self._claims.get(key) or (sys.intern(team),)   # one string per team, not per claim
            fresh = [e for e in entry_ids if e not in claimed]
            remember(self._claims, key, (team, *claimed, *fresh))
            return fresh

    def _keep(self, what: str, write: Callable[[Store], object]) -> None:
        if len(self._pending) == self._pending.maxlen:
            log.error("store unavailable: more than %d writes kept; the oldest is dropped", MAX_PENDING)
        self._pending.append((what, write))

    # -- the Store interface --

    def first_delivery(self, event_id: str) -> bool:
        fresh_here = self._remember_event(event_id)
        return self._call("de-duplication", lambda s: s.first_delivery(event_id), lambda: fresh_here, event_id)

    def claim_event(self, event_id: str, channel: str, thread_ts: str, entry_ids: list[str],
                    team: str = "") -> list[str] | None:
        fresh_here = not event_id or self._remember_event(event_id)

        def in_memory():
            return self._remember_claims(channel, thread_ts, entry_ids, team) if fresh_here else None

        def in_store(store: Store):
            fresh = store.claim_event(event_id, channel, thread_ts, entry_ids, team)
            if fresh:
                self._remember_claims(channel, thread_ts, fresh, team)
            return fresh
        return self._call("claiming the answer", in_store, in_memory, event_id, channel)

    def claim_answer(self, channel: str, thread_ts: str, entry_id: str, team: str = "") -> bool:
        def in_store(store: Store):
            fresh = store.claim_answer(channel, thread_ts, entry_id, team)
            if fresh:
                self._remember_claims(channel, thread_ts, [entry_id], team)
            return fresh
        return self._call("claiming the answer", in_store,
                          lambda: bool(self._remember_claims(channel, thread_ts, [entry_id], team)), channel=channel)

    def release_answer(self, channel: str, thread_ts: str, entry_id: str) -> None:
        with self._lock:
            key = thread_key(channel, thread_ts)
            team, *claimed = self._claims.get(key, ("",))
            if entry_id in claimed:
                self._claims[key] = (team, *(e for e in claimed if e != entry_id))

        def later():
            self._keep("release", lambda s: s.release_answer(channel, thread_ts, entry_id))
        self._call("releasing a claim", lambda s: s.release_answer(channel, thread_ts, entry_id), later,
                   channel=channel, kept=True)

    def thread_entries(self, channel: str, thread_ts: str) -> list[str]:
        return self._call("reading the thread's answers", lambda s: s.thread_entries(channel, thread_ts),
                          lambda: list(self._claims.get(thread_key(channel, thread_ts), ())[1:]), channel=channel)

    def record_feedback(self, entry_id: str, user_id: str, channel: str, thread_ts: str, vote: str,
                        team: str = "") -> None:
        write = lambda s: s.record_feedback(entry_id, user_id, channel, thread_ts, vote, team)  # noqa: E731
        self._call("storing feedback", write, lambda: self._keep("feedback", write), channel=channel, kept=True)

    def record_unmatched(self, normalised_text: str, channel: str, team: str = "") -> None:
        write = lambda s: s.record_unmatched(normalised_text, channel, team)  # noqa: E731
        self._call("storing an unmatched paste", write, lambda: self._keep("unmatched", write), channel=channel,
                   kept=True)

    def notify_once(self, key: str) -> bool:
        """Remembered here only when this process gives the notice: one another instance gave is its to forget."""
        def in_store(store: Store) -> bool:
            given = store.notify_once(key)
            if given:
                self._remember_notice(key)
            return given

        def in_memory() -> bool:
            with self._lock:
                fresh = key not in self._notices
                if fresh:
                    self._remember_notice(key)
                return fresh
        return self._call("a one-time notice", in_store, in_memory)

    def _remember_notice(self, key: str) -> None:
        with self._lock:
            remember(self._notices, key, None)

    def forget_notice(self, key: str) -> None:
        with self._lock:
            self._notices.pop(key, None)
        self._call("forgetting a notice", lambda s: s.forget_notice(key),
                   lambda: self._keep("forget notice", lambda s: s.forget_notice(key)), kept=True)

    def feedback_in_thread(self, channel: str, thread_ts: str) -> dict[str, int]:
        return self._call("reading feedback", lambda s: s.feedback_in_thread(channel, thread_ts), dict,
                          channel=channel)

    def feedback_for(self, entry_id: str, team: str | None = None) -> dict[str, int]:
        return self._call("reading feedback", lambda s: s.feedback_for(entry_id, team), dict)

    def most_answered(self, days: int = 7, limit: int = 10, team: str | None = None) -> list[tuple[str, int]]:
        return self._call("reading statistics", lambda s: s.most_answered(days, limit, team), list)

    def unmatched_count(self, days: int = 7, team: str | None = None) -> int:
        return self._call("reading statistics", lambda s: s.unmatched_count(days, team), int)

    def unmatched_texts(self, team: str | None = None):
        return self._call("reading unmatched pastes", lambda s: s.unmatched_texts(team), list)

    def unmatched_since(self, days: float, team: str | None = None,
                        limit: int | None = None) -> list[tuple[str, str, float]]:
        return self._call("reading unmatched pastes", lambda s: s.unmatched_since(days, team, limit), list)

    def votes_since(self, days: float, team: str | None = None) -> list[tuple[str, str, float]]:
        return self._call("reading feedback", lambda s: s.votes_since(days, team), list)

    def set_channel_mode(self, team: str, channel: str, mode: str, user_id: str) -> bool:
        """False when it could not be stored (the database is down): the admin is told, nothing is kept."""
        stored = self._call("storing a channel mode",
                            lambda s: s.set_channel_mode(team, channel, mode, user_id) or True, lambda: False,
                            channel=channel)
        if stored:
            with self._lock:   # a new dict: a reader may be going through the old one
                self._modes[team] = {**self._modes.get(team, {}), channel: mode}
        return stored

    def channel_modes_of(self, team: str) -> dict[str, str]:
        """A team's channel modes, read again at most every MODES_SECONDS (asked for every message); the last
        ones read while the database is down."""
        now = self.clock()
        with self._lock:
            read_at = self._modes_read.get(team)
            if read_at is not None and now - read_at < MODES_SECONDS:
                return dict(self._modes.get(team, {}))
            self._modes_read[team] = now
        modes = self._call("reading channel modes", lambda s: s.channel_modes_of(team),
                           lambda: dict(self._modes.get(team, {})))
        with self._lock:
            self._modes[team] = dict(modes)
        return modes

    def forget_team(self, team: str) -> None:
        with self._lock:
            self._modes.pop(team, None)
            if team:
                for key in [k for k, claimed in self._claims.items() if claimed[0] == team]:
                    del self._claims[key]
        self._call("forgetting a team", lambda s: s.forget_team(team),
                   lambda: self._keep("forget team", lambda s: s.forget_team(team)), kept=True)

    def prune_events(self, older_than_days: int = 2) -> None:
        self._call("pruning", lambda s: s.prune_events(older_than_days), lambda: None)
