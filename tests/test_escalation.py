"""A way to a person: with FIXIT_ESCALATION_CHANNEL set, cards and "no match" replies in a thread carry
"Ask a person", and so does 👎's reply; it posts once per thread in that channel with a link to the thread,
its error, what Fixit answered and the votes so far, and tells the asker who was asked. Through the served
app against a loopback Slack."""

from __future__ import annotations

import json

import pytest
from slack_harness import BOT_USER, eventually, message, served

from bot.settings import Settings
from bot.slack.cards import ESCALATE, NOT_IT

PEOPLE = "C0PEOPLE"
GROUP = "S0FINOPS"


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory):
    server = served(fake, f"sqlite:///{tmp_path_factory.mktemp('esc') / 'fixit.db'}", escalation_channel=PEOPLE,
                    escalation_group=GROUP)
    yield server
    server.close()


def button(blocks: list[dict], action_id: str) -> dict | None:
    return next((e for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == action_id),
                None)


def press(slack, fake, value: str, name: str, ephemeral: bool = False, channel: str = "C0001", thread: str = ""):
    fake.forget_calls()   # what the conversations hold stays: the escalation reads the thread
    slack.click(ESCALATE, value, fake.response_url(name), channel=channel, user="U0ASKER", ephemeral=ephemeral,
                thread_ts=thread)
    (told,) = fake.wait_for("response_url")
    return told, [c for c in fake.of("chat.postMessage") if c.args["channel"] == PEOPLE]


def test_no_match_offers_a_person_and_asks_once_per_thread(fake, slack):
    ts = "1700100000.000001"
    fake.said("C0001", ts, f"<@{BOT_USER}> our report export to the ledger died with E-4410 <!channel>")
    slack.event({**message(f"<@{BOT_USER}> our report export to the ledger died with E-4410", ts=ts),
                 "type": "app_mention"})
    (reply,) = fake.wait_for("chat.postMessage")
    offer = button(reply.args["blocks"], ESCALATE)
    assert offer is not None and "couldn't match" in reply.args["text"]
    told, posts = press(slack, fake, offer["value"], "e1", thread=ts)
    assert len(posts) == 1
    text = posts[0].args["blocks"][0]["text"]["text"]
    assert text.startswith(f"<!subteam^{GROUP}> <@U0ASKER> asks for a person in "
                           f"<https://test.slack.com/archives/C0001/p1700100000000001|this thread>")
    assert "E-4410" in text and "nothing it knows" in text and "👍 0 · 👎 0" in text
    assert "<!channel>" not in text   # what the thread said is quoted, never broadcast
    assert f"<#{PEOPLE}>" in json.dumps(told.args) and "someone will reply" in json.dumps(told.args)
    told, posts = press(slack, fake, offer["value"], "e2", thread=ts)
    assert posts == [] and "already been asked" in json.dumps(told.args)


def test_a_card_and_not_it_offer_a_person_with_what_was_answered_and_the_votes(fake, slack):
    ts = "1700100000.000002"
    fake.said("C0001", ts, "INT771 when exporting the march reports")
    slack.event(message("INT771 when exporting the march reports", ts=ts))
    (card,) = fake.wait_for("chat.postMessage")
    assert button(card.args["blocks"], ESCALATE) is not None
    fake.forget_calls()
    slack.click(NOT_IT, button(card.args["blocks"], NOT_IT)["value"], fake.response_url("n1"))
    (not_it,) = fake.wait_for("response_url")
    offer = button(not_it.args["blocks"], ESCALATE)
    assert offer is not None
    _, posts = press(slack, fake, offer["value"], "e3", ephemeral=True, thread=ts)
    (post,) = posts
    text = post.args["blocks"][0]["text"]["text"]
    assert "INT771 (INT771 Export Error)" in text and "👎 1" in text and "march reports" in text


def test_an_escalation_that_cannot_be_posted_says_so_and_can_be_tried_again(fake, slack):
    ts = "1700100000.000003"
    slack.event({**message(f"<@{BOT_USER}> something odd with the ledger sync", ts=ts), "type": "app_mention"})
    (reply,) = fake.wait_for("chat.postMessage")
    value = button(reply.args["blocks"], ESCALATE)["value"]
    fake.fail_next("chat.postMessage", 200, body={"ok": False, "error": "not_in_channel"})
    told, _ = press(slack, fake, value, "e4", thread=ts)
    assert "couldn't post" in json.dumps(told.args)
    _, posts = press(slack, fake, value, "e5", thread=ts)
    assert len(posts) == 1


def test_nothing_is_offered_when_no_escalation_channel_is_set(tmp_path):
    from slack_harness import FakeSlack, SlackSender

    fake = FakeSlack()
    server = served(fake, f"sqlite:///{tmp_path / 'f.db'}")
    try:
        slack = SlackSender(server.url)
        slack.event({**message(f"<@{BOT_USER}> something odd with the ledger sync", ts="1.000001"),
                     "type": "app_mention"})
        slack.event(message("INT771", ts="1.000002"))
        eventually(lambda: len(fake.of("chat.postMessage")) == 2)
        assert all(button(c.args["blocks"], ESCALATE) is None for c in fake.of("chat.postMessage"))
    finally:
        server.close()
        fake.close()


@pytest.mark.parametrize("env, says", [
    ({"FIXIT_ESCALATION_CHANNEL": "#finance-help"}, "FIXIT_ESCALATION_CHANNEL: '#finance-help' is not a channel id"),
    ({"FIXIT_ESCALATION_GROUP": "@finops"}, "FIXIT_ESCALATION_GROUP: '@finops' is not a user group id"),
    ({"FIXIT_KB_ADMINS": "alice,U0123ABCD"}, "FIXIT_KB_ADMINS: 'alice': write member ids"),
])
def test_escalation_settings_name_their_mistakes(env, says):
    with pytest.raises(ValueError, match=says):
        Settings.load(env=env, env_file=None)
