"""Making text safe for Slack mrkdwn, and plain for notifications."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"<!(?:channel|here|everyone)[^>]*>|@(?:channel|here|everyone)\b", re.IGNORECASE)


def escape(value: object) -> str:
    """Escape `&`, `<`, `>` (Slack's control characters) and defuse broadcast words."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return defuse_broadcasts(text)


def entry_line(entry) -> str:
    """An entry as one line of a list: "• *INT771*: Batches closed in Sage Intacct"."""
    return f"• *{escape(entry.id)}*: {escape(entry.title)}"


def defuse_broadcasts(text: str) -> str:
    """`@channel`, `@here`, `@everyone` written out lose their power (a zero-width joiner after '@')."""
    return _SPECIAL.sub(lambda m: m.group(0).replace("@", "@\u200d").replace("<!", "&lt;!"), text)


_MRKDWN = re.compile(r"[*_~`]")


def plain(text: str) -> str:
    """mrkdwn to plain text: markup characters and entities removed."""
    return unescape(_MRKDWN.sub("", text))


def unescape(text: str) -> str:
    """Undo `escape`'s entities (`&amp;` last, so `&amp;lt;` stays `&lt;`)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
