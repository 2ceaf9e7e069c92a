"""What Fixit says, as data. The answer layer returns an `Answer`; an edge (Slack, the CLI) turns it into posts."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bot.checks.workspaces import Workspace
from bot.kb import Entry
from bot.render import Rendered

_COMPACT = json.JSONEncoder(separators=(",", ":"))  # json.dumps builds an encoder per call for any option


@dataclass(frozen=True)
class Where:
    """The conversation an answer belongs to: the channel, the thread (empty: none yet), and the Slack team
    (workspace) it is answered for, whose data it is."""

    channel: str
    thread_ts: str = ""
    team: str = ""

    def value(self, entry_id: str, faq_index: int = -1) -> str:
        """A button's value: the entry, and where its card was shown."""
        data = {"e": entry_id, "c": self.channel, "t": self.thread_ts}
        if faq_index >= 0:
            data["q"] = faq_index
        return _COMPACT.encode(data)


def read_value(value: str) -> tuple[str, Where, int]:
    data = json.loads(value)
    return str(data["e"]), Where(str(data.get("c", "")), str(data.get("t", ""))), int(data.get("q", -1))


@dataclass(frozen=True)
class Message:
    """A message someone wrote in a conversation."""

    text: str
    channel: str
    ts: str
    thread_ts: str = ""
    user: str = ""
    event_id: str = ""     # the delivery's id, when the transport has one (Slack's Events API)
    team: str = ""         # the Slack team the message was received for

    @property
    def where(self) -> Where:
        """Where an answer goes: the message's thread, or a new thread under it."""
        return Where(self.channel, self.thread_ts or self.ts, self.team)

    @property
    def is_reply(self) -> bool:
        return bool(self.thread_ts) and self.thread_ts != self.ts


@dataclass(frozen=True)
class Card:
    """One entry's card, as it will be shown."""

    entry_id: str
    rendered: Rendered
    faq_index: int = -1
    checkable: bool = False   # the entry has live checks and workspaces are configured: offer "Check my workspace"
    claimed: bool = False     # claimed for its thread: release the claim if it cannot be posted
    escalate: bool = False    # an escalation channel is configured: offer "Ask a person"


@dataclass
class Answer:
    """One reply: cards, or a "did you mean" list, or a note; none of them means say nothing."""

    cards: list[Card] = field(default_factory=list)
    suggestions: list[Entry] = field(default_factory=list)
    intro: str = "Did you mean one of these?"
    note: Rendered | None = None
    private: bool = False             # only the asker sees it
    share: bool = False               # private cards carry "Share in channel"
    check: Workspace | None = None    # once the cards are posted, check this workspace and update them
    paste: str = ""                   # what the checks read a date or a report id from
    more: list[Entry] = field(default_factory=list)   # further errors a log paste names: one list, no cards
    escalate: bool = False            # a note or "did you mean" that offers "Ask a person" (in a thread)
    event_id: str = ""                # the delivery it answers, for log lines

    @property
    def silent(self) -> bool:
        return not (self.cards or self.suggestions or self.note)



@dataclass
class Checked:
    """A card with its "Your workspace" section, and the admins to tell about rejected credentials."""

    card: Card
    tell_admins: list[tuple[str, str]] = field(default_factory=list)   # (Slack user id, message)
