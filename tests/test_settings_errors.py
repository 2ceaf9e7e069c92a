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
