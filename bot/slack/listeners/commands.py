"""The slash command (`/fixit TEXT`, name configurable): a private answer with a Share button."""

from __future__ import annotations

from bot.slack.cards import Where
from bot.slack.listeners.ack import ack_now


def register(app, service) -> None:
    def answer(command, respond):
        where = Where(command.get("channel_id", ""))
        respond(service.private_answer(command.get("text", ""), where))

    app.command(service.settings.slash_command)(ack=ack_now, lazy=[answer])
