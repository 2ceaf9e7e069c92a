"""What Fixit does in Slack, independent of how Bolt delivers it: listeners parse, this decides and posts.

Every post goes through `post`/`ephemeral`, which turn unfurls off and log a failure instead of raising.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.checks.runner import CheckRunner
from bot.checks.workspaces import Workspace, Workspaces
from bot.match.limits import MAX_INPUT_CHARS, MAX_QUESTION_CHARS, MAX_WORDING_CHARS
from bot.match.normalize import clean, normalize
from bot.match.questions import asks_for_help
from bot.pipeline import USAGE_HINT, Fixit, Reply
from bot.render.slack_text import escape
from bot.settings import Settings
from bot.slack.cards import Where, answer_blocks, suggestion_blocks, text_blocks
from bot.store import Store

log = logging.getLogger("fixit.slack")

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
_ERRORISH = re.compile(r"\b(?:error|failed|failure|exception|couldn'?t|could not|unable)\b", re.IGNORECASE)


def looks_like_an_error(text: str) -> bool:
    """Worth remembering as an unmatched paste (ordinary chatter is not stored)."""
    return bool(_ERRORISH.search(text)) and len(text.split()) >= 5


class SlackService:
    def __init__(self, fixit: Callable[[], Fixit], store: Store, settings: Settings,
                 workspaces: Workspaces | None = None, checks: CheckRunner | None = None) -> None:
        self._fixit = fixit
        self.store = store
        self.settings = settings
        self.workspaces = workspaces or Workspaces([])
        self.checks = checks or CheckRunner()

    @property
    def fixit(self) -> Fixit:
        return self._fixit()

    def mode(self, channel: str) -> str:
        return self.settings.channel_modes.get(channel, self.settings.default_mode)

    # -- posting --

    def post(self, client: WebClient, where: Where, blocks: list[dict], text: str) -> str:
        """Post; the message's ts, or '' when it could not be posted (logged)."""
        message = {"channel": where.channel, "blocks": blocks, "text": text, "unfurl_links": False,
                   "unfurl_media": False}
        if where.thread_ts:
            message["thread_ts"] = where.thread_ts
        try:
            # api_call sends what chat_postMessage would; chat_postMessage first walks the blocks for
            # slack_sdk Block objects to convert (ours are plain dicts): a tenth of what posting a card costs
            response = client.api_call("chat.postMessage", json=message)
            return str(response.get("ts") or "posted")
        except (SlackApiError, OSError) as exc:
            log.warning("chat.postMessage to %s failed: %s", where.channel, _reason(exc))
            return ""

    def ephemeral(self, client: WebClient, where: Where, user: str, blocks: list[dict], text: str) -> bool:
        try:
            client.chat_postEphemeral(channel=where.channel, user=user, thread_ts=where.thread_ts or None,
                                      blocks=blocks, text=text)
            return True
        except (SlackApiError, OSError) as exc:
            log.warning("chat.postEphemeral to %s failed: %s", where.channel, _reason(exc))
            return False

    def update(self, client: WebClient, where: Where, ts: str, blocks: list[dict], text: str) -> None:
        try:
            client.chat_update(channel=where.channel, ts=ts, blocks=blocks, text=text)
        except (SlackApiError, OSError) as exc:
            log.warning("chat.update in %s failed: %s", where.channel, _reason(exc))

    def post_entry(self, client: WebClient, where: Where, entry_id: str, faq_index: int = -1) -> bool:
        """Post an entry's card in the thread, once per thread."""
        if not self.store.claim_answer(where.channel, where.thread_ts, entry_id):
            return False
        fixit = self.fixit
        if fixit.kb.get(entry_id) is None:
            return False
        card = fixit.card(entry_id, faq_index)
        ts = self.post(client, where, self.card_blocks(card, entry_id, where, faq_index), card.fallback)
        if ts:
            self.auto_check(client, where, entry_id, ts)
            return True
        self.store.release_answer(where.channel, where.thread_ts, entry_id)
        return False

    # -- messages in channels --

    def first_delivery(self, event_id: str) -> bool:
        return not event_id or self.store.first_delivery(event_id)

    def on_message(self, client: WebClient, event: dict, bot_user_id: str, event_id: str = "") -> None:
        text = event.get("text") or ""
        channel = event.get("channel", "")
        if self.mode(channel) != "auto" or (bot_user_id and f"<@{bot_user_id}" in text):
            return  # mentions are answered by on_mention
        thread_ts = event.get("thread_ts") or ""
        where = Where(channel, thread_ts or event.get("ts", ""))
        if thread_ts and thread_ts != event.get("ts"):
            answered = self.store.thread_entries(channel, thread_ts)
            if answered:
                self.follow_up(client, text, where, event.get("user", ""), answered, event_id=event_id)
                return
        self.answer_paste(client, text, where, event.get("user", ""), explicit=False, event_id=event_id)

    def on_mention(self, client: WebClient, event: dict, bot_user_id: str, event_id: str = "") -> None:
        channel = event.get("channel", "")
        if self.mode(channel) == "off" or not self.first_delivery(event_id):
            return
        text = _MENTION.sub(" ", event.get("text") or "").strip()
        thread_ts = event.get("thread_ts") or ""
        where = Where(channel, thread_ts or event.get("ts", ""))
        if not text:
            self.post(client, where, text_blocks(USAGE_HINT), USAGE_HINT)
            return
        if thread_ts:
            answered = self.store.thread_entries(channel, thread_ts)
            if answered and self.follow_up(client, text, where, event.get("user", ""), answered, explicit=True):
                return
        self.answer_paste(client, text, where, event.get("user", ""), explicit=True)

    def answer_paste(self, client: WebClient, text: str, where: Where, user: str, explicit: bool,
                     event_id: str = "", reply: Reply | None = None) -> None:
        """Answer a paste (`reply`: Fixit's reply to it, if already known). `event_id` (a channel message not
        yet deduplicated) is recorded only when there is something to say, together with the thread's claims:
        chatter costs no database write."""
        fixit = self.fixit
        reply = reply or fixit.reply(text)
        if reply.cards:
            fresh = self.store.claim_event(event_id, where.channel, where.thread_ts, reply.match.answer_ids)
            if fresh is None:
                return
            posted = []
            for hit, card in zip(reply.match.answers, reply.cards, strict=False):
                if hit.entry_id not in fresh:
                    continue
                ts = self.post(client, where, self.card_blocks(card, hit.entry_id, where, hit.faq_index),
                               card.fallback)
                if ts:
                    posted.append((hit.entry_id, ts))
                else:
                    self.store.release_answer(where.channel, where.thread_ts, hit.entry_id)
            # the static answers are out; only now ask the workspace's systems
            for entry_id, ts in posted:
                self.auto_check(client, where, entry_id, ts, paste=text)
            if explicit and not fresh:
                note = f"I've already answered {', '.join(reply.match.answer_ids)} in this thread (see above)."
                self.post(client, where, text_blocks(escape(note)), note)
            return
        if (reply.match.suggestions or explicit) and not self.first_delivery(event_id):
            return
        if reply.match.suggestions:
            entries = [fixit.kb.get(h.entry_id) for h in reply.match.suggestions]
            blocks = suggestion_blocks(entries, where)
            if explicit:
                self.post(client, where, blocks, "Did you mean one of these?")
            elif user and (asks_for_help(text[:MAX_QUESTION_CHARS])
                           or any(h.how != "retrieval" for h in reply.match.suggestions)):
                # unasked, a private "did you mean" goes to someone who pasted part of an error, or is
                # asking or reporting trouble: not to a remark that only shares words with an entry
                self.ephemeral(client, where, user, blocks, "Did you mean one of these?")
        elif explicit:
            card = fixit.no_match(reply.match)
            self.post(client, where, card.blocks[1:], card.text)
        if explicit or reply.match.unknown_codes or looks_like_an_error(text):
            self.store.record_unmatched(normalize(text[:MAX_WORDING_CHARS]), where.channel)

    def follow_up(self, client: WebClient, text: str, where: Where, user: str, answered: list[str],
                  explicit: bool = False, event_id: str = "") -> bool:
        """A message in a thread Fixit answered: the thread's entries' FAQ first, then FAQ entries, then
        errors. Thread chatter ("thanks!", "trying now") gets nothing. True when something was posted."""
        fixit = self.fixit
        cleaned = clean(text[:MAX_INPUT_CHARS])
        questions = fixit.matcher.questions
        for scope in ({"entry_ids": set(answered)}, {"systems": {fixit.kb.get(e).system for e in answered
                                                                if fixit.kb.get(e)}}):
            for hit, sure in questions.decide(questions.rank(cleaned, **scope)):
                if sure:
                    return self.first_delivery(event_id) and self.post_faq(client, where, hit.entry_id,
                                                                          hit.faq_index)
        reply = fixit.reply(text)
        if explicit or reply.cards:
            self.answer_paste(client, text, where, user, explicit=explicit, event_id=event_id, reply=reply)
            return True
        return False

    def post_faq(self, client: WebClient, where: Where, entry_id: str, index: int) -> bool:
        entry = self.fixit.kb.get(entry_id)
        if entry is None or not 0 <= index < len(entry.faq):
            return False
        card = self.fixit.renderer.faq_answer(entry, index)
        return self.post(client, where, answer_blocks(card, entry_id, where, index), card.fallback)

    def full_card(self, entry_id: str, where: Where) -> dict:
        """The whole card of an entry that a short answer came from, to replace that answer."""
        entry = self.fixit.kb.get(entry_id)
        if entry is None:
            return {"response_type": "ephemeral", "replace_original": False,
                    "text": "That entry is no longer in the knowledge base."}
        card = self.fixit.card(entry.id)
        return {"replace_original": True, "text": card.fallback, "blocks": self.card_blocks(card, entry.id, where)}

    # -- slash command and shortcut (private answers) --

    def private_answer(self, text: str, where: Where) -> dict:
        """The ephemeral response to /fixit or the shortcut: cards with a Share button, or help."""
        fixit = self.fixit
        text = text.strip()
        if not text or text.lower() in ("help", "?"):
            return {"response_type": "ephemeral", "text": usage(self.settings.slash_command),
                    "blocks": text_blocks(usage(self.settings.slash_command))}
        reply = fixit.reply(text)
        if reply.cards:
            blocks = []
            for hit, card in zip(reply.match.answers, reply.cards, strict=False):
                blocks += self.card_blocks(card, hit.entry_id, where, hit.faq_index, share=True)
            return {"response_type": "ephemeral", "text": reply.cards[0].fallback, "blocks": blocks[:50]}
        if reply.match.suggestions:
            entries = [fixit.kb.get(h.entry_id) for h in reply.match.suggestions]
            return {"response_type": "ephemeral", "text": "Did you mean one of these?",
                    "blocks": suggestion_blocks(entries, where)}
        self.store.record_unmatched(normalize(text[:MAX_WORDING_CHARS]), where.channel)
        card = fixit.no_match(reply.match)
        return {"response_type": "ephemeral", "text": card.text, "blocks": card.blocks[1:]}

    # -- live workspace checks --

    def card_blocks(self, card, entry_id: str, where: Where, faq_index: int = -1, share: bool = False) -> list:
        entry = self.fixit.kb.get(entry_id)
        offer = bool(self.workspaces) and self.checks.applies(entry)
        return answer_blocks(card, entry_id, where, faq_index, share=share, check_workspace=offer)

    def auto_check(self, client: WebClient, where: Where, entry_id: str, ts: str, paste: str = "") -> None:
        """In a channel mapped to a workspace, run the entry's checks and update the posted card."""
        workspace = self.workspaces.for_channel(where.channel)
        if workspace is None or not self.checks.applies(self.fixit.kb.get(entry_id)):
            return
        self.update(client, where, ts, *self.checked_card(client, workspace, entry_id, where, paste))

    def checked_card(self, client: WebClient, workspace: Workspace, entry_id: str, where: Where, paste: str = "",
                     share: bool = False) -> tuple[list[dict], str]:
        """Run the checks; the card with its "Your workspace" section (and tell admins of bad credentials)."""
        fixit = self.fixit
        report = self.checks.run(workspace, fixit.kb.get(entry_id), paste)
        for provider in report.bad_credentials:
            self.tell_admins(client, workspace, provider)
        card = fixit.card(entry_id, -1, report.lines or [f"Nothing to report for workspace *{workspace.name}*."])
        return answer_blocks(card, entry_id, where, share=share), card.fallback

    def tell_admins(self, client: WebClient, workspace: Workspace, provider: str) -> None:
        if not self.store.notify_once(f"bad-credentials:{workspace.name}:{provider}"):
            return
        text = (f"Fixit could not sign in to *{provider}* for workspace *{workspace.name}*: its credentials were "
                f"rejected. Please update them (the environment variables named in the workspaces file).")
        for admin in workspace.admins:
            try:
                client.chat_postMessage(channel=admin, text=text, unfurl_links=False)
            except (SlackApiError, OSError) as exc:
                log.warning("could not tell admin %s: %s", admin, _reason(exc))

    def on_check_workspace(self, client: WebClient, entry_id: str, where: Where, team: str, message_ts: str,
                           ephemeral: bool) -> dict | None:
        """The "Check my workspace" button. The workspace comes from where the button was pressed (channel,
        else Slack team), never from the user, so nobody reads another workspace's settings."""
        workspace = self.workspaces.for_conversation(where.channel, team)
        if workspace is None:
            return {"response_type": "ephemeral", "replace_original": False,
                    "text": "This conversation isn't connected to a workspace, so I can't check its settings."}
        blocks, text = self.checked_card(client, workspace, entry_id, where, share=ephemeral)
        if ephemeral:
            return {"replace_original": True, "blocks": blocks, "text": text}
        self.update(client, where, message_ts, blocks, text)
        return None

    # -- buttons --

    def on_feedback(self, client: WebClient, entry_id: str, where: Where, user: str, vote: str) -> dict:
        self.store.record_feedback(entry_id, user, where.channel, where.thread_ts, vote)
        if vote == "up":
            return {"response_type": "ephemeral", "replace_original": False, "text": "Thanks, noted. 👍"}
        fixit = self.fixit
        entry = fixit.kb.get(entry_id)
        others = [fixit.kb.get(i) for i in fixit.matcher.neighbours(entry_id)] if entry else []
        if not others:
            return {"response_type": "ephemeral", "replace_original": False,
                    "text": "Thanks, noted. Paste the full error message and I'll look again."}
        return {"response_type": "ephemeral", "replace_original": False, "text": "Was it one of these?",
                "blocks": suggestion_blocks(others, where, "Thanks, noted. Was it one of these instead?")}


def usage(command: str) -> str:
    return (f"*Fixit* explains accounting-export errors.\n"
            f"• `{command} INT771`: look up an error by its code\n"
            f"• `{command} Export not completed. The batches for this reporting period are closed…`: by its text\n"
            f"• Paste an error in a channel I'm in, or mention me, and I answer in the thread.\n"
            f"• On any message: ⋯ › *Explain this error*.")


def _reason(exc: Exception) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or exc.response.status_code)
    return type(exc).__name__
