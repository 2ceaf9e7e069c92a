"""Every decision about what Fixit says: to a paste in a channel, a follow-up in a thread, a private lookup,
a button, a card with live checks. Returns `Answer`s; the edges only deliver them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from bot.answer.types import Answer, Card, Checked, Message, Where
from bot.checks.runner import CheckRunner
from bot.checks.workspaces import Workspace, Workspaces
from bot.match import limits
from bot.match.limits import MAX_INPUT_CHARS, MAX_QUESTION_CHARS, MAX_WORDING_CHARS
from bot.match.matcher import named_codes
from bot.match.normalize import clean, normalize
from bot.match.questions import asks_for_help
from bot.pipeline import USAGE_HINT, Fixit, Reply
from bot.render.slack_text import escape
from bot.settings import CHANNEL_MODES, Settings
from bot.store import Store
from bot.store.resilient import ResilientStore

_ERRORISH = re.compile(r"\b(?:error|failed|failure|exception|couldn'?t|could not|unable)\b", re.IGNORECASE)


ESCALATED_CHARS = 600   # of the thread's first message, quoted in the escalation
MODE_MEANING = {"auto": "I answer pasted errors", "mention-only": "I answer only when someone mentions me",
                "off": "I stay silent here"}


def escalated(where: Where) -> str:
    """The store's notice that a thread was escalated (once per thread, across instances)."""
    return f"escalated:{where.channel}:{where.thread_ts}"


def looks_like_an_error(text: str) -> bool:
    """Worth remembering as an unmatched paste (ordinary chatter is not stored)."""
    return bool(_ERRORISH.search(text)) and len(text.split()) >= 5


def usage(command: str) -> str:
    return (f"*Fixit* explains accounting-export errors.\n"
            f"• `{command} INT771`: look up an error by its code\n"
            f"• `{command} Export not completed. The batches for this reporting period are closed…`: by its text\n"
            f"• Paste an error in a channel I'm in, or mention me, and I answer in the thread.\n"
            f"• On any message: ⋯ › *Explain this error*.")


class Answerer:
    def __init__(self, fixit: Callable[[], Fixit], store: Store | ResilientStore, settings: Settings,
                 workspaces: Workspaces | None = None, checks: CheckRunner | None = None) -> None:
        self._fixit = fixit
        self.store = store
        self.settings = settings
        self.workspaces = workspaces or Workspaces([])
        self.checks = checks or CheckRunner()

    @property
    def fixit(self) -> Fixit:
        """The knowledge base being served now (hot reload swaps it between requests)."""
        return self._fixit()

    def mode(self, channel: str, team: str = "") -> str:
        """The channel's mode: what the team's admins set (`/fixit config`), else the server's settings."""
        if team:
            mode = self.store.channel_modes_of(team).get(channel)
            if mode:
                return mode
        return self.settings.channel_modes.get(channel, self.settings.default_mode)

    def set_mode(self, where: Where, mode: str, user: str) -> Answer:
        """A team admin's `/fixit config MODE` for the channel it is typed in (the caller checked the admin)."""
        if mode not in CHANNEL_MODES:
            return Answer(note=self.fixit.renderer.note([escape(
                f"Write one of {', '.join(CHANNEL_MODES)}: `{self.settings.slash_command} config mention-only`.")]),
                private=True)
        if not self.store.set_channel_mode(where.team, where.channel, mode, user):
            return Answer(note=self.fixit.renderer.note(["I couldn't store that right now (the database is not "
                                                         "answering); please try again in a minute."]), private=True)
        return Answer(note=self.fixit.renderer.note([f"In this channel I now run *{mode}*: {MODE_MEANING[mode]}."]),
                      private=True)

    def modes(self, where: Where) -> Answer:
        """`/fixit config`: this channel's mode and the team's settings."""
        own = self.store.channel_modes_of(where.team)
        mode = self.mode(where.channel, where.team)
        lines = [f"In this channel I run *{mode}*: {MODE_MEANING[mode]}."]
        if own:
            lines.append("Set for this workspace: " + ", ".join(f"<#{escape(c)}> {m}" for c, m in sorted(own.items())))
        lines.append(f"Admins change it with `{self.settings.slash_command} config auto|mention-only|off` "
                     f"in the channel.")
        return Answer(note=self.fixit.renderer.note(lines), private=True)

    # -- messages in conversations --

    def channel_message(self, message: Message) -> Answer:
        """A message nobody addressed to Fixit: answered only in `auto` channels."""
        return self._for_event(self._channel_message(message), message)

    def mention(self, message: Message) -> Answer:
        """A message addressed to Fixit (its mention already taken out of `text`): always answered."""
        return self._for_event(self._mention(message), message)

    @staticmethod
    def _for_event(answer: Answer, message: Message) -> Answer:
        answer.event_id = message.event_id
        return answer

    def _channel_message(self, message: Message) -> Answer:
        if self.mode(message.channel, message.team) != "auto":
            return Answer()
        if message.is_reply:
            answered = self.store.thread_entries(message.channel, message.thread_ts)
            if answered:
                return self.follow_up(message, answered) or Answer()
        return self.paste(message, explicit=False)

    def _mention(self, message: Message) -> Answer:
        if self.mode(message.channel, message.team) == "off" or not self.first_delivery(message.event_id):
            return Answer()
        if not message.text.strip():
            return Answer(note=self.fixit.renderer.note([USAGE_HINT]))
        if message.thread_ts:
            answered = self.store.thread_entries(message.channel, message.thread_ts)
            if answered:
                answer = self.follow_up(message, answered, explicit=True)
                if answer is not None:
                    return answer
        return self.paste(replace(message, event_id=""), explicit=True)

    def paste(self, message: Message, explicit: bool, reply: Reply | None = None) -> Answer:
        """The cards for a paste, claimed for its thread (a retry, a restart or a second instance never answers
        twice). An event id is recorded only when there is something to say: chatter costs no database write."""
        fixit, where, text = self.fixit, message.where, message.text
        reply = reply or fixit.reply(text)
        if reply.cards:
            fresh = self.store.claim_event(message.event_id, where.channel, where.thread_ts, reply.match.answer_ids,
                                           where.team)
            if fresh is None:
                return Answer()
            cards = [self.card(hit.entry_id, rendered, hit.faq_index, claimed=True)
                     for hit, rendered in zip(reply.match.answers, reply.cards, strict=False) if hit.entry_id in fresh]
            if explicit and not fresh:
                said = f"I've already answered {', '.join(reply.match.answer_ids)} in this thread (see above)."
                return Answer(note=fixit.renderer.note([escape(said)]))
            return Answer(cards=cards, check=self.workspaces.for_channel(where.channel, where.team), paste=text,
                          more=self.listed(reply) if cards else [])
        delivered_once = bool(reply.match.suggestions or explicit)
        if delivered_once and not self.first_delivery(message.event_id):
            return Answer()
        answer = Answer()
        if reply.match.suggestions:
            entries = [fixit.kb.get(h.entry_id) for h in reply.match.suggestions]
            if explicit:
                answer = Answer(suggestions=entries)
            elif message.user and (asks_for_help(text[:MAX_QUESTION_CHARS])
                                   or any(h.how != "retrieval" for h in reply.match.suggestions)):
                # unasked, a private "did you mean" goes to someone who pasted part of an error, or is
                # asking or reporting trouble: not to a remark that only shares words with an entry
                answer = Answer(suggestions=entries, private=True)
        elif explicit:
            answer = Answer(note=fixit.no_match(reply.match, heading=False),
                            escalate=bool(self.settings.escalation_channel))
        if explicit or reply.match.unknown_codes or looks_like_an_error(text):
            # a Slack retry of a paste that matched nothing is not another paste that matched nothing
            if delivered_once or self.first_delivery(message.event_id):
                self.record_unmatched(text, where)
        return answer

    def follow_up(self, message: Message, answered: list[str], explicit: bool = False) -> Answer | None:
        """A message in a thread Fixit answered: the thread's entries' FAQ first, then the FAQ of their systems,
        then errors. Thread chatter ("thanks!", "trying now") gets nothing. None: not a follow-up Fixit answers."""
        fixit = self.fixit
        cleaned = clean(message.text[:MAX_INPUT_CHARS])
        questions = fixit.matcher.questions
        systems = {fixit.kb.get(e).system for e in answered if fixit.kb.get(e)}
        for scope in ({"entry_ids": set(answered)}, {"systems": systems}):
            for hit, sure in questions.decide(questions.rank(cleaned, **scope)):
                if sure:
                    if not self.first_delivery(message.event_id):
                        return Answer()
                    return self.faq(hit.entry_id, hit.faq_index) or Answer()
        reply = fixit.reply(message.text)
        if explicit or reply.cards:
            return self.paste(message, explicit=explicit, reply=reply)
        return None

    def faq(self, entry_id: str, index: int) -> Answer | None:
        entry = self.fixit.kb.get(entry_id)
        if entry is None or not 0 <= index < len(entry.faq):
            return None
        return Answer(cards=[Card(entry_id, self.fixit.renderer.faq_answer(entry, index), index)])

    def first_delivery(self, event_id: str) -> bool:
        return not event_id or self.store.first_delivery(event_id)

    # -- private lookups: the slash command, the message shortcut --

    def lookup(self, text: str, where: Where, shareable: bool = True) -> Answer:
        """A private answer: cards (with a Share button where sharing can work), a "did you mean", or help."""
        fixit = self.fixit
        text = text.strip()
        if not text or text.lower() in ("help", "?"):
            return Answer(note=fixit.renderer.note([usage(self.settings.slash_command)]), private=True)
        reply = fixit.reply(text)
        if reply.cards:
            cards = [self.card(hit.entry_id, rendered, hit.faq_index)
                     for hit, rendered in zip(reply.match.answers, reply.cards, strict=False)]
            return Answer(cards=cards, private=True, share=shareable, paste=text, more=self.listed(reply))
        if reply.match.suggestions:
            return Answer(suggestions=[fixit.kb.get(h.entry_id) for h in reply.match.suggestions], private=True)
        self.record_unmatched(text, where)
        return Answer(note=fixit.no_match(reply.match, heading=False), private=True)

    def record_unmatched(self, text: str, where: Where) -> None:
        """A paste that matched nothing, for the knowledge base's gaps: its wording masked (no ids, dates,
        amounts, emails), after the codes it names, which masking would turn into '#' too."""
        wording = clean(text[:MAX_WORDING_CHARS])
        codes = dict.fromkeys(m.code for m in named_codes(wording, self.fixit.kb, limits.MAX_CODE_SHAPES))
        self.store.record_unmatched(" ".join([*codes, normalize(wording)]), where.channel, where.team)

    def listed(self, reply: Reply) -> list:
        """The entries of the codes a paste names past its cards (a log of errors)."""
        return [e for e in map(self.fixit.kb.get, (h.entry_id for h in reply.match.more)) if e is not None]

    # -- buttons --

    def entry_in_thread(self, entry_id: str, where: Where, faq_index: int = -1) -> Answer | None:
        """An entry's card for a thread (Share, a picked suggestion), claimed: once per thread. None when it
        is already there or no longer in the knowledge base."""
        fixit = self.fixit
        if fixit.kb.get(entry_id) is None or not self.store.claim_answer(where.channel, where.thread_ts, entry_id,
                                                                                     where.team):
            return None
        card = self.card(entry_id, fixit.card(entry_id, faq_index), faq_index, claimed=True)
        return Answer(cards=[card], check=self.workspaces.for_channel(where.channel, where.team))

    def pick(self, entry_id: str, where: Where, shareable: bool = True) -> Answer:
        """A suggestion picked: outside a thread, the entry privately (a lookup); in a thread, its card there,
        once (a private note when it is there already)."""
        if not where.thread_ts:
            return self.lookup(entry_id, where, shareable=shareable)
        answer = self.entry_in_thread(entry_id, where)
        if answer is None:
            return Answer(note=self.fixit.renderer.note([f"{entry_id} is already answered in this thread."]),
                          private=True)
        return answer

    def not_posted(self, where: Where, entry_id: str) -> None:
        """A claimed card could not be posted: release the claim, so that a retry can post it."""
        self.store.release_answer(where.channel, where.thread_ts, entry_id)

    def full_card(self, entry_id: str, private: bool = False, shareable: bool = True) -> Answer:
        """The whole card of an entry that a short answer came from; a `private` one keeps its Share button
        where sharing can work."""
        if self.fixit.kb.get(entry_id) is None:
            return Answer(note=self.fixit.renderer.note(["That entry is no longer in the knowledge base."]),
                          private=True)
        return Answer(cards=[self.card(entry_id, self.fixit.card(entry_id, full=True))], share=private and shareable)

    def feedback(self, entry_id: str, where: Where, user: str, vote: str) -> Answer:
        self.store.record_feedback(entry_id, user, where.channel, where.thread_ts, vote, where.team)
        renderer = self.fixit.renderer
        if vote == "up":
            return Answer(note=renderer.note(["Thanks, noted. 👍"]), private=True)
        fixit = self.fixit
        others = [fixit.kb.get(i) for i in fixit.matcher.neighbours(entry_id)] if fixit.kb.get(entry_id) else []
        escalate = bool(self.settings.escalation_channel)
        if not others:
            return Answer(note=renderer.note(["Thanks, noted. Paste the full error message and I'll look again."]),
                          private=True, escalate=escalate)
        return Answer(suggestions=others, intro="Thanks, noted. Was it one of these instead?", private=True,
                      escalate=escalate)

    # -- live workspace checks --

    def card(self, entry_id: str, rendered, faq_index: int = -1, claimed: bool = False) -> Card:
        offer = bool(self.workspaces) and has_checks(self.fixit, self.checks, entry_id)
        return Card(entry_id, rendered, faq_index, checkable=offer, claimed=claimed,
                    escalate=bool(self.settings.escalation_channel))

    # -- a way to a person --

    def escalation_failed(self, where: Where) -> Answer:
        """The escalation could not be posted: let the thread be escalated again, and say so."""
        self.store.forget_notice(escalated(where))
        return Answer(note=self.fixit.renderer.note([f"I couldn't post in <#{self.settings.escalation_channel}> "
                                                     f"(am I in it?); please ask there yourself."]), private=True)

    def escalation(self, where: Where, user: str, first_message: str, link: str) -> tuple[Answer, str]:
        """"Ask a person" pressed in a thread: what to tell the asker, and what to post in the escalation
        channel ('' when nothing is to be posted: not configured, or this thread was already escalated)."""
        settings, note = self.settings, self.fixit.renderer.note
        if not settings.escalation_channel:
            return Answer(note=note(["Asking a person isn't set up here; ask in the channel."]), private=True), ""
        channel = f"<#{settings.escalation_channel}>"
        if not self.store.notify_once(escalated(where)):
            return Answer(note=note([f"Someone in {channel} has already been asked about this thread."]),
                          private=True), ""
        fixit = self.fixit
        answered = [fixit.kb.get(e) for e in self.store.thread_entries(where.channel, where.thread_ts)]
        votes = self.store.feedback_in_thread(where.channel, where.thread_ts)
        group = f"<!subteam^{settings.escalation_group}> " if settings.escalation_group else ""
        thread = f"<{link}|this thread>" if link else f"a thread in <#{where.channel}>"
        error = escape(clean(first_message)[:ESCALATED_CHARS]) or "_(I couldn't read it)_"   # escape defuses @channel
        lines = [f"{group}<@{user}> asks for a person in {thread}.",
                 "*The error:*\n>" + error.replace("\n", "\n>"),
                 "*Fixit answered:* " + (", ".join(f"{escape(e.id)} ({escape(e.title)})" for e in answered if e)
                                        or "nothing it knows"),
                 f"*Feedback so far:* 👍 {votes.get('up', 0)} · 👎 {votes.get('down', 0)}"]
        told = f"I've asked {channel}{' (' + group.strip() + ')' if group else ''}; someone will reply in this thread."
        return Answer(note=note([told]), private=True), "\n".join(lines)

    def workspace_for(self, channel: str, team: str) -> Workspace | None:
        """The workspace of the conversation a button was pressed in (its channel, else its Slack team), never
        one the user names, so nobody reads another workspace's settings."""
        return self.workspaces.for_conversation(channel, team)

    def checked(self, workspace: Workspace, entry_id: str, paste: str = "") -> Checked:
        """The card with its "Your workspace" section; admins are told once about rejected credentials."""
        card, bad_credentials = checked_card(self.fixit, self.checks, workspace, entry_id, paste)
        checked = Checked(card)
        for provider in bad_credentials:
            if self.store.notify_once(f"bad-credentials:{workspace.name}:{provider}"):
                text = (f"Fixit could not sign in to *{provider}* for workspace *{workspace.name}*: its credentials "
                        f"were rejected. Please update them (the variables the workspaces file names, in the "
                        f"environment or .env).")
                checked.tell_admins += [(admin, text) for admin in workspace.admins]
        return checked


def has_checks(fixit: Fixit, checks: CheckRunner, entry_id: str) -> bool:
    """Whether an entry's card can say which fix applies to a workspace (its checks run there)."""
    return checks.applies(fixit.kb.get(entry_id))


def checked_cards(fixit: Fixit, checks: CheckRunner, workspace: Workspace, reply: Reply, paste: str) -> list:
    """A reply's rendered cards, each entry with checks run against the workspace (the CLI's `ask
    --workspace`; in Slack, cards are posted first and checked after, `Answerer.checked`)."""
    return [checked_card(fixit, checks, workspace, hit.entry_id, paste, hit.faq_index)[0].rendered
            if has_checks(fixit, checks, hit.entry_id) else rendered
            for hit, rendered in zip(reply.match.answers, reply.cards, strict=False)]


def checked_card(fixit: Fixit, checks: CheckRunner, workspace: Workspace, entry_id: str, paste: str = "",
                 faq_index: int = -1) -> tuple[Card, list[str]]:
    """Run an entry's checks against a workspace: the card with what they found, and the providers that
    rejected their credentials (the CLI's `ask --workspace` and Slack's button both come here)."""
    report = checks.run(workspace, fixit.kb.get(entry_id), paste)
    lines = report.lines or [f"Nothing to report for workspace *{workspace.name}*."]
    return Card(entry_id, fixit.card(entry_id, faq_index, lines), faq_index), list(report.bad_credentials)
