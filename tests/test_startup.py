"""Start-up as a new operator meets it: every setting the server cannot start with is said at once, one line
each, without a traceback and before any "serving" line; what it can start with degraded is said in one line
too. Through `python -m bot serve` against a loopback Slack."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from slack_harness import FakeSlack, free_port, get_json, serve_process, server_env

from bot.store.url import url_problem


@pytest.fixture(scope="module")
def fake():
    fake = FakeSlack()
    fake.refused_tokens = {"xoxb-revoked", "xapp-revoked"}
    yield fake
    fake.close()


def refused(tmp_path: Path, fake: FakeSlack, *args: str, **settings: str) -> list[str]:
    """The `fixit:` lines of a start that must fail; asserts it failed the way an operator can act on."""
    done = subprocess.run([sys.executable, "-m", "bot", "serve", *args], cwd=tmp_path, capture_output=True,
                          text=True, env=server_env(fake, tmp_path, **settings), timeout=120)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert "serving /slack/events" not in done.stderr and "connected to Slack" not in done.stderr
    return [line.removeprefix("fixit: ") for line in done.stderr.splitlines() if line.startswith("fixit: ")]


@pytest.mark.parametrize("mode", [["--http", "--port", "0"], []], ids=["http", "socket-mode"])
def test_a_bot_token_slack_refuses_is_one_line_in_both_modes(tmp_path, fake, mode):
    (line,) = refused(tmp_path, fake, *mode, SLACK_BOT_TOKEN="xoxb-revoked", SLACK_APP_TOKEN="xapp-test")
    assert line.startswith("SLACK_BOT_TOKEN: Slack refused it (invalid_auth)") and "OAuth & Permissions" in line


def test_an_app_token_slack_refuses_is_one_line(tmp_path, fake):
    (line,) = refused(tmp_path, fake, SLACK_APP_TOKEN="xapp-revoked")
    assert line.startswith("SLACK_APP_TOKEN: Slack refused it (invalid_auth)") and "connections:write" in line


def test_every_problem_is_said_at_once(tmp_path, fake):
    lines = refused(tmp_path, fake, "--http", "--port", "0", SLACK_SIGNING_SECRET="", SLACK_APP_TOKEN="xoxp-user",
                    FIXIT_DATABASE_URL="mysql2://db/fixit", FIXIT_CHANNEL_MODES="C0123:off",
                    FIXIT_KB_DIR=str(tmp_path / "no-kb"), FIXIT_HEALTH_PORT="web")
    named = [line.split(":", 1)[0].split(" ", 1)[0] for line in lines]
    assert sorted(named) == sorted(["SLACK_APP_TOKEN", "FIXIT_CHANNEL_MODES", "FIXIT_HEALTH_PORT",
                                    "SLACK_SIGNING_SECRET", "FIXIT_DATABASE_URL", "FIXIT_KB_DIR"]), lines
    assert all(len(line) < 400 for line in lines)


def test_a_bad_setting_stops_every_other_command_too(tmp_path, fake):
    done = subprocess.run([sys.executable, "-m", "bot", "ask", "INT771"], cwd=tmp_path, capture_output=True,
                          text=True, env=server_env(fake, tmp_path, FIXIT_DEFAULT_MODE="sometimes"), timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("fixit: FIXIT_DEFAULT_MODE: 'sometimes': write one of")


@pytest.mark.parametrize("url, says", [
    ("not a url", "is not a database URL: write one like sqlite:///"),
    ("mysql2://db/fixit", "'mysql2' is not a database SQLAlchemy knows"),
    ("mysql://fixit@db/fixit", "the mysql driver 'mysqldb' is not installed"),
    ("postgresql+psycopg2://fixit:hunter2@db/fixit", "pip install psycopg2-binary"),
])
def test_database_urls_that_can_never_work_are_named(url, says):
    problem = url_problem(url)
    assert problem.startswith("FIXIT_DATABASE_URL: ") and says in problem
    assert "hunter2" not in problem


def test_sqlite_and_postgresql_urls_with_their_drivers_are_accepted():
    assert url_problem("sqlite:///fixit.db") == "" and url_problem("postgresql+psycopg://u:p@db/fixit") == ""


def started(tmp_path: Path, fake: FakeSlack, **settings: str) -> tuple[subprocess.Popen, list[str]]:
    """A server started in HTTP mode, and its log lines up to "serving"."""
    port = free_port()
    server, lines = serve_process(fake, tmp_path, "--http", "--host", "127.0.0.1", "--port", str(port), **settings)
    server.port = port
    return server, lines


@pytest.mark.parametrize("url, says", [
    ("sqlite:///{tmp}/not-yet/fixit.db", "the folder of the SQLite file, {tmp}/not-yet, does not exist: create it"),
    ("postgresql+psycopg://fixit:hunter2@127.0.0.1:{closed}/fixit",
     "the database at postgresql+psycopg://fixit:***@127.0.0.1:{closed}/fixit is not reachable"),
], ids=["sqlite-folder-missing", "postgresql-unreachable"])
def test_a_database_down_at_start_is_one_line_before_serving_and_not_ready(tmp_path, fake, url, says):
    if url.startswith("postgresql"):
        pytest.importorskip("psycopg")
    closed = free_port()
    server, lines = started(tmp_path, fake, FIXIT_DATABASE_URL=url.format(tmp=tmp_path, closed=closed))
    try:
        store_lines = [line for line in lines if "FIXIT_DATABASE_URL" in line]
        assert len(store_lines) == 1 and says.format(tmp=tmp_path, closed=closed) in store_lines[0]
        assert "answering meanwhile" in store_lines[0] and "hunter2" not in "\n".join(lines)
        assert "Traceback" not in "\n".join(lines)
        assert not any("`token` will be unused" in line for line in lines)   # Bolt's warning, not ours to show
        status, body = get_json(server.port, "/readyz")
        assert status == 503 and body["ready"] is False and "store" in body["reason"]
        assert get_json(server.port, "/healthz") == (200, {"ok": True})
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_readiness_names_the_knowledge_base_and_the_team(tmp_path, fake):
    server, lines = started(tmp_path, fake)
    try:
        status, body = get_json(server.port, "/readyz")
        assert status == 200 and body["ready"] is True and body["team"] == "T0001" and body["entries"] > 100
        assert not any("`token` will be unused" in line for line in lines)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_installed_through_oauth_it_starts_without_a_bot_token_and_is_ready(tmp_path, fake):
    server, lines = started(tmp_path, fake, SLACK_BOT_TOKEN="", SLACK_CLIENT_ID=fake.client_id,
                            SLACK_CLIENT_SECRET=fake.client_secret)
    try:
        status, body = get_json(server.port, "/readyz")
        assert status == 200 and body["ready"] is True
        assert not any("auth.test" in line or "token` will be unused" in line for line in lines)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_oauth_in_socket_mode_is_refused_in_one_line(tmp_path, fake):
    lines = refused(tmp_path, fake, SLACK_BOT_TOKEN="", SLACK_APP_TOKEN="xapp-test", SLACK_CLIENT_ID="1.2",
                    SLACK_CLIENT_SECRET="s")
    assert len(lines) == 1 and lines[0].startswith("SLACK_CLIENT_ID: installing in many workspaces (OAuth) needs "
                                                   "HTTP mode")


def test_oauth_with_a_bot_token_or_one_escalation_channel_is_refused(tmp_path, fake):
    lines = refused(tmp_path, fake, "--http", "--port", "0", SLACK_CLIENT_ID=fake.client_id,
                    SLACK_CLIENT_SECRET=fake.client_secret, FIXIT_ESCALATION_CHANNEL="C0PEOPLE")
    assert sorted(line.split(":", 1)[0] for line in lines) == ["FIXIT_ESCALATION_CHANNEL", "SLACK_BOT_TOKEN"]
