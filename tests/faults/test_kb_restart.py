"""A restart never serves less than the last good knowledge base: a file broken while Fixit was down is
served from the copy kept of the last knowledge base that loaded cleanly, through the served app."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from slack_harness import INT771, SECRET, FakeSlack, FixitServer, SlackSender, message

from bot.kb.watch import Reloader
from bot.settings import Settings
from bot.slack.app import build_runtime

BUNDLED = Path(__file__).resolve().parents[2] / "knowledge"


def kb_copy(tmp_path) -> Path:
    kb_dir = tmp_path / "kb"
    shutil.copytree(BUNDLED, kb_dir)
    return kb_dir


def entry_file(kb_dir: Path, entry_id: str) -> Path:
    return next(p for p in kb_dir.rglob("*.yaml") if p.stem.upper() == entry_id)


def break_file(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + '\nsummary: "an unclosed quote\n', encoding="utf-8")


def test_a_restart_with_a_broken_file_answers_it_from_the_last_good_copy(tmp_path, caplog):
    kb_dir, keep, fake = kb_copy(tmp_path), tmp_path / "last-good", FakeSlack()
    settings = Settings(bot_token="xoxb-test", signing_secret=SECRET, kb_dir=str(kb_dir), kb_last_good=str(keep),
                        api_url=fake.api_url, database_url=f"sqlite:///{tmp_path / 'fixit.db'}")
    build_runtime(settings, watch=False)           # the first start keeps a copy
    assert (keep / entry_file(kb_dir, "INT771").relative_to(kb_dir)).is_file()

    broken = entry_file(kb_dir, "INT771")
    break_file(broken)                               # edited badly while Fixit was down
    caplog.set_level(logging.WARNING)
    server = FixitServer(build_runtime(settings, watch=False))   # the restart
    try:
        SlackSender(server.url).event(message(INT771, ts="1700020000.000001"))
        (post,) = fake.wait_for("chat.postMessage")
        assert post.args["blocks"][0]["text"]["text"] == "INT771 Export Error"
    finally:
        server.close()
        fake.close()
    assert f"{broken}:" in caplog.text and "last good" in caplog.text


def test_new_and_fixed_files_are_read_as_they_are(tmp_path):
    kb_dir, keep = kb_copy(tmp_path), tmp_path / "last-good"
    added, edited = entry_file(kb_dir, "NS0012"), entry_file(kb_dir, "INT009")
    aside = tmp_path / "aside.yaml"
    shutil.move(added, aside)
    Reloader(kb_dir, lambda kb: kb, keep=keep)                # the copy, without NS0012
    shutil.move(aside, added)                                   # added since
    edited.write_text(edited.read_text(encoding="utf-8").replace("title: ", "title: Edited ", 1), encoding="utf-8")
    break_file(entry_file(kb_dir, "INT771"))
    kb = Reloader(kb_dir, lambda kb: kb, keep=keep).current
    assert kb.get("NS0012") is not None                         # new since the copy
    assert kb.get("INT009").title.startswith("Edited ")         # changed since the copy, and good
    assert kb.get("INT771") is not None                         # broken now: from the copy
    assert len(kb) == 223


def test_without_a_copy_the_broken_entry_is_left_out_and_said(tmp_path, caplog):
    kb_dir = kb_copy(tmp_path)
    break_file(entry_file(kb_dir, "INT771"))
    caplog.set_level(logging.WARNING)
    kb = Reloader(kb_dir, lambda kb: kb, keep=tmp_path / "never-saved").current
    assert kb.get("INT771") is None and "INT771" in caplog.text


def test_a_missing_kb_folder_serves_the_whole_copy(tmp_path):
    kb_dir, keep = kb_copy(tmp_path), tmp_path / "last-good"
    Reloader(kb_dir, lambda kb: kb, keep=keep)
    shutil.rmtree(kb_dir)
    kb = Reloader(kb_dir, lambda kb: kb, keep=keep).current
    assert len(kb) == 223 and kb.get("INT771") is not None


def test_a_broken_reload_does_not_replace_the_copy(tmp_path):
    kb_dir, keep = kb_copy(tmp_path), tmp_path / "last-good"
    reloader = Reloader(kb_dir, lambda kb: kb, keep=keep)
    break_file(entry_file(kb_dir, "INT771"))
    assert reloader.reload() is False
    kept = keep / entry_file(kb_dir, "INT771").relative_to(kb_dir)
    assert "an unclosed quote" not in kept.read_text(encoding="utf-8")
