"""The loader validates every file and reports every problem with its file and line."""

from __future__ import annotations

import pytest
from conftest import KB_DIR, write_entry

from bot.kb import load_knowledge_base


def problems_of(directory):
    return [str(p) for p in load_knowledge_base(directory).problems]


def test_bundled_knowledge_base_loads_cleanly(kb):
    assert kb.problems == []
    assert len(kb) > 200
    assert kb.get("INT771").system == "Sage Intacct"
    assert kb.get("int771") is kb.get("INT771")


def test_every_code_in_the_help_centre_index_has_an_entry(kb):
    index = (KB_DIR.parent.parent / "shared" / "reference" / "help-articles" / "INDEX.tsv")
    if not index.exists():  # shared/ sits beside the repo in the workspace, not beside a clone elsewhere
        import pytest
        pytest.skip("shared/reference not present")
    codes = {line.split("\t")[0] for line in index.read_text(encoding="utf-8").splitlines()[1:]}
    codes.discard("")
    missing = sorted(c for c in codes if kb.get(c) is None)
    assert missing == []


def test_error_entries_are_keyed_by_their_code(kb):
    for entry in kb:
        if entry.message and kb.codes.leading(entry.message):
            assert kb.codes.leading(entry.message) == entry.id


def test_good_entry_loads(tmp_path, good_entry):
    write_entry(tmp_path, "sage-intacct/INT990.yaml", good_entry())
    kb = load_knowledge_base(tmp_path)
    assert kb.problems == []
    entry = kb.get("INT990")
    assert entry.fixes[0].steps == ("Step one.", "Step two.")
    assert entry.example_lines[0] == 18


def test_malformed_yaml_names_file_and_line(tmp_path, good_entry):
    text = good_entry().replace("summary: Something the test needs.", "summary: [unclosed")
    path = write_entry(tmp_path, "x/INT990.yaml", text)
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{path}:")
    assert "malformed YAML" in problem
    line = int(problem.split(":")[1])
    assert 6 <= line <= 8


def test_every_problem_in_a_file_is_reported(tmp_path, good_entry):
    text = good_entry().replace("kind: export", "kind: exprot").replace(
        "title: INT990 Export Error", "title: 42").replace("causes:\n  - A cause.", "causes: []") + "colour: red\n"
    path = write_entry(tmp_path, "x/INT990.yaml", text)
    problems = problems_of(tmp_path)
    joined = "\n".join(problems)
    assert f"{path}:2: title must be text, got a number" in joined
    assert f"{path}:4: kind 'exprot' must be one of" in joined
    assert f"{path}:7: causes must not be empty" in joined
    assert "unknown key 'colour'" in joined
    assert len(problems) >= 4


def test_missing_fields_duplicate_keys_and_too_few_examples(tmp_path, good_entry):
    text = good_entry().replace("summary: Something the test needs.\n", "").replace(
        "  - INT990\n", "") + "title: Again\n"
    write_entry(tmp_path, "x/INT990.yaml", text)
    joined = "\n".join(problems_of(tmp_path))
    assert "missing required key 'summary'" in joined
    assert "duplicate key 'title'" in joined
    assert "examples needs at least 3 items (has 2)" in joined


def test_wrong_shapes_in_nested_lists(tmp_path, good_entry):
    text = good_entry().replace("      - Step one.\n", "      - {nested: mapping}\n").replace(
        "  - q: Is this a test?\n    a: Yes.\n", "  - q: Is this a test?\n")
    path = write_entry(tmp_path, "x/INT990.yaml", text)
    joined = "\n".join(problems_of(tmp_path))
    assert f"{path}:12: fixes[0].steps[0] must be text, got a mapping" in joined
    assert "missing required key 'a' in faq[0]" in joined


def test_duplicate_ids_across_files_are_reported_and_one_copy_kept(tmp_path, good_entry):
    first = write_entry(tmp_path, "a/INT990.yaml", good_entry())
    write_entry(tmp_path, "b/INT990.yaml", good_entry())
    kb = load_knowledge_base(tmp_path)
    assert len(kb) == 1
    (problem,) = [str(p) for p in kb.problems]
    assert "duplicate id 'INT990'" in problem and str(first) in problem


def test_invalid_utf8_is_reported_with_its_line_and_the_rest_still_loads(tmp_path, good_entry):
    bad = tmp_path / "x" / "INT991.yaml"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(good_entry("INT991").encode().replace(b"A cause.", b"A \xff cause."))
    write_entry(tmp_path, "x/INT990.yaml", good_entry())
    kb = load_knowledge_base(tmp_path)
    assert list(kb.entries) == ["INT990"]
    (problem,) = [str(p) for p in kb.problems]
    assert problem.startswith(f"{bad}:8: not valid UTF-8")


def test_code_and_file_name_must_agree(tmp_path, good_entry):
    write_entry(tmp_path, "x/INT990.yaml", good_entry().replace("message: \"INT990", "message: \"INT991"))
    write_entry(tmp_path, "x/Wrong.yaml", good_entry("INT992"))
    joined = "\n".join(problems_of(tmp_path))
    assert "differs from the code 'INT991'" in joined
    assert "file name should be INT992.yaml" in joined


def test_empty_file_and_missing_folder(tmp_path):
    write_entry(tmp_path, "x/EMPTY.yaml", "")
    assert "file is empty" in problems_of(tmp_path)[0]
    assert "not found" in problems_of(tmp_path / "nope")[0]


def test_checks_are_validated_as_data(tmp_path, good_entry):
    text = good_entry() + (
        "checks:\n"
        "  - fact: period_closed\n    expect: false\n    holds: 'open: {period_closed}'\n"
        "    fails: 'closed: {period_closed}; {export_date}'\n    unknown: 'no idea ({reason})'\n"
        "  - fact: weather\n    expect: sunny\n    holds: '{mood}'\n    fails: x\n"
        "  - fact: period_closed\n    holds: x\n    fails: '{reason}'\n")
    path = write_entry(tmp_path, "x/INT990.yaml", text)
    joined = "\n".join(problems_of(tmp_path))
    assert f"{path}:27: checks[1].fact 'weather' is not a fact providers give" in joined
    assert "checks[1].holds uses {mood}" in joined
    assert "missing required key 'expect' in checks[2]" in joined
    assert "checks[2].fails uses {reason}" in joined
    first_check_only = text.split("  - fact: weather")[0]
    good = write_entry(tmp_path / "ok", "x/INT990.yaml", first_check_only)
    kb = load_knowledge_base(good.parent.parent)
    assert kb.problems == [] and kb.get("INT990").checks[0]["expect"] is False


def test_system_must_be_one_of_the_systems_file(tmp_path, good_entry):
    path = write_entry(tmp_path, "x/INT990.yaml", good_entry().replace("system: Sage Intacct", "system: Sage intacct"))
    (problem,) = problems_of(tmp_path)
    assert problem == f"{path}:3: system: 'Sage intacct' — write 'Sage Intacct' (as in knowledge/systems.yaml)"
    write_entry(tmp_path, "x/INT990.yaml", good_entry().replace("system: Sage Intacct", "system: Acme Ledger"))
    (problem,) = problems_of(tmp_path)
    assert problem.startswith(f"{path}:3: system: 'Acme Ledger' is not a system of knowledge/systems.yaml: write "
                              "one of Sage Intacct, NetSuite,")


def test_entry_must_sit_in_its_systems_folder(tmp_path, good_entry):
    path = write_entry(tmp_path, "netsuite/INT990.yaml", good_entry())
    (problem,) = problems_of(tmp_path)
    kb = tmp_path.name
    assert problem == (f"{path}:3: file is in {kb}/netsuite/ but system: Sage Intacct — move it to "
                       f"{kb}/sage-intacct/ or fix system:")


def test_code_must_be_of_the_systems_family(tmp_path, good_entry):
    text = good_entry("NS0990").replace("system: Sage Intacct", "system: Xero")
    write_entry(tmp_path, "xero/NS0990.yaml", text)
    (problem,) = problems_of(tmp_path)
    assert "the message's code NS0990 is not a Xero code (Xero codes start with XERO)" in problem


def test_a_kb_with_its_own_systems_file(tmp_path, good_entry):
    (tmp_path / "systems.yaml").write_text(
        "systems:\n  - name: Acme Ledger\n    folder: acme\n    codes: {prefix: ACM, digits: 3}\n"
        "    names: [acme, acme ledger]\n")
    text = good_entry("ACM100").replace("system: Sage Intacct", "system: Acme Ledger")
    write_entry(tmp_path, "acme/ACM100.yaml", text)
    kb = load_knowledge_base(tmp_path)
    assert kb.problems == [] and kb.systems.names == ("Acme Ledger",) and kb.codes.families == {"ACM": 3}
    assert list(kb.entries) == ["ACM100"]  # systems.yaml itself is not read as an entry
    write_entry(tmp_path, "acme/INT990.yaml", good_entry())
    assert any(f"system: 'Sage Intacct' is not a system of {tmp_path.name}/systems.yaml: write one of Acme Ledger"
               in p for p in problems_of(tmp_path))


@pytest.mark.parametrize("text, line, message", [
    ("systems:\n  - name: A\n    folder: a\n    names: [a]\n  - name: A\n    folder: b\n    names: [b]\n", 5,
     "name 'A' is used twice (first at line 2)"),
    ("systems:\n  - name: A\n    folder: a\n    codes: {prefix: a1, digits: 3}\n    names: [a]\n", 4,
     "codes.prefix 'a1' must be 2-6 upper-case letters"),
    ("systems:\n  - name: A\n    folder: a\n    codes: {prefix: AB, digits: many}\n    names: [a]\n", 4,
     "codes.digits must be a number from 1 to 6"),
    ("systems:\n  - name: A\n    folder: a\n    names: [QBO]\n", 4, "'QBO' must be lower-case words"),
    ("systems:\n  - name: A\n    folder: a\n    names: [a]\nshared:\n  - {names: [x], systems: [A, B]}\n", 6,
     "shared.systems: 'B' is not a system of this file"),
    ("systems:\n  - name: A\n    folder: a\n    names: [a]\n    colour: red\n", 5, "unknown key 'colour' in a system"),
    ("systems:\n  - name: A\n    folder: [a\n", 3, "malformed YAML"),
])
def test_a_broken_systems_file_names_its_line(tmp_path, text, line, message):
    from bot.kb.systems import load_systems

    path = tmp_path / "systems.yaml"
    path.write_text(text)
    systems, problems = load_systems(path)
    assert systems.names == ()
    assert any(str(p).startswith(f"{path}:{line}:") and message in str(p) for p in problems), problems


def test_the_bundled_systems_file_is_valid_and_every_entry_is_in_its_folder(kb):
    assert kb.problems == []
    assert set(kb.systems.names) == {e.system for e in kb}
    for entry in kb:
        assert entry.source.parent.name == kb.systems.get(entry.system).folder


def test_an_unclosed_quote_is_reported_at_the_line_it_opens(tmp_path, good_entry):
    text = good_entry().replace("title: INT990 Export Error", "title: 'INT990 Export Error")
    path = write_entry(tmp_path, "sage-intacct/INT990.yaml", text)
    (problem,) = problems_of(tmp_path)
    assert problem == f"{path}:2: malformed YAML: a quoted string opened here is never closed (noticed at line 21)"
