"""Claims on SQLite: the waiting ones committed together; the WAL checkpointed on a thread of its own. Real
database files throughout."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time

import pytest
from slack_harness import eventually

from bot.store import CHECKPOINT_EVERY, Store


def claim_while_the_database_is_held(store: Store, claims: list) -> list:
    """Make the first claim in `claims` (callables) while this thread holds the store's write lock, then start
    the others, each on its own thread, let go once all of them are waiting, and return their outcomes (a
    value or the error raised) in order."""
    outcomes: list = [None] * len(claims)

    def claim(n: int) -> None:
        try:
            outcomes[n] = claims[n]()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            outcomes[n] = error

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(len(claims))]
    group = store._group_commit
    with store._write_lock:
        threads[0].start()  # it leads: takes its claim and waits for the database
        eventually(lambda: group._leading.locked() and group._waiting.empty())
        for thread in threads[1:]:
            thread.start()
        eventually(lambda: group._waiting.qsize() == len(claims) - 1)  # they wait for the leader
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_claims_waiting_together_are_committed_in_one_transaction_each_claimed_once(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    assert store.claim_event("Ev0", "C1", "1.1", ["INT771"]) == ["INT771"]
    before = store._group_commit.commits
    # two deliveries of one event, two events of one thread naming one entry, and other threads
    claims = [lambda: store.claim_event("Ev1", "C1", "2.2", ["INT771", "NS0012"]),
              lambda: store.claim_event("Ev1", "C1", "2.2", ["INT771", "NS0012"]),
              lambda: store.claim_event("Ev2", "C1", "2.2", ["NS0012", "XERO68"]),
              lambda: store.claim_event("Ev3", "C1", "1.1", ["INT771"])]
    claims += [lambda n=n: store.claim_event(f"Ev{n}", f"C{n}", "3.3", ["INT771"]) for n in range(10, 22)]
    outcomes = claim_while_the_database_is_held(store, claims)
    first, retry = sorted(outcomes[:2], key=lambda outcome: outcome is None)
    assert first == ["INT771", "NS0012"] and retry is None
    assert outcomes[2] == ["XERO68"]
    assert outcomes[3] == []  # answered in that thread before
    assert outcomes[4:] == [["INT771"]] * 12
    assert store._group_commit.commits - before == 2  # the first claim alone, then the fifteen that waited
    # committed: another connection sees them
    reader = sqlite3.connect(tmp_path / "c.db")
    assert reader.execute("SELECT count(*) FROM thread_answers").fetchone()[0] == 1 + 3 + 12
    assert reader.execute("SELECT count(*) FROM processed_events").fetchone()[0] == 1 + 3 + 12


def test_a_claim_that_fails_fails_alone(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'f.db'}")

    def broken(cursor):
        cursor.execute("INSERT INTO processed_events (event_id, seen_at) VALUES ('EvBroken', 1)")
        raise ValueError("this claim cannot be made")

    claims = [lambda n=n: store.claim_event(f"Ev{n}", "C1", f"{n}.1", ["INT771"]) for n in range(6)]
    claims.insert(3, lambda: store._claim_transaction(broken))
    outcomes = claim_while_the_database_is_held(store, claims)
    assert isinstance(outcomes[3], ValueError) and "cannot be made" in str(outcomes[3])
    assert outcomes[:3] + outcomes[4:] == [["INT771"]] * 6
    reader = sqlite3.connect(tmp_path / "f.db")
    events = {row[0] for row in reader.execute("SELECT event_id FROM processed_events")}
    assert events == {f"Ev{n}" for n in range(6)}  # the broken claim's insert was rolled back
    assert store.claim_event("Ev9", "C1", "9.1", ["INT771"]) == ["INT771"]  # and claims go on


def test_claims_go_on_while_another_process_holds_the_database(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'h.db'}")
    other = sqlite3.connect(tmp_path / "h.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process's write transaction
    result: list = []
    claiming = threading.Thread(target=lambda: result.append(store.claim_event("Ev1", "C1", "1.1", ["INT771"])))
    claiming.start()
    time.sleep(0.2)
    assert result == []  # waiting for the file, not failed
    other.execute("INSERT INTO processed_events (event_id, seen_at) VALUES ('EvOther', 1)")
    other.execute("COMMIT")
    claiming.join(timeout=10)
    assert result == [["INT771"]]
    assert store.claim_event("EvOther", "C1", "1.1", ["INT772"]) is None  # the other process's claim counts


def test_the_wal_is_checkpointed_on_its_own_thread_and_stays_small(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    claims = 40 * CHECKPOINT_EVERY
    for n in range(claims):
        store.claim_event(f"Ev{n:06d}", f"C{n % 50}", f"1700000000.{n:06d}", ["INT771", "NS0012"])
    eventually(lambda: store._checkpointer.checkpoints >= 5)
    assert store._checkpointer._thread.name == "fixit-checkpoint"
    # far below what these claims write to a WAL nobody checkpoints, with room for a busy box, where the thread
    # checkpoints later than SQLite's 1 000 pages
    assert (tmp_path / "w.db-wal").stat().st_size < 12 * 1024 * 1024
    reader = sqlite3.connect(tmp_path / "w.db")
    assert reader.execute("SELECT count(*) FROM thread_answers").fetchone()[0] == 2 * claims


def test_a_failing_checkpoint_is_logged_and_claims_go_on(tmp_path, caplog):
    store = Store(f"sqlite:///{tmp_path / 'k.db'}")
    tries = []

    def cannot_connect():
        tries.append(1)
        raise sqlite3.OperationalError("unable to open database file")

    store._checkpointer._connect = cannot_connect
    with caplog.at_level(logging.WARNING, logger="fixit.store"):
        for n in range(3 * CHECKPOINT_EVERY):
            assert store.claim_event(f"Ev{n}", "C1", f"{n}.1", ["INT771"]) == ["INT771"]
        eventually(lambda: len(tries) >= 2)
    assert "WAL checkpoint failed" in caplog.text and "unable to open" in caplog.text


@pytest.mark.parametrize("claims", [1, 8])
def test_claims_from_many_threads_at_once(tmp_path, claims):
    """Many answering threads, no lock held by the test: every claim is made once, whatever the batches."""
    store = Store(f"sqlite:///{tmp_path / 'm.db'}")
    results: dict[int, list] = {}

    def answer(thread: int) -> None:
        results[thread] = [store.claim_event(f"Ev{n}", "C1", f"{n}.1", ["INT771"]) for n in range(200)]

    threads = [threading.Thread(target=answer, args=(thread,)) for thread in range(claims)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for n in range(200):
        outcomes = [results[thread][n] for thread in range(claims)]
        assert outcomes.count(["INT771"]) == 1 and outcomes.count(None) == claims - 1
