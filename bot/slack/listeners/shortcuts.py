"""The message shortcut "Explain this error", on any message, threads included."""

from __future__ import annotations

from bot.answer import Where
from bot.slack.listeners.once import replayed
from bot.slack.listeners.where import shareable
from bot.slack.message_text import text_of

CALLBACK_ID = "fixit_explain"


def explain(ack, shortcut, context) -> None:
    ack()
    if replayed(context, shortcut):
        return
    delivery = context["delivery"]
    message = shortcut.get("message") or {}
    where = Where((shortcut.get("channel") or {}).get("id", ""), message.get("thread_ts") or message.get("ts", ""),
                  context.get("team_id") or "")
    answer = delivery.answerer.lookup(text_of(message), where, shareable=shareable(shortcut.get("channel")))
    delivery.respond(shortcut.get("response_url", ""), delivery.response(answer, where))


def register(app, settings) -> None:
    app.shortcut(CALLBACK_ID)(explain)
