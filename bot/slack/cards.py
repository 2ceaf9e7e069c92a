"""Slack-only parts of a card: the buttons under an answer, the "did you mean" picker."""

from __future__ import annotations

from bot.answer import Card, Where
from bot.kb import Entry
from bot.render.renderer import MAX_BLOCKS
from bot.render.slack_text import entry_line, escape

HELPFUL = "fixit_helpful"
NOT_IT = "fixit_not_it"
SHARE = "fixit_share"
PICK = "fixit_pick"          # fixit_pick_0, fixit_pick_1 …
CHECK_WORKSPACE = "fixit_check_workspace"
FULL_CARD = "fixit_full_card"   # on a short answer to a question: the entry's whole card


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
    buttons = [button("👍 Helpful", HELPFUL, value), button("👎 Not it", NOT_IT, value)]
    if share:
        buttons.insert(0, button("Share in channel", SHARE, value, "primary"))
    if card.checkable:
        buttons.append(button("Check my workspace", CHECK_WORKSPACE, value))
    if card.rendered.short:
        buttons.insert(0, button("Show the full card", FULL_CARD, where.value(card.entry_id)))
    blocks = card.rendered.blocks[: MAX_BLOCKS - 1]
    return [*blocks, {"type": "actions", "block_id": f"fixit_buttons_{card.entry_id}", "elements": buttons}]


def suggestion_blocks(entries: list[Entry], where: Where, intro: str = "Did you mean one of these?") -> list[dict]:
    lines = "\n".join(map(entry_line, entries))
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{escape(intro)}\n{lines}"}},
        {"type": "actions", "block_id": "fixit_suggestions", "elements": [
            button(e.id, f"{PICK}_{i}", where.value(e.id)) for i, e in enumerate(entries)]},
    ]


def text_blocks(text: str) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
