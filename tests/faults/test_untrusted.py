"""Requests before they are trusted, through the served app: nothing unsigned is read past a cap, parsed or
logged; malformed requests get 4xx, not 500; a replayed command or click is answered once."""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import logging
import time
import urllib.parse

import pytest
from slack_harness import SECRET, message

from bot.slack.http import MAX_BODY_BYTES


def raw_post(server, body: bytes, headers: dict) -> tuple[int, bytes, float]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    started = time.perf_counter()
    try:
        conn.request("POST", "/slack/events", body=body, headers=headers)
        response = conn.getresponse()
        return response.status, response.read(), time.perf_counter() - started
    finally:
        conn.close()


def test_an_oversized_body_is_refused_unread_and_unlogged(server, slack, fake, caplog):
    caplog.set_level(logging.DEBUG)
    big = b'{"type": "event_callback", "event": {"text": "' + b"A" * (5 * MAX_BODY_BYTES) + b'"}}'
    status, _, took = raw_post(server, big, {"Content-Type": "application/json", "X-Slack-Signature": "v0=bad",
                                             "X-Slack-Request-Timestamp": str(int(time.time()))})
    assert status == 413 and took < 2
    assert "AAAA" not in caplog.text
    # announced as large: refused on its Content-Length alone
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.putrequest("POST", "/slack/events")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(50_000_000))
    conn.endheaders()
    assert conn.getresponse().status == 413
    conn.close()
    # the app still answers afterwards (waited for: an answer still on its way would land in the next test)
    answered = fake.expect_answer("1700009000.000001")
    assert slack.event(message("INT771", ts="1700009000.000001"))[0] == 200
    assert answered.wait(10)


def test_a_badly_signed_request_is_401_and_its_body_never_logged(server, slack, caplog):
    caplog.set_level(logging.DEBUG)
    body = json.dumps({"type": "event_callback", "event": {"type": "message", "text": "SECRET-PASTE-TEXT"}})
    status, _ = slack.send(body.encode(), "application/json", signature="v0=" + "0" * 64)
    assert status == 401
    assert "SECRET-PASTE-TEXT" not in caplog.text
    assert "refused a request without a valid signature" in caplog.text


def test_a_paste_signed_more_than_five_minutes_ago_is_401_and_not_answered(server, slack, fake):
    """The edge's check is the only one (Bolt's own is off): a replayed, correctly signed event is refused."""
    body = json.dumps({"type": "event_callback", "event_id": "EvStale", "team_id": "T0001",
                       "event": message("INT771 Export Error: Export not completed.", ts="1700009100.000001")})
    assert slack.send(body.encode(), "application/json", timestamp=int(time.time()) - 6 * 60)[0] == 401
    answered = fake.expect_answer("1700009100.000002")
    assert slack.event(message("INT771", ts="1700009100.000002"))[0] == 200
    assert answered.wait(10)
    fake.settle()
    assert fake.posts_in("1700009100.000001") == []


def test_a_paste_with_a_lone_surrogate_escape_is_read_and_answered(server, slack, fake):
    """orjson refuses "\\ud800" (no character), the standard library reads it: Bolt's parse falls back, and
    the paste is answered like any other."""
    body = json.dumps({"type": "event_callback", "event_id": "EvSurrogate", "team_id": "T0001",
                       "event": message("INT771 Export Error \ud800 batches closed", ts="1700009200.000001")})
    assert "\\ud800" in body
    answered = fake.expect_answer("1700009200.000001")
    assert slack.send(body.encode(), "application/json")[0] == 200
    assert answered.wait(10)
    assert [c.args["blocks"][0]["text"]["text"] for c in fake.posts_in("1700009200.000001")] == [
        "INT771 Export Error"]


def test_the_http_edge_cannot_be_built_without_the_signing_secret():
    from bot.slack.http import FixitRequestHandler

    with pytest.raises(ValueError, match="signing secret"):
        FixitRequestHandler(None, "")


@pytest.mark.parametrize("timestamp", ["not-a-number", "", "12.5", "-1"])
def test_a_timestamp_that_is_not_a_number_is_401(server, slack, timestamp):
    body = b'{"type": "event_callback"}'
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
               "X-Slack-Signature": slack.verifier.generate_signature(timestamp=timestamp, body=body)}
    assert raw_post(server, body, headers)[0] == 401


@pytest.mark.parametrize("content_type,body", [
    ("application/json", b"this is not json"),
    ("application/json", b"\xff\xfe not utf-8"),
    ("application/x-www-form-urlencoded", b"payload=%7Bnot-json"),
])
def test_a_signed_but_malformed_body_is_400(server, slack, content_type, body):
    timestamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    assert slack.send(body, content_type, timestamp=int(timestamp), signature=signature)[0] == 400


def test_a_replayed_slash_command_is_answered_once(fake, server, slack):
    responses = [slack.command("INT771", fake.response_url("replay"), trigger_id="111.222.abc") for _ in range(5)]
    assert [status for status, _ in responses] == [200] * 5
    answered = [json.loads(body) for _, body in responses if body.strip() and json.loads(body).get("blocks")]
    assert len(answered) == 1


def test_a_replayed_click_is_stored_once(fake, server, slack):
    from bot.answer import Where
    from bot.slack.cards import HELPFUL

    value = Where("C0009", "1700009100.000001").value("INT771")
    payload = {"type": "block_actions", "user": {"id": "U0009"}, "channel": {"id": "C0009"},
               "trigger_id": "333.444.def", "container": {"type": "message", "channel_id": "C0009"},
               "response_url": fake.response_url("click"),
               "actions": [{"type": "button", "action_id": HELPFUL, "value": value, "block_id": "b",
                            "action_ts": "1.1"}]}
    form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
    for _ in range(5):
        assert slack.send(form, "application/x-www-form-urlencoded")[0] == 200
    (thanks,) = fake.wait_for("response_url")
    fake.settle(0.5)
    assert len(fake.of("response_url")) == 1 and "Thanks" in thanks.args["text"]
    assert server.runtime.store.feedback_for("INT771").get("up") == 1
