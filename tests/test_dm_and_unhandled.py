"""DMs with Fixit and requests it has no listener for, through the served app."""

from __future__ import annotations

from pathlib import Path

import yaml
from slack_harness import BOT_USER, message

ROOT = Path(__file__).resolve().parent.parent


def dm(text: str, ts: str) -> dict:
    return {**message(text, ts=ts, channel="D0001"), "channel_type": "im"}


def test_a_mention_typed_in_a_dm_is_answered(fake, slack):
    """Slack sends no app_mention in a DM: the message itself is answered."""
    slack.event(dm(f"<@{BOT_USER}> INT771", "1700060000.000001"))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "D0001" and post.args["blocks"][0]["text"]["text"] == "INT771 Export Error"


def test_anything_said_in_a_dm_gets_an_answer(fake, slack):
    slack.event(dm("hello, can you help me with something?", "1700060000.000002"))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "D0001" and "Paste the whole error message" in post.args["text"]


def test_an_event_fixit_has_no_listener_for_is_acknowledged(slack):
    event = {"type": "reaction_added", "user": "U0001", "reaction": "thumbsup", "item_user": BOT_USER,
             "item": {"type": "message", "channel": "C0001", "ts": "1.1"}, "event_ts": "1.2"}
    assert slack.event(event)[0] == 200


def test_an_interaction_fixit_has_no_listener_for_is_acknowledged(slack):
    status, _ = slack.interactive({"type": "view_submission", "user": {"id": "U0001"},
                                   "view": {"id": "V1", "type": "modal", "callback_id": "someone_elses_modal",
                                            "state": {"values": {}}}})
    assert status == 200


def test_the_manifest_lets_people_message_fixit():
    features = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))["features"]["app_home"]
    assert features["messages_tab_enabled"] is True and features["messages_tab_read_only_enabled"] is False
