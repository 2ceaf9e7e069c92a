"""The message shortcut "Explain this error", on any message, threads included."""

from __future__ import annotations

from bot.slack.cards import Where
from bot.slack.listeners.ack import ack_now

CALLBACK_ID = "fixit_explain"


def register(app, service) -> None:
    def explain(shortcut, respond):
        message = shortcut.get("message") or {}
        channel = (shortcut.get("channel") or {}).get("id", "")
        where = Where(channel, message.get("thread_ts") or message.get("ts", ""))
        respond(service.private_answer(message.get("text") or "", where))

    app.shortcut(CALLBACK_ID)(ack=ack_now, lazy=[explain])
