"""Freshness: `kb stats` lists the entries nobody has reviewed for more than N days (no
`reviewed:` counts as never), the most answered first, with the answer counts from the store; without a store
it lists them without counts and says so in one line."""

from __future__ import annotations

import datetime

from conftest import cli_env, run_cli, with_line, write_entry
from slack_harness import free_port

from bot.store import Store

TODAY = datetime.date.today()
OLD = (TODAY - datetime.timedelta(days=800)).isoformat()
LAST_YEAR = (TODAY - datetime.timedelta(days=400)).isoformat()
RECENT = (TODAY - datetime.timedelta(days=30)).isoformat()


def kb_of(tmp_path, good_entry):
    kb = tmp_path / "knowledge"
    for n, (code, reviewed) in enumerate([("INT901", OLD), ("INT902", None), ("INT903", RECENT),
                                          ("INT904", LAST_YEAR), ("INT905", None)]):
        text = good_entry(code, f"The gizmo number {'abcde'[n]} jammed the sprocket in Sage Intacct.")
        if reviewed:
            text = with_line(text, f"reviewed: {reviewed}")
        write_entry(kb, f"sage-intacct/{code}.yaml", text)
    return kb


def stats(kb, database_url: str, *args: str) -> tuple[int, list[str], str]:
    done = run_cli("kb", "stats", "--kb", str(kb), *args, env=cli_env(FIXIT_DATABASE_URL=database_url))
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    out = done.stdout.decode().splitlines()
    start = next(i for i, line in enumerate(out) if line.startswith("not reviewed for more than"))
    return done.returncode, out[start:], done.stderr.decode()


def test_stale_entries_most_answered_first_with_counts_from_the_store(tmp_path, good_entry):
    kb = kb_of(tmp_path, good_entry)
    db = tmp_path / "fixit.db"
    store = Store(f"sqlite:///{db}")
    for thread, entry in enumerate(["INT905", "INT905", "INT905", "INT901", "INT903", "INT903", "INT903", "INT903"]):
        assert store.claim_answer("C0123", f"1700000000.{thread:06d}", entry, team="T1")
    assert not store.claim_answer("C0123", "1700000000.000000", "INT905", team="T1")  # the same thread: once
    store.engine.dispose()

    status, out, _ = stats(kb, f"sqlite:///{db}")
    assert status == 0
    assert out == [
        "not reviewed for more than 365 days: 4 of 5 (most answered first, answers in those days)",
        "       3  INT905  never reviewed",
        f"       1  INT901  reviewed {OLD}",
        "       0  INT902  never reviewed",
        f"       0  INT904  reviewed {LAST_YEAR}",
    ]  # INT903, reviewed a month ago, is not due (however often it answers)

    status, out, _ = stats(kb, f"sqlite:///{db}", "--stale-days", "7")
    assert out[0].startswith("not reviewed for more than 7 days: 5 of 5") and out[1] == "       4  INT903  " \
        f"reviewed {RECENT}"
    status, out, _ = stats(kb, f"sqlite:///{db}", "--stale-days", "1000")
    assert out == ["not reviewed for more than 1000 days: 2 of 5 (most answered first, answers in those days)",
                   "       3  INT905  never reviewed", "       0  INT902  never reviewed"]


def test_without_a_store_they_are_listed_without_counts_and_it_says_so(tmp_path, good_entry):
    kb = kb_of(tmp_path, good_entry)
    missing = tmp_path / "nowhere" / "fixit.db"
    status, out, _ = stats(kb, f"sqlite:///{missing}")
    assert status == 0
    assert out == [
        "not reviewed for more than 365 days: 4 of 5",
        f"answer counts unavailable (no store at {missing}: nothing was recorded there (FIXIT_DATABASE_URL names "
        f"the database the bot writes)): listed without them, oldest review first",
        "  INT902  never reviewed",
        "  INT905  never reviewed",
        f"  INT901  reviewed {OLD}",
        f"  INT904  reviewed {LAST_YEAR}",
    ]
    assert not missing.parent.exists()  # reading the counts creates no database

    # a server that does not answer (a port nothing listens on): the same, in one line
    port = free_port()
    status, out, _ = stats(kb, f"postgresql+psycopg://fixit:secret@127.0.0.1:{port}/fixit")
    assert status == 0 and len(out) == 6
    assert out[1].startswith(f"answer counts unavailable (the store at postgresql+psycopg://fixit:***@127.0.0.1:"
                             f"{port}/fixit cannot be read: OperationalError") and "secret" not in out[1]
    assert out[1].endswith("): listed without them, oldest review first")


def test_stale_days_must_not_be_negative(tmp_path, good_entry):
    kb = kb_of(tmp_path, good_entry)
    done = run_cli("kb", "stats", "--kb", str(kb), "--stale-days", "-1", env=cli_env())
    assert done.returncode == 2 and done.stderr.decode().splitlines() == ["fixit: --stale-days must be 0 or more"]
