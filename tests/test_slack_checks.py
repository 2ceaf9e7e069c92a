"""Live checks in Slack, end to end: signed events → the app → loopback Slack and a loopback Intacct."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
from checks_fakes import FakeIntacct
from slack_harness import SECRET, FakeSlack, FixitServer, SlackSender, eventually, message
from test_checks import PASTE, workspaces_file

from bot.answer import Where
from bot.checks.runner import CheckRunner
from bot.settings import Settings
from bot.slack.app import build_runtime
from bot.slack.cards import CHECK_WORKSPACE


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    monkeypatch = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("ws")
    fake, intacct = FakeSlack(), FakeIntacct()
    path = workspaces_file(tmp, monkeypatch, intacct=intacct)
    settings = Settings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.api_url,
                        database_url=f"sqlite:///{tmp / 'fixit.db'}", workspaces_file=str(path))
    runtime = build_runtime(settings, watch=False)
    runtime.answerer.checks = CheckRunner(budget=1.5, cache_seconds=0, today=lambda: date(2026, 4, 2))
    server = FixitServer(runtime)
    yield fake, intacct, SlackSender(server.url)
    server.close()
    fake.close()
    intacct.close()
    monkeypatch.undo()


@pytest.fixture
def slack(stack):
    fake, intacct, sender = stack
    fake.reset()
    intacct.mode = "ok"
    intacct.requests.clear()
    return fake, intacct, sender


_ts = iter(range(100, 100000))


def ts() -> str:
    return f"1700002000.{next(_ts):06d}"


def test_paste_in_a_mapped_channel_gets_the_static_card_then_its_workspace_section(slack):
    fake, _, sender = slack
    sender.event(message(PASTE, ts=ts(), channel="CACME"))
    (post,) = fake.wait_for("chat.postMessage")
    assert "Your workspace" not in json.dumps(post.args["blocks"])
    (update,) = fake.wait_for("chat.update")
    text = json.dumps(update.args["blocks"])
    assert update.args["channel"] == "CACME" and update.args["ts"].startswith("1700000000.")
    assert "*Your workspace*" in text and "report R0012 was submitted on 03/28/2026" in text
    assert "switch the export date to Exported date" in text


def test_a_hanging_provider_never_delays_the_static_answer(slack):
    fake, intacct, sender = slack
    intacct.mode = "hang"
    started = time.perf_counter()
    sender.event(message(PASTE, ts=ts(), channel="CACME"))
    fake.wait_for("chat.postMessage")
    assert time.perf_counter() - started < 1.0
    (update,) = fake.wait_for("chat.update", timeout=10)
    assert "Couldn't verify the period in Sage Intacct (Sage Intacct: timed out)" in json.dumps(update.args["blocks"])


def test_check_my_workspace_button_uses_the_conversation_not_the_user(slack):
    fake, _, sender = slack
    value = Where("COTHER", ts()).value("INT771")
    payload = {"type": "block_actions", "user": {"id": "U1", "team_id": "T0001"}, "team": {"id": "T0001"},
               "channel": {"id": "COTHER"}, "response_url": fake.response_url("chk"),
               "container": {"type": "message", "channel_id": "COTHER", "message_ts": "1700000000.000042",
                             "is_ephemeral": False},
               "actions": [{"type": "button", "action_id": CHECK_WORKSPACE, "value": value, "block_id": "b"}]}
    sender.interactive(payload)
    (update,) = fake.wait_for("chat.update")
    assert update.args["ts"] == "1700000000.000042" and "*Your workspace*" in json.dumps(update.args["blocks"])
    fake.reset()
    sender.interactive({**payload, "team": {"id": "TELSE"}, "user": {"id": "U2", "team_id": "TELSE"}})
    (answer,) = fake.wait_for("response_url")
    assert "isn't connected to a workspace" in answer.args["text"]
    assert not fake.of("chat.update")


def test_cards_offer_the_button_only_for_entries_with_checks(slack):
    fake, _, sender = slack
    sender.event(message("NS0012", ts=ts(), channel="CPUBLIC"))
    (post,) = fake.wait_for("chat.postMessage")
    assert CHECK_WORKSPACE not in json.dumps(post.args["blocks"])
    fake.reset()
    sender.event(message("INT771", ts=ts(), channel="CPUBLIC"))
    (post,) = fake.wait_for("chat.postMessage")
    assert CHECK_WORKSPACE in json.dumps(post.args["blocks"])
    fake.settle()
    assert not fake.of("chat.update")  # not a mapped channel: no automatic check


def test_rejected_credentials_are_told_to_admins_privately_once(slack):
    fake, intacct, sender = slack
    intacct.mode = "auth_fail"
    for _ in range(2):
        sender.event(message(PASTE, ts=ts(), channel="CACME"))
    eventually(lambda: len(fake.of("chat.update")) == 2)
    dms = [c for c in fake.of("chat.postMessage") if c.args["channel"] == "UADMIN"]
    assert len(dms) == 1 and "credentials were rejected" in dms[0].args["text"]
    assert "us3r-Pa55" not in json.dumps([c.args for c in fake.calls])


def test_check_my_workspace_never_reads_the_workspace_a_tampered_value_names(slack):
    """No channel in the payload, and a value naming the workspace's channel: nothing is checked."""
    fake, intacct, sender = slack
    value = Where("CACME", ts()).value("INT771")
    sender.interactive({"type": "block_actions", "user": {"id": "U0001"}, "team": {"id": "TOTHER"},
                        "container": {"type": "message", "is_ephemeral": True},
                        "response_url": fake.response_url("tamper"),
                        "actions": [{"type": "button", "action_id": CHECK_WORKSPACE, "value": value,
                                     "block_id": "b", "action_ts": "1.1"}]})
    (reply,) = fake.wait_for("response_url")
    assert "isn't connected to a workspace" in reply.args["text"]
    assert intacct.requests == []
