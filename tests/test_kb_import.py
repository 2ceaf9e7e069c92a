"""`python -m bot kb import ARTICLE.md`: a published help article becomes a draft entry that
kb check accepts; every reference article imports to a valid draft, and an error article's draft answers its
own generated examples once it is in the KB."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from conftest import DATA, KB_DIR, run_cli

from bot.authoring.article import ArticleError, build_draft, find_system, read_article
from bot.kb import load_knowledge_base
from bot.kb.loader import load_entry
from bot.pipeline import Fixit

ARTICLES = DATA / "articles"
ERROR_ARTICLE = ARTICLES / "INT618-Export-Error.md"  # written for these tests, in the help centre's shape
FAQ_ARTICLE = ARTICLES / "Sage-Intacct-Dimensions-FAQ.md"
REFERENCE = KB_DIR.parent.parent / "shared" / "reference" / "help-articles"


@pytest.fixture
def kb_copy(tmp_path) -> Path:
    copy = tmp_path / "knowledge"
    shutil.copytree(KB_DIR, copy)
    return copy


def imported(*args: str) -> tuple[int, list[str], list[str]]:
    done = run_cli("kb", "import", *args)
    assert b"Traceback" not in done.stderr, done.stderr.decode()
    return done.returncode, done.stdout.decode().splitlines(), done.stderr.decode().splitlines()


def test_the_fixture_article_imports_to_a_draft_kb_check_accepts(kb_copy):
    status, out, err = imported(str(ERROR_ARTICLE), "--kb", str(kb_copy))
    path = kb_copy / "sage-intacct" / "INT618.yaml"
    assert status == 0 and err == [], err
    assert out[0] == f"wrote {path}: draft export entry INT618 (Sage Intacct), from {ERROR_ARTICLE}"
    assert "own words" in out[2] and out[-1].endswith("then remove the line draft: true")

    done = run_cli("kb", "check", "--kb", str(kb_copy))
    report = done.stdout.decode().splitlines()
    assert done.returncode == 0, report
    assert report[:-1] == [f"warning: {path}:5: draft: true — not served until reviewed: rewrite what it took "
                           "from elsewhere in your own words, then remove the draft line"]
    assert ", 0 problems, " in report[-1] and "(1 draft, not served)" in report[-1]


def test_what_the_draft_takes_from_each_part_of_the_article(kb_copy):
    imported(str(ERROR_ARTICLE), "--kb", str(kb_copy))
    data = yaml.safe_load((kb_copy / "sage-intacct" / "INT618.yaml").read_text(encoding="utf-8"))
    assert data["draft"] is True and (data["id"], data["kind"], data["system"]) == ("INT618", "export", "Sage Intacct")
    assert data["title"] == "INT618 Export Error"
    assert data["message"] == ("INT618 Export Error: Attachment folder [folder] could not be found in Sage Intacct. "
                               "Create the folder or select another one in Workspace configurations.")
    assert data["summary"].startswith("Sage Intacct was asked to file the report's receipts")  # "This means" gone
    assert data["causes"][:2] == [
        "Someone renamed or deleted the *Attachments* folder in Sage Intacct after the Workspace was set up.",
        "The Workspace still names a folder from a _different_ Sage Intacct entity."]
    assert data["causes"][-1] == "{Tool} only sends receipts; it never creates folders {{on its own}}."
    fixes = {f["title"]: f for f in data["fixes"]}
    assert list(fixes) == ["Recreate the folder in Sage Intacct", "Choose a different folder in the workspace (on web)",
                           "Choose a different folder in the workspace (on mobile)"]
    recreate = fixes["Recreate the folder in Sage Intacct"]
    assert recreate["steps"][1:4] == ["Open *Company > Attachments > Folders*.", "Add a folder with the name the "
                                      "error gave.", "Give the integration user access to it: Read; Write."]
    assert recreate["note"] == "Folder names are case sensitive in Sage Intacct."
    assert fixes["Choose a different folder in the workspace (on mobile)"]["note"] == \
        "Then export the report again from {tool}."
    assert [q["q"] for q in data["faq"]] == ["Will the report export without its receipts?",
                                             "Do I have to be a Sage Intacct admin?"]
    assert data["faq"][0]["a"].startswith("No. {Tool} holds the whole report back")
    assert data["links"] == [{"title": "INT618 Export Error in Sage Intacct Integration",
                              "url": "https://help.example.com/articles/sage-intacct/INT618-Export-Error"}]
    assert data["examples"][0] == "INT618" and "Attachment folder Receipts could not" in data["examples"][1]
    assert data["examples"][2].startswith("> *INT618 Export Error*: Attachment folder") and "<@U" in data["examples"][2]
    assert "describes" not in data


def test_a_faq_page_imports_to_a_faq_draft_named_after_the_system_and_topic(kb_copy, tmp_path):
    status, out, _ = imported(str(FAQ_ARTICLE), "--kb", str(kb_copy), "--out", str(tmp_path / "drafts"))
    path = tmp_path / "drafts" / "INTACCT-DIMENSIONS-FAQ.yaml"  # the prefix the KB's own FAQ entries use
    assert status == 0 and out[0].startswith(f"wrote {path}: draft faq entry INTACCT-DIMENSIONS-FAQ")
    kb = load_knowledge_base(kb_copy)
    entry, problems = load_entry(path, (kb.systems, kb.codes), None, kb.tool_name)
    assert problems == [] and entry.draft and entry.kind == "faq" and not entry.message
    assert [qa.q for qa in entry.faq] == ["Which Sage Intacct dimensions become tags?",
                                          "Why is a User-Defined dimension missing after a sync?",
                                          "Can I import a dimension as a report field instead?"]
    assert entry.fixes[0].title == "How to let the integration user read it"
    assert entry.fixes[0].steps[-1] == "In Expensify, go to *Settings > Workspaces > Accounting* and click *Sync Now*."
    assert all("Sage Intacct" in example for example in entry.examples)  # a question reaches the FAQ it names
    assert not (kb_copy / "sage-intacct" / "INTACCT-DIMENSIONS-FAQ.yaml").exists()


def test_an_existing_file_is_replaced_only_with_force(kb_copy):
    target = kb_copy / "sage-intacct" / "INT771.yaml"
    before = target.read_text(encoding="utf-8")
    article = ERROR_ARTICLE.read_text(encoding="utf-8").replace("INT618", "INT771")
    copy = kb_copy.parent / "INT771-Export-Error.md"
    copy.write_text(article, encoding="utf-8")
    status, out, err = imported(str(copy), "--kb", str(kb_copy))
    assert (status, out, err) == (2, [], [f"fixit: {target} exists: pass --force to replace it"])
    assert target.read_text(encoding="utf-8") == before
    status, out, _ = imported(str(copy), "--kb", str(kb_copy), "--force")
    assert status == 0 and "draft: true" in target.read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "content", "says"), [
    ("notes.md", "# Shopping\n\n- milk\n- eggs\n", "not a help article"),
    ("systems.yaml", (KB_DIR / "systems.yaml").read_text(encoding="utf-8"), "not a help article"),
    ("empty.md", "", "not a help article"),
    ("binary.md", b"\x89PNG\r\n\x1a\n\x00\xff\xfe", "not a help article (not UTF-8 text)"),
    ("missing.md", None, "no such file"),
])
def test_a_file_that_is_not_an_article_is_one_line_and_exit_2(tmp_path, name, content, says):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    status, out, err = imported(str(path), "--out", str(tmp_path / "out"))
    assert status == 2 and out == [] and len(err) == 1
    assert err[0].startswith(f"fixit: {path}: {says}")
    assert not (tmp_path / "out").exists()


def test_the_system_comes_from_the_option_the_code_or_the_path(tmp_path):
    kb = load_knowledge_base(KB_DIR)
    article = read_article(ERROR_ARTICLE)
    assert find_system(article, kb.systems, kb.codes).name == "Sage Intacct"  # INT618: an INT code
    assert find_system(article, kb.systems, kb.codes, "intacct").name == "Sage Intacct"
    with pytest.raises(ArticleError, match="the article's code INT618 is not a Xero code"):
        find_system(article, kb.systems, kb.codes, "Xero")
    with pytest.raises(ArticleError, match="not a system of systems.yaml"):
        find_system(article, kb.systems, kb.codes, "Quicken")
    codeless = tmp_path / "xero" / "Bank-Feeds.md"
    codeless.parent.mkdir()
    codeless.write_text("---\ntitle: Bank feeds\n---\n\n# Bank feeds\n\n## Why Are Card Feeds Late?\n\nThey "
                        "arrive daily.\n", encoding="utf-8")
    found = read_article(codeless)
    assert find_system(found, kb.systems, kb.codes).name == "Xero"  # from its folder
    draft = build_draft(found, kb, kb.systems.get("Xero"))
    assert (draft.id, draft.kind) == ("XERO-BANK-FEEDS", "faq")


def test_the_link_comes_from_the_front_matter_or_the_index_beside_the_article(tmp_path):
    assert read_article(ERROR_ARTICLE).url == "https://help.example.com/articles/sage-intacct/INT618-Export-Error"
    folder = tmp_path / "articles" / "sage-intacct"
    folder.mkdir(parents=True)
    text = ERROR_ARTICLE.read_text(encoding="utf-8")
    (folder / "INT618.md").write_text(text.replace("url: https://help.example.com/articles/sage-intacct/INT618-"
                                                   "Export-Error\n", ""), encoding="utf-8")
    assert read_article(folder / "INT618.md").url == ""
    (tmp_path / "articles" / "INDEX.tsv").write_text(
        "code\tfamily\tsaved_path\tsource_path\nINT618\tsage-intacct\tsage-intacct/INT618.md\t"
        "docs/articles/new-expensify/Export-Errors/INT618-Export-Error.md\n", encoding="utf-8")
    assert read_article(folder / "INT618.md").url == \
        "https://help.expensify.com/articles/new-expensify/Export-Errors/INT618-Export-Error"


# -- the published articles (beside the repo in the workspace; absent from a fresh clone) --

needs_reference = pytest.mark.skipif(not (REFERENCE / "INDEX.tsv").is_file(),
                                     reason="shared/reference/help-articles not present")


def draft_of(path: Path, kb, out: Path):
    article = read_article(path)
    draft = build_draft(article, kb, find_system(article, kb.systems, kb.codes))
    target = out / draft.system.folder / f"{draft.id}.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(draft.text, encoding="utf-8")
    return article, draft, target


@needs_reference
def test_every_reference_article_imports_to_a_draft_that_passes_the_schema(tmp_path):
    kb = load_knowledge_base(KB_DIR)
    failures, kinds = [], set()
    paths = sorted(REFERENCE.glob("*/*.md"))
    assert len(paths) > 200
    for n, path in enumerate(paths):
        out = tmp_path / str(n)  # XERO11 and XERO45 each have two articles
        try:
            _, draft, target = draft_of(path, kb, out)
        except ArticleError as exc:
            failures.append(str(exc))
            continue
        entry, problems = load_entry(target, (kb.systems, kb.codes), out, kb.tool_name)
        if entry is None or problems or not entry.draft:
            failures.append(f"{path.name}: {[str(p) for p in problems]}")
            continue
        kinds.add(entry.kind)
        published = kb.get(entry.id)
        if entry.kind != "faq" and published is None:
            failures.append(f"{path.name}: id {entry.id} is not the code of a KB entry")
        elif published is not None and not {x.url for x in entry.links} <= {x.url for x in published.links}:
            failures.append(f"{path.name}: links {entry.links} are not the KB entry's")
    assert failures == []
    assert kinds == {"export", "sync", "connection", "auth", "faq"}


@needs_reference
def test_a_reference_error_articles_draft_answers_its_examples_in_the_kb(tmp_path):
    """A sample of the error articles, of every system: each one's draft, in place of the KB's entry of its
    code, answers each of its generated examples, and only it."""
    kb = load_knowledge_base(KB_DIR)
    errors = [p for p in sorted(REFERENCE.glob("*/*.md")) if "If you see the error" in p.read_text(encoding="utf-8")]
    sample = errors[::9]
    assert {p.parent.name for p in sample} >= {"netsuite", "sage-intacct", "xero", "quickbooks-online",
                                               "quickbooks-desktop", "certinia"}
    failures = []
    for n, path in enumerate(sample):
        out = tmp_path / str(n)
        _, draft, target = draft_of(path, kb, out)
        entry, problems = load_entry(target, (kb.systems, kb.codes), out, kb.tool_name)
        assert problems == [] and kb.get(entry.id) is not None
        copy = replace(kb, entries={k: v for k, v in kb.entries.items() if k != entry.id}, drafts={entry.id: entry})
        fixit = Fixit(copy.with_drafts())
        for example in entry.examples:
            got = fixit.matcher.match(example).answer_ids
            if got != [entry.id]:
                failures.append(f"{path.name}: {example[:70]!r} answered {got}")
    assert failures == []
