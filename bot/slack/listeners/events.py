"""Messages in conversations (pasted errors, thread follow-ups) and @mentions."""

from __future__ import annotations

import re

from bot.answer import Message

IGNORED_SUBTYPES = {"message_changed", "message_deleted", "bot_message", "channel_join", "channel_leave",
                    "channel_topic", "channel_purpose", "channel_name", "message_replied", "ekm_access_denied"}
MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")


def is_from_a_person(event: dict, bot_user_id: str) -> bool:
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") in IGNORED_SUBTYPES:
        return False
    return bool(event.get("user")) and event.get("user") != bot_user_id


def message_of(body: dict, event: dict, text: str) -> Message:
    return Message(text, event.get("channel", ""), event.get("ts", ""), event.get("thread_ts") or "",
                   event.get("user", ""), body.get("event_id", ""))


# Slack retries an event it thinks was not delivered; the answer layer records each event id in the store
# before it says anything, so a retry, a restart or a second instance never answers twice.

def handle_message(body, event, client, context) -> None:
    bot_user_id = context.get("bot_user_id") or ""
    text = event.get("text") or ""
    if not is_from_a_person(event, bot_user_id):
        return
    if event.get("channel_type") == "im":
        # in a DM with Fixit everything is addressed to it (and Slack sends no app_mention there)
        handle_mention(body, event, client, context)
        return
    if bot_user_id and f"<@{bot_user_id}" in text:
        return  # answered as the app_mention Slack sends too
    delivery = context["delivery"]
    message = message_of(body, event, text)
    delivery.later(client, delivery.answerer.channel_message(message), message.where, message.user)


def handle_mention(body, event, client, context) -> None:
    if not is_from_a_person(event, context.get("bot_user_id") or ""):
        return
    delivery = context["delivery"]
    message = message_of(body, event, MENTION.sub(" ", event.get("text") or "").strip())
    delivery.later(client, delivery.answerer.mention(message), message.where, message.user)


def register(app, settings) -> None:
    app.event("message")(handle_message)
    app.event("app_mention")(handle_mention)
