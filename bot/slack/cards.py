"""Slack-only parts of a card: the buttons under an answer, the "did you mean" picker."""

from __future__ import annotations

import json
from dataclasses import dataclass

from bot.kb import Entry
from bot.render import Rendered
from bot.render.renderer import MAX_BLOCKS
from bot.render.slack_text import entry_line, escape

HELPFUL = "fixit_helpful"
NOT_IT = "fixit_not_it"
SHARE = "fixit_share"
PICK = "fixit_pick"          # fixit_pick_0, fixit_pick_1 …
CHECK_WORKSPACE = "fixit_check_workspace"
FULL_CARD = "fixit_full_card"   # on a short answer to a question: the entry's whole card


@dataclass(frozen=True)
class Where:
    """The conversation an answer belongs to: the channel, and the thread (empty: none yet)."""

    channel: str
    thread_ts: str = ""

    def value(self, entry_id: str, faq_index: int = -1) -> str:
        data = {"e": entry_id, "c": self.channel, "t": self.thread_ts}
        if faq_index >= 0:
            data["q"] = faq_index
        return json.dumps(data, separators=(",", ":"))


def read_value(value: str) -> tuple[str, Where, int]:
    data = json.loads(value)
    return str(data["e"]), Where(str(data.get("c", "")), str(data.get("t", ""))), int(data.get("q", -1))


def button(text: str, action_id: str, value: str, style: str = "") -> dict:
    element = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True},
               "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def answer_blocks(card: Rendered, entry_id: str, where: Where, faq_index: int = -1, share: bool = False,
                  check_workspace: bool = False) -> list[dict]:
    value = where.value(entry_id, faq_index)
    buttons = [button("👍 Helpful", HELPFUL, value), button("👎 Not it", NOT_IT, value)]
    if share:
        buttons.insert(0, button("Share in channel", SHARE, value, "primary"))
    if check_workspace:
        buttons.append(button("Check my workspace", CHECK_WORKSPACE, value))
    if card.short:
        buttons.insert(0, button("Show the full card", FULL_CARD, where.value(entry_id)))
    blocks = card.blocks[: MAX_BLOCKS - 1]
    return [*blocks, {"type": "actions", "block_id": f"fixit_buttons_{entry_id}", "elements": buttons}]


def suggestion_blocks(entries: list[Entry], where: Where, intro: str = "Did you mean one of these?") -> list[dict]:
    lines = "\n".join(map(entry_line, entries))
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{escape(intro)}\n{lines}"}},
        {"type": "actions", "block_id": "fixit_suggestions", "elements": [
            button(e.id, f"{PICK}_{i}", where.value(e.id)) for i, e in enumerate(entries)]},
    ]


def text_blocks(text: str) -> list[dict]:
    return [{"type": "section", "text": {"type": "mrkdwn", "text": text}}]
