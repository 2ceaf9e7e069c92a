"""Messages in conversations (pasted errors, thread follow-ups) and @mentions.

People's messages are read; other apps' only from the apps a channel allows (FIXIT_ANSWER_APPS, or `apps:` in
FIXIT_CHANNELS_FILE): an integration's error notification is what people most often ask about, but an app
that answers every bot would answer the other bots' chatter, and its own cards.
"""

from __future__ import annotations

import re

from bot.answer import Message
from bot.slack.listeners.where import team_of
from bot.slack.message_text import text_of

IGNORED_SUBTYPES = {"message_changed", "message_deleted", "bot_message", "channel_join", "channel_leave",
                    "channel_topic", "channel_purpose", "channel_name", "message_replied", "ekm_access_denied"}
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def is_answerable(event: dict, context) -> bool:
    """A person's message, or one from an app allowed in its channel; never Fixit's own."""
    subtype = event.get("subtype")
    if subtype in IGNORED_SUBTYPES and subtype != "bot_message":
        return False
    bot_user_id, bot_id = context.get("bot_user_id") or "", context.get("bot_id") or ""
    profile = event.get("bot_profile") or {}
    if (bot_user_id and event.get("user") == bot_user_id) or (bot_id and bot_id in (event.get("bot_id"),
                                                                                     profile.get("id"))):
        return False
    if event.get("bot_id") or profile or subtype == "bot_message":
        ids = {event.get("app_id"), event.get("bot_id"), profile.get("app_id"), profile.get("id")} - {None, ""}
        return context["delivery"].answerer.settings.answers_app(event.get("channel", ""), ids)
    return bool(event.get("user"))


def message_of(body: dict, event: dict, text: str, context) -> Message:
    """The team is the one whose installation received the event (Bolt reads it from the event's
    authorizations), which in a Slack Connect channel may not be the team of the person who wrote it."""
    return Message(text, event.get("channel", ""), event.get("ts", ""), event.get("thread_ts") or "",
                   event.get("user", ""), body.get("event_id", ""), team_of(body, context))


# Slack retries an event it thinks was not delivered; the answer layer records each event id in the store
# before it says anything, so a retry, a restart or a second instance never answers twice.

def handle_message(body, event, client, context) -> None:
    bot_user_id = context.get("bot_user_id") or ""
    if not is_answerable(event, context):
        return
    if event.get("channel_type") == "im":
        # in a DM with Fixit everything is addressed to it (and Slack sends no app_mention there)
        handle_mention(body, event, client, context)
        return
    if bot_user_id and f"<@{bot_user_id}" in (event.get("text") or ""):
        return  # answered as the app_mention Slack sends too
    delivery = context["delivery"]
    message = message_of(body, event, text_of(event), context)
    with delivery.working_out:
        answer = delivery.answerer.channel_message(message)
    delivery.later(client, answer, message.where, message.user)


def handle_mention(body, event, client, context) -> None:
    if not is_answerable(event, context):
        return
    delivery = context["delivery"]
    message = message_of(body, event, MENTION.sub(" ", text_of(event)).strip(), context)
    with delivery.working_out:
        answer = delivery.answerer.mention(message)
    delivery.later(client, answer, message.where, message.user)


def register(app, settings) -> None:
    app.event("message")(handle_message)
    app.event("app_mention")(handle_mention)
