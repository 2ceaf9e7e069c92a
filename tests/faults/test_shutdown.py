"""SIGTERM (a rollout, a scale-down) while answers are still being posted: Slack will not retry events it had
acknowledged, so every one of them is answered before the process ends. Through `python -m bot serve`."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest
from slack_harness import FakeSlack, SlackSender, free_port, message, serve_process

SLOW = "C0SLOW"


@pytest.fixture
def fake():
    fake = FakeSlack()
    fake.slow[SLOW] = 2.0      # each post there takes 2 s: answers are still going out when SIGTERM comes
    yield fake
    fake.close()


def serve(fake: FakeSlack, tmp_path: Path, *args: str) -> subprocess.Popen:
    return serve_process(fake, tmp_path, *args, SLACK_APP_TOKEN="xapp-test")[0]


def test_sigterm_in_http_mode_posts_every_answer_in_flight(fake, tmp_path):
    port = free_port()
    server = serve(fake, tmp_path, "--http", "--host", "127.0.0.1", "--port", str(port))
    slack = SlackSender(f"http://127.0.0.1:{port}/slack/events")
    deadline = time.monotonic() + 20
    while True:   # uvicorn logs "serving" just before it listens
        try:
            assert slack.event(message("INT771", ts="1700080000.000000", channel="C0WARM"))[0] == 200
            break
        except OSError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
    for n in range(1, 6):
        assert slack.event(message("INT771", ts=f"1700080000.00000{n}", channel=SLOW))[0] == 200
    time.sleep(0.5)    # acknowledged, and being answered
    server.send_signal(signal.SIGTERM)
    server.wait(timeout=60)
    log = server.stderr.read()
    posted = sorted(c.args["thread_ts"] for c in fake.of("chat.postMessage") if c.args["channel"] == SLOW)
    assert posted == [f"1700080000.00000{n}" for n in range(1, 6)], log[-2000:]
    assert "every answer in flight was posted" in log


def test_sigterm_in_socket_mode_posts_every_answer_in_flight(fake, tmp_path):
    from slack_harness import envelope
    from socket_mode_fake import FakeSocketModeServer

    envelopes = [{"envelope_id": f"env-{n}", "type": "events_api", "accepts_response_payload": False,
                  "retry_attempt": 0, "retry_reason": "",
                  "payload": envelope(message("INT771", ts=f"1700080001.00000{n}", channel=SLOW))}
                 for n in range(1, 6)]
    socket = FakeSocketModeServer(envelopes)
    fake.socket_url = f"ws://127.0.0.1:{socket.port}/link"
    try:
        server = serve(fake, tmp_path)
        deadline = time.monotonic() + 20
        while len([r for r in socket.received if r.get("envelope_id")]) < 5:   # all acknowledged
            assert time.monotonic() < deadline
            time.sleep(0.05)
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log = server.stderr.read()
        posted = sorted(c.args["thread_ts"] for c in fake.of("chat.postMessage") if c.args["channel"] == SLOW)
        assert posted == [f"1700080001.00000{n}" for n in range(1, 6)], log[-2000:]
        assert server.returncode == 0
    finally:
        socket.close()
