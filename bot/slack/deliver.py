"""Answers into Slack: posts in threads, private (ephemeral) messages, response_url replies, card updates.

Every call logs a failure instead of raising: one failed post never stops the rest of an answer.
"""

from __future__ import annotations

import http.client
import logging
import os
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer import Answer, Answerer, Where
from bot.slack.cards import answer_blocks, listed_blocks, suggestion_blocks, with_escalation
from bot.slack.lanes import Lanes
from bot.slack.retry import Landed, tag
from bot.slack.transport import KeptConnections
from bot.slack.turns import InTurn

log = logging.getLogger("fixit.slack")
MAX_BLOCKS = 50
CHECK_THREADS = 8   # cards being updated with their workspace checks at once
WORKED_OUT_AT_ONCE = 2   # messages being matched at once, by the listener threads (the others wait in turn)


class Delivery:
    def __init__(self, answerer: Answerer, connections: KeptConnections, landed: Landed | None = None) -> None:
        self.answerer = answerer
        # Working out an answer to a message (matching it) holds the GIL from start to end. Listener threads
        # that all did it at once shared the interpreter, and each answer took as long as all of them; a few at
        # a time, in the order they came, each is out sooner, and the other listener threads stay free for
        # work that waits on Slack or the database.
        self.working_out = InTurn(WORKED_OUT_AT_ONCE)
        self.connections = connections
        self.landed = landed or Landed()
        self.after = ThreadPoolExecutor(max_workers=CHECK_THREADS, thread_name_prefix="fixit-after")
        self.lanes = Lanes()

    def later(self, client: WebClient, answer: Answer, where: Where, user: str = "") -> None:
        """`in_conversation`, in the channel's posting lane (bot/slack/lanes.py): the caller goes on at once."""
        if not answer.silent:
            self.lanes.submit(where.channel, lambda: self.in_conversation(client, answer, where, user))

    # -- into a conversation --

    def in_conversation(self, client: WebClient, answer: Answer, where: Where, user: str = "",
                        failures: list[str] | None = None) -> int:
        """Cards in the thread, then (in a channel mapped to a workspace) their checks; a note or a "did you
        mean" in the thread, or privately to `user`. How many messages went out; Slack's error for each post
        that did not, in `failures`."""
        if answer.silent:
            return 0
        if answer.private:
            payload = self.response(answer, where)
            return int(bool(user) and self.ephemeral(client, where, user, payload["blocks"], payload["text"]))
        sent = 0
        event = answer.event_id
        if answer.note:
            blocks = with_escalation(answer.note.blocks, where, answer.escalate)
            sent += bool(self.post(client, where, blocks, answer.note.fallback, event))
        if answer.suggestions:
            blocks = with_escalation(suggestion_blocks(answer.suggestions, where, answer.intro), where, answer.escalate)
            sent += bool(self.post(client, where, blocks, answer.intro, event))
        posted = []
        for card in answer.cards:
            ts = self.post(client, where, answer_blocks(card, where), card.rendered.fallback, event, failures)
            if ts:
                posted.append((card, ts))
            elif card.claimed:
                self.answerer.not_posted(where, card.entry_id)
        if answer.more and posted:
            blocks = listed_blocks(answer.more, where, self.answerer.settings.slash_command)
            sent += bool(self.post(client, where, blocks, blocks[0]["text"]["text"], event))
        if answer.check is not None:  # the static answers are out; only now ask the workspace's systems,
            for card, ts in posted:    # off the listener's thread: a slow provider holds no other answer
                if card.checkable:
                    self.after.submit(self.checked_card, client, answer.check, card.entry_id, where, ts,
                                      answer.paste)
        return sent + len(posted)

    def checked_card(self, client: WebClient, workspace, entry_id: str, where: Where, ts: str, paste: str = "") -> None:
        try:
            checked = self.answerer.checked(workspace, entry_id, paste)
        except Exception:  # noqa: BLE001 (in the background: the static card is out, log and go on)
            log.exception("checking workspace %s for %s in %s failed", workspace.name, entry_id, where.channel)
            return
        self.tell(client, checked.tell_admins)
        self.update(client, where, ts, answer_blocks(checked.card, where), checked.card.rendered.fallback)

    def tell(self, client: WebClient, messages: list[tuple[str, str]]) -> None:
        for user, text in messages:
            try:
                client.chat_postMessage(channel=user, text=text, unfurl_links=False)
            except (SlackApiError, OSError) as exc:
                log.warning("could not tell admin %s: %s", user, reason(exc))

    # -- private replies (the ack of a slash command, a response_url) --

    def response(self, answer: Answer, where: Where, replace_original: bool | None = None) -> dict:
        """An answer as a response_url / acknowledgement payload: ephemeral unless it replaces a message."""
        if answer.cards:
            blocks = [b for card in answer.cards for b in answer_blocks(card, where, share=answer.share)]
            if answer.more:  # the list goes at the end, whatever is cut to fit
                listed = listed_blocks(answer.more, where, self.answerer.settings.slash_command)
                blocks = blocks[:MAX_BLOCKS - len(listed)] + listed
            text = answer.cards[0].rendered.fallback
        elif answer.suggestions:
            blocks, text = suggestion_blocks(answer.suggestions, where, answer.intro), answer.intro
            blocks = with_escalation(blocks, where, answer.escalate)
        elif answer.note:
            blocks, text = with_escalation(answer.note.blocks, where, answer.escalate), answer.note.fallback
        else:
            return {}
        payload = {"text": text, "blocks": blocks[:MAX_BLOCKS]}
        if replace_original is not None:
            payload["replace_original"] = replace_original
        if not replace_original:
            payload["response_type"] = "ephemeral"
        return payload

    def respond(self, response_url: str, payload: dict) -> bool:
        if not payload or not response_url:
            return False
        try:
            status = self.connections.post_json(response_url, payload)
        except OSError as exc:
            log.warning("posting to a response_url failed: %s", reason(exc))
            return False
        if status >= 300:
            log.warning("posting to a response_url failed: HTTP %d", status)
        return status < 300

    # -- Web API calls --

    def post(self, client: WebClient, where: Where, blocks: list[dict], text: str, event_id: str = "",
             failures: list[str] | None = None) -> str:
        """Post in the conversation; the message's ts, or '' when it could not be posted (logged with the
        channel and the event it answers, never the text)."""
        message = {"channel": where.channel, "blocks": blocks, "text": text, "unfurl_links": False,
                   "unfurl_media": False}
        if where.thread_ts:
            message["thread_ts"] = where.thread_ts
        post_id = os.urandom(16).hex()  # random as uuid4's, without building a UUID object
        message = tag(message, post_id)  # a retry first looks for this id in the conversation
        try:
            # api_call sends what chat_postMessage would; chat_postMessage first walks the blocks for
            # slack_sdk Block objects to convert (ours are plain dicts), a cost on every card posted
            response = client.api_call("chat.postMessage", json=message)
            return str(response.get("ts") or "posted")
        except (SlackApiError, OSError, http.client.HTTPException) as exc:
            landed = self.landed.take(post_id)
            if landed:
                return landed  # its reply was lost, but the post is there
            log.warning("chat.postMessage to %s%s failed: %s", where.channel,
                        f" for event {event_id}" if event_id else "", reason(exc))
            if failures is not None:
                failures.append(reason(exc))
            return ""

    def ephemeral(self, client: WebClient, where: Where, user: str, blocks: list[dict], text: str) -> bool:
        try:
            client.chat_postEphemeral(channel=where.channel, user=user, thread_ts=where.thread_ts or None,
                                      blocks=blocks, text=text)
            return True
        except (SlackApiError, OSError) as exc:
            log.warning("chat.postEphemeral to %s failed: %s", where.channel, reason(exc))
            return False

    def update(self, client: WebClient, where: Where, ts: str, blocks: list[dict], text: str) -> None:
        try:
            client.chat_update(channel=where.channel, ts=ts, blocks=blocks, text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("chat.update in %s failed: %s", where.channel, reason(exc))


def reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__
