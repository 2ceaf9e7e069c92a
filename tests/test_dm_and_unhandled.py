"""DMs with Fixit and requests it has no listener for, through the served app."""

from __future__ import annotations

from pathlib import Path

import pytest
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


@pytest.mark.parametrize("name", ["manifest.yml", "manifest.oauth.yml"])
def test_the_manifests_are_valid_for_slacks_manifest_schema(name):
    """Slack's published schema (slackapi/manifest-schema, MIT; copied into tests/data): a misspelt field, an
    unknown event or scope, a wrong type is named here, not when someone pastes the manifest into Slack."""
    import json

    import jsonschema

    from bot.settings import BOT_SCOPES
    schema = json.loads((ROOT / "tests" / "data" / "slack-manifest.schema.1.0.0.json").read_text(encoding="utf-8"))
    manifest = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # each message event needs its history scope; Fixit joins no channel by itself (no chat:write.public)
    for event, scope in (("message.channels", "channels:history"), ("message.groups", "groups:history"),
                         ("message.im", "im:history"), ("message.mpim", "mpim:history"),
                         ("app_mention", "app_mentions:read")):
        assert event in manifest["settings"]["event_subscriptions"]["bot_events"] and scope in scopes
    assert "chat:write.public" not in scopes
    assert scopes == set(BOT_SCOPES)   # what the OAuth install asks for (SLACK_SCOPES' default)


def test_the_two_manifests_differ_only_in_how_fixit_is_installed():
    one, many = (yaml.safe_load((ROOT / n).read_text(encoding="utf-8")) for n in ("manifest.yml", "manifest.oauth.yml"))
    assert one["features"] == many["features"] and one["oauth_config"]["scopes"] == many["oauth_config"]["scopes"]
    assert many["oauth_config"]["redirect_urls"][0].endswith("/slack/oauth_redirect")
    assert many["settings"]["token_rotation_enabled"] and many["settings"]["org_deploy_enabled"]
    assert not many["settings"]["socket_mode_enabled"] and not one["settings"]["token_rotation_enabled"]
    events = set(many["settings"]["event_subscriptions"]["bot_events"])
    assert events - set(one["settings"]["event_subscriptions"]["bot_events"]) == {"app_uninstalled", "tokens_revoked"}
