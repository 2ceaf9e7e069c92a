"""Slack's Web API misbehaving while Fixit answers, through the served app: a server error or a garbled reply
is retried and the answer still goes out; a post whose reply was lost after Slack took it is not repeated."""

from __future__ import annotations

import pytest
from slack_harness import INT771, message

_n = iter(range(1, 10_000))


def paste(slack, channel: str) -> str:
    ts = f"1700010000.{next(_n):06d}"
    assert slack.event(message(INT771, ts=ts, channel=channel))[0] == 200
    return ts


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_a_server_error_is_retried_and_the_answer_posted_once(fake, slack, status):
    fake.fail_next("chat.postMessage", status)
    ts = paste(slack, "CRETRY")
    (post,) = fake.wait_for("chat.postMessage", timeout=15)
    assert post.args["thread_ts"] == ts
    assert [c.method for c in fake.calls if c.method.startswith("chat.postMessage")] == [
        f"chat.postMessage!{status}", "chat.postMessage"]


def test_a_garbled_reply_is_retried(fake, slack):
    fake.fail_next("chat.postMessage", 200, body=b"<html>upstream error</html>")
    ts = paste(slack, "CGARBLE")
    (post,) = fake.wait_for("chat.postMessage", timeout=15)
    assert post.args["thread_ts"] == ts


def test_a_post_whose_reply_was_lost_is_not_posted_again(fake, server, slack):
    fake.drop_next("chat.postMessage")       # Slack posts it, the connection drops before the reply
    ts = paste(slack, "CDROP")
    fake.wait_for("conversations.replies", timeout=15)
    fake.settle(1.5)
    assert len(fake.messages["CDROP"]) == 1 and fake.messages["CDROP"][0]["thread_ts"] == ts
    (lookup,) = fake.of("conversations.replies")
    assert lookup.args["ts"] == ts
    # it counts as posted: the thread keeps its claim, so a second paste there is not answered again
    assert server.runtime.store.thread_entries("CDROP", ts) == ["INT771"]


def test_every_post_carries_the_id_a_retry_looks_for(fake, slack):
    paste(slack, "CTAG")
    (post,) = fake.wait_for("chat.postMessage")
    assert post.args["metadata"]["event_type"] == "fixit_answer" and post.args["metadata"]["event_payload"]["post_id"]


def test_a_post_that_fails_for_good_is_logged_with_its_event_and_channel_only(fake, slack, caplog):
    import logging

    caplog.set_level(logging.WARNING)
    fake.fail_next("chat.postMessage", 200, body={"ok": False, "error": "channel_not_found"})
    assert slack.event(message(INT771, ts="1700010999.000001", channel="CGONE"), event_id="EvGONE1")[0] == 200
    fake.wait_for("chat.postMessage!200")
    fake.settle(0.5)
    (line,) = [r.getMessage() for r in caplog.records if "chat.postMessage to CGONE" in r.getMessage()]
    assert "EvGONE1" in line and "channel_not_found" in line
    assert "batches for this reporting period" not in caplog.text and "xoxb-test" not in caplog.text


def test_a_post_that_times_out_unposted_is_posted_again(fake, slack):
    fake.stall_next("chat.postMessage", 11)   # longer than the client's 10 s timeout; Slack never took it
    ts = paste(slack, "CSTALL")
    (post,) = fake.wait_for("chat.postMessage", timeout=25)
    assert post.args["thread_ts"] == ts and len(fake.messages["CSTALL"]) == 1
    assert fake.of("conversations.replies")    # it looked first
