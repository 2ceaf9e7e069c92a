"""App Home for the knowledge base's keepers (FIXIT_KB_ADMINS): the gaps, from what was really pasted;
everyone else sees none of it. Through the served app."""

from __future__ import annotations

import json

import pytest
from slack_harness import BOT_USER, message, served

KEEPER = "U0KEEPER"


@pytest.fixture(scope="module")
def server(fake, tmp_path_factory):
    server = served(fake, f"sqlite:///{tmp_path_factory.mktemp('home') / 'fixit.db'}", kb_admins=frozenset({KEEPER}))
    yield server
    server.close()


def home_of(slack, fake, user: str) -> str:
    fake.forget_calls()
    slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home",
                 "event_ts": "1.1"})
    (published,) = fake.wait_for("views.publish")
    assert published.args["user_id"] == user
    view = published.args["view"]
    return json.dumps(view if isinstance(view, dict) else json.loads(view))


def test_the_keepers_home_shows_the_gaps_and_nobody_elses_does(fake, slack):
    for n, ts in enumerate(("1700110000.000001", "1700110000.000002")):
        slack.event({**message(f"<@{BOT_USER}> NS9917 Export Error: elimination journal JE-{n}7 could not be "
                               f"posted, subsidiary locked", ts=ts), "type": "app_mention"})
        fake.wait_for("chat.postMessage", n + 1)
    keeper, other = home_of(slack, fake, KEEPER), home_of(slack, fake, "U0SOMEONE")
    assert "Knowledge gaps, last 30 days" in keeper and "2 pastes" in keeper and "NS9917" in keeper
    assert "Knowledge gaps" not in other and "NS9917" not in other


def test_the_knowledge_base_search_finds_codes_wording_and_words_in_entries(fixit):
    """The App Home's search: a code first, wording through the matcher, and every entry holding all the words."""
    assert fixit.search("INT771")[0] == "INT771"
    assert "INT771" in fixit.search("the batches for this reporting period are closed in sage intacct")
    def holds(entry_id: str, word: str) -> bool:
        e = fixit.kb.get(entry_id)
        return word in " ".join([e.id, e.title, e.system, *e.messages, e.summary]).casefold()

    matched = fixit.matcher.match("intacct period")
    by_words = [i for i in fixit.search("intacct period", limit=100)
                if i not in matched.answer_ids + matched.suggestion_ids]
    assert by_words and all(holds(i, "intacct") and holds(i, "period") for i in by_words)
    assert set(by_words) == {e.id for e in fixit.kb if holds(e.id, "intacct") and holds(e.id, "period")} - set(
        matched.answer_ids + matched.suggestion_ids)
    assert len(fixit.search("intacct", limit=3)) == 3
    assert fixit.search("   ") == []
