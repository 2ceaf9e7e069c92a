"""Buttons do not choose where Fixit posts: signed clicks whose values were tampered with, through the served
app. The channel comes from the payload's container; the value is untrusted data."""

from __future__ import annotations

import json
import logging
import os

import pytest
from slack_harness import INT771, SlackSender, message, served
from sqlalchemy import select

from bot.answer import Where
from bot.slack.cards import HELPFUL, PICK, SHARE
from bot.store import feedback


def test_share_posts_where_it_was_pressed_not_where_the_value_says(fake, slack):
    tampered = Where("CSECRET", "").value("INT771")
    assert slack.click(SHARE, tampered, fake.response_url("s"), channel="C0001", ephemeral=True)[0] == 200
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0001"
    fake.settle(0.3)
    assert all(c.args.get("channel") != "CSECRET" for c in fake.calls)


def test_a_picked_suggestion_never_goes_to_a_user_named_in_the_value(fake, slack):
    tampered = Where("UADMIN", "1700000000.000001").value("INT771")
    slack.click(f"{PICK}_0", tampered, fake.response_url("p"), channel="C0001", ephemeral=True)
    fake.wait_for("response_url")
    fake.settle(0.3)
    assert fake.of("chat.postMessage") == []
    assert all(c.args.get("channel") != "UADMIN" for c in fake.calls)


def test_feedback_is_stored_under_the_channel_it_was_given_in(fake, server, slack):
    tampered = Where("CSECRET", "1700000000.000002").value("INT771")
    slack.click(HELPFUL, tampered, fake.response_url("f"), channel="C0042")
    fake.wait_for("response_url")
    with server.runtime.store.engine.connect() as conn:
        channels = {row.channel for row in conn.execute(select(feedback))}
    assert "C0042" in channels and "CSECRET" not in channels


@pytest.mark.parametrize("value", ["not json", json.dumps({"e": "NO_SUCH_ENTRY", "c": "C0001", "t": ""}),
                                   json.dumps(["e"]), "{}"])
def test_a_value_that_is_not_fixits_gets_a_short_private_note(fake, slack, value, caplog):
    assert slack.click(SHARE, value, fake.response_url("bad"), channel="C0001", ephemeral=True)[0] == 200
    (note,) = fake.wait_for("response_url")
    assert note.args["response_type"] == "ephemeral" and "out of date" in note.args["text"]
    assert fake.of("chat.postMessage") == []
    assert "listener failed" not in caplog.text


def test_slack_retries_of_an_unmatched_paste_count_once(fake, server, slack):
    store = server.runtime.store
    before = store.unmatched_count()
    event = message("the export failed again with some error nobody has seen before, no idea", ts="1700000500.000001")
    for retry in (None, 1, 2, 3):
        assert slack.event(event, event_id="EvUNMATCHED1", retry_num=retry)[0] == 200
    fake.settle(0.5)
    assert store.unmatched_count() == before + 1


def test_a_cards_notification_text_cannot_broadcast(kb):
    from dataclasses import replace

    from bot.render import Renderer

    entry = replace(kb.get("INT771"), summary="Tell <!channel> and <@U0ADMIN> about it & <https://x.example|this>")
    fallback = Renderer().card(entry).fallback
    assert "<!channel>" not in fallback and "<@U0ADMIN>" not in fallback and "<https" not in fallback
    assert "&lt;" in fallback and "&amp;" in fallback


def test_a_tampered_thread_too_long_for_postgresql_does_not_take_the_store_down(fake, caplog):
    """The value's thread is the user's to write. On PostgreSQL one wider than its column was refused, taken for
    an outage and kept, and refused again on every recovery: one click left the store down until a restart."""
    url = os.environ.get("FIXIT_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set FIXIT_TEST_POSTGRES_URL (.ci/run starts a PostgreSQL when it can)")
    caplog.set_level(logging.WARNING)
    server = served(fake, url)
    try:
        slack, store = SlackSender(server.url), server.runtime.store
        fake.reset()
        slack.click(HELPFUL, Where("C0042", "9" * 100).value("INT771"), fake.response_url("long"), channel="C0042")
        (note,) = fake.wait_for("response_url")
        assert "Thanks" in note.args["text"]
        assert not store.degraded and not store._pending and "the database refused storing feedback" in caplog.text
        run = f"17{os.getpid() % 10**8:08d}"
        slack.event(message(INT771, ts=f"{run}.000009", channel="C0042"), event_id=f"EvTAMPER{os.getpid()}")
        fake.wait_for("chat.postMessage")
        assert store.thread_entries("C0042", f"{run}.000009") == ["INT771"] and not store.degraded
    finally:
        server.close()
