"""Settings, the store shared by instances, hot reload of the knowledge base, and `serve` errors."""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path

import pytest
from conftest import KB_DIR, run_cli, write_entry
from sqlalchemy import select

from bot.kb.loader import entry_files
from bot.kb.watch import Reloader, snapshot
from bot.pipeline import Fixit
from bot.settings import Settings
from bot.store import Store, events, thread_answers


def test_settings_from_env_and_dotenv(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text('# comment\nexport SLACK_BOT_TOKEN="xoxb-file"\nFIXIT_SLASH_COMMAND=help-me\n'
                        "FIXIT_CHANNEL_MODES=C1=off, C2=mention-only\n", encoding="utf-8")
    settings = Settings.load(env={"SLACK_BOT_TOKEN": "xoxb-env", "SLACK_API_URL": "http://127.0.0.1:1/api"},
                             env_file=env_file)
    assert settings.bot_token == "xoxb-env"              # the environment wins over .env
    assert "xoxb-" not in repr(settings) and "SLACK_API_URL" not in repr(settings)  # no secret, no environment
    from dataclasses import asdict
    copied = asdict(settings)["environment"]
    assert copied["SLACK_BOT_TOKEN"] == "xoxb-env" and "xoxb-" not in repr(copied)  # looked up, never shown
    assert settings.slash_command == "/help-me"
    assert settings.api_url == "http://127.0.0.1:1/api/"
    assert settings.channel_modes == {"C1": "off", "C2": "mention-only"}
    assert settings.database_url == "sqlite:///fixit.db"


def test_channels_file_and_bad_modes(tmp_path):
    channels = tmp_path / "channels.yml"
    channels.write_text("default: mention-only\nchannels:\n  C9: off\n", encoding="utf-8")
    settings = Settings.load(env={"FIXIT_CHANNELS_FILE": str(channels), "FIXIT_CHANNEL_MODES": "C8=auto"},
                             env_file=None)
    assert settings.default_mode == "mention-only"
    assert settings.channel_modes == {"C9": "off", "C8": "auto"}
    with pytest.raises(ValueError, match="FIXIT_CHANNEL_MODES"):
        Settings.load(env={"FIXIT_CHANNEL_MODES": "C1=sometimes"}, env_file=None)


def store_contract(url: str) -> None:
    """What every backend must do: two instances sharing one database claim each thing once."""
    first, second = Store(url), Store(url)
    assert first.first_delivery("Ev1") is True
    assert second.first_delivery("Ev1") is False
    assert first.claim_event("Ev2", "C1", "1.1", ["INT771", "NS0012"]) == ["INT771", "NS0012"]
    assert second.claim_event("Ev2", "C1", "1.1", ["INT771"]) is None          # a Slack retry
    assert second.claim_event("Ev3", "C1", "1.1", ["INT771", "XERO68"]) == ["XERO68"]
    assert first.claim_answer("C1", "1.1", "INT771") is False
    first.release_answer("C1", "1.1", "INT771")
    assert second.claim_answer("C1", "1.1", "INT771") is True
    assert sorted(first.thread_entries("C1", "1.1")) == ["INT771", "NS0012", "XERO68"]
    assert sorted(first.most_answered()) == [("INT771", 1), ("NS0012", 1), ("XERO68", 1)]
    first.record_feedback("INT771", "U1", "C1", "1.1", "down")
    assert second.feedback_for("INT771") == {"down": 1}
    assert first.notify_once("bad:acme") is True and second.notify_once("bad:acme") is False
    # what another instance remembered while it could not reach the database, written in at once: new rows
    # go in as remembered (an event keeps when it was seen); rows already there stay as they are
    second.write_remembered([("Ev1", 1.0), ("Ev4", 2.5)],
                            [("C1", "1.1", "INT771", "T9"), ("C2", "2.2", "INT771", "T9"),
                             ("C2", "2.2", "NS0012", "T9")], ["bad:acme", "escalated:C2:2.2"])
    assert first.first_delivery("Ev4") is False and first.notify_once("escalated:C2:2.2") is False
    assert sorted(first.thread_entries("C2", "2.2")) == ["INT771", "NS0012"]
    with first.engine.connect() as conn:
        seen = dict(conn.execute(select(events.c.event_id, events.c.seen_at)).all())
        teams = dict(conn.execute(select(thread_answers.c.thread_ts, thread_answers.c.team_id)
                                  .where(thread_answers.c.entry_id == "INT771")).all())
    assert seen["Ev4"] == 2.5 and seen["Ev1"] > 1.0 and teams == {"1.1": "", "2.2": "T9"}
    second.write_remembered([], [], [])                                          # nothing remembered: no change
    with first.engine.connect() as conn:
        assert dict(conn.execute(select(events.c.event_id, events.c.seen_at)).all()) == seen


def test_two_instances_on_one_sqlite_database(tmp_path):
    store_contract(f"sqlite:///{tmp_path / 'shared.db'}")


def test_two_instances_on_one_postgresql_database():
    url = os.environ.get("FIXIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set FIXIT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL when it can)")
    from sqlalchemy import create_engine

    from bot.store import metadata
    metadata.drop_all(create_engine(url))
    store_contract(url)


def test_unmatched_pastes_are_truncated_and_expire(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'u.db'}", retention_days=0)
    store.record_unmatched("x" * 2000, "C1")
    assert [len(t) for t in store.unmatched_texts()] == [500]
    time.sleep(0.01)
    store.record_unmatched("second", "C1")  # recording prunes what is past retention
    assert list(store.unmatched_texts()) == ["second"]


def test_hot_reload_picks_up_edits_and_keeps_serving_on_a_broken_one(tmp_path, caplog, good_entry):
    kb_dir = tmp_path / "kb"
    shutil.copytree(KB_DIR / "sage-intacct", kb_dir / "sage-intacct")
    reloader = Reloader(kb_dir, Fixit)
    assert reloader.current.kb.get("INT990") is None
    write_entry(kb_dir, "sage-intacct/INT990.yaml", good_entry())
    assert reloader.check() is True
    assert reloader.current.reply("INT990").match.answer_ids == ["INT990"]
    serving = reloader.current
    broken = write_entry(kb_dir, "sage-intacct/INT991.yaml", "id: INT991\ntitle: [broken\n")
    with caplog.at_level(logging.ERROR, logger="fixit.kb"):
        assert reloader.check() is False
    assert reloader.current is serving
    assert f"{broken}:" in caplog.text and "previous one keeps serving" in caplog.text
    assert reloader.check() is False  # nothing changed since: no second attempt


def test_hot_reload_watcher_thread(tmp_path, good_entry):
    kb_dir = tmp_path / "kb"
    write_entry(kb_dir, "x/INT990.yaml", good_entry())
    reloader = Reloader(kb_dir, Fixit, interval=0.05)
    reloader.start()
    assert reloader.watching
    try:
        write_entry(kb_dir, "x/INT992.yaml", good_entry("INT992", "The gizmo overheated in Sage Intacct today."))
        deadline = time.monotonic() + 5
        while reloader.current.kb.get("INT992") is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert reloader.current.kb.get("INT992") is not None
    finally:
        reloader.stop()


def test_watch_snapshot_sees_what_the_loader_loads(tmp_path, good_entry):
    kb_dir = tmp_path / "kb"
    write_entry(kb_dir, "x/INT990.yaml", good_entry())
    write_entry(kb_dir, "x/deeper/INT992.yml", good_entry("INT992", "The gizmo overheated in Sage Intacct today."))
    write_entry(kb_dir, "x/notes.txt", "not an entry")
    (kb_dir / "x" / "folder.yaml").mkdir()
    (kb_dir / "x" / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    before = snapshot(kb_dir)
    assert set(before) == {str(p) for p in entry_files(kb_dir)}
    assert len(before) == 2
    target = kb_dir / "x" / "INT990.yaml"
    os.utime(target, ns=(before[str(target)] + 10**9, before[str(target)] + 10**9))
    after = snapshot(kb_dir)
    assert after != before and after[str(target)] == before[str(target)] + 10**9
    assert snapshot(tmp_path / "missing") == {}


def test_slack_client_does_not_format_debug_lines_unless_debugging():
    from bot.slack.app import build_client

    logger = logging.getLogger("slack_sdk.web.base_client")
    root, saved = logging.getLogger(), logging.getLogger().level
    try:
        logger.setLevel(logging.NOTSET)
        root.setLevel(logging.INFO)
        # slack_sdk builds a debug line holding the whole request body whenever its logger's level is <= DEBUG,
        # and NOTSET is 0: a card of blocks was formatted on every post
        assert build_client(Settings.load(env_file=None)).logger.level == logging.INFO
        logger.setLevel(logging.NOTSET)
        root.setLevel(logging.DEBUG)
        assert build_client(Settings.load(env_file=None)).logger.level == logging.DEBUG
    finally:
        logger.setLevel(logging.NOTSET)
        root.setLevel(saved)


def test_kb_poll_setting(tmp_path, good_entry):
    import signal

    from slack_harness import FakeSlack

    from bot.slack.app import build_runtime

    assert Settings.load(env={}, env_file=None).kb_poll_seconds == 2.0
    assert Settings.load(env={"FIXIT_KB_POLL_SECONDS": "0.5"}, env_file=None).kb_poll_seconds == 0.5
    for bad in ("soon", "-1", "inf"):
        with pytest.raises(ValueError, match="FIXIT_KB_POLL_SECONDS must be a number of seconds"):
            Settings.load(env={"FIXIT_KB_POLL_SECONDS": bad}, env_file=None)
    with pytest.raises(ValueError, match="FIXIT_UNMATCHED_RETENTION_DAYS must be a number of days"):
        Settings.load(env={"FIXIT_UNMATCHED_RETENTION_DAYS": "a month"}, env_file=None)

    # 0: the server never polls; an edit is picked up on SIGHUP
    kb_dir = tmp_path / "kb"
    write_entry(kb_dir, "x/INT990.yaml", good_entry())
    fake = FakeSlack()
    previous = signal.getsignal(signal.SIGHUP)
    try:
        runtime = build_runtime(Settings(bot_token="xoxb-test", api_url=fake.api_url, kb_dir=str(kb_dir),
                                         database_url=f"sqlite:///{tmp_path}/fixit.db", kb_poll_seconds=0))
        write_entry(kb_dir, "x/INT992.yaml", good_entry("INT992", "The gizmo overheated in Sage Intacct today."))
        assert not runtime.reloader.watching
        assert runtime.answerer.fixit.kb.get("INT992") is None
        os.kill(os.getpid(), signal.SIGHUP)
        deadline = time.monotonic() + 5
        while runtime.answerer.fixit.kb.get("INT992") is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert runtime.answerer.fixit.kb.get("INT992") is not None
    finally:
        signal.signal(signal.SIGHUP, previous)
        fake.close()


def test_serve_without_tokens_is_a_clear_error():
    done = run_cli("serve", "--http")
    assert done.returncode == 2
    assert b"SLACK_BOT_TOKEN is not set" in done.stderr and b"Traceback" not in done.stderr


def test_old_event_ids_are_pruned(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'e.db'}")
    assert store.claim_event("Ev1", "C1", "1.1", ["INT771"]) == ["INT771"]
    assert store.claim_event("Ev1", "C1", "1.1", ["INT771"]) is None
    store.prune_events(older_than_days=-1)  # everything is older than "tomorrow"
    assert store.claim_event("Ev1", "C1", "1.1", ["INT771"]) == []  # the thread keeps its answer


# SQLite's own count of the memory it holds, after 20 000 claims in a fresh process (other tests' databases
# would count too in this one)
SQLITE_MEMORY_AFTER_CLAIMS = """
import ctypes, sys, _sqlite3
from bot.store import Store
store = Store(f"sqlite:///{sys.argv[1]}")
for n in range(20000):
    store.claim_event(f"Ev{n:08d}", f"C{n % 50}", f"1700000000.{n:06d}", ["INT771"])
with store.engine.connect() as conn:
    pooled = conn.exec_driver_sql("PRAGMA cache_size").scalar()
claims = store._claim_connection.cursor().execute("PRAGMA cache_size").fetchone()[0]
used, high = ctypes.c_int64(), ctypes.c_int64()
ctypes.CDLL(_sqlite3.__file__).sqlite3_status64(0, ctypes.byref(used), ctypes.byref(high), 0)
print(pooled, claims, used.value)
"""


def test_sqlites_page_cache_stays_small_as_the_database_grows(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    from bot.store import SQLITE_CACHE_KIB

    done = subprocess.run([sys.executable, "-c", SQLITE_MEMORY_AFTER_CLAIMS, str(tmp_path / "grow.db")], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    pooled, claims, used = map(int, done.stdout.split())
    assert pooled == claims == -SQLITE_CACHE_KIB
    assert (tmp_path / "grow.db").stat().st_size > 2 * 1024 * SQLITE_CACHE_KIB  # larger than the cache would hold
    # the cache, and under 1 MiB of SQLite's own (the schema, statements); SQLite's default cache is 2 000 KiB
    assert used < 1024 * SQLITE_CACHE_KIB + 1024 * 1024


def test_serve_with_workers_answers_from_the_kb_given_with_kb(tmp_path, good_entry):
    import subprocess
    import sys

    from conftest import ROOT
    from slack_harness import SECRET, FakeSlack, SlackSender, free_port, message
    from test_allocator import is_glibc

    kb_dir = tmp_path / "kb"
    write_entry(kb_dir, "x/INT990.yaml", good_entry())  # only in this KB, not in the bundled one
    fake, port = FakeSlack(), free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
           "FIXIT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "SLACK_APP_TOKEN": ""}
    env.pop("FIXIT_KB_DIR", None)
    env.pop("MALLOC_ARENA_MAX", None)
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--http", "--host", "127.0.0.1", "--port",
                               str(port), "--workers", "2", "--kb", str(kb_dir)], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events")
        assert sender.event_once_listening(message("INT990", ts="1700009000.000001"), wait=60) == 200
        posts = fake.wait_for("chat.postMessage", timeout=20)
        assert "INT990" in json.dumps(posts[0].args["blocks"])
        if sys.platform.startswith("linux"):
            workers = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
            if is_glibc():  # the workers start with the server's cap on malloc arenas
                environments = [Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") for pid in workers]
                assert environments and all(b"MALLOC_ARENA_MAX=2" in e for e in environments)
            if len(os.sched_getaffinity(0)) >= 2:  # and each keeps its threads on a CPU of its own
                from test_cpu import threads_cpus

                workers = [pid for pid in workers if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]

                def cpus_of_workers():  # not the resource tracker
                    return [{frozenset(c) for c in threads_cpus(int(pid))} for pid in workers]

                deadline = time.monotonic() + 30  # the worker that did not answer may still be starting
                while not all(len(c) == 1 and len(next(iter(c))) == 1 for c in cpus_of_workers()):
                    assert time.monotonic() < deadline, cpus_of_workers()
                    time.sleep(0.1)
                cpus = cpus_of_workers()
                assert len(cpus) == 2 and cpus[0] != cpus[1]
    finally:
        server.terminate()
        server.wait(timeout=30)
        fake.close()


def test_serve_with_unreachable_slack_or_bad_workspaces_is_a_clear_error(tmp_path):
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-x", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": "http://127.0.0.1:9/api/", "FIXIT_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--http", "--port", "0"], cwd=ROOT, env=env,
                          capture_output=True, timeout=60)
    assert done.returncode == 2 and b"could not reach the Slack Web API" in done.stderr
    assert b"Traceback" not in done.stderr
    bad = tmp_path / "w.yml"
    bad.write_text("workspaces: 3\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "bot", "serve", "--http"], cwd=ROOT, capture_output=True,
                          env={**env, "FIXIT_WORKSPACES": str(bad)}, timeout=60)
    assert done.returncode == 2 and b"needs a `workspaces:` list" in done.stderr
