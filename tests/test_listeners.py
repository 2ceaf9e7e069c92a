"""Each listener is a module-level function: called here on its own, with the real answer layer, the real
store and a real client posting to the loopback Slack (no Bolt app in between)."""

from __future__ import annotations

import json

import pytest
from slack_harness import BOT_USER, INT771, FakeSlack

from bot.answer import Answerer, Where
from bot.pipeline import Fixit
from bot.settings import Settings
from bot.slack.app import build_client
from bot.slack.cards import FULL_CARD, HELPFUL, PICK, SHARE
from bot.slack.deliver import Delivery
from bot.slack.listeners import actions, commands, events
from bot.slack.transport import KeptConnections
from bot.store import Store


@pytest.fixture(scope="module")
def fixit():
    return Fixit.from_directory()


@pytest.fixture
def setup(fixit, tmp_path):
    fake = FakeSlack()
    settings = Settings(bot_token="xoxb-test", api_url=fake.api_url, database_url=f"sqlite:///{tmp_path / 'f.db'}")
    store = Store(settings.database_url)
    delivery = Delivery(Answerer(lambda: fixit, store, settings), KeptConnections())
    yield fake, build_client(settings), {"delivery": delivery, "bot_user_id": BOT_USER}, store
    fake.close()


class Ack:
    def __init__(self):
        self.calls = []

    def __call__(self, *args, **kwargs):
        self.calls.append(args[0] if args else kwargs)


def test_handle_message_posts_the_card_in_the_thread(setup):
    fake, client, context, _ = setup
    event = {"type": "message", "channel": "C1", "user": "U1", "text": INT771, "ts": "1700000000.000001"}
    events.handle_message({"event_id": "Ev1"}, event, client, context)
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1700000000.000001"
    assert post.args["blocks"][0]["text"]["text"] == "INT771 Export Error"
    events.handle_message({"event_id": "Ev1"}, event, client, context)   # Slack's retry of the same event
    fake.settle(0.3)
    assert len(fake.of("chat.postMessage")) == 1


def test_handle_message_leaves_a_mention_to_the_mention_listener(setup):
    fake, client, context, _ = setup
    event = {"type": "message", "channel": "C1", "user": "U1", "text": f"<@{BOT_USER}> {INT771}", "ts": "1.000002"}
    events.handle_message({"event_id": "Ev2"}, event, client, context)
    fake.settle(0.3)
    assert fake.of("chat.postMessage") == []
    events.handle_mention({"event_id": "Ev3"}, {**event, "type": "app_mention"}, client, context)
    fake.wait_for("chat.postMessage")


def test_answer_command_acknowledges_with_the_answer(setup):
    fake, _, context, _ = setup
    ack = Ack()
    commands.answer_command(ack, {"channel_id": "C1", "text": "INT771"}, context)
    (payload,) = ack.calls
    assert payload["response_type"] == "ephemeral" and payload["blocks"][0]["text"]["text"] == "INT771 Export Error"
    assert fake.calls == []


def test_helpful_records_the_vote_and_answers_privately(setup):
    fake, _, context, store = setup
    ack = Ack()
    body = {"user": {"id": "U1"}, "response_url": fake.response_url("fb"),
            "actions": [{"action_id": HELPFUL, "value": Where("C1", "1.000003").value("INT771")}]}
    actions.helpful(ack, body, context)
    assert ack.calls == [{}]
    assert store.feedback_for("INT771") == {"up": 1}
    (reply,) = fake.of("response_url")
    assert reply.args["response_type"] == "ephemeral" and "Thanks" in reply.args["text"]


def test_a_picked_suggestion_is_private_outside_a_thread_and_posted_once_in_one(setup):
    fake, client, context, _ = setup

    def picked(where: Where, ephemeral: bool, name: str) -> None:
        actions.pick(Ack(), {"user": {"id": "U1"}, "channel": {"id": where.channel, "name": "general"},
                             "container": {"type": "message", "is_ephemeral": ephemeral, "channel_id": where.channel},
                             "response_url": fake.response_url(name),
                             "actions": [{"action_id": f"{PICK}_0", "value": where.value("INT771")}]},
                     client, context)

    picked(Where("C1", ""), True, "p1")  # from a slash command's private answer: the card, privately
    (private,) = fake.of("response_url")
    assert private.args["response_type"] == "ephemeral" and "INT771" in private.args["text"]
    assert not fake.of("chat.postMessage")
    fake.reset()
    picked(Where("C1", "1.000010"), True, "p2")  # from a private list in a thread: posted there, list removed
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["thread_ts"] == "1.000010" and post.args["blocks"][0]["text"]["text"].startswith("INT771")
    assert fake.wait_for("response_url")[0].args == {"delete_original": True}
    fake.reset()
    picked(Where("C1", "1.000010"), False, "p3")  # picked again: already there, said privately
    (note,) = fake.wait_for("response_url")
    assert "INT771 is already answered in this thread." in note.args["text"]
    assert note.args["replace_original"] is False and note.args["response_type"] == "ephemeral"
    fake.settle()
    assert not fake.of("chat.postMessage")


def test_a_private_card_expanded_keeps_its_share_button_where_sharing_can_work(setup):
    fake, _, context, _ = setup

    def expanded(ephemeral: bool, channel_name: str, name: str) -> list[str]:
        actions.full_card(Ack(), {"user": {"id": "U1"}, "channel": {"id": "C1", "name": channel_name},
                                  "container": {"type": "message", "is_ephemeral": ephemeral, "channel_id": "C1"},
                                  "response_url": fake.response_url(name),
                                  "actions": [{"action_id": FULL_CARD, "value": Where("C1", "").value("INT771")}]},
                          context)
        (response,) = fake.wait_for("response_url")
        fake.reset()
        assert "Why it happens" in json.dumps(response.args["blocks"])
        return [e.get("action_id") for b in response.args["blocks"] if b["type"] == "actions" for e in b["elements"]]

    assert SHARE in expanded(True, "general", "f1")
    assert SHARE not in expanded(True, "directmessage", "f2")  # nobody else to share with in a DM
    assert SHARE not in expanded(False, "general", "f3")       # a card in the channel is shared already
