"""Buttons: 👍 / 👎 feedback, Share in channel, and choosing a suggestion."""

from __future__ import annotations

import re

from bot.slack.cards import CHECK_WORKSPACE, FULL_CARD, HELPFUL, NOT_IT, PICK, SHARE, Where, read_value
from bot.slack.listeners.ack import ack_now


def register(app, service) -> None:
    def value_of(body) -> tuple:
        return read_value(body["actions"][0]["value"])

    def user_of(body) -> str:
        return (body.get("user") or {}).get("id", "")

    def helpful(body, client, respond):
        entry_id, where, _ = value_of(body)
        respond(service.on_feedback(client, entry_id, where, user_of(body), "up"))

    def not_it(body, client, respond):
        entry_id, where, _ = value_of(body)
        respond(service.on_feedback(client, entry_id, where, user_of(body), "down"))

    def share(body, client, respond):
        entry_id, where, faq_index = value_of(body)
        if service.post_entry(client, where, entry_id, faq_index):
            respond({"delete_original": True})
        else:
            respond({"response_type": "ephemeral", "replace_original": False,
                     "text": f"{entry_id} is already answered there (or I can't post in that channel)."})

    def pick(body, client, respond):
        entry_id, where, _ = value_of(body)
        if not where.thread_ts:
            respond(service.private_answer(entry_id, where))
            return
        service.post_entry(client, where, entry_id)
        if body.get("container", {}).get("is_ephemeral"):
            respond({"delete_original": True})

    def check_workspace(body, client, respond):
        entry_id, where, _ = value_of(body)
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or where.channel
        team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
        answer = service.on_check_workspace(client, entry_id, Where(channel, where.thread_ts), team,
                                            container.get("message_ts", ""), bool(container.get("is_ephemeral")))
        if answer:
            respond(answer)

    def full_card(body, respond):
        entry_id, where, _ = value_of(body)
        respond(service.full_card(entry_id, where))

    app.action(CHECK_WORKSPACE)(ack=ack_now, lazy=[check_workspace])
    app.action(FULL_CARD)(ack=ack_now, lazy=[full_card])
    app.action(HELPFUL)(ack=ack_now, lazy=[helpful])
    app.action(NOT_IT)(ack=ack_now, lazy=[not_it])
    app.action(SHARE)(ack=ack_now, lazy=[share])
    app.action(re.compile(rf"^{PICK}_\d+$"))(ack=ack_now, lazy=[pick])
