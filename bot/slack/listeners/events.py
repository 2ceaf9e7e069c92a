"""Messages in channels (pasted errors, thread follow-ups) and @mentions."""

from __future__ import annotations

from bot.slack.listeners.ack import ack_now

IGNORED_SUBTYPES = {"message_changed", "message_deleted", "bot_message", "channel_join", "channel_leave",
                    "channel_topic", "channel_purpose", "channel_name", "message_replied", "ekm_access_denied"}


def is_from_a_person(event: dict, bot_user_id: str) -> bool:
    if event.get("bot_id") or event.get("bot_profile") or event.get("subtype") in IGNORED_SUBTYPES:
        return False
    return bool(event.get("user")) and event.get("user") != bot_user_id


def register(app, service) -> None:
    # Slack retries an event it thinks was not delivered; the service records each event id in the store
    # before it says anything, so a retry, a restart or a second instance never answers twice.
    def handle_message(body, event, client, context):
        bot_user_id = context.get("bot_user_id") or ""
        if is_from_a_person(event, bot_user_id):
            service.on_message(client, event, bot_user_id, body.get("event_id", ""))

    def handle_mention(body, event, client, context):
        bot_user_id = context.get("bot_user_id") or ""
        if is_from_a_person(event, bot_user_id):
            service.on_mention(client, event, bot_user_id, body.get("event_id", ""))

    app.event("message")(ack=ack_now, lazy=[handle_message])
    app.event("app_mention")(ack=ack_now, lazy=[handle_mention])
