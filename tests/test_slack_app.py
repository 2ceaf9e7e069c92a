"""End to end: signed Slack requests → the real Bolt app over HTTP → a loopback Slack Web API."""

from __future__ import annotations

import json
import time

import pytest
from slack_harness import (
    BOT_USER,
    SECRET,
    FixitServer,
    SlackSender,
    envelope,
    eventually,
    message,
    same_arguments_as_bolt,
)

from bot.answer import Where
from bot.settings import Settings
from bot.slack.app import build_runtime
from bot.slack.cards import FULL_CARD, HELPFUL, NOT_IT, SHARE

INT771 = ("INT771 Export Error: Export not completed. The batches for this reporting period are closed in "
          "Sage Intacct. Reopen the period or change the export date in Workspace configurations.")


@pytest.fixture(scope="module")
def runtime(fake, tmp_path_factory):
    db = tmp_path_factory.mktemp("db") / "fixit.db"
    settings = Settings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.api_url,
                        database_url=f"sqlite:///{db}",
                        channel_modes={"CQUIET": "mention-only", "COFF": "off"})
    return build_runtime(settings, watch=False)


@pytest.fixture(scope="module")
def server(runtime):
    server = FixitServer(runtime)
    yield server
    server.close()


@pytest.fixture
def slack(fake, server):
    fake.reset()
    return SlackSender(server.url)


_ts = iter(range(100000, 999999))


def new_ts() -> str:
    return f"1700001000.{next(_ts):06d}"


def card_header(call) -> str:
    return call.args["blocks"][0]["text"]["text"]


def test_pasted_error_is_answered_in_its_thread(fake, slack):
    ts = new_ts()
    status, _ = slack.event(message(f"> {INT771}\n<@U0002> any idea? :sob:", ts=ts))
    assert status == 200
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0001" and post.args["thread_ts"] == ts
    assert card_header(post) == "INT771 Export Error"
    assert post.args["unfurl_links"] in (False, "0", "false", 0)
    actions = post.args["blocks"][-1]
    assert [e["action_id"] for e in actions["elements"]] == [FULL_CARD, HELPFUL, NOT_IT]


def test_reply_in_an_existing_thread_stays_in_that_thread(fake, slack):
    parent, ts = new_ts(), new_ts()
    slack.event(message("Currency does not exist in NetSuite.", ts=ts, thread_ts=parent))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == parent and card_header(post).startswith("NS0012")


def test_one_answer_per_entry_per_thread(fake, slack):
    ts = new_ts()
    slack.event(message("INT771", ts=ts))
    fake.wait_for("chat.postMessage")
    slack.event(message("INT771 again, still failing", ts=new_ts(), thread_ts=ts))
    fake.settle()
    assert len(fake.of("chat.postMessage")) == 1


def test_same_event_delivered_three_times_is_answered_once(fake, slack):
    event = message("XERO68", ts=new_ts())
    for retry in (None, 1, 2):
        status, _ = slack.event(event, event_id="EvRETRY0001", retry_num=retry)
        assert status == 200
    fake.wait_for("chat.postMessage")
    fake.settle()
    assert len(fake.of("chat.postMessage")) == 1


def test_close_match_gets_a_private_did_you_mean(fake, slack):
    slack.event(message("Account not found. The category or export account may be deleted or inactive in the",
                        ts=new_ts(), user="U0042"))
    (eph,) = fake.wait_for("chat.postEphemeral")
    assert eph.args["user"] == "U0042"
    buttons = eph.args["blocks"][-1]["elements"]
    assert {b["text"]["text"] for b in buttons} >= {"ONL912", "DESK57"}
    assert not fake.of("chat.postMessage")


def test_chatter_other_bots_and_edits_get_silence(fake, slack):
    slack.event(message("the vendor is on hold until they send a W-9", ts=new_ts()))
    slack.event(message("INT771", ts=new_ts(), bot_id="B0OTHER", user="U0BOT"))
    slack.event(message("INT771", ts=new_ts(), user=BOT_USER))
    slack.event({"type": "message", "subtype": "message_changed", "channel": "C0001", "ts": new_ts(),
                 "message": {"text": "INT771", "user": "U0001"}})
    slack.event({"type": "message", "subtype": "message_deleted", "channel": "C0001", "ts": new_ts()})
    fake.settle()
    assert fake.calls == []


def test_forged_or_stale_requests_are_rejected(fake, slack):
    body = json.dumps({"type": "event_callback", "event_id": "EvFORGED", "team_id": "T0001",
                       "event": message("INT771", ts=new_ts())}).encode()
    status, _ = slack.send(body, "application/json", signature="v0=" + "0" * 64)
    assert status == 401
    status, _ = slack.send(body, "application/json", timestamp=int(time.time()) - 600)
    assert status == 401
    forged = SlackSender(slack.url, secret="not-the-secret")
    status, _ = forged.event(message("INT771", ts=new_ts()))
    assert status == 401
    fake.settle()
    assert fake.calls == []


def test_broadcasts_in_a_paste_are_never_echoed(fake, slack):
    slack.event(message(f"<!channel> <!here> <@U0009> {INT771} @everyone", ts=new_ts()))
    (post,) = fake.wait_for("chat.postMessage")
    dumped = json.dumps(post.args)
    for loud in ("<!channel>", "<!here>", "<!everyone>", "<@U0009>"):
        assert loud not in dumped


def test_rate_limited_first_post_still_arrives(fake, slack):
    fake.fail_next("chat.postMessage", 429, {"Retry-After": "1"}, {"ok": False, "error": "ratelimited"})
    slack.event(message("NS0012", ts=new_ts()))
    (post,) = fake.wait_for("chat.postMessage", timeout=15)
    assert card_header(post).startswith("NS0012")
    assert fake.of("chat.postMessage!429")


def test_failed_post_is_logged_not_fatal(fake, slack):
    fake.fail_next("chat.postMessage", 500, body={"ok": False, "error": "internal_error"})
    ts = new_ts()
    slack.event(message("DESK08", ts=ts))
    eventually(lambda: fake.of("chat.postMessage!500"))
    fake.settle()
    slack.event(message("DESK08", ts=new_ts(), thread_ts=ts))  # the claim was released: a retry answers
    (post,) = fake.wait_for("chat.postMessage")
    assert card_header(post).startswith("DESK08")


def test_mention_always_answers(fake, slack):
    slack.event({"type": "app_mention", "channel": "C0001", "user": "U0001", "ts": new_ts(),
                 "text": f"<@{BOT_USER}> XERO11"})
    (post,) = fake.wait_for("chat.postMessage")
    assert card_header(post).startswith("XERO11")
    fake.reset()
    slack.event({"type": "app_mention", "channel": "C0001", "user": "U0001", "ts": new_ts(),
                 "text": f"<@{BOT_USER}> what's for lunch"})
    (post,) = fake.wait_for("chat.postMessage")
    assert "couldn't match" in json.dumps(post.args["blocks"])
    fake.reset()
    slack.event({"type": "app_mention", "channel": "C0001", "user": "U0001", "ts": new_ts(),
                 "text": f"<@{BOT_USER}> Account not found. The category or export account may be deleted"})
    (post,) = fake.wait_for("chat.postMessage")
    assert "Did you mean" in json.dumps(post.args["blocks"])


def test_a_mention_inside_a_paste_is_answered_once(fake, slack):
    ts = new_ts()
    text = f"<@{BOT_USER}> INT088"
    slack.event(message(text, ts=ts))
    slack.event({"type": "app_mention", "channel": "C0001", "user": "U0001", "ts": ts, "text": text})
    fake.wait_for("chat.postMessage")
    fake.settle()
    assert len(fake.of("chat.postMessage")) == 1


def test_channel_modes(fake, slack):
    slack.event(message("INT771", ts=new_ts(), channel="CQUIET"))
    slack.event(message("INT771", ts=new_ts(), channel="COFF"))
    slack.event({"type": "app_mention", "channel": "COFF", "user": "U0001", "ts": new_ts(),
                 "text": f"<@{BOT_USER}> INT771"})
    fake.settle()
    assert fake.calls == []
    slack.event({"type": "app_mention", "channel": "CQUIET", "user": "U0001", "ts": new_ts(),
                 "text": f"<@{BOT_USER}> INT771"})
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "CQUIET"


def test_thread_follow_ups(fake, slack):
    ts = new_ts()
    slack.event(message(INT771, ts=ts))
    fake.wait_for("chat.postMessage")
    fake.reset()
    slack.event(message("thanks!", ts=new_ts(), thread_ts=ts))
    slack.event(message("trying now", ts=new_ts(), thread_ts=ts))
    fake.settle()
    assert fake.calls == []
    slack.event(message("do we have to reopen the closed period?", ts=new_ts(), thread_ts=ts))
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == ts
    assert "Do I have to reopen the closed period?" in json.dumps(post.args["blocks"])
    fake.reset()
    slack.event(message("how do I update the credentials?", ts=new_ts(), thread_ts=ts))
    (post,) = fake.wait_for("chat.postMessage")
    assert "Sage Intacct" in json.dumps(post.args["blocks"]) and "credentials" in json.dumps(post.args["blocks"])
    fake.reset()
    slack.event(message("now also getting NS0012", ts=new_ts(), thread_ts=ts))
    (post,) = fake.wait_for("chat.postMessage")
    assert card_header(post).startswith("NS0012")


def test_slash_command_answers_privately_with_share(fake, slack):
    """The answer comes in the acknowledgement itself: no response_url round trip."""
    status, body = slack.command("INT 771", fake.response_url("cmd1"))
    assert status == 200
    response = json.loads(body)
    assert response["response_type"] == "ephemeral"
    assert response["blocks"][0]["text"]["text"] == "INT771 Export Error"
    assert fake.of("response_url") == []
    share = response["blocks"][-1]["elements"][0]
    assert share["action_id"] == SHARE
    fake.reset()
    slack.click(SHARE, share["value"], fake.response_url("cmd1"), ephemeral=True)
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0001" and not post.args.get("thread_ts")
    eventually(lambda: any(c.args.get("delete_original") for c in fake.of("response_url")))


def test_slash_command_help_and_text_lookup(fake, slack):
    for text in ("", "help"):
        status, body = slack.command(text, fake.response_url("help"))
        assert status == 200 and "/fixit INT771" in json.loads(body)["text"]
    _, body = slack.command("the batches for this reporting period are closed in sage intacct", fake.response_url("t"))
    assert json.loads(body)["blocks"][0]["text"]["text"] == "INT771 Export Error"


def test_message_shortcut_inside_a_thread(fake, slack):
    parent = new_ts()
    slack.interactive({"type": "message_action", "callback_id": "fixit_explain", "user": {"id": "U0001"},
                       "channel": {"id": "C0001"}, "response_url": fake.response_url("sc"),
                       "message": {"type": "message", "text": "Currency does not exist in NetSuite.",
                                   "ts": new_ts(), "thread_ts": parent, "user": "U0003"}})
    (response,) = fake.wait_for("response_url")
    assert response.args["blocks"][0]["text"]["text"].startswith("NS0012")
    share = response.args["blocks"][-1]["elements"][0]
    fake.reset()
    slack.click(SHARE, share["value"], fake.response_url("sc"), ephemeral=True)
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == parent


def test_feedback_buttons(fake, slack, runtime):
    value = Where("C0001", new_ts()).value("INT771")
    slack.click(HELPFUL, value, fake.response_url("fb"))
    eventually(lambda: runtime.store.feedback_for("INT771").get("up") == 1)
    (thanks,) = fake.wait_for("response_url")
    assert thanks.args["replace_original"] is False and "Thanks" in thanks.args["text"]
    fake.reset()
    slack.click(NOT_IT, value, fake.response_url("fb2"))
    (response,) = fake.wait_for("response_url")
    assert runtime.store.feedback_for("INT771").get("down") == 1
    picks = response.args["blocks"][-1]["elements"]
    assert picks and all(p["action_id"].startswith("fixit_pick_") for p in picks)
    fake.reset()
    slack.click(picks[0]["action_id"], picks[0]["value"], fake.response_url("fb2"), ephemeral=True)
    (post,) = fake.wait_for("chat.postMessage")
    assert card_header(post).startswith(json.loads(picks[0]["value"])["e"])


def test_choosing_a_suggestion_posts_that_card(fake, slack):
    ts = new_ts()
    slack.event(message("Account not found. The category or export account may be deleted or inactive in the",
                        ts=ts))
    (eph,) = fake.wait_for("chat.postEphemeral")
    choice = next(b for b in eph.args["blocks"][-1]["elements"] if b["text"]["text"] == "ONL912")
    slack.click(choice["action_id"], choice["value"], fake.response_url("pick"), ephemeral=True)
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == ts and card_header(post).startswith("ONL912")


def test_app_home_publishes_search_browse_and_stats(fake, slack, runtime):
    slack.event(message("XERO45", ts=new_ts()))
    slack.event(message("NS9999 Export Error: something broke badly today", ts=new_ts()))
    fake.wait_for("chat.postMessage")
    fake.reset()
    slack.event({"type": "app_home_opened", "user": "U0001", "channel": "D0001", "tab": "home"})
    (view,) = fake.wait_for("views.publish")
    text = json.dumps(view.args["view"])
    assert view.args["user_id"] == "U0001"
    assert "Most answered, last 7 days" in text and "XERO45" in text
    assert "Pastes that matched nothing, last 7 days:* " in text
    assert runtime.store.unmatched_count() >= 1
    fake.reset()
    slack.interactive({"type": "block_actions", "user": {"id": "U0001"}, "view": {"id": "V1", "type": "home"},
                       "actions": [{"type": "plain_text_input", "action_id": "fixit_home_search",
                                    "value": "batches closed", "block_id": "b"}]})
    (view,) = fake.wait_for("views.publish")
    found = [b["accessory"] for b in view.args["view"]["blocks"]
             if b.get("accessory", {}).get("action_id") == "fixit_home_show"]
    assert "INT771" in [button["value"] for button in found]  # a result, not the search box's placeholder
    show = next(button for button in found if button["value"] == "INT771")
    fake.reset()
    slack.interactive({"type": "block_actions", "user": {"id": "U0001"}, "view": {"id": "V1", "type": "home"},
                       "actions": [{"type": "button", "action_id": show["action_id"], "value": show["value"],
                                    "block_id": "b"}]})
    (view,) = fake.wait_for("views.publish")
    headers = [b["text"]["text"] for b in view.args["view"]["blocks"] if b["type"] == "header"]
    assert headers == ["Fixit", "INT771 Export Error"]
    assert "Sign in to Sage Intacct" in json.dumps(view.args["view"])
    fake.reset()
    slack.interactive({"type": "block_actions", "user": {"id": "U0001"}, "view": {"id": "V1", "type": "home"},
                       "actions": [{"type": "static_select", "action_id": "fixit_home_system", "block_id": "b",
                                    "selected_option": {"value": "Xero", "text": {"type": "plain_text",
                                                                                 "text": "Xero"}}}]})
    (view,) = fake.wait_for("views.publish")
    texts = [b["text"]["text"] for b in view.args["view"]["blocks"] if b["type"] == "section"]
    start = next(i for i, t in enumerate(texts) if t.startswith("*Xero*: "))
    listing = texts[start + 1]
    assert "XERO99" in listing and "INT771" not in listing


def test_a_question_gets_the_answer_that_fits_and_the_full_card_a_click_away(fake, slack):
    ts = new_ts()
    slack.event(message("do I have to reopen the period in intacct when the batches are closed?", ts=ts))
    (post,) = fake.wait_for("chat.postMessage")
    texts = " ".join(b["text"]["text"] for b in post.args["blocks"] if b["type"] == "section")
    assert "Do I have to reopen the closed period?" in texts and "Why it happens" not in texts
    buttons = post.args["blocks"][-1]["elements"]
    assert buttons[0]["action_id"] == FULL_CARD
    fake.reset()
    slack.click(FULL_CARD, buttons[0]["value"], fake.response_url("full1"))
    (response,) = fake.wait_for("response_url")
    full = " ".join(b["text"]["text"] for b in response.args["blocks"] if b["type"] == "section")
    assert response.args["replace_original"] and "Why it happens" in full
    assert [e["action_id"] for e in response.args["blocks"][-1]["elements"]] == [HELPFUL, NOT_IT]


def test_a_description_gets_the_card_and_its_first_screen_is_short(fake, slack):
    slack.event(message("hey, our march expense reports won't go to intacct, something about the batches for "
                        "the period being closed", ts=new_ts()))
    (post,) = fake.wait_for("chat.postMessage")
    assert card_header(post) == "INT771 Export Error"
    text = "\n".join(b["text"]["text"] for b in post.args["blocks"] if b["type"] == "section")
    assert "Most likely fix" in text and "1. " in text and "Why it happens" not in text
    assert "On the full card: 2 other fixes, why it happens and 3 FAQ answers" in text
    assert len(text.splitlines()) <= 15
    full_card = next(e for e in post.args["blocks"][-1]["elements"] if e["action_id"] == FULL_CARD)
    fake.reset()
    slack.click(FULL_CARD, full_card["value"], fake.response_url("full1"), ephemeral=False)
    (response,) = fake.wait_for("response_url")
    full = "\n".join(b["text"]["text"] for b in response.args["blocks"] if b["type"] == "section")
    assert response.args["replace_original"] and "Why it happens" in full and "*FAQ*" in full


def test_a_request_gets_bolts_own_context_with_the_kept_client(runtime):
    """`FixitApp` sets up a request as Bolt's App does (the same keys, the same logger, token and runner), but
    hands it the kept client for the token instead of building a new WebClient per request. Run against each
    Bolt release installed: a key Bolt adds to its context fails this."""
    from slack_bolt import App
    from slack_bolt.request import BoltRequest
    from slack_sdk import WebClient

    from bot.slack.transport import KeptWebClient

    body = json.dumps(envelope(message(INT771, ts=new_ts())))
    ours, bolts = (BoltRequest(body=body, headers={"content-type": "application/json"}) for _ in range(2))
    runtime.app._init_context(ours)
    App._init_context(runtime.app, bolts)
    assert set(ours.context) == set(bolts.context)
    for key in set(bolts.context) - {"client"}:
        assert ours.context[key] == bolts.context[key], key
    assert type(bolts.context.client) is WebClient
    assert isinstance(ours.context.client, KeptWebClient)
    assert ours.context.client is runtime.clients.for_token("xoxb-test", ours.context.team_id)
    assert (ours.context.client.token, ours.context.client.base_url) == (bolts.context.client.token,
                                                                         bolts.context.client.base_url)


def test_the_requests_the_served_app_dispatches_are_counted_for_its_memory_release(fake, slack, runtime):
    import gc

    from bot.slack.allocator import RELEASE_EVERY, MemoryRelease

    assert runtime.app.memory.every == RELEASE_EVERY
    counting, runtime.app.memory = runtime.app.memory, MemoryRelease(every=2)
    try:
        before = gc.get_stats()[2]["collections"]
        slack.event(message("the vendor is on hold until they send a W-9", ts=new_ts()))
        assert gc.get_stats()[2]["collections"] == before
        slack.event(message("lunch is at noon", ts=new_ts()))
        assert gc.get_stats()[2]["collections"] == before + 1   # a full collection, in the served process
    finally:
        runtime.app.memory = counting
    fake.settle()
    assert fake.calls == []


def test_each_listener_gets_the_arguments_bolt_would_give_it(runtime):
    """Listeners and Bolt's matchers are called with the arguments they name, fetched one by one
    (bot/slack/arguments.py): for a request of each kind, every listener Fixit registers matches as Bolt's
    matchers say, and the one that matches gets the arguments Bolt's own build would give it; a listener
    naming every argument the table fetches gets them as Bolt gives them too. Run against the Bolt installed."""
    import urllib.parse

    from bot.slack.listeners.shortcuts import CALLBACK_ID

    form = "application/x-www-form-urlencoded"
    interaction = {"team": {"id": "T0001"}, "api_app_id": "A0001", "user": {"id": "U0001"},
                   "channel": {"id": "C0001"}, "response_url": "https://hooks.example/1", "trigger_id": "1.2.3"}
    bodies = [
        (json.dumps(envelope(message(INT771, ts=new_ts()))), "application/json"),
        (json.dumps(envelope({"type": "app_mention", "channel": "C0001", "user": "U0001", "ts": new_ts(),
                              "text": f"<@{BOT_USER}> INT771"})), "application/json"),
        (json.dumps(envelope({"type": "app_home_opened", "user": "U0007", "channel": "D0001", "tab": "home"})),
         "application/json"),
        (urllib.parse.urlencode({"team_id": "T0001", "channel_id": "C0001", "user_id": "U0001", "command": "/fixit",
                                 "text": "INT771", "response_url": "https://hooks.example/1",
                                 "trigger_id": "1.2.3"}), form),
        (urllib.parse.urlencode({"payload": json.dumps({
            **interaction, "type": "block_actions", "container": {"type": "message", "channel_id": "C0001"},
            "actions": [{"type": "button", "action_id": HELPFUL, "value": "v", "block_id": "b"}]})}), form),
        (urllib.parse.urlencode({"payload": json.dumps({
            **interaction, "type": "message_action", "callback_id": CALLBACK_ID,
            "message": {"text": INT771, "ts": "1.1"}})}), form),
    ]
    assert same_arguments_as_bolt(runtime.app, bodies) == len(bodies)

    from slack_bolt.kwargs_injection import build_required_kwargs
    from slack_bolt.listener.custom_listener import CustomListener
    from slack_bolt.request import BoltRequest
    from slack_bolt.response import BoltResponse

    from bot.slack.arguments import FETCH, DirectListener

    def every_name(body, event, command, action, shortcut, view, options, message, client, context, ack, respond,
                   say, req, request, resp, response) -> None:
        pass

    listener = DirectListener(CustomListener(app_name="t", ack_function=every_name, lazy_functions=[], matchers=[],
                                             middleware=[]))
    assert set(listener.arg_names) == set(FETCH) and listener._fetch is not None  # the table, all of it, fetched
    for body, content_type in bodies:
        request, response = BoltRequest(body=body, headers={"content-type": content_type}), BoltResponse(status=200)
        runtime.app._init_context(request)
        assert listener.arguments(request, response) == build_required_kwargs(
            logger=listener.logger, required_arg_names=list(listener.arg_names), request=request, response=response,
            this_func=every_name)


def test_pastes_from_many_people_at_once_are_answered_while_listeners_wait_on_a_stalled_slack(fake, slack):
    """Matching is let in a few messages at a time; the listener threads waiting on Slack (two home tabs whose
    views.publish hangs) leave the pastes enough threads, and each paste is answered once, in its thread."""
    from concurrent.futures import ThreadPoolExecutor

    stall = 4.0
    for _ in range(2):
        fake.stall_next("views.publish", stall)
    for user in ("U0007", "U0008"):
        assert slack.event({"type": "app_home_opened", "user": user, "channel": "D0001", "tab": "home"})[0] == 200
    eventually(lambda: fake.stalls["views.publish"] == [])  # both listeners now wait on Slack
    started = time.monotonic()
    pastes = [new_ts() for _ in range(16)]
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda ts: slack.event(message(INT771, ts=ts, channel=f"CP{ts[-2:]}"))[0], pastes))
    assert statuses == [200] * 16
    posts = fake.wait_for("chat.postMessage", 16, timeout=stall - 0.5)
    assert time.monotonic() - started < stall  # not behind the stalled calls
    assert sorted(p.args["thread_ts"] for p in posts) == sorted(pastes)
    assert {card_header(p) for p in posts} == {"INT771 Export Error"}
    fake.settle(0.3)
    assert len(fake.of("chat.postMessage")) == 16
    eventually(lambda: len(fake.of("views.publish")) == 2, timeout=stall + 10)  # the home tabs, once Slack is back
