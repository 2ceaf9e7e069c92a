"""The expense tool's name: `{tool}` in the KB's prose, the KB's own name by default (systems.yaml's
`expense_tool`), a deployment's FIXIT_TOOL_NAME over it; the errors' own text is left as it is."""

from __future__ import annotations

import re
import shutil

from conftest import KB_DIR, cli_env, run_cli, write_entry

from bot.kb import load_knowledge_base
from bot.kb.watch import Reloader
from bot.match import Matcher
from bot.pipeline import Fixit

MESSAGE = "Expensify says the flux capacitor is misaligned in Sage Intacct."


def tool_entry(good_entry) -> str:
    return good_entry(message=MESSAGE).replace(
        "summary: Something the test needs.", 'summary: "{Tool} could not post the gizmo report."').replace(
        "      - Step one.", "      - In {tool}, go to *Settings > Workspaces*.").replace(
        "  - q: Is this a test?\n    a: Yes.",
        "  - q: Why does {tool} hold back the gizmo report?\n    a: Because {tool} waits for the capacitor.")


def ask(kb_dir, text: str, tool_name: str | None = None) -> str:
    done = run_cli("ask", "--kb", str(kb_dir), text,
                   env=cli_env(**({"FIXIT_TOOL_NAME": tool_name} if tool_name is not None else {})))
    assert done.returncode == 0 and not done.stderr, done.stderr.decode()
    return done.stdout.decode()


def test_tool_renders_with_the_kbs_name_and_with_a_deployments(tmp_path, good_entry):
    write_entry(tmp_path, "sage-intacct/INT990.yaml", tool_entry(good_entry))
    card = ask(tmp_path, "INT990")  # no systems.yaml of its own: the bundled one's expense_tool
    assert "In Expensify, go to *Settings > Workspaces*." in card and "Expensify could not post" in card
    assert "{tool}" not in card and "{Tool}" not in card
    card = ask(tmp_path, "INT990", tool_name="the expense tool")
    assert "In the expense tool, go to *Settings > Workspaces*." in card
    assert "The expense tool could not post the gizmo report." in card  # {Tool} starts a sentence
    (tmp_path / "systems.yaml").write_text((KB_DIR / "systems.yaml").read_text(encoding="utf-8").replace(
        "expense_tool: Expensify", "expense_tool: Acme Spend"), encoding="utf-8")
    assert "In Acme Spend, go to" in ask(tmp_path, "INT990")
    assert "In Spendwise, go to" in ask(tmp_path, "INT990", tool_name="Spendwise")
    assert "In Acme Spend, go to" in ask(tmp_path, "INT990", tool_name="")  # empty: the KB's own


def test_the_override_is_what_the_matcher_indexes_and_the_error_text_stays_as_written(tmp_path, good_entry):
    write_entry(tmp_path, "sage-intacct/INT990.yaml", tool_entry(good_entry))
    kb = load_knowledge_base(tmp_path, tool_name="Spendwise")
    entry = kb.get("INT990")
    assert kb.problems == [] and kb.tool_name == "Spendwise"
    assert entry.summary == "Spendwise could not post the gizmo report."
    assert entry.faq[0].q == "Why does Spendwise hold back the gizmo report?"
    assert entry.message == f"INT990 Export Error: {MESSAGE}"          # the error's own words: not touched
    assert entry.examples[1] == MESSAGE
    question = "why does spendwise hold back the gizmo report?"
    found = Matcher(kb).match(question)
    assert "INT990" in found.answer_ids + found.suggestion_ids
    card = Fixit(kb).card("INT990")
    assert "Spendwise could not post" in card.text and "In Spendwise, go to" in card.text

    def score(kb) -> float:
        result = Matcher(kb).match(question)
        return max((h.score for h in result.answers + result.suggestions if h.entry_id == "INT990"), default=0.0)

    assert score(kb) > score(load_knowledge_base(tmp_path))  # the name is among the words the index holds


def test_unknown_placeholders_and_stray_braces_are_kb_check_problems(tmp_path, good_entry):
    text = good_entry().replace("summary: Something the test needs.", "summary: >-\n  Something\n  the {tools} need.") \
        .replace("  - A cause.", "  - A cause } of it.").replace("      - Step two.", "      - Step {Tool:>9} two.") \
        .replace("    a: Yes.", "    a: Yes, {} twice.") + "  - \"{tool} rejected INT990\"\n"
    path = write_entry(tmp_path, "sage-intacct/INT990.yaml", text)
    done = run_cli("kb", "check", "--kb", str(tmp_path))
    out = done.stdout.decode()
    assert done.returncode == 1
    said = sorted(line for line in out.splitlines() if line.startswith(f"{path}:"))
    assert said == sorted([
        f"{path}:8: summary uses {{tools}}, which is not a placeholder here (these are: {{tool}}, {{Tool}}); "
        "write {tool} for the expense tool's name ({Tool} to start a sentence), {{ or }} for a brace itself",
        f"{path}:10: causes[0] has a stray {{ or }}: write {{tool}} for the expense tool's name ({{Tool}} to start "
        "a sentence), {{ or }} for a brace itself",
        f"{path}:15: fixes[0].steps[1] writes {{Tool:>9}}: write {{Tool}} alone",
        f"{path}:18: faq[0].a uses {{}}, which is not a placeholder here (these are: {{tool}}, {{Tool}}); write "
        "{tool} for the expense tool's name ({Tool} to start a sentence), {{ or }} for a brace itself",
        f"{path}:23: examples[3] is kept exactly as written, so {{tool}} is not filled in here: write the name as "
        "the error or the person wrote it",
    ]), out


def test_escaped_braces_and_check_texts(tmp_path, good_entry):
    text = good_entry().replace("      - Step two.", "      - Type {{code}} in {tool}.") + (
        "checks:\n  - fact: period_closed\n    expect: false\n    holds: '{Tool} sees {period_closed}.'\n"
        "    fails: 'closed: {period_closed}'\n    unknown: '{Tool} could not ask ({reason}).'\n")
    write_entry(tmp_path, "sage-intacct/INT990.yaml", text)
    kb = load_knowledge_base(tmp_path, tool_name="Spend{wise}")
    entry = kb.get("INT990")
    assert kb.problems == []
    assert entry.fixes[0].steps[1] == "Type {code} in Spend{wise}."
    # check texts are formatted again with the facts: the name's braces are escaped for that
    assert entry.checks[0]["holds"].format(period_closed="open") == "Spend{wise} sees open."
    assert entry.checks[0]["unknown"].format(reason="timeout") == "Spend{wise} could not ask (timeout)."


def test_the_bundled_kb_names_the_tool_one_way():
    """The prose writes {tool} wherever it means the expense tool: loaded with another name, what is left of
    "Expensify" is the name of something another product calls that (a NetSuite role, a bundle, a card)."""
    kb = load_knowledge_base(KB_DIR, tool_name="Spendwise")
    assert kb.problems == [] and load_knowledge_base(KB_DIR).tool_name == "Expensify"
    names = re.compile(r"expensify (integration|connect bundle|bundle|card|credit card misc|report id|classic|"
                       r"sender id)|new expensify|xmlgateway_expensify|`expensify`|[\w.]*expensify\.com|"
                       r"add expensify as a sender id|remove expensify from the web services|restrict access to "
                       r"expensify|\*expensify\*|lists expensify under|disconnect expensify there", re.I)
    left = []
    for e in kb:
        prose = [e.title, e.summary, *e.causes, *(t for f in e.fixes for t in (f.title, f.note, *f.steps)),
                 *(t for qa in e.faq for t in (qa.q, qa.a))]
        checks = [c.get(k, "") for c in e.checks for k in ("holds", "fails", "unknown")]
        for text in prose + checks:
            rest = names.sub("", text)
            if re.search(r"expensify|expense tool|\{tool\}|\{Tool\}", rest, re.I) or (
                    text in prose and re.search(r"[{}]", text)):
                left.append(f"{e.id}: {text[:80]}")
    assert left == []
    assert sum(any("Spendwise" in s for f in e.fixes for s in f.steps) for e in kb) > 100


def test_the_reloader_and_the_last_good_copy_keep_the_deployments_name(tmp_path):
    kb_dir, keep = tmp_path / "kb", tmp_path / "last-good"
    shutil.copytree(KB_DIR, kb_dir)
    Reloader(kb_dir, lambda kb: kb, keep=keep, tool_name="Spendwise")       # keeps a copy
    int771 = kb_dir / "sage-intacct" / "INT771.yaml"
    int771.write_text(int771.read_text(encoding="utf-8") + 'summary: "an unclosed quote\n', encoding="utf-8")
    reloader = Reloader(kb_dir, lambda kb: kb, keep=keep, tool_name="Spendwise")  # a restart: INT771 from the copy
    steps = [s for f in reloader.current.get("INT771").fixes for s in f.steps]
    assert "In Spendwise, go to *Settings > Workspaces* and pick the workspace." in steps
    shutil.copy(KB_DIR / "sage-intacct" / "INT771.yaml", int771)
    assert reloader.reload() is True
    assert reloader.current.tool_name == "Spendwise"
    assert "In Spendwise, go to" in reloader.current.get("NS0005").fixes[2].steps[0]


def test_the_served_app_names_the_tool_as_configured(tmp_path):
    """FIXIT_TOOL_NAME reaches the server's cards (build_runtime's Reloader), not only the CLI."""
    from slack_harness import FakeSlack

    from bot.settings import Settings
    from bot.slack.app import build_runtime

    fake = FakeSlack()
    try:
        settings = Settings(bot_token="xoxb-test", api_url=fake.api_url, kb_poll_seconds=0, kb_last_good="",
                            database_url=f"sqlite:///{tmp_path / 'f.db'}", tool_name="Acme Expenses")
        fixit = build_runtime(settings, watch=False).reloader.current
        steps = fixit.card("INT771", full=True).text
        assert "In Acme Expenses, go to *Settings > Workspaces*" in steps and "{tool}" not in steps
    finally:
        fake.close()
