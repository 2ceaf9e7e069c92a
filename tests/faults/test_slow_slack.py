"""Slack slow to take posts in one channel does not hold back the answers in others, through the served app."""

from __future__ import annotations

import time

from slack_harness import INT771, FakeSlack, SlackSender, message, served


def test_ten_slow_posts_do_not_delay_another_channels_answer(tmp_path):
    fake = FakeSlack()
    server = served(fake, f"sqlite:///{tmp_path / 'fixit.db'}")
    try:
        sender = SlackSender(server.url)
        fake.slow["CSLOW"] = 4.0
        for n in range(10):
            sender.event(message(INT771, ts=f"1700040000.{n:06d}", channel="CSLOW"))
        time.sleep(0.3)                  # the ten are waiting on Slack now
        answered = fake.expect_answer("1700040001.000001")
        started = time.perf_counter()
        sender.event(message(INT771, ts="1700040001.000001", channel="CFAST"))
        assert answered.wait(timeout=10)
        assert time.perf_counter() - started < 1.5
        assert [c.args["channel"] for c in fake.of("chat.postMessage")][0] == "CFAST"
        fake.wait_for("chat.postMessage", 11, timeout=15)   # the slow ones still go out
    finally:
        server.close()
        fake.close()
