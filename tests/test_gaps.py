"""`kb gaps`: unmatched pastes of one error in one cluster, unknown codes counted, "Not it" votes per entry,
the window and the team kept to; a real SQLite file, the real KB, the CLI as a user runs it."""

from __future__ import annotations

import json
import subprocess
import time

import pytest
from conftest import cli_env, run_cli
from sqlalchemy import insert

from bot.authoring import gaps as gaps_module
from bot.authoring.gaps import UnknownCode, knowledge_gaps
from bot.match.normalize import normalize
from bot.store import Store, feedback, unmatched
from bot.store.resilient import ResilientStore

# One NetSuite error with a code no entry has, pasted five ways: other ids, dates and amounts, another
# case, cut off, inside chatter.
ELIMINATION = [
    "NS9917 Export Error: Intercompany elimination journal JE-88213 for report R00412 could not be posted "
    "because the elimination subsidiary is locked for period Mar 2026.",
    "ns9917 export error: intercompany elimination journal je-90001 for report r00977 could not be posted "
    "because the elimination subsidiary is locked for period apr 2026.",
    "NS9917 Export Error: Intercompany elimination journal JE-11111 for report R00500 could not be posted "
    "because the elimin",
    "hey team, anyone seen this before? we get it on every export since Monday:\n> NS9917 Export Error: "
    "Intercompany elimination journal JE-7 for report R00600 could not be posted because the elimination "
    "subsidiary is locked for period May 2026.\nthanks!",
    "NS9917 Export Error: Intercompany elimination journal JE-88213 ($1,204.55, 2026-03-28) for report R00412 "
    "could not be posted because the elimination subsidiary is locked for period Mar 2026.",
]
# A different error in the same frame ("Intercompany … journal … could not be posted because"), no code.
REVALUATION = [
    "Export Error: Intercompany revaluation journal JE-4411 for report R00412 could not be posted because the "
    "exchange rate table for EUR is missing for Mar 2026.",
    "export error: intercompany revaluation journal JE-5120 for report R00413 could not be posted because the "
    "exchange rate table for GBP is missing for Apr 2026.",
]
# No code at all: only the wording ties these together.
APPROVAL = [
    "Export failed: the approval workflow 'Finance L2' rejected report R00412 because the approver "
    "alice@example.com is out of office until 04/15/2026",
    "EXPORT FAILED: THE APPROVAL WORKFLOW 'Finance L3' REJECTED REPORT R00999 BECAUSE THE APPROVER bob@corp.io "
    "IS OUT OF OFFICE UNTIL 05/01/2026",
    "any idea? Export failed: the approval workflow 'AP' rejected report R7 because the approver carol@x.com is "
    "out of office until 06/02/2026 :(",
]
# Close to XERO78 ("Expense … has an invalid category or tag"), with a code of its own the KB lacks.
TRACKING = [
    "XERO97 Export Error: Tracking category 'Region' option 'EMEA-North' was archived in Xero on 2026-02-11; "
    "report R0099 cannot be exported.",
    "XERO97 Export Error: Tracking category 'Cost Centre' option 'CC-14' was archived in Xero on 2026-03-02; "
    "report R0123 cannot be exported.",
]
ERRORS = {"elimination": ELIMINATION, "revaluation": REVALUATION, "approval": APPROVAL, "tracking": TRACKING}
DAY = 86400


def stored(text: str, shape: str) -> str:
    """What the store holds: the paste as the answerer records it (normalised: codes masked), or as written."""
    return normalize(text) if shape == "normalised" else text


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'fixit.db'}"
    store = Store(url)
    yield url, store
    store.engine.dispose()


def write_row(store: Store, text: str, at: float, channel: str = "C1", team: str = "") -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(unmatched).values(text=text[:500], channel=channel, at=at, team_id=team))


def write_vote(store: Store, entry_id: str, vote: str, at: float, thread: str = "1.1", team: str = "") -> None:
    with store.engine.begin() as conn:
        conn.execute(insert(feedback).values(entry_id=entry_id, user_id="U1", channel="C1", thread_ts=thread,
                                             vote=vote, at=at, team_id=team))


def cluster_with(gaps, text: str):
    """The cluster one of whose samples is `text` (the first sample is the cluster's shortest text)."""
    found = [c for c in gaps.clusters if text in c.samples]
    assert len(found) == 1, (text, gaps.clusters)
    return found[0]


@pytest.mark.parametrize("shape", ["as written", "normalised"])
def test_shapes_of_one_error_are_one_cluster_and_errors_apart(db, kb, matcher, shape):
    _, store = db
    day_before = time.strftime("%Y-%m-%d", time.gmtime())
    for texts in ERRORS.values():
        for text in texts:
            store.record_unmatched(stored(text, shape), "C1")
    gaps = knowledge_gaps(store, kb, matcher)
    days = {day_before, time.strftime("%Y-%m-%d", time.gmtime())}   # the run may cross midnight UTC
    assert sorted(c.count for c in gaps.clusters) == sorted(len(t) for t in ERRORS.values())
    assert [c.count for c in gaps.clusters] == [5, 3, 2, 2]  # most pasted first
    # each error's shortest shape is a sample of its one cluster, beside another wording of it
    for texts in ERRORS.values():
        shortest = sorted({stored(t, shape) for t in texts}, key=lambda t: (len(t), t))
        samples = cluster_with(gaps, shortest[0]).samples
        assert samples[0] == shortest[0] and samples[1] in shortest[1:]
    elimination = cluster_with(gaps, stored(ELIMINATION[2], shape))
    assert elimination.count == 5 and elimination.channels == 1
    assert elimination.first_seen == elimination.last_seen and elimination.last_seen in days
    if shape == "as written":
        assert elimination.codes == elimination.unknown_codes == ["NS9917"]
        assert cluster_with(gaps, TRACKING[0]).codes == ["XERO97"]
    else:
        assert elimination.codes == []  # what the answerer records today masks the codes
    tracking = cluster_with(gaps, sorted(stored(t, shape) for t in TRACKING)[0])
    assert tracking.closest.id == "XERO78" and tracking.closest.how in ("suggests", "answers")
    assert tracking.closest.message.startswith("XERO78 Export Error")
    assert all(c.closest is not None and c.closest.score > 0 for c in gaps.clusters)


def test_the_same_words_with_another_unknown_code_are_another_error(db, kb, matcher):
    _, store = db
    store.record_unmatched(ELIMINATION[0], "C1")
    store.record_unmatched(ELIMINATION[0].replace("NS9917", "NS9918"), "C1")
    store.record_unmatched(normalize(ELIMINATION[1]), "C1")  # no code left: joins one of them
    gaps = knowledge_gaps(store, kb, matcher)
    assert sorted(c.count for c in gaps.clusters) == [1, 2]
    assert sorted(c.unknown_codes for c in gaps.clusters) == [["NS9917"], ["NS9918"]]


def test_unknown_codes_are_listed_with_their_counts(db, kb, matcher):
    _, store = db
    for text in ELIMINATION + TRACKING:
        store.record_unmatched(text, "C1")
    store.record_unmatched("NS0079 happened again but it is about the vendor bill this time, not the period", "C1")
    store.record_unmatched(normalize(ELIMINATION[0]), "C1")  # masked: names no code
    gaps = knowledge_gaps(store, kb, matcher)
    assert gaps.unknown_codes == [UnknownCode("NS9917", 5, "NetSuite"), UnknownCode("XERO97", 2, "Xero")]
    assert any(c.codes == ["NS0079"] and c.unknown_codes == [] for c in gaps.clusters)  # known: not listed


def test_votes_down_are_grouped_per_entry(db, kb, matcher):
    _, store = db
    for thread in ("1.1", "1.2", "1.3"):
        store.record_feedback("NS0079", "U1", "C1", thread, "down")
    store.record_feedback("NS0079", "U2", "C1", "1.1", "up")
    store.record_feedback("XERO78", "U1", "C1", "2.1", "down")
    store.record_feedback("NS0012", "U1", "C1", "3.1", "up")  # only helpful: no gap
    gaps = knowledge_gaps(store, kb, matcher)
    assert [(v.entry_id, v.down, v.up) for v in gaps.voted_down] == [("NS0079", 3, 1), ("XERO78", 1, 0)]
    assert gaps.voted_down[0].title == kb.get("NS0079").title
    assert gaps.clusters == [] and gaps.pastes == 0


def test_days_leave_older_rows_out(db, kb, matcher):
    _, store = db
    now = time.time()
    for n, text in enumerate(APPROVAL):
        write_row(store, text, now - (n + 1) * DAY)
    write_row(store, APPROVAL[0], now - 40 * DAY)
    write_row(store, TRACKING[0], now - 40 * DAY)
    write_vote(store, "NS0079", "down", now - 2 * DAY)
    write_vote(store, "NS0079", "down", now - 40 * DAY)
    recent = knowledge_gaps(store, kb, matcher, days=30)
    assert [c.count for c in recent.clusters] == [3] and recent.pastes == 3
    assert recent.clusters[0].first_seen == time.strftime("%Y-%m-%d", time.gmtime(now - 3 * DAY))
    assert recent.clusters[0].last_seen == time.strftime("%Y-%m-%d", time.gmtime(now - DAY))
    assert [(v.entry_id, v.down) for v in recent.voted_down] == [("NS0079", 1)]
    assert recent.unknown_codes == []
    two_days = knowledge_gaps(store, kb, matcher, days=2)
    assert [c.count for c in two_days.clusters] == [1]
    older = knowledge_gaps(store, kb, matcher, days=60)
    assert sorted(c.count for c in older.clusters) == [1, 4] and older.unknown_codes[0].code == "XERO97"
    assert [(v.entry_id, v.down) for v in older.voted_down] == [("NS0079", 2)]


def test_teams_are_kept_apart(db, kb, matcher):
    _, store = db
    for text in ELIMINATION:
        store.record_unmatched(text, "C1", team="T1")
    for text in APPROVAL:
        store.record_unmatched(text, "C9", team="T2")
    store.record_feedback("NS0079", "U1", "C1", "1.1", "down", team="T1")
    store.record_feedback("XERO78", "U1", "C9", "1.1", "down", team="T2")
    t1 = knowledge_gaps(store, kb, matcher, team="T1")
    assert [c.count for c in t1.clusters] == [5] and [u.code for u in t1.unknown_codes] == ["NS9917"]
    assert [v.entry_id for v in t1.voted_down] == ["NS0079"]
    t2 = knowledge_gaps(store, kb, matcher, team="T2")
    assert [c.count for c in t2.clusters] == [3] and t2.unknown_codes == []
    assert [v.entry_id for v in t2.voted_down] == ["XERO78"]
    everyone = knowledge_gaps(store, kb, matcher)
    assert [c.count for c in everyone.clusters] == [5, 3]


def test_pastes_are_capped_to_the_newest(db, kb, matcher, monkeypatch):
    _, store = db
    now = time.time()
    for n, text in enumerate(ELIMINATION):
        write_row(store, text, now - (5 - n) * 60)
    monkeypatch.setattr(gaps_module, "MAX_PASTES", 3)
    gaps = knowledge_gaps(store, kb, matcher)
    assert (gaps.pastes, gaps.read, gaps.clusters[0].count) == (5, 3, 3)
    assert ELIMINATION[2] in gaps.clusters[0].samples  # the newest three: 3rd, 4th and 5th


def test_the_resilient_store_reads_the_same_and_nothing_while_down(db, kb, matcher, tmp_path):
    url, store = db
    for text in ELIMINATION:
        store.record_unmatched(text, "C1")
    store.record_feedback("NS0079", "U1", "C1", "1.1", "down")
    resilient = ResilientStore(url)
    assert knowledge_gaps(resilient, kb, matcher) == knowledge_gaps(store, kb, matcher)
    down = ResilientStore(f"sqlite:///{tmp_path / 'no such folder' / 'fixit.db'}")
    empty = knowledge_gaps(down, kb, matcher)
    assert (empty.clusters, empty.voted_down, empty.pastes) == ([], [], 0)


# -- the command line --

def gaps_cli(url: str, *args: str) -> subprocess.CompletedProcess:
    done = run_cli("kb", "gaps", *args, env=cli_env(FIXIT_DATABASE_URL=url))
    return subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode(), done.stderr.decode())


def test_the_cli_prints_the_clusters_and_the_same_as_json(db, kb, matcher):
    url, store = db
    for texts in ERRORS.values():
        for text in texts:
            store.record_unmatched(text, "C1", team="T1")
    store.record_unmatched(APPROVAL[0], "C2", team="T2")
    for thread in ("1.1", "1.2"):
        store.record_feedback("NS0079", "U1", "C1", thread, "down", team="T1")
    text = gaps_cli(url, "--team", "T1")
    assert text.returncode == 0, text.stderr
    out = text.stdout
    assert "12 unmatched pastes in 4 clusters" in out and "team T1" in out
    assert out.index("1. 5 pastes") < out.index("2. 3 pastes") < out.index("3. 2 pastes")
    assert "codes: NS9917 (unknown)" in out and "closest: XERO78" in out
    assert "NS9917" in out.split("Unknown codes:")[1]
    assert "answered NS0079" in out and "voted Not it 2 times" in out

    as_json = gaps_cli(url, "--team", "T1", "--json")
    assert as_json.returncode == 0, as_json.stderr
    data = json.loads(as_json.stdout)
    expected = knowledge_gaps(store, kb, matcher, team="T1").to_dict()
    assert data == json.loads(json.dumps(expected))
    assert [c["count"] for c in data["clusters"]] == [5, 3, 2, 2]
    assert data["unknown_codes"][0] == {"code": "NS9917", "count": 5, "system": "NetSuite"}
    assert data["voted_down"][0]["entry_id"] == "NS0079" and data["voted_down"][0]["down"] == 2

    everyone = json.loads(gaps_cli(url, "--json").stdout)
    assert everyone["pastes"] == 13 and everyone["clusters"][1]["count"] == 4


def test_an_unreachable_store_is_one_line_and_exit_2(tmp_path):
    missing = tmp_path / "nowhere" / "fixit.db"
    result = gaps_cli(f"sqlite:///{missing}")
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("fixit: no store at ")
    assert not missing.parent.exists()  # nothing created
    garbage = tmp_path / "fixit.db"
    garbage.write_bytes(b"not a database at all" * 100)
    result = gaps_cli(f"sqlite:///{garbage}")
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "cannot be read" in result.stderr
    result = gaps_cli(f"sqlite:///{garbage}", "--days", "0")
    assert result.returncode == 2 and "--days" in result.stderr


def test_pastes_recorded_by_the_answer_layer_keep_their_codes_for_the_gaps(db, kb, matcher):
    """Through the real path: @Fixit with pastes nobody can answer, recorded by the answer layer (masked
    wording, the codes kept in front), then clustered: one error, its unknown code counted."""
    from bot.answer import Answerer, Message
    from bot.pipeline import Fixit
    from bot.settings import Settings

    _, store = db
    answerer = Answerer(lambda: Fixit(kb), store, Settings())
    for n, text in enumerate(ELIMINATION):
        answerer.mention(Message(text, "C1", f"1.{n}", user="U1", event_id=f"Ev{n}", team="T1"))
    assert all(text.startswith("NS9917 ") for text in store.unmatched_texts())
    gaps = knowledge_gaps(store, kb, matcher, days=1)
    (cluster,) = gaps.clusters
    assert cluster.count == len(ELIMINATION) and cluster.codes == ["NS9917"]
    assert [(u.code, u.count) for u in gaps.unknown_codes] == [("NS9917", len(ELIMINATION))]
