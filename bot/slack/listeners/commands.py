"""The slash command (`/fixit TEXT`, name configurable): a private answer with a Share button, sent in the
acknowledgement itself (matching takes milliseconds; no response_url round trip). `/fixit config [MODE]`
shows or (for the team's admins) sets the channel's mode."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

from bot.answer import Answer, Where
from bot.slack.listeners.once import replayed
from bot.slack.listeners.where import shareable, team_of

log = logging.getLogger("fixit.slack")


def answer_command(ack, command, context, client=None) -> None:
    if replayed(context, command):
        ack()
        return
    delivery = context["delivery"]
    where = Where(command.get("channel_id", ""), team=team_of(command, context))
    text = command.get("text", "").strip()
    word, _, rest = text.partition(" ")
    if word.lower() == "config":
        ack(delivery.response(configure(delivery.answerer, client, where, command.get("user_id", ""), rest), where))
        return
    answer = delivery.answerer.lookup(text, where, shareable=shareable(command))
    ack(delivery.response(answer, where))


def configure(answerer, client, where: Where, user: str, mode: str) -> Answer:
    """`/fixit config`: this channel's mode; `/fixit config MODE`: set it, for the team's admins and owners."""
    mode = mode.strip().lower()
    if not mode:
        return answerer.modes(where)
    if not is_admin(client, user):
        return Answer(note=answerer.fixit.renderer.note(["Only this workspace's admins and owners can change where "
                                                         "I answer."]), private=True)
    return answerer.set_mode(where, mode, user)


def is_admin(client, user: str) -> bool:
    """Asked of Slack each time (users.info): an admin demoted a minute ago is not one any more."""
    try:
        found = client.users_info(user=user).get("user") or {}
    except (SlackApiError, OSError) as exc:
        log.warning("users.info for %s failed (%s): not taken for an admin", user, exc)
        return False
    return bool(found.get("is_admin") or found.get("is_owner") or found.get("is_primary_owner"))


def register(app, settings) -> None:
    app.command(settings.slash_command)(answer_command)
