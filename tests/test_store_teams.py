"""The store keyed by team: a database made before teams were recorded is upgraded in place, each team's
statistics and channel modes are its own, and forgetting a team deletes only its rows. SQLite, and
PostgreSQL when .ci/run can start one."""

from __future__ import annotations

import os
import sqlite3
import uuid

import pytest

from bot.store import Store

URLS = ["sqlite"] + (["postgresql"] if os.environ.get("FIXIT_TEST_POSTGRES_URL") else [])


@pytest.fixture(params=URLS)
def store(request, tmp_path):
    if request.param == "sqlite":
        return Store(f"sqlite:///{tmp_path / 'fixit.db'}")
    store = Store(os.environ["FIXIT_TEST_POSTGRES_URL"])
    for team in ("T0A", "T0B"):
        store.forget_team(team)
    return store


def test_a_database_from_before_teams_is_upgraded_and_its_rows_count_for_every_team(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:   # the tables as the store made them before it kept teams
        old.execute("CREATE TABLE thread_answers (channel VARCHAR(64), thread_ts VARCHAR(64), entry_id VARCHAR(64), "
                    "answered_at FLOAT NOT NULL, PRIMARY KEY (channel, thread_ts, entry_id))")
        old.execute("CREATE TABLE feedback (id INTEGER PRIMARY KEY, entry_id VARCHAR(64) NOT NULL, user_id VARCHAR(64) "
                    "NOT NULL, channel VARCHAR(64) NOT NULL, thread_ts VARCHAR(64) NOT NULL, vote VARCHAR(8) NOT NULL, "
                    "at FLOAT NOT NULL)")
        old.execute("CREATE TABLE unmatched_pastes (id INTEGER PRIMARY KEY, text VARCHAR(500) NOT NULL, channel "
                    "VARCHAR(64) NOT NULL, at FLOAT NOT NULL)")
        old.execute("INSERT INTO thread_answers VALUES ('C1', '1.1', 'INT771', strftime('%s','now'))")
        old.execute("INSERT INTO unmatched_pastes (text, channel, at) VALUES ('x', 'C1', strftime('%s','now'))")
    store = Store(f"sqlite:///{path}")
    assert store.most_answered(team="T0A") == [("INT771", 1)] == store.most_answered(team="T0B")
    assert store.unmatched_count(team="T0A") == 1
    assert store.claim_answer("C1", "1.2", "INT771", team="T0A")
    assert store.most_answered(team="T0A") == [("INT771", 2)] and store.most_answered(team="T0B") == [("INT771", 1)]


def test_each_team_has_its_own_statistics_modes_and_forgetting(store):
    thread = uuid.uuid4().hex
    before = (store.most_answered(team="T0B"), store.unmatched_count(team="T0B"))   # rows from before teams
    votes = store.feedback_for("INT771", team="T0B")
    store.claim_event(f"Ev{thread}", "C1", thread, ["INT771"], team="T0A")
    store.record_feedback("INT771", "U1", "C1", thread, "down", team="T0A")
    store.record_unmatched("nothing like it", "C1", team="T0A")
    store.set_channel_mode("T0A", "C1", "off", "UADMIN")
    store.set_channel_mode("T0A", "C1", "mention-only", "UADMIN")   # set again: replaced
    assert dict(store.most_answered(team="T0A"))["INT771"] > dict(before[0]).get("INT771", 0)
    assert (store.most_answered(team="T0B"), store.unmatched_count(team="T0B")) == before
    assert store.feedback_for("INT771", team="T0A") == {**votes, "down": votes.get("down", 0) + 1}
    assert store.feedback_for("INT771", team="T0B") == votes
    assert store.unmatched_count(team="T0A") == before[1] + 1
    assert store.channel_modes_of("T0A") == {"C1": "mention-only"} and store.channel_modes_of("T0B") == {}
    store.forget_team("T0A")
    assert store.channel_modes_of("T0A") == {} and store.feedback_for("INT771", team="T0A") == votes
    assert store.most_answered(team="T0A") == before[0]


def test_a_mode_that_could_not_be_stored_is_not_applied(tmp_path):
    from bot.store.resilient import ResilientStore

    store = ResilientStore(f"sqlite:///{tmp_path / 'not-yet' / 'fixit.db'}")   # its folder is missing: down
    assert store.set_channel_mode("T0A", "C1", "off", "UADMIN") is False
    assert store.channel_modes_of("T0A") == {}
