"""The words of a Slack message as a person sees them: its `text`, and what other apps put in attachments
(pretext, title, text, fields, footer; the fallback when nothing else) and blocks (section, header, context,
rich text). An integration's notification often has an empty `text` and its error in those."""

from __future__ import annotations

from bot.match.limits import MAX_INPUT_CHARS

RICH_TEXT_PARTS = ("rich_text_section", "rich_text_preformatted", "rich_text_quote", "rich_text_list")


def text_of(message: dict) -> str:
    parts = Parts()
    parts.add(message.get("text"))
    has_text = bool(parts.items)
    for block in message.get("blocks") or []:
        # a person's message carries its text twice, as `text` and as rich text: read the rich text only
        # when `text` is empty
        if not has_text or not isinstance(block, dict) or block.get("type") != "rich_text":
            parts.add_block(block)
    for attachment in message.get("attachments") or []:
        if not isinstance(attachment, dict):
            continue
        before = len(parts.items)
        for key in ("pretext", "author_name", "title", "text"):
            parts.add(attachment.get(key))
        for field in attachment.get("fields") or []:
            if isinstance(field, dict):
                parts.add(" ".join(str(field.get(k) or "") for k in ("title", "value")))
        for block in attachment.get("blocks") or []:
            parts.add_block(block)
        for forwarded in attachment.get("message_blocks") or []:   # a shared (forwarded) message
            for block in ((forwarded or {}).get("message") or {}).get("blocks") or []:
                parts.add_block(block)
        parts.add(attachment.get("footer"))
        if len(parts.items) == before:
            parts.add(attachment.get("fallback"))
    return "\n".join(parts.items)[:MAX_INPUT_CHARS]


class Parts:
    """The message's pieces in order, each once (a notification often repeats its title in its fallback)."""

    def __init__(self) -> None:
        self.items: list[str] = []
        self.size = 0

    def add(self, value) -> None:
        if not isinstance(value, str) or not value.strip() or self.size > MAX_INPUT_CHARS:
            return
        value = value.strip()
        if any(value in item for item in self.items):
            return
        self.items.append(value)
        self.size += len(value) + 1

    def add_block(self, block) -> None:
        if not isinstance(block, dict):
            return
        kind = block.get("type")
        if kind in ("section", "header"):
            self.add(text_value(block.get("text")))
            for field in block.get("fields") or []:
                self.add(text_value(field))
        elif kind == "context":
            self.add(" ".join(filter(None, (text_value(e) for e in block.get("elements") or []))))
        elif kind == "rich_text":
            for element in block.get("elements") or []:
                self.add(rich_text(element))


def text_value(obj) -> str:
    return obj.get("text") or "" if isinstance(obj, dict) and isinstance(obj.get("text"), str) else ""


def rich_text(element) -> str:
    """A rich-text element's words: text and links; lists and quotes line by line."""
    if not isinstance(element, dict):
        return ""
    kind = element.get("type")
    if kind in RICH_TEXT_PARTS:
        joiner = "\n" if kind == "rich_text_list" else ""
        return joiner.join(rich_text(e) for e in element.get("elements") or [])
    if kind == "text":
        return str(element.get("text") or "")
    if kind == "link":
        return str(element.get("text") or element.get("url") or "")
    if kind == "emoji":
        return f":{element.get('name', '')}:"
    return ""
