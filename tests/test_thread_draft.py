"""'Save as a KB draft' on a solved thread, for the knowledge base's keepers: a draft entry from the thread's
error and the replies that resolved it, written to FIXIT_DRAFTS_DIR and shown privately; `kb check` accepts
it (warning that it is a draft). Through the served app and the real CLI."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from conftest import KB_DIR, ROOT
from slack_harness import served

from bot.authoring.thread_draft import ThreadDraft, draft_from_thread, write_draft
from bot.slack.listeners.shortcuts import SAVE_DRAFT

KEEPER = "U0KEEPER"
THREAD = "1700120000.000001"
ERROR = ("<@U0FIXIT> NS9917 Export Error: Intercompany elimination journal JE-88213 for report R00412 could not be "
         "posted because the elimination subsidiary is locked for period Mar 2026.")
REPLIES = ["did you check the subsidiary?",
           "In NetSuite, go to *Setup > Accounting > Manage Accounting Periods* and unlock the period for the "
           "elimination subsidiary",
           "then export report R00412 again",
           "thanks, that did it"]


@pytest.fixture(scope="module")
def drafts(tmp_path_factory):
    return tmp_path_factory.mktemp("drafts")


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory, drafts):
    server = served(fake, f"sqlite:///{tmp_path_factory.mktemp('draftdb') / 'fixit.db'}",
                    kb_admins=frozenset({KEEPER}), drafts_dir=str(drafts))
    yield server
    server.close()


def shortcut(slack, fake, user: str, name: str) -> dict:
    fake.said("C0001", THREAD, ERROR)
    for n, text in enumerate(REPLIES, 2):
        fake.said("C0001", f"1700120000.00000{n}", text, user="U0HELPER", thread_ts=THREAD)
    slack.interactive({"type": "message_action", "callback_id": SAVE_DRAFT, "user": {"id": user},
                       "channel": {"id": "C0001", "name": "exports"}, "response_url": fake.response_url(name),
                       "message": {"type": "message", "user": "U0HELPER", "text": REPLIES[2],
                                   "ts": "1700120000.000004", "thread_ts": THREAD},
                       "message_ts": "1700120000.000004"})
    (reply,) = fake.wait_for("response_url")
    return reply.args


def test_a_keeper_saves_a_solved_thread_as_a_draft_that_kb_check_accepts(fake, slack, drafts, tmp_path):
    reply = shortcut(slack, fake, KEEPER, "d1")
    assert reply["response_type"] == "ephemeral" and "Saved a draft of *NS9917*" in reply["text"]
    (path,) = drafts.glob("NS9917*.yaml")
    text = path.read_text(encoding="utf-8")
    shown = "".join(b["text"]["text"] for b in reply["blocks"][1:]).replace("```", "")
    assert shown == text   # the keeper sees the file as written
    assert "draft: true" in text and "Manage Accounting Periods" in text and "report [report id]" in text
    assert "did you check" not in text and "that did it" not in text and "JE-88213" not in text
    kb = tmp_path / "kb"
    shutil.copytree(KB_DIR, kb)
    shutil.copy(path, kb / "netsuite" / "NS9917.yaml")
    done = subprocess.run([sys.executable, "-m", "bot", "kb", "check", "--kb", str(kb)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "NS9917" in done.stdout + done.stderr and "draft" in (done.stdout + done.stderr).lower()


def test_someone_else_cannot_save_drafts(fake, slack, drafts):
    before = set(drafts.iterdir())
    reply = shortcut(slack, fake, "U0SOMEONE", "d2")
    assert "keepers" in reply["text"] and set(drafts.iterdir()) == before


def test_a_system_named_with_punctuation_attached_is_the_drafts_system(kb, matcher):
    # no code, nothing the matcher knows: the system is the one the error names, "Xero:" as much as "Xero"
    for error, system in [("Upload halted, see Xero: widget ledger unknown to the gateway", "Xero"),
                          ("Upload halted (QuickBooks Desktop): widget ledger unknown to the gateway",
                           "QuickBooks Desktop"),
                          ("Upload halted, Sage Intacct: widget ledger unknown to the gateway", "Sage Intacct")]:
        assert draft_from_thread(kb, matcher, error, ["Re-save the ledger"]).system == system


def test_a_draft_never_replaces_another_keepers_draft(tmp_path):
    first, again = ThreadDraft("INT771", "sage_intacct", "id: INT771\n"), ThreadDraft("INT771", "x", "id: two\n")
    folder = tmp_path / "drafts" / "new"
    assert write_draft(folder, first) == folder / "INT771.yaml"
    assert write_draft(folder, again) == folder / "INT771-2.yaml"
    assert (folder / "INT771.yaml").read_text() == "id: INT771\n"
    assert (folder / "INT771-2.yaml").read_text() == "id: two\n"
    odd = write_draft(folder, ThreadDraft("../../etc/passwd", "x", "id: x\n"))
    assert odd.parent == folder and odd.name == "etc-passwd.yaml"  # a name, never a path
