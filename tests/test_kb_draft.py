"""Drafts: `draft_yaml` writes an entry the loader reads back to the same values, `placeholders`
writes a paste's varying parts the KB's way, a `draft: true` entry is checked like any entry but not served,
and `reviewed:` is a date kb check validates."""

from __future__ import annotations

import datetime
import shutil

import pytest
import yaml
from conftest import KB_DIR, run_cli, with_line, write_entry

from bot.authoring.draft import draft_yaml, example_pastes, fill_placeholders, placeholders
from bot.kb import load_knowledge_base
from bot.kb.loader import load_entry
from bot.kb.prose import fill
from bot.pipeline import Fixit

AWKWARD = {
    "title": 'INT990 "Export" Error: *bold* & more',
    "summary": "{Tool} could not post the report: the period's batches are closed — naïve café, 東京, "
               "a # that is no comment, and 'quotes' of both \"kinds\", long enough to be folded over lines.",
    "message": "INT990 Export Error: Export not completed: the batches for [date] are closed in Sage Intacct.",
    "causes": ["{tool} exports on the *Submitted date*.", "Key: value, said twice: really", "- not a list",
               "@mention, &anchor, `code`, !tag, %percent, | pipe, > quote"],
    "fixes": [("Switch the export date", ["In {tool}, go to *Settings > Workspaces*.", "Pick *Exported date*: save."]),
              ("Reopen the period", ["Ask the controller.", "Export again."], "A note: with a colon.")],
    "faq": [("Do I: need to reopen it?", "No — *switch* the date.\nA second paragraph."),
            ("Why {tool}?", "Because.", ["why does expensify do this", "is it always like this?"])],
    "links": [("INT990 Export Error", "https://help.example.com/articles/INT990?x=1&y=2")],
    "examples": ["INT990", "Export not completed: the batches for March 28 are closed in Sage Intacct.",
                 "> *INT990 Export Error*: Export not completed.\n<@U024BE7LH> any idea?", "yes", "null", "12"],
    "describes": ["intacct won't take it: the period's batches are closed"],
}


def test_draft_yaml_reads_back_to_the_same_values_whatever_the_text(tmp_path):
    text = draft_yaml("INT990", AWKWARD["title"], "Sage Intacct", "export", AWKWARD["summary"],
                      message=AWKWARD["message"], causes=AWKWARD["causes"], fixes=AWKWARD["fixes"],
                      faq=AWKWARD["faq"], links=AWKWARD["links"], examples=AWKWARD["examples"],
                      describes=AWKWARD["describes"])
    data = yaml.safe_load(text)
    assert data["draft"] is True and data["summary"] == AWKWARD["summary"] and data["causes"] == AWKWARD["causes"]
    assert data["examples"] == AWKWARD["examples"] and data["faq"][1]["also"] == AWKWARD["faq"][1][2]
    assert "  - title: Switch the export date\n    steps:\n      - In {tool}" in text  # the KB's layout
    assert "summary: >-\n" in text and max(map(len, text.splitlines())) < 200

    path = write_entry(tmp_path, "sage-intacct/INT990.yaml", text)
    systems = load_knowledge_base(KB_DIR)
    entry, problems = load_entry(path, (systems.systems, systems.codes), tmp_path, "Expensify")
    assert problems == [] and entry.draft
    assert entry.title == AWKWARD["title"] and entry.message == AWKWARD["message"]
    assert entry.summary == fill(AWKWARD["summary"], "Expensify").strip()
    assert entry.summary.startswith("Expensify could not post") and entry.causes[0].startswith("Expensify exports")
    assert [(f.title, f.steps, f.note) for f in entry.fixes] == [
        ("Switch the export date", ("In Expensify, go to *Settings > Workspaces*.", "Pick *Exported date*: save."),
         ""), ("Reopen the period", ("Ask the controller.", "Export again."), "A note: with a colon.")]
    assert [(x.q, x.a, x.also) for x in entry.faq] == [
        ("Do I: need to reopen it?", "No — *switch* the date.\nA second paragraph.", ()),
        ("Why Expensify?", "Because.", tuple(AWKWARD["faq"][1][2]))]
    assert [(x.title, x.url) for x in entry.links] == AWKWARD["links"]
    assert entry.examples == tuple(AWKWARD["examples"]) and entry.describes == tuple(AWKWARD["describes"])


def test_an_empty_describes_is_a_comment_saying_what_to_write():
    text = draft_yaml("INT990", "INT990 Export Error", "Sage Intacct", "export", "What it means.",
                      message="INT990 Export Error: No.", causes=["Why."], fixes=[("Fix", ["Step."])],
                      examples=["INT990", "No.", "> *INT990 Export Error*: No."])
    assert "describes" not in yaml.safe_load(text) and "\n# describes:\n#   - " in text
    assert "describes" not in draft_yaml("X-FAQ", "X FAQ", "Xero", "faq", "Questions.", faq=[("Q?", "A.")],
                                         examples=["a", "b", "c"])


@pytest.mark.parametrize(("paste", "written"), [
    ("Report R00123 failed on 03/28/2026 for jane.doe@acme.com ($1,284.50)",
     "Report [report id] failed on [date] for [email] ([amount])"),
    ("INT771 Export Error: the batches for Mar 28, 2026 are closed", "INT771 Export Error: the batches for [date] "
                                                                     "are closed"),
    ("The account 6120 isn't valid for vendor VEN-0042, error id 884213", "The account [account] isn't valid for "
                                                                          "vendor [vendor], error id [number]"),
    ("see https://example.com/r/1 and report ID 55", "see [link] and report ID [report id]"),
    ("NS0012 Export Error: Currency [currency] does not exist in NetSuite.",
     "NS0012 Export Error: Currency [currency] does not exist in NetSuite."),
    ("İstanbul office: expense X99 on 2026-03-28 of 12.50", "İstanbul office: expense [id] on [date] of [amount]"),
    ("nothing varies here", "nothing varies here"),
])
def test_placeholders_write_what_varies_the_kbs_way(paste, written, kb):
    assert placeholders(paste, kb.codes) == written


def test_the_examples_of_a_message_and_its_placeholders_filled_in(kb):
    codes = kb.codes
    assert fill_placeholders("for [email] on [MM/dd/yyyy], [X user], [Something odd]") == \
        "for maria.gonzalez@northwind.com on 03/28/2026, Jane Doe, ABC-1042"
    code, alone, paste = example_pastes("NS0295 Export Error: No record with the email [email].", codes)
    assert (code, alone) == ("NS0295", "No record with the email maria.gonzalez@northwind.com.")
    assert paste.startswith("> *NS0295 Export Error*: No record with the email maria.gonzalez@") and "\n<@U" in paste
    assert example_pastes('CER047: "Ops Edit" permission is required.', codes)[2].startswith('> *CER047*: "Ops Edit"')
    assert len(example_pastes("The flux capacitor is misaligned.", codes)) == 3  # no code: three shapes still


# -- drafts in the KB: checked, not served --

def kb_with(tmp_path, *files: tuple[str, str]):
    shutil.copy(KB_DIR / "chatter.txt", tmp_path / "chatter.txt")
    for name, text in files:
        write_entry(tmp_path, name, text)
    return tmp_path


def as_draft(text: str) -> str:
    return with_line(text, "draft: true")


def test_a_draft_is_checked_like_any_entry_and_not_served(tmp_path, good_entry):
    draft = good_entry("INT991", "The gizmo ledger refused the sprocket batch in Sage Intacct.")
    kb_dir = kb_with(tmp_path, ("sage-intacct/INT990.yaml", good_entry()),
                     ("sage-intacct/INT991.yaml", as_draft(draft)))
    kb = load_knowledge_base(kb_dir)
    assert kb.problems == [] and list(kb.entries) == ["INT990"] and list(kb.drafts) == ["INT991"]
    fixit = Fixit(kb)
    assert fixit.reply("INT990").match.answer_ids == ["INT990"]
    assert fixit.reply("INT991").match.answer_ids == [] and not fixit.reply("INT991").cards
    assert Fixit(kb.with_drafts()).reply("INT991").match.answer_ids == ["INT991"]

    done = run_cli("kb", "check", "--kb", str(kb_dir))
    out = done.stdout.decode().splitlines()
    assert done.returncode == 0, out
    assert out[0] == (f"warning: {kb_dir / 'sage-intacct' / 'INT991.yaml'}:5: draft: true — not served until "
                      "reviewed: rewrite what it took from elsewhere in your own words, then remove the draft line")
    assert out[-1].startswith("OK: 2 entries (1 draft, not served), 0 problems, examples 6/6 answered exactly")

    # its examples are checked as they will be served: one answering the other entry fails the check
    broken = as_draft(draft).replace('  - "> *INT991', '  - "INT990"\n  - "> *INT991')
    write_entry(kb_dir, "sage-intacct/INT991.yaml", broken)
    done = run_cli("kb", "check", "--kb", str(kb_dir))
    assert done.returncode == 1 and "example 3 of INT991 answered ['INT990']" in done.stdout.decode()


def test_a_draft_with_a_bad_schema_or_a_published_entrys_id_is_a_problem(tmp_path, good_entry):
    kb_dir = kb_with(tmp_path, ("sage-intacct/INT990.yaml", good_entry()),
                     ("sage-intacct/old/INT990.yaml", as_draft(good_entry())),
                     ("sage-intacct/INT992.yaml", with_line(good_entry("INT992"), "draft: maybe")),
                     ("sage-intacct/INT993.yaml", as_draft(good_entry("INT993")).replace("summary:", "sumary:")))
    problems = [str(p) for p in load_knowledge_base(kb_dir).problems]
    assert f"{kb_dir / 'sage-intacct/INT992.yaml'}:5: draft must be true or false" in problems
    assert f"{kb_dir / 'sage-intacct/INT993.yaml'}:7: unknown key 'sumary' in entry; expected one of " \
        "causes, checks, describes, draft, examples, faq, fixes, id, kind, links, message, reviewed, summary, " \
        "system, template, title, variants" in problems
    assert any(p.startswith(f"{kb_dir / 'sage-intacct/old/INT990.yaml'}:1: duplicate id 'INT990'") for p in problems)


@pytest.mark.parametrize(("value", "problem"), [
    ("2025-13-01", "reviewed '2025-13-01' must be a date written YYYY-MM-DD, e.g. reviewed: 2025-03-28"),
    ('"last week"', "reviewed 'last week' must be a date written YYYY-MM-DD, e.g. reviewed: 2025-03-28"),
    ("2025-3-1", "reviewed '2025-3-1' must be a date written YYYY-MM-DD, e.g. reviewed: 2025-03-28"),
    ("2025-03-28 10:00:00", "reviewed '2025-03-28 10:00:00' must be a date written YYYY-MM-DD, e.g. reviewed: "
                            "2025-03-28"),
    ("[2025-03-28]", "reviewed must be a date written YYYY-MM-DD, e.g. reviewed: 2025-03-28"),
    ("FUTURE", "reviewed {day} is in the future: write the day the entry was last reviewed"),
])
def test_a_bad_reviewed_date_is_a_kb_check_problem_at_its_line(tmp_path, good_entry, value, problem):
    future = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    value = value.replace("FUTURE", future)
    path = write_entry(tmp_path, "sage-intacct/INT990.yaml",
                       with_line(good_entry(), f"reviewed: {value}"))
    done = run_cli("kb", "check", "--kb", str(tmp_path))
    assert done.returncode == 1
    assert f"{path}:5: {problem.format(day=future)}" in done.stdout.decode().splitlines()


def test_a_good_reviewed_date_loads_quoted_or_not(tmp_path, good_entry):
    write_entry(tmp_path, "sage-intacct/INT990.yaml", with_line(good_entry(), "reviewed: 2025-03-28"))
    today = datetime.date.today().isoformat()
    write_entry(tmp_path, "sage-intacct/INT991.yaml",
                with_line(good_entry("INT991", "The gizmo broke in Sage Intacct."), f'reviewed: "{today}"'))
    kb = load_knowledge_base(tmp_path)
    assert kb.problems == []
    assert kb.get("INT990").reviewed == datetime.date(2025, 3, 28)
    assert kb.get("INT991").reviewed == datetime.date.today()
