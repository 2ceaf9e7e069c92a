"""A failing store never silences the bot, through the served app and a real SQLite (and PostgreSQL when CI
has one): answers go out, a Slack retry is still answered once, feedback waits for the database, every
degraded call is logged with its event id, and the store comes back by itself."""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time

import pytest
from loopback import RawServer
from slack_harness import INT771, FakeSlack, SlackSender, eventually, message, served
from sqlalchemy import func, select

from bot.answer import Where
from bot.slack.cards import HELPFUL
from bot.store import events, resilient, thread_answers


@pytest.fixture
def fake():
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(resilient, "RETRY_SECONDS", 0.2)



def test_a_database_that_cannot_be_opened_at_start_still_answers_once_per_event(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    missing = tmp_path / "not-yet" / "fixit.db"      # its folder does not exist: SQLite cannot open it
    server = served(fake, f"sqlite:///{missing}")
    try:
        sender = SlackSender(server.url)
        event = message(INT771, ts="1700030000.000001")
        for retry in (None, 1, 2):                   # Slack's retries of the same event
            assert sender.event(event, event_id="EvSTORE1", retry_num=retry)[0] == 200
        (post,) = fake.wait_for("chat.postMessage")
        fake.settle(0.5)
        assert len(fake.of("chat.postMessage")) == 1 and post.args["thread_ts"] == "1700030000.000001"
        assert "store unavailable" in caplog.text and "EvSTORE1" in caplog.text
        assert INT771 not in caplog.text

        # 👍 while the database is down: kept, and written when it is back
        sender.click(HELPFUL, Where("C0001", "1700030000.000001").value("INT771"), fake.response_url("fb"))
        fake.wait_for("response_url")
        missing.parent.mkdir()                       # the database can be opened now
        store = server.runtime.store
        eventually(lambda: store.first_delivery(f"probe-{os.urandom(4).hex()}") and not store.degraded, timeout=10)
        assert store.feedback_for("INT771") == {"up": 1}
        # what was claimed in memory went into the database: a later retry is still refused there
        assert store.thread_entries("C0001", "1700030000.000001") == ["INT771"]
        assert "store back" in caplog.text
    finally:
        server.close()


def test_while_the_database_is_down_the_memory_keeps_the_claims_contract_and_hands_it_over(tmp_path):
    """Claims, a retry, a release, a thread's answers and one-time notices, all from memory; then the same, from
    the database."""
    missing = tmp_path / "not-yet" / "fixit.db"
    store = resilient.ResilientStore(f"sqlite:///{missing}")
    assert store.degraded
    assert store.claim_event("Ev1", "C1", "1.1", ["INT771", "NS0012"]) == ["INT771", "NS0012"]
    assert store.claim_event("Ev1", "C1", "1.1", ["INT771"]) is None                 # Slack's retry
    assert store.claim_event("Ev2", "C1", "1.1", ["INT771", "XERO68"]) == ["XERO68"]
    assert store.claim_event("Ev3", "C2", "1.1", ["INT771"]) == ["INT771"]           # another channel
    assert store.claim_answer("C1", "1.1", "INT771") is False
    store.release_answer("C1", "1.1", "NS0012")
    assert store.thread_entries("C1", "1.1") == ["INT771", "XERO68"]
    assert store.claim_answer("C1", "1.1", "NS0012") is True
    assert store.notify_once("escalated:C1:1.1") is True and store.notify_once("escalated:C1:1.1") is False
    assert store.notify_once("escalated:C2:1.1") is True
    store.forget_notice("escalated:C2:1.1")                                          # its post failed
    assert store.notify_once("escalated:C3:1.1") is True
    store.forget_notice("escalated:C3:1.1")
    assert store.notify_once("escalated:C3:1.1") is True                             # asked again, posted
    assert store.claim_event("Ev4", "C4", "1.1", ["INT771"], team="T0A") == ["INT771"]
    assert store.claim_event("Ev5", "C5", "1.1", ["NS0012"], team="T0B") == ["NS0012"]
    store.forget_team("T0A")                                                         # uninstalled meanwhile
    missing.parent.mkdir()
    eventually(lambda: store.first_delivery(f"probe-{os.urandom(4).hex()}") and not store.degraded, timeout=10)
    assert sorted(store.thread_entries("C1", "1.1")) == ["INT771", "NS0012", "XERO68"]   # read from the database
    assert store.thread_entries("C2", "1.1") == ["INT771"]
    assert store.first_delivery("Ev2") is False
    assert store._store.notify_once("escalated:C1:1.1") is False     # the database itself knows the notice
    assert store.notify_once("escalated:C2:1.1") is True
    assert store._store.notify_once("escalated:C3:1.1") is False
    assert store.thread_entries("C4", "1.1") == [] and store.thread_entries("C5", "1.1") == ["NS0012"]
    teams = select(thread_answers.c.channel, thread_answers.c.team_id).where(thread_answers.c.team_id != "")
    with store.engine.connect() as conn:                     # T0B's claim went in as T0B's; T0A's is gone
        assert conn.execute(teams).all() == [("C5", "T0B")]


def test_a_recovery_writes_what_was_remembered_as_it_was(tmp_path):
    """An event id goes in with when it was seen (so it is pruned on time), not when the database came back."""
    missing = tmp_path / "not-yet" / "fixit.db"
    store = resilient.ResilientStore(f"sqlite:///{missing}")
    assert store.claim_event("Ev1", "C1", "1.1", ["INT771"], team="T0A") == ["INT771"]
    seen_at = store._seen["Ev1"]
    time.sleep(0.05)
    missing.parent.mkdir()
    eventually(lambda: store.first_delivery(f"probe-{os.urandom(4).hex()}") and not store.degraded, timeout=10)
    with store.engine.connect() as conn:
        assert conn.execute(select(events.c.seen_at).where(events.c.event_id == "Ev1")).scalar_one() == seen_at
        assert conn.execute(select(thread_answers.c.team_id)).all() == [("T0A",)]


def test_a_write_the_database_refuses_does_not_hold_the_store_down(tmp_path, caplog):
    """A row the database will not hold (here one missing a value it requires) is left out, once: the store is
    not taken for down, the answer is still given, and the write is not kept to fail on every later try."""
    caplog.set_level(logging.WARNING)
    store = resilient.ResilientStore(f"sqlite:///{tmp_path / 'fixit.db'}")
    store.record_feedback("INT771", None, "C1", "1.1", "up")
    assert not store.degraded and not store._pending
    assert "the database refused storing feedback in C1 (IntegrityError: " in caplog.text
    assert store.claim_event("Ev1", None, "1.1", ["INT771"]) == ["INT771"]      # answered, from memory
    assert not store.degraded and "the database refused claiming the answer for event Ev1" in caplog.text
    store.record_feedback("INT771", "U1", "C1", "1.1", "up")
    assert store.feedback_for("INT771") == {"up": 1}


def test_a_kept_write_the_database_refuses_is_left_out_and_the_rest_go_in(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    missing = tmp_path / "not-yet" / "fixit.db"
    store = resilient.ResilientStore(f"sqlite:///{missing}")
    store.record_feedback("INT771", None, "C1", "1.1", "up")           # kept: the database cannot say yet
    store.record_feedback("INT771", "U1", "C1", "1.1", "up")
    assert len(store._pending) == 2
    missing.parent.mkdir()
    eventually(lambda: store.first_delivery(f"probe-{os.urandom(4).hex()}") and not store.degraded, timeout=10)
    assert store.feedback_for("INT771") == {"up": 1} and not store._pending
    assert "the database refused a write kept while it was away (feedback)" in caplog.text


def test_a_kept_write_that_fails_every_recovery_is_left_out_after_kept_tries(tmp_path, caplog):
    """Not a refusal (a value the driver cannot send): tried in KEPT_TRIES recoveries, each after the probe's
    write went in, then left out, so the store comes back instead of trying it every RETRY_SECONDS for ever."""
    caplog.set_level(logging.WARNING)
    missing = tmp_path / "not-yet" / "fixit.db"
    store = resilient.ResilientStore(f"sqlite:///{missing}")
    store.record_feedback("INT771", {"id": "U1"}, "C1", "1.1", "up")
    store.record_feedback("INT771", "U1", "C1", "1.1", "up")
    missing.parent.mkdir()
    eventually(lambda: store.first_delivery(f"probe-{os.urandom(4).hex()}") and not store.degraded, timeout=10)
    assert store.feedback_for("INT771") == {"up": 1} and not store._pending
    assert caplog.text.count("recovering done in memory") == resilient.KEPT_TRIES - 1
    assert f"(feedback) failed in {resilient.KEPT_TRIES} recoveries" in caplog.text


def test_a_kept_write_failing_after_other_calls_is_not_counted_against_it(tmp_path):
    """Calls that read while writes fail (a database gone read-only, say) do not use up a kept write's tries:
    only recoveries, whose probe has just written, count."""
    store = resilient.ResilientStore(f"sqlite:///{tmp_path / 'fixit.db'}")
    store._keep("feedback", lambda s: s.record_feedback("INT771", {"id": "U1"}, "C1", "1.1", "up"))
    for _ in range(resilient.KEPT_TRIES + 2):
        store._catch_up(store._store)            # what a successful call does when writes are kept
    assert len(store._pending) == 1


def test_a_recovery_finds_a_refused_row_in_a_few_batches_and_writes_the_rest(tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    store = resilient.ResilientStore(f"sqlite:///{tmp_path / 'fixit.db'}")
    for n in range(1000):                            # what a process remembers while the database is away
        store._remember_event(f"Ev{n}")
        store._remember_claims("C1", f"1.{n}", ["INT771"], "T1")
    store._remember_event(None)                      # a row the database refuses (its key cannot be empty)
    batches = []
    write = store._store.write_remembered
    store._store.write_remembered = lambda *rows: batches.append(rows) or write(*rows)
    store._remembered_into(store._store)
    assert len(batches) <= 2 * math.ceil(math.log2(2001)) + 1
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 1000
        assert conn.execute(select(func.count()).select_from(thread_answers)).scalar_one() == 1000
    assert "the database refused 1 of the 2001 things this process remembered (IntegrityError: " in caplog.text
    assert "not tried" not in caplog.text


def test_past_refused_sought_the_rest_is_taken_for_refused_too(tmp_path, caplog, monkeypatch):
    """A refusal of every row (a table the database will not write) is found after REFUSED_SOUGHT rows, not
    after one round trip per row."""
    monkeypatch.setattr(resilient, "REFUSED_SOUGHT", 1)
    caplog.set_level(logging.WARNING)
    store = resilient.ResilientStore(f"sqlite:///{tmp_path / 'fixit.db'}")
    store._remember_event(None)                      # refused, and found first: the halves after it are not sent
    for n in range(100):
        store._remember_event(f"Ev{n}")
    store._remembered_into(store._store)
    assert "the database refused 1 of the 101 things" in caplog.text and ", and 100 not tried after them" in caplog.text
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0


def test_postgresql_refusing_an_id_too_long_for_it_still_answers_and_leaves_only_that_out(caplog):
    """An entry id wider than the column (the KB refuses one; this is the store's own guard): the answer is
    given, the store is not taken for down, and what a recovery writes leaves out only the refused claim."""
    url = os.environ.get("FIXIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set FIXIT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL when it can)")
    caplog.set_level(logging.WARNING)
    store = resilient.ResilientStore(url)
    thread, too_long = f"17{time.time_ns() % 10**14:014d}.000001", "X" * 70
    assert store.claim_event(f"EvLONG{os.getpid()}", "C1", thread, [too_long, "INT771"]) == [too_long, "INT771"]
    assert not store.degraded and "StringDataRightTruncation" in caplog.text
    store._remembered_into(store._store)
    assert store.thread_entries("C1", thread) == ["INT771"] and not store.degraded
    assert "the database refused 1 of the" in caplog.text


def test_what_was_kept_while_recovering_is_written_by_the_next_call(tmp_path):
    store = resilient.ResilientStore(f"sqlite:///{tmp_path / 'fixit.db'}")
    vote = lambda s: s.record_feedback("INT771", "U1", "C1", "1.1", "up")  # noqa: E731
    store._keep("feedback", vote)          # as a call that found the store still recovering would
    assert store.thread_entries("C1", "1.1") == []
    assert store.feedback_for("INT771") == {"up": 1} and not store._pending


def test_a_notice_another_instance_gave_is_not_remembered_as_this_ones(tmp_path):
    url = f"sqlite:///{tmp_path / 'fixit.db'}"
    first, second = resilient.ResilientStore(url), resilient.ResilientStore(url)
    assert first.notify_once("escalated:C1:1.1") is True
    assert second.notify_once("escalated:C1:1.1") is False
    first.forget_notice("escalated:C1:1.1")                  # the escalation could not be posted
    second._remembered_into(second._store)                   # what a recovery of the second writes
    assert first.notify_once("escalated:C1:1.1") is True


def test_the_notices_remembered_are_bounded_too(tmp_path, monkeypatch):
    monkeypatch.setattr(resilient, "MAX_REMEMBERED", 3)
    store = resilient.ResilientStore(f"sqlite:///{tmp_path / 'not-yet' / 'fixit.db'}")
    for n in range(10):
        assert store.notify_once(f"escalated:C1:{n}") is True
    assert len(store._notices) == 3
    assert store.notify_once("escalated:C1:9") is False and store.notify_once("escalated:C1:0") is True


def test_a_read_only_database_at_start_still_answers(fake, tmp_path):
    db = tmp_path / "fixit.db"
    served(fake, f"sqlite:///{db}").close()           # create it
    server = served(fake, f"sqlite:///file:{db}?mode=ro&uri=true")
    try:
        SlackSender(server.url).event(message(INT771, ts="1700030100.000001"), event_id="EvRO1")
        (post,) = fake.wait_for("chat.postMessage")
        assert post.args["thread_ts"] == "1700030100.000001"
        assert server.runtime.store.degraded
    finally:
        server.close()


def test_a_sqlite_file_deleted_while_running_is_noticed_and_said(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    db = tmp_path / "fixit.db"
    server = served(fake, f"sqlite:///{db}")
    try:
        sender = SlackSender(server.url)
        event = message(INT771, ts="1700030200.000001")
        sender.event(event, event_id="EvDEL1")
        fake.wait_for("chat.postMessage")
        os.remove(db)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(f"{db}{suffix}"):
                os.remove(f"{db}{suffix}")
        store = server.runtime.store
        eventually(lambda: store.first_delivery(f"probe-{os.urandom(4).hex()}") and db.exists(), timeout=10)
        assert "deleted or replaced" in caplog.text
        # the new file knows the event this process answered: a retry after a restart is still refused
        assert store.first_delivery("EvDEL1") is False
        sender.event(event, event_id="EvDEL1", retry_num=1)
        fake.settle(0.5)
        assert len(fake.of("chat.postMessage")) == 1
    finally:
        server.close()


def test_postgresql_unreachable_at_start_still_answers(fake):
    if not os.environ.get("FIXIT_TEST_POSTGRES_URL"):
        pytest.skip("set FIXIT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL when it can)")
    server = served(fake, "postgresql+psycopg://postgres@127.0.0.1:1/fixit?connect_timeout=1")
    try:
        SlackSender(server.url).event(message(INT771, ts="1700030300.000001"), event_id="EvPG1")
        (post,) = fake.wait_for("chat.postMessage", timeout=15)
        assert post.args["thread_ts"] == "1700030300.000001"
    finally:
        server.close()


class TcpProxy(RawServer):
    """127.0.0.1 → the test PostgreSQL, which the test can cut (as if the server stopped) and restore."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target, self.up, self.open = target, True, []
        super().__init__()

    def connection(self, client) -> None:
        if not self.up:
            client.close()
            return
        server = socket.create_connection(self.target)
        self.open += [client, server]
        for a, b in ((client, server), (server, client)):
            threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(source, sink) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for s in (source, sink):
                try:
                    s.close()
                except OSError:
                    pass

    def cut(self) -> None:
        self.up = False
        for s in self.open:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.open.clear()

    def restore(self) -> None:
        self.up = True

    def close(self) -> None:
        self.cut()
        super().close()


def test_postgresql_stopping_while_running_loses_nothing(fake, caplog):
    url = os.environ.get("FIXIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set FIXIT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL when it can)")
    from sqlalchemy.engine import make_url

    real = make_url(url)
    proxy = TcpProxy((real.host or "127.0.0.1", real.port or 5432))
    server = served(fake, real.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
    caplog.set_level(logging.WARNING)
    run = f"17{int(time.time()) % 100_000_000:08d}"   # this database outlives the test: threads of this run only
    try:
        sender = SlackSender(server.url)
        sender.event(message(INT771, ts=f"{run}.000001"), event_id=f"EvPGUP{os.getpid()}")
        fake.wait_for("chat.postMessage")
        proxy.cut()                                   # PostgreSQL "stops"
        fake.reset()
        event = message(INT771, ts=f"{run}.000002")
        for retry in (None, 1):
            sender.event(event, event_id=f"EvPGDOWN{os.getpid()}", retry_num=retry)
        (post,) = fake.wait_for("chat.postMessage", timeout=15)
        voter = f"UPG{os.getpid()}{os.urandom(2).hex()}"
        sender.click(HELPFUL, Where("C0001", f"{run}.000002").value("INT771"), fake.response_url("pg"),
                     user=voter)
        fake.wait_for("response_url", timeout=15)
        fake.settle(0.5)
        assert len(fake.of("chat.postMessage")) == 1 and post.args["thread_ts"] == f"{run}.000002"
        assert f"EvPGDOWN{os.getpid()}" in caplog.text
        proxy.restore()                               # and comes back
        store = server.runtime.store
        eventually(lambda: store.first_delivery(f"probe-{os.urandom(4).hex()}") and not store.degraded, timeout=15)
        assert store.thread_entries("C0001", f"{run}.000002") == ["INT771"]
        from sqlalchemy import select

        from bot.store import feedback
        with store.engine.connect() as conn:
            votes = conn.execute(select(feedback.c.vote).where(feedback.c.user_id == voter)).all()
        assert [v[0] for v in votes] == ["up"]     # kept while PostgreSQL was away, written when it was back
    finally:
        server.close()
        proxy.close()


def test_what_the_process_remembers_is_bounded_and_keeps_the_latest(fake, tmp_path, monkeypatch):
    """The memory that answers while the database is down holds the last MAX_REMEMBERED events and threads,
    not every event since start: the latest retries are still refused, the oldest is forgotten."""
    monkeypatch.setattr(resilient, "MAX_REMEMBERED", 20)
    server = served(fake, f"sqlite:///{tmp_path / 'not-yet' / 'fixit.db'}")
    try:
        sender = SlackSender(server.url)
        events = [message(INT771, ts=f"1700031000.{n:06d}") for n in range(60)]
        for n, event in enumerate(events):
            assert sender.event(event, event_id=f"EvBOUND{n}")[0] == 200
        fake.wait_for("chat.postMessage", 60)
        store = server.runtime.store
        assert len(store._seen) <= 20 and len(store._claims) <= 20
        for retry in (57, 58, 59):               # the latest: refused from memory
            assert sender.event(events[retry], event_id=f"EvBOUND{retry}", retry_num=1)[0] == 200
        fake.settle(0.5)
        assert len(fake.of("chat.postMessage")) == 60
        assert sender.event(events[0], event_id="EvBOUND0", retry_num=1)[0] == 200   # past the bound
        fake.wait_for("chat.postMessage", 61)
    finally:
        server.close()
