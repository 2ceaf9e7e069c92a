"""The slash command (`/fixit TEXT`, name configurable): a private answer with a Share button, sent in the
acknowledgement itself (matching takes milliseconds; no response_url round trip)."""

from __future__ import annotations

from bot.answer import Where
from bot.slack.listeners.once import replayed
from bot.slack.listeners.where import shareable


def answer_command(ack, command, context) -> None:
    if replayed(context, command):
        ack()
        return
    delivery = context["delivery"]
    where = Where(command.get("channel_id", ""))
    answer = delivery.answerer.lookup(command.get("text", ""), where, shareable=shareable(command))
    ack(delivery.response(answer, where))


def register(app, settings) -> None:
    app.command(settings.slash_command)(answer_command)
