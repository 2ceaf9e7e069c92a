"""Other apps' notifications, Share where Fixit cannot post, and a log paste naming many codes; through the
served app with signed requests and a loopback Slack."""

from __future__ import annotations

import json

import pytest
from slack_harness import BOT_USER, SECRET, FixitServer, message

from bot.settings import Settings
from bot.slack.app import build_runtime
from bot.slack.cards import PICK_LISTED, SHARE

NOTIFIER = "A0EXPORTS"        # an integration allowed in every channel
ALERTS_CHANNEL = "C0ALERTS"   # where one more app is allowed
NOTIFICATION = {
    "subtype": "bot_message", "bot_id": "B0EXPORTS", "app_id": NOTIFIER, "username": "Expense exports", "text": "",
    "attachments": [{
        "fallback": "Export failed for report R0012", "color": "#d00000", "title": "Export failed",
        "text": "INT771 Export Error: Export not completed. The batches for this reporting period are closed in "
                "Sage Intacct. Reopen the period or change the export date in Workspace configurations.",
        "fields": [{"title": "Report", "value": "R0012", "short": True}], "footer": "Exports"}],
}
BLOCKS_NOTIFICATION = {
    "bot_id": "B0NETSUITE", "app_id": "A0NETSUITE", "text": "",
    "bot_profile": {"id": "B0NETSUITE", "app_id": "A0NETSUITE", "name": "NetSuite alerts"},
    "blocks": [{"type": "header", "text": {"type": "plain_text", "text": "Export failed"}},
               {"type": "section", "text": {"type": "mrkdwn", "text": "*NS0012*: report R0099 did not export"}}],
}


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory):
    channels = tmp_path_factory.mktemp("settings") / "channels.yml"
    channels.write_text(f'apps:\n  "*": [{NOTIFIER}]\n  {ALERTS_CHANNEL}: [A0NETSUITE]\n', encoding="utf-8")
    settings = Settings.load(env={"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET,
                                  "SLACK_API_URL": fake.api_url, "FIXIT_CHANNELS_FILE": str(channels),
                                  "FIXIT_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('db') / 'f.db'}"},
                             env_file=None)
    server = FixitServer(build_runtime(settings, watch=False))
    yield server
    server.close()


def app_message(fields: dict, ts: str, channel: str = "C0001") -> dict:
    return {"type": "message", "channel": channel, "ts": ts, "channel_type": "channel", **fields}


def test_an_allowed_apps_notification_is_answered_from_its_attachment(fake, slack):
    slack.event(app_message(NOTIFICATION, "1700070000.000001"))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1700070000.000001"
    assert post.args["blocks"][0]["text"]["text"] == "INT771 Export Error"


def test_an_app_allowed_in_one_channel_is_answered_there_from_its_blocks_and_nowhere_else(fake, slack):
    slack.event(app_message(BLOCKS_NOTIFICATION, "1700070000.000002", channel="C0OTHER"))
    slack.event(app_message(BLOCKS_NOTIFICATION, "1700070000.000003", channel=ALERTS_CHANNEL))
    (post,) = fake.wait_for("chat.postMessage")
    fake.settle()
    assert [p.args["channel"] for p in fake.of("chat.postMessage")] == [ALERTS_CHANNEL]
    assert post.args["blocks"][0]["text"]["text"].startswith("NS0012")


def test_other_bots_and_fixits_own_cards_are_not_answered(fake, slack):
    other = {**NOTIFICATION, "bot_id": "B0CHATTY", "app_id": "A0CHATTY"}
    own = {**NOTIFICATION, "bot_id": "BFIXIT", "app_id": NOTIFIER}   # even were Fixit's app id listed
    slack.event(app_message(other, "1700070000.000004"))
    slack.event(app_message(own, "1700070000.000005"))
    fake.settle()
    assert fake.of("chat.postMessage") == []


def shortcut_on(msg: dict, response_url: str, channel: dict | None = None) -> dict:
    return {"type": "message_action", "callback_id": "fixit_explain", "user": {"id": "U0001"},
            "channel": channel or {"id": "C0001", "name": "exports"}, "message": msg,
            "message_ts": msg["ts"], "response_url": response_url}


def test_explain_this_error_reads_an_apps_attachments(fake, slack):
    slack.interactive(shortcut_on(app_message(NOTIFICATION, "1700070000.000006"), fake.response_url("x1")))
    (reply,) = fake.wait_for("response_url")
    assert reply.args["blocks"][0]["text"]["text"] == "INT771 Export Error"


def buttons(payload: dict) -> list[str]:
    return [e["action_id"] for b in payload["blocks"] if b["type"] == "actions" for e in b["elements"]]


def test_no_share_button_in_a_dm(fake, slack):
    dm = {"id": "D0TWOPEOPLE", "name": "directmessage"}
    slack.interactive(shortcut_on(message("INT771", ts="1700070000.000007"), fake.response_url("x2"), dm))
    slack.interactive(shortcut_on(message("INT771", ts="1700070000.000008"), fake.response_url("x3")))
    replies = {r.path: r.args for r in fake.wait_for("response_url", 2)}
    assert SHARE not in buttons(replies["/response/x2"]) and SHARE in buttons(replies["/response/x3"])


def test_share_where_fixit_is_not_a_member_says_to_invite_it_and_can_be_pressed_again(fake, slack):
    value = json.dumps({"e": "INT771", "c": "C0NOTIN", "t": "1700070000.000009"})
    fake.fail_next("chat.postMessage", 200, body={"ok": False, "error": "not_in_channel"})
    slack.click(SHARE, value, fake.response_url("s1"), channel="C0NOTIN", ephemeral=True)
    (note,) = fake.wait_for("response_url")
    assert f"/invite <@{BOT_USER}>" in note.args["text"] and "already answered" not in note.args["text"]
    slack.click(SHARE, value, fake.response_url("s2"), channel="C0NOTIN", ephemeral=True)   # invited now
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0NOTIN" and post.args["thread_ts"] == "1700070000.000009"


def log_of(codes: list[str]) -> str:
    return "\n".join(f"2026-03-{i % 28 + 1:02d}T10:00:00Z ERROR export report R{1000 + i}: {code}"
                     for i, code in enumerate(codes))


def test_a_log_paste_of_30_codes_gets_five_cards_and_one_list_of_the_rest(fake, slack, kb):
    codes = [e.id for e in kb if e.kind == "export"][:30]
    assert len(codes) == 30
    slack.event(message(log_of(codes), ts="1700070000.000010"))
    posts = fake.wait_for("chat.postMessage", 6)
    fake.settle()
    posts = fake.of("chat.postMessage")
    assert len(posts) == 6
    cards = [p.args["blocks"][0]["text"]["text"].split()[0] for p in posts[:5]]
    listed = posts[5].args["blocks"][0]
    named = [o["text"]["text"].split(":")[0] for o in listed["accessory"]["options"]]
    assert sorted(cards + named) == sorted(codes) and len(named) == 25
    assert "25 more errors" in listed["text"]["text"] and "/fixit CODE" in listed["text"]["text"]

    option = listed["accessory"]["options"][0]
    fake.reset()
    slack.interactive({"type": "block_actions", "user": {"id": "U0001"}, "channel": {"id": "C0001"},
                       "container": {"type": "message", "is_ephemeral": False, "channel_id": "C0001",
                                     "thread_ts": "1700070000.000010"},
                       "response_url": fake.response_url("l1"),
                       "actions": [{"type": "static_select", "action_id": PICK_LISTED, "block_id": "fixit_listed",
                                    "selected_option": option, "action_ts": "1.1"}]})
    (card,) = fake.wait_for("chat.postMessage")
    assert card.args["thread_ts"] == "1700070000.000010"
    assert card.args["blocks"][0]["text"]["text"].startswith(named[0])


def test_a_private_lookup_of_a_log_lists_the_rest_at_the_end(fake, slack, kb):
    codes = [e.id for e in kb if e.kind == "export"][:12]
    status, body = slack.command(log_of(codes), fake.response_url("c1"))
    payload = json.loads(body)
    assert status == 200 and payload["response_type"] == "ephemeral"
    listed = payload["blocks"][-1]
    assert listed["block_id"] == "fixit_listed" and "7 more errors" in listed["text"]["text"]


def test_settings_name_a_bad_app_id():
    with pytest.raises(ValueError, match="not an app id"):
        Settings.load(env={"FIXIT_ANSWER_APPS": "Expensify"}, env_file=None)


def test_a_message_with_only_rich_text_is_read(fake, slack):
    rich = {"bot_id": "B0EXPORTS", "app_id": NOTIFIER, "text": "", "blocks": [{"type": "rich_text", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "text", "text": "Export failed: "},
                                                   {"type": "text", "text": "NS0012", "style": {"bold": True}}]}]}]}
    slack.event(app_message(rich, "1700070000.000011"))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["blocks"][0]["text"]["text"].startswith("NS0012")


