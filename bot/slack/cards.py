"""Slack-only parts of a card: the buttons under an answer, the "did you mean" picker."""

from __future__ import annotations

from bot.answer import Card, Where
from bot.kb import Entry
from bot.render.renderer import MAX_BLOCKS
from bot.render.slack_text import entry_line, escape
from bot.wording import counted

HELPFUL = "fixit_helpful"
NOT_IT = "fixit_not_it"
SHARE = "fixit_share"
PICK = "fixit_pick"          # fixit_pick_0, fixit_pick_1 …
CHECK_WORKSPACE = "fixit_check_workspace"
FULL_CARD = "fixit_full_card"   # on a card's first screen or a short answer: the entry's whole card
ESCALATE = "fixit_ask_a_person"
PICK_LISTED = "fixit_pick_listed"   # the picker under the list of further codes in a log paste
MAX_OPTIONS = 100                   # Slack's limit for a static select


def button(text: str, action_id: str, value: str, style: str = "") -> dict:
    element = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True},
               "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def answer_blocks(card: Card, where: Where, share: bool = False) -> list[dict]:
    """A card's blocks with its buttons: feedback, and Share, "Check my workspace", "Show the full card"
    where they apply."""
    value = where.value(card.entry_id, card.faq_index)
    buttons = [button("Share in channel", SHARE, value, "primary")] if share else []
    if card.rendered.short:
        buttons.append(button("Show the full card", FULL_CARD, where.value(card.entry_id)))
    buttons += [button("👍 Helpful", HELPFUL, value), button("👎 Not it", NOT_IT, value)]
    if card.checkable:
        buttons.append(button("Check my workspace", CHECK_WORKSPACE, value))
    if card.escalate and where.thread_ts:
        buttons.append(button("Ask a person", ESCALATE, value))
    blocks = card.rendered.blocks[: MAX_BLOCKS - 1]
    return [*blocks, {"type": "actions", "block_id": f"fixit_buttons_{card.entry_id}", "elements": buttons}]


def suggestion_blocks(entries: list[Entry], where: Where, intro: str = "Did you mean one of these?") -> list[dict]:
    lines = "\n".join(map(entry_line, entries))
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{escape(intro)}\n{lines}"}},
        {"type": "actions", "block_id": "fixit_suggestions", "elements": [
            button(e.id, f"{PICK}_{i}", where.value(e.id)) for i, e in enumerate(entries)]},
    ]


def listed_blocks(entries: list[Entry], where: Where, command: str) -> list[dict]:
    """One short message for the further errors of a log paste: their codes, and a picker that shows any
    one's card (or `/fixit CODE`)."""
    codes = ", ".join(f"*{escape(e.id)}*" for e in entries)
    text = (f"This paste names {counted(len(entries), 'more error')} I know: {codes}. "
            f"Pick one to see its card here, or look one up with `{escape(command)} CODE`.")
    options = [{"text": {"type": "plain_text", "text": f"{e.id}: {e.title}"[:75]}, "value": where.value(e.id)}
               for e in entries[:MAX_OPTIONS]]
    return [{"type": "section", "block_id": "fixit_listed", "text": {"type": "mrkdwn", "text": text},
             "accessory": {"type": "static_select", "action_id": PICK_LISTED, "options": options,
                           "placeholder": {"type": "plain_text", "text": "Show a card"}}}]


def with_escalation(blocks: list[dict], where: Where, offer: bool) -> list[dict]:
    """A note or a "did you mean" in a thread, with "Ask a person" under it when that is offered."""
    if not (offer and where.thread_ts):
        return blocks
    return [*blocks, {"type": "actions", "block_id": "fixit_escalate",
                      "elements": [button("Ask a person", ESCALATE, where.value(""))]}]


def text_blocks(text: str) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
