"""Fixit's memory: threads answered, events seen, feedback, and pastes that matched nothing.

SQLAlchemy Core over a URL (`FIXIT_DATABASE_URL`): SQLite by default, PostgreSQL by changing the URL.
Every write that must happen once (an event, an answer in a thread) relies on a primary key, so two
instances or a restart cannot both win.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    delete,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.exc import OperationalError

from bot.store.checkpoint import Checkpointer
from bot.store.group_commit import GroupCommit
from bot.widths import ENTRY_ID_CHARS, EVENT_ID_CHARS

metadata = MetaData()
NOTICE_KEY_CHARS = 200     # a one-time notice's key is cut to this (it names a thread, or a workspace and provider)

events = Table(
    "processed_events", metadata,
    Column("event_id", String(EVENT_ID_CHARS), primary_key=True),
    Column("seen_at", Float, nullable=False),
)
thread_answers = Table(
    "thread_answers", metadata,
    Column("channel", String(64), primary_key=True),
    Column("thread_ts", String(64), primary_key=True),
    Column("entry_id", String(ENTRY_ID_CHARS), primary_key=True),
    Column("answered_at", Float, nullable=False, index=True),
    Column("team_id", String(32), nullable=False, server_default=""),
)
feedback = Table(
    "feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("entry_id", String(ENTRY_ID_CHARS), nullable=False),
    Column("user_id", String(64), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("thread_ts", String(64), nullable=False),
    Column("vote", String(8), nullable=False),
    Column("at", Float, nullable=False),
    Column("team_id", String(32), nullable=False, server_default=""),
)
unmatched = Table(
    "unmatched_pastes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", String(500), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("at", Float, nullable=False, index=True),
    Column("team_id", String(32), nullable=False, server_default=""),
)
channel_modes = Table(
    "channel_modes", metadata,     # set by a team's admins (`/fixit config`), over the server's settings
    Column("team_id", String(32), primary_key=True),
    Column("channel", String(64), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("set_by", String(64), nullable=False),
    Column("at", Float, nullable=False),
)
TEAM_TABLES = (thread_answers, feedback, unmatched, channel_modes)
notices = Table(
    "admin_notices", metadata,
    Column("key", String(NOTICE_KEY_CHARS), primary_key=True),
    Column("at", Float, nullable=False),
)

UNMATCHED_CHARS = 500
PRUNE_EVERY = 1000         # claims between two prunings of old event ids (Slack retries come within minutes)
BUSY_SECONDS = 10          # how long a write waits for a database another process holds
BUSY_RETRY_SECONDS = 0.0005
# SQLite's page cache, per connection (each thread that reads holds one). Its default (2 000 KiB) fills as the
# database grows, so a server's memory grew with its claims until every cache was full; what a claim or a thread
# lookup reads is a few pages, and the operating system caches the file below it.
SQLITE_CACHE_KIB = 128
CHECKPOINT_EVERY = 50      # commits of claims between two checkpoints of the WAL on their own thread


def _sqlite_pragmas(connection, _record) -> None:
    """WAL lets readers and the writer work at once; NORMAL sync is durable enough for this data."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")  # negative: KiB, not pages
    cursor.close()


def _commit(connection, work: Callable):
    """`work(cursor)` in a transaction on a DB-API connection: committed, or rolled back if it raises."""
    try:
        result = work(connection.cursor())
        connection.commit()
        return result
    except BaseException:
        connection.rollback()
        raise


def add_team_columns(conn) -> None:
    """A database made before Fixit served many workspaces gets its `team_id` columns (rows already there
    keep team '', which every team's statistics count, as the one team they came from)."""
    for table in (thread_answers, feedback, unmatched):
        have = {c["name"] for c in inspect(conn).get_columns(table.name)}
        if "team_id" not in have:
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN team_id VARCHAR(32) NOT NULL DEFAULT ''"))


def of_team(column, team: str | None):
    """Rows of `team` (and rows from before teams were recorded); every row when `team` is None."""
    return True if team is None else column.in_([team, ""])


class InsertOnce:
    """An INSERT … ON CONFLICT DO NOTHING compiled once for the engine's driver, run on its cursor."""

    def __init__(self, compiled) -> None:
        self.sql = str(compiled)
        self._positions = compiled.positiontup  # the parameter order for drivers taking `?`; None for named

    def run(self, cursor, row: dict) -> bool:
        """True when the row was inserted, False when its key was already there."""
        cursor.execute(self.sql, tuple(row[name] for name in self._positions) if self._positions else row)
        return cursor.rowcount == 1  # the driver's own count (sqlite3_changes, PostgreSQL's "INSERT 0 1")

    def run_many(self, cursor, rows: list[dict]) -> None:
        """Every row in one statement sent many times (psycopg pipelines them: one round trip, not one each)."""
        if rows:
            cursor.executemany(self.sql, [tuple(row[name] for name in self._positions) for row in rows]
                               if self._positions else rows)


class Store:
    def __init__(self, url: str = "sqlite:///fixit.db", retention_days: int = 30) -> None:
        self._sqlite = url.startswith("sqlite")
        # SQLite: no busy timeout; `_transaction` retries quickly itself (SQLite's own busy handler sleeps
        # for up to 100 ms at a time, which shows as latency when several processes share the file)
        options = {"connect_args": {"check_same_thread": False, "timeout": 0}} if self._sqlite else {}
        self.engine = create_engine(url, future=True, **options)
        if self._sqlite:
            sqlalchemy_event.listen(self.engine, "connect", _sqlite_pragmas)
        self._write_lock = threading.Lock() if self._sqlite else nullcontext()
        self._driver_error = self.engine.dialect.loaded_dbapi.OperationalError
        self._claim_connection = None
        if self._sqlite:  # PostgreSQL's claims each take a pooled connection, and its server checkpoints
            self._checkpointer = Checkpointer(self.engine.raw_connection, CHECKPOINT_EVERY)
            self._group_commit = GroupCommit(self._claims_together, idle=self._checkpointer.start)
        self._transaction(metadata.create_all)
        self._transaction(add_team_columns)
        self.retention_seconds = retention_days * 86400
        self._claims = 0
        self._new_event = self._insert_new(events)
        self._new_answer = self._insert_new(thread_answers)
        self._new_notice = self._insert_new(notices)

    def ping(self) -> None:
        """Raises when the database does not answer a trivial query."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    def _transaction(self, work: Callable):
        """Run `work(connection)` in a write transaction and return its result. With SQLite, this
        process's threads take turns on a lock, and a file locked by another process is retried at once."""
        return self._retrying(lambda: self._in_engine_transaction(work))

    def _in_engine_transaction(self, work: Callable):
        with self._write_lock, self.engine.begin() as conn:
            return work(conn)

    def _claim_transaction(self, work: Callable):
        """Like `_transaction`, but `work(cursor)` gets the driver's cursor: claims are made for every answer,
        and SQLAlchemy's per-statement machinery costs about twice the inserts themselves. With SQLite, claims
        share one connection, and the claims waiting are committed in one transaction (group_commit.py)."""
        if self._sqlite:
            return self._group_commit.run(work)

        def attempt():
            connection = self.engine.raw_connection()
            try:
                return _commit(connection, work)
            finally:
                connection.close()  # back to the pool
        return self._retrying(attempt)

    def _claims_together(self, works: list[Callable]) -> list:
        """Every work in `works` on the claims' connection, in one transaction."""
        def attempt():
            with self._write_lock:
                if self._claim_connection is None:
                    self._claim_connection = self.engine.raw_connection()
                return _commit(self._claim_connection, lambda cursor: [work(cursor) for work in works])
        results = self._retrying(attempt)
        self._checkpointer.committed()
        return results

    def _retrying(self, attempt: Callable):
        deadline = time.monotonic() + BUSY_SECONDS
        while True:
            try:
                return attempt()
            except (OperationalError, self._driver_error) as exc:
                if not self._sqlite or "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(BUSY_RETRY_SECONDS)

    def _insert_once(self, statement: InsertOnce, row: dict) -> bool:
        """Insert a row keyed by its primary key; True only for the first to do so."""
        return self._claim_transaction(lambda cursor: statement.run(cursor, row))

    # -- events and threads --

    def first_delivery(self, event_id: str) -> bool:
        """True the first time an event id is seen (Slack retries deliver the same id again)."""
        return self._insert_once(self._new_event, {"event_id": event_id, "seen_at": time.time()})

    def claim_event(self, event_id: str, channel: str, thread_ts: str, entry_ids: list[str],
                    team: str = "") -> list[str] | None:
        """In one transaction: record the event (None if it was seen before, e.g. a Slack retry) and claim
        the entries not yet answered in the thread; returns those."""
        now = time.time()
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:
            self.prune_events()

        def claim(cursor):
            if event_id and not self._new_event.run(cursor, {"event_id": event_id, "seen_at": now}):
                return None
            return [entry_id for entry_id in entry_ids if self._new_answer.run(cursor, {
                "channel": channel, "thread_ts": thread_ts, "entry_id": entry_id, "answered_at": now,
                "team_id": team})]
        return self._claim_transaction(claim)

    def write_remembered(self, seen: Iterable[tuple[str, float]], claims: Iterable[tuple[str, str, str, str]],
                         notice_keys: Iterable[str]) -> None:
        """What a process remembered while the database could not be reached, in one transaction: event ids
        with when they were seen, claims as (channel, thread, entry, team), one-time notices. A row whose key
        is there already is left as it is."""
        now = time.time()
        batches = [
            (self._new_event, [{"event_id": event_id, "seen_at": at} for event_id, at in seen]),
            (self._new_answer, [{"channel": channel, "thread_ts": thread_ts, "entry_id": entry_id, "answered_at": now,
                                 "team_id": team} for channel, thread_ts, entry_id, team in claims]),
            (self._new_notice, [{"key": key[:NOTICE_KEY_CHARS], "at": now} for key in notice_keys])]
        self._claim_transaction(lambda cursor: [statement.run_many(cursor, rows) for statement, rows in batches])

    def _insert_new(self, table: Table) -> InsertOnce:
        """INSERT that skips a row whose key exists (SQLite and PostgreSQL both say ON CONFLICT DO NOTHING);
        run on the driver's cursor, whose rowcount says whether the row went in (the store contract test checks
        this on both)."""
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            from sqlalchemy.dialects.sqlite import insert as dialect_insert
        elif dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as dialect_insert
        else:
            raise NotImplementedError(f"claims need ON CONFLICT support; {dialect} is not supported")
        statement = dialect_insert(table).on_conflict_do_nothing()
        return InsertOnce(statement.compile(dialect=self.engine.dialect))

    def claim_answer(self, channel: str, thread_ts: str, entry_id: str, team: str = "") -> bool:
        """True if this entry has not been answered in this thread yet (and records that it now is)."""
        return self._insert_once(self._new_answer, {"channel": channel, "thread_ts": thread_ts,
                                                     "entry_id": entry_id, "answered_at": time.time(),
                                                     "team_id": team})

    def release_answer(self, channel: str, thread_ts: str, entry_id: str) -> None:
        """Undo a claim whose answer could not be posted, so a later paste can try again."""
        self._transaction(lambda conn: conn.execute(delete(thread_answers).where(
            (thread_answers.c.channel == channel) & (thread_answers.c.thread_ts == thread_ts)
            & (thread_answers.c.entry_id == entry_id))))

    def thread_entries(self, channel: str, thread_ts: str) -> list[str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(thread_answers.c.entry_id).where(
                (thread_answers.c.channel == channel) & (thread_answers.c.thread_ts == thread_ts)
            ).order_by(thread_answers.c.answered_at))
            return [r[0] for r in rows]

    def most_answered(self, days: int = 7, limit: int = 10, team: str | None = None) -> list[tuple[str, int]]:
        since = time.time() - days * 86400
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(thread_answers.c.entry_id, func.count().label("n"))
                .where((thread_answers.c.answered_at >= since) & of_team(thread_answers.c.team_id, team))
                .group_by(thread_answers.c.entry_id).order_by(func.count().desc(), thread_answers.c.entry_id)
                .limit(limit))
            return [(r[0], r[1]) for r in rows]

    # -- feedback --

    def record_feedback(self, entry_id: str, user_id: str, channel: str, thread_ts: str, vote: str,
                        team: str = "") -> None:
        self._transaction(lambda conn: conn.execute(insert(feedback).values(
            entry_id=entry_id, user_id=user_id, channel=channel, thread_ts=thread_ts, vote=vote, at=time.time(),
            team_id=team)))

    def feedback_for(self, entry_id: str, team: str | None = None) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback.c.vote, func.count())
                                .where((feedback.c.entry_id == entry_id) & of_team(feedback.c.team_id, team))
                                .group_by(feedback.c.vote))
            return {r[0]: r[1] for r in rows}

    def feedback_in_thread(self, channel: str, thread_ts: str) -> dict[str, int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback.c.vote, func.count())
                                .where((feedback.c.channel == channel) & (feedback.c.thread_ts == thread_ts))
                                .group_by(feedback.c.vote))
            return {r[0]: r[1] for r in rows}

    def votes_since(self, days: float, team: str | None = None) -> list[tuple[str, str, float]]:
        """(entry id, vote, at) of the votes of the last `days` days, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(feedback.c.entry_id, feedback.c.vote, feedback.c.at)
                                .where((feedback.c.at >= time.time() - days * 86400)
                                       & of_team(feedback.c.team_id, team))
                                .order_by(feedback.c.at, feedback.c.id))
            return [(r[0], r[1], r[2]) for r in rows]

    # -- unmatched pastes --

    def record_unmatched(self, normalised_text: str, channel: str, team: str = "") -> None:
        now = time.time()

        def record(conn):
            conn.execute(insert(unmatched).values(text=normalised_text[:UNMATCHED_CHARS], channel=channel, at=now,
                                                  team_id=team))
            conn.execute(delete(unmatched).where(unmatched.c.at < now - self.retention_seconds))
        self._transaction(record)

    def unmatched_count(self, days: int = 7, team: str | None = None) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(unmatched).where(
                (unmatched.c.at >= time.time() - days * 86400) & of_team(unmatched.c.team_id, team))).scalar_one()

    def unmatched_texts(self, team: str | None = None) -> Iterable[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(unmatched.c.text).where(of_team(unmatched.c.team_id, team))
                                               .order_by(unmatched.c.at))]

    def unmatched_since(self, days: float, team: str | None = None,
                        limit: int | None = None) -> list[tuple[str, str, float]]:
        """(text, channel, at) of the unmatched pastes of the last `days` days, oldest first: the newest
        `limit` of them when given."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(unmatched.c.text, unmatched.c.channel, unmatched.c.at)
                                .where((unmatched.c.at >= time.time() - days * 86400)
                                       & of_team(unmatched.c.team_id, team))
                                .order_by(unmatched.c.at.desc(), unmatched.c.id.desc()).limit(limit)).all()
            return [(r[0], r[1], r[2]) for r in reversed(rows)]

    # -- a team's own settings, and forgetting a team --

    def set_channel_mode(self, team: str, channel: str, mode: str, user_id: str) -> None:
        def write(conn):
            conn.execute(delete(channel_modes).where((channel_modes.c.team_id == team)
                                                     & (channel_modes.c.channel == channel)))
            conn.execute(insert(channel_modes).values(team_id=team, channel=channel, mode=mode, set_by=user_id,
                                                      at=time.time()))
        self._transaction(write)

    def channel_modes_of(self, team: str) -> dict[str, str]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(channel_modes.c.channel, channel_modes.c.mode)
                                .where(channel_modes.c.team_id == team))
            return {r[0]: r[1] for r in rows}

    def forget_team(self, team: str) -> None:
        """Everything stored for a team (an uninstall): its answers' records, feedback, unmatched pastes and
        channel modes. Rows from before teams were recorded (team '') are not the team's to delete."""
        if not team:
            return
        self._transaction(lambda conn: [conn.execute(delete(t).where(t.c.team_id == team)) for t in TEAM_TABLES])

    # -- one-time notices (e.g. bad credentials told to admins once) --

    def notify_once(self, key: str) -> bool:
        return self._insert_once(self._new_notice, {"key": key[:NOTICE_KEY_CHARS], "at": time.time()})

    def forget_notice(self, key: str) -> None:
        """Undo notify_once (what it was for did not happen), so the next try notifies again."""
        self._transaction(lambda conn: conn.execute(delete(notices).where(notices.c.key == key[:NOTICE_KEY_CHARS])))

    def prune_events(self, older_than_days: int = 2) -> None:
        cutoff = time.time() - older_than_days * 86400
        self._transaction(lambda conn: conn.execute(delete(events).where(events.c.seen_at < cutoff)))
