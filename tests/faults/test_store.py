"""A failing store never silences the bot, through the served app and a real SQLite (and PostgreSQL when CI
has one): answers go out, a Slack retry is still answered once, feedback waits for the database, every
degraded call is logged with its event id, and the store comes back by itself."""

from __future__ import annotations

import logging
import os

import pytest
from slack_harness import SECRET, FakeSlack, FixitServer, SlackSender, eventually, message

from bot.answer import Where
from bot.settings import Settings
from bot.slack.app import build_runtime
from bot.slack.cards import HELPFUL
from bot.store import resilient

INT771 = "INT771 Export Error: Export not completed. The batches for this reporting period are closed in Sage Intacct."


@pytest.fixture
def fake():
    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    monkeypatch.setattr(resilient, "RETRY_SECONDS", 0.2)


def serve(fake, url):
    settings = Settings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.api_url, database_url=url)
    return FixitServer(build_runtime(settings, watch=False))


def test_a_database_that_cannot_be_opened_at_start_still_answers_once_per_event(fake, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    missing = tmp_path / "not-yet" / "fixit.db"      # its folder does not exist: SQLite cannot open it
    server = serve(fake, f"sqlite:///{missing}")
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


def test_a_read_only_database_at_start_still_answers(fake, tmp_path):
    db = tmp_path / "fixit.db"
    serve(fake, f"sqlite:///{db}").close()           # create it
    server = serve(fake, f"sqlite:///file:{db}?mode=ro&uri=true")
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
    server = serve(fake, f"sqlite:///{db}")
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
    server = serve(fake, "postgresql+psycopg://postgres@127.0.0.1:1/fixit?connect_timeout=1")
    try:
        SlackSender(server.url).event(message(INT771, ts="1700030300.000001"), event_id="EvPG1")
        (post,) = fake.wait_for("chat.postMessage", timeout=15)
        assert post.args["thread_ts"] == "1700030300.000001"
    finally:
        server.close()
