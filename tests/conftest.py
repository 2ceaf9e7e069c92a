from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.kb import load_knowledge_base
from bot.match import Matcher
from bot.pipeline import Fixit

ROOT = Path(__file__).resolve().parent.parent
KB_DIR = ROOT / "knowledge"
DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="session")
def kb():
    return load_knowledge_base(KB_DIR)


@pytest.fixture(scope="session")
def matcher(kb):
    return Matcher(kb)


@pytest.fixture(scope="session")
def fixit(kb):
    return Fixit(kb)


def run_cli(*args: str, stdin: str | bytes | None = None, timeout: float = 120,
            env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    """`python -m bot ARGS` as a user runs it (a real process, real files); `env`: its environment (default:
    this process's); `cwd`: the folder it runs in (its `.env` is the one read)."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    if cwd != ROOT:  # the package is still this checkout's
        env = dict(os.environ if env is None else env)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, input=data, env=env,
                          capture_output=True, timeout=timeout)


def cli_env(**settings: str) -> dict[str, str]:
    """This process's environment without Fixit's and Slack's settings, with `settings` (FIXIT_…=…) added."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith(("FIXIT_", "SLACK_"))}, **settings}


def write_entry(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


GOOD_ENTRY = """\
id: {id}
title: {id} Export Error
system: Sage Intacct
kind: export
message: "{id} Export Error: {message}"
summary: Something the test needs.
causes:
  - A cause.
fixes:
  - title: Do the thing
    steps:
      - Step one.
      - Step two.
faq:
  - q: Is this a test?
    a: Yes.
examples:
  - {id}
  - "{message}"
  - "> *{id} Export Error*: {message}"
"""


def with_line(entry: str, line: str) -> str:
    """A GOOD_ENTRY text with `line` added after its `kind:` (as its line 5)."""
    assert "kind: export\n" in entry
    return entry.replace("kind: export\n", f"kind: export\n{line}\n", 1)


@pytest.fixture
def good_entry():
    def make(entry_id: str = "INT990", message: str = "The flux capacitor is misaligned in Sage Intacct."):
        return GOOD_ENTRY.format(id=entry_id, message=message)
    return make


# The served app against a loopback Slack: one of each per test module (a module may define its own).

@pytest.fixture(scope="module")
def fake():
    from slack_harness import FakeSlack

    fake = FakeSlack()
    yield fake
    fake.close()


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory):
    from slack_harness import served

    server = served(fake, f"sqlite:///{tmp_path_factory.mktemp('db') / 'fixit.db'}")
    yield server
    server.close()


@pytest.fixture
def slack(fake, server):
    """Signed requests to the served app, the fake's record cleared first."""
    from slack_harness import SlackSender

    fake.reset()
    return SlackSender(server.url)
