"""Settings mistakes a new operator makes get one line naming the setting and what to write instead."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("value, says", [
    ("C0123:off", "write CHANNEL_ID=MODE"),
    ("#general=off", "not a channel id"),
    ("general=off", "not a channel id"),
    ("=off", "the channel id is missing"),
    ("C0123=sometimes", "mode must be one of"),
])
def test_channel_modes_mistakes_are_named(value, says):
    with pytest.raises(ValueError, match=says) as caught:
        Settings.load(env={"FIXIT_CHANNEL_MODES": value}, env_file=None)
    assert str(caught.value).startswith("FIXIT_CHANNEL_MODES")


@pytest.mark.parametrize("content, says", [
    ("- C0123ABCD\n- C0456EFGH\n", "write a mapping"),
    ("channels:\n  - C0123ABCD\n", "write a mapping"),
    ("channels:\n  '#general': off\n", "not a channel id"),
])
def test_channels_file_mistakes_are_named(tmp_path, content, says):
    path = tmp_path / "channels.yml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=says) as caught:
        Settings.load(env={"FIXIT_CHANNELS_FILE": str(path)}, env_file=None)
    assert str(caught.value).startswith("FIXIT_CHANNELS_FILE")


def test_a_bad_setting_is_one_line_without_a_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "bot", "kb", "stats"], cwd=tmp_path, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "FIXIT_CHANNEL_MODES": "C0123:off"},
                          timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "FIXIT_CHANNEL_MODES" in done.stderr and "CHANNEL_ID=MODE" in done.stderr


def test_serving_a_kb_folder_that_holds_nothing_refuses_to_start_in_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": "http://127.0.0.1:9/api/",
           "FIXIT_KB_DIR": str(tmp_path / "missing"), "FIXIT_KB_LAST_GOOD": str(tmp_path / "no-copy"),
           "FIXIT_DATABASE_URL": f"sqlite:///{tmp_path / 'fixit.db'}"}
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--http", "--port", "0"], cwd=tmp_path,
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("fixit:")]
    assert "Traceback" not in done.stderr and any("FIXIT_KB_DIR" in line for line in errors)
    assert "FIXIT_KB_DIR" in errors[0] and "missing" in errors[0]
    assert len([line for line in errors if "FIXIT_KB_DIR" in line]) == 1   # said in one line, with the others'

    assert "serving /slack/events" not in done.stderr   # no "serving on http://…" line before the error


@pytest.mark.parametrize("content", ["", "\n\n", "not json\n{\"nope\": 1}\n"])
def test_eval_on_a_file_with_nothing_to_score_fails_in_one_line(tmp_path, content):
    path = tmp_path / "set.jsonl"
    path.write_text(content, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot", "eval", str(path), "--min-pastes", "0.9"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "100.00%" not in done.stdout
    assert "no labelled lines" in done.stderr and "Traceback" not in done.stderr


def test_eval_with_a_threshold_fails_on_a_partly_malformed_file(tmp_path):
    path = tmp_path / "set.jsonl"
    path.write_text('{"text": "INT771", "expect": ["INT771"]}\nnot json\n', encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot", "eval", str(path), "--min-pastes", "0.5"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "malformed" in done.stderr
