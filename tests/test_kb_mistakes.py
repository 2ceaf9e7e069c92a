"""The mistakes KB authors make, as `python -m bot kb check` reports them: each at the file and line where
the author has to fix it, in words that say what to write instead."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import KB_DIR, run_cli, write_entry

from bot.kb import load_knowledge_base
from bot.kb.model import Problem


def kb_check(directory: Path) -> tuple[int, list[str]]:
    done = run_cli("kb", "check", "--kb", str(directory))
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    return done.returncode, done.stdout.decode().splitlines()


def line_of(path: Path, prefix: str) -> int:
    return next(n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if line.startswith(prefix))


def test_an_unclosed_quote_is_reported_where_it_opens_not_where_yaml_noticed(tmp_path):
    """INT771 with `title: "INT771 Export Error` on line 21: YAML reads on to the next quote, dozens of lines
    below, and gives up there; the author is sent to line 21."""
    entry = (KB_DIR / "sage-intacct" / "INT771.yaml").read_text(encoding="utf-8").splitlines()
    assert entry[1] == "title: INT771 Export Error"
    text = ["# a comment"] * 19 + [entry[0], 'title: "INT771 Export Error'] + entry[2:]
    path = write_entry(tmp_path, "sage-intacct/INT771.yaml", "\n".join(text) + "\n")
    status, out = kb_check(tmp_path)
    assert status == 1
    (problem,) = [line for line in out if line.startswith(str(path))]
    noticed = int(re.fullmatch(rf"{re.escape(str(path))}:21: malformed YAML: a quoted string opened here is "
                               r"never closed \(noticed at line (\d+)\)", problem).group(1))
    assert noticed > 30  # where PyYAML gave up: the next quote


MISTAKES = [  # (id, the good entry's text spoiled: this replaced (None: appended) by that, line, what kb check says)
    ("INT901", "title: INT901 Export Error", 'title: "INT901 Export Error', 2,
     "malformed YAML: a quoted string opened here is never closed (noticed at line 5)"),
    ("INT902", "summary: Something the test needs.", "summary: 'Something the test needs.", 6,
     "malformed YAML: a quoted string opened here is never closed (noticed at line 21)"),
    ("INT903", "summary: Something the test needs.", "summary: [Something, the test needs.",
     6, "malformed YAML: a [ list opened here is never closed (noticed at line 7)"),
    ("INT904", "      - Step two.", "     - Step two.", 13,
     "malformed YAML: this line's indentation (5 spaces) does not fit the lines above it: line it up with the "
     "key or list item it belongs beside"),
    ("INT905", "kind: export", " kind: export", 4,
     "malformed YAML: this line is indented more than line 3, so YAML reads it as more of the value begun there, "
     "where a ': ' is not allowed: line it up with the keys above it (or, if it is part of the value, put the "
     "whole value in quotes)"),
    ("INT906", "      - Step one.", "\t- Step one.", 12,
     "malformed YAML: a tab character: YAML indents with spaces only (replace the tab with spaces)"),
    ("INT907", "summary: Something the test needs.", "summary: Error: the test needs it.", 6,
     "malformed YAML: a ': ' (colon and space) inside an unquoted value: put the whole value in quotes"),
    ("INT908", "  - A cause.", "  - Cause: the thing broke.", 8,
     "causes[0] must be text, got a mapping (the ': ' after 'Cause' makes it a key: put the whole value in quotes)"),
    ("INT909", None, "kind: sync\n", 21, "duplicate key 'kind' in entry"),
    ("INT910", "summary: Something the test needs.", "summary: 'The workspace's date.'", 6,
     "malformed YAML: an apostrophe ends a '…' value: write it twice ('') or put the value in double quotes"),
    ("INT911", "summary: Something the test needs.", "summary: *Settings* is wrong.", 6,
     "malformed YAML: a value that starts with * is read as a YAML alias or anchor: put the whole value in quotes"),
    ("INT912", "summary: Something the test needs.", "summary: `xml_gateway` is locked.", 6,
     "malformed YAML: a value cannot start with `: put the whole value in quotes"),
    ("INT913", "summary: Something the test needs.", 'summary: "Something" the test needs.', 6,
     "malformed YAML: text after the closing quote: put the whole value in quotes (a value that starts with a "
     "quote ends with it)"),
    ("INT914", "kind: export", "kind export", 4,
     "malformed YAML: this line has no ':' after its key (write `key: value`) (noticed at line 5)"),
]


def spoiled(text: str, old: str | None, new: str) -> str:
    if old is None:
        return text + new
    assert old in text, old
    return text.replace(old, new)


def test_common_yaml_mistakes_are_each_reported_at_their_file_and_line(tmp_path, good_entry):
    shutil.copy(KB_DIR / "chatter.txt", tmp_path / "chatter.txt")
    write_entry(tmp_path, "sage-intacct/INT990.yaml", good_entry())  # the KB still has a good entry
    paths = {entry_id: write_entry(tmp_path, f"sage-intacct/{entry_id}.yaml", spoiled(good_entry(entry_id), old, new))
             for entry_id, old, new, _, _ in MISTAKES}
    status, out = kb_check(tmp_path)
    assert status == 1
    for entry_id, _, _, line, message in MISTAKES:
        said = [problem for problem in out if problem.startswith(f"{paths[entry_id]}:")]
        assert said == [f"{paths[entry_id]}:{line}: {message}"], entry_id
    assert out[-1].startswith(f"FAILED: 1 entry, {len(MISTAKES)} problems,")


def test_an_id_longer_than_the_store_records_is_reported_at_its_line(tmp_path, good_entry):
    """PostgreSQL refuses a claim or a vote on an id wider than its column, so the KB does not load one."""
    long_id = "SAGE-INTACCT-" + "-".join(["PERIOD-CLOSED"] * 5)
    path = write_entry(tmp_path, "sage-intacct/LONG.yaml", good_entry(long_id))
    write_entry(tmp_path, "sage-intacct/INT990.yaml", good_entry())
    status, out = kb_check(tmp_path)
    assert status == 1 and len(long_id) == 82
    assert [p for p in out if p.startswith(f"{path}:")] == [
        f"{path}:{line_of(path, 'id:')}: id {long_id!r} is 82 characters long: at most 64 (what Fixit records of an "
        "answer holds no more)"]


def test_file_level_problems_have_no_line_number(tmp_path):
    missing = tmp_path / "nope"
    status, out = kb_check(missing)
    assert status == 1
    assert out[0] == f"{missing}: knowledge base folder not found"
    write_entry(tmp_path, "sage-intacct/EMPTY.yaml", "")
    assert [str(p) for p in load_knowledge_base(tmp_path).problems] == [
        f"{tmp_path / 'sage-intacct' / 'EMPTY.yaml'}: file is empty"]
    assert str(Problem(Path("a.yaml"), None, "unreadable")) == "a.yaml: unreadable"
    assert str(Problem(Path("a.yaml"), 3, "bad")) == "a.yaml:3: bad"


def test_system_names_and_folders_say_what_to_write_instead(tmp_path):
    """`system: Netsuite`, a Xero entry in netsuite/ (at any depth), a nickname: each refused with what to
    write; an entry deeper in its own system's folder is fine."""
    kb = tmp_path / "knowledge"
    kb.mkdir()
    shutil.copy(KB_DIR / "chatter.txt", kb / "chatter.txt")
    cased = write_entry(kb, "netsuite/NS0005.yaml", (KB_DIR / "netsuite" / "NS0005.yaml").read_text(
        encoding="utf-8").replace("system: NetSuite", "system: Netsuite"))
    nick = write_entry(kb, "netsuite/NS0012.yaml", (KB_DIR / "netsuite" / "NS0012.yaml").read_text(
        encoding="utf-8").replace("system: NetSuite", "system: NS"))
    placed = write_entry(kb, "netsuite/XERO14.yaml", (KB_DIR / "xero" / "XERO14.yaml").read_text(encoding="utf-8"))
    deeper = write_entry(kb, "netsuite/old/XERO45.yaml", (KB_DIR / "xero" / "XERO45.yaml").read_text(
        encoding="utf-8"))
    write_entry(kb, "xero/archive/XERO78.yaml", (KB_DIR / "xero" / "XERO78.yaml").read_text(encoding="utf-8"))
    status, out = kb_check(kb)
    assert status == 1
    assert f"{cased}:{line_of(cased, 'system:')}: system: 'Netsuite' — write 'NetSuite' (as in " \
           f"knowledge/systems.yaml)" in out
    assert f"{nick}:{line_of(nick, 'system:')}: system: 'NS' — write 'NetSuite' (as in knowledge/systems.yaml)" in out
    for path in (placed, deeper):
        assert (f"{path}:{line_of(path, 'system:')}: file is in knowledge/netsuite/ but system: Xero — move it to "
                f"knowledge/xero/ or fix system:") in out
    assert not [line for line in out if "XERO78" in line]
    assert out[-1].startswith("FAILED: 1 entry, 4 problems,")


@pytest.mark.parametrize("n, word, plural, said", [
    (0, "problem", None, "0 problems"), (1, "problem", None, "1 problem"), (2, "entry", "entries", "2 entries"),
    (1, "entry", "entries", "1 entry"),
])
def test_counted(n, word, plural, said):
    from bot.wording import counted

    assert counted(n, word, plural) == said
