"""No paste can freeze the bot: every stage of matching is linear in the paste's length, whatever it holds.

The bounds are generous (2 s for what takes well under 0.1 s, `bench/bench_hostile.py` prints the real
figures) so that they cannot flake on a slow machine; before the stages were made linear, the shapes here
took from 8 s to over 40 s each at Slack's maximum message size.
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest
from hostile import SLACK_MAX, markup_strings, shapes
from slack_harness import SECRET, FakeSlack, FixitServer, SlackSender, message

from bot.kb import load_knowledge_base
from bot.match.normalize import clean, drop_email_headers, mask
from bot.match.questions import asks_for_help
from bot.settings import Settings
from bot.slack.app import build_runtime

BOUND = 2.0  # seconds
find_codes = load_knowledge_base(Path(__file__).resolve().parent.parent / "knowledge").codes.find
SHAPES = shapes(SLACK_MAX)


def within_bound(fn, text: str) -> float:
    start = time.perf_counter()
    fn(text)
    elapsed = time.perf_counter() - start
    assert elapsed < BOUND, f"{elapsed:.1f} s"
    return elapsed


@pytest.mark.parametrize("name", list(SHAPES))
def test_each_hostile_shape_is_matched_quickly(matcher, name):
    within_bound(matcher.match, SHAPES[name])


@pytest.mark.parametrize("stage", [find_codes, drop_email_headers, mask, asks_for_help],
                         ids=["codes", "headers", "mask", "question"])
def test_each_stage_is_linear_on_the_whole_paste(stage):
    """Every stage by itself, given the whole cleaned paste (no cap of the matcher's to help it)."""
    for text in SHAPES.values():
        within_bound(clean, text)
        within_bound(stage, clean(text))


def test_generated_strings_of_markup_characters(matcher):
    for text in markup_strings(count=40, length=SLACK_MAX):
        within_bound(matcher.match, text)
        within_bound(mask, clean(text))


def test_hostile_shapes_answer_nothing_they_do_not_hold(matcher):
    """Speed is not bought with silence or with noise: hostile runs answer nothing, the realistic paste
    still answers both of its errors."""
    assert matcher.match(SHAPES["realistic long paste"]).answer_ids == ["INT771", "NS0012"]
    for name in ("a + run of '*' + a", "'<http:' repeated", "long word + ' 1'", "'if we ' repeated",
                 "'<@U12345> ' mention flood", "made-up words"):
        assert matcher.match(SHAPES[name]).answer_ids == [], name


def test_a_slow_paste_does_not_delay_other_requests(tmp_path):
    """Through the served app: while hostile pastes are being matched, an unrelated signed event is
    acknowledged at once and a real paste is answered promptly."""
    fake = FakeSlack()
    settings = Settings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.api_url,
                        database_url=f"sqlite:///{tmp_path / 'fixit.db'}")
    server = FixitServer(build_runtime(settings, watch=False))
    try:
        slack = SlackSender(server.url)
        hostile = [SHAPES[name] for name in ("a + run of '*' + a", "'<http:' repeated", "'int 771 ' repeated",
                                             "long word + ' 1'", "a + run of '_' + a")]
        senders = [threading.Thread(target=slack.event, args=(message(text, ts=f"1700000200.{i:06d}"),))
                   for i, text in enumerate(hostile)]
        for sender in senders:
            sender.start()
        time.sleep(0.05)
        answered = fake.expect_answer("1700000300.000001")
        start = time.perf_counter()
        status, body = slack.event(message("INT771", ts="1700000300.000001"))
        acked = time.perf_counter() - start
        assert status == 200 and acked < BOUND, f"acknowledged after {acked:.1f} s"
        assert answered.wait(5), "the real paste was not answered"
        status, body = slack.send(json.dumps({"type": "url_verification", "challenge": "c"}).encode(),
                                  "application/json")
        assert status == 200 and json.loads(body) == {"challenge": "c"}
        for sender in senders:
            sender.join(10)
    finally:
        server.close()
        fake.close()
