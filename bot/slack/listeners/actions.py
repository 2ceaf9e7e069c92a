"""Buttons: 👍 / 👎 feedback, Share in channel, choosing a suggestion, "Check my workspace", the full card.
Each acknowledges first, then answers through the click's response_url."""

from __future__ import annotations

import re

from bot.answer import Where, read_value
from bot.slack.cards import CHECK_WORKSPACE, FULL_CARD, HELPFUL, NOT_IT, PICK, SHARE, answer_blocks
from bot.slack.listeners.once import replayed


def clicked(body) -> tuple[str, Where, int] | None:
    """The entry a button is about, and where it was pressed. The button's value is the user's to tamper
    with: the channel comes only from the payload (its container, else its channel), and the value's thread
    only counts in that channel. None for a value that is not one of Fixit's."""
    try:
        entry_id, shown, faq_index = read_value(body["actions"][0]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    thread = shown.thread_ts if shown.channel == channel else container.get("thread_ts", "")
    return entry_id, Where(channel, thread), faq_index


def stale(body, context, what) -> bool:
    """A click on a value that is not Fixit's, or on an entry no longer in the knowledge base: a short
    private note (no exception, nothing posted)."""
    delivery = context["delivery"]
    if what is not None and delivery.answerer.fixit.kb.get(what[0]) is not None:
        return False
    delivery.respond(body.get("response_url", ""), {
        "response_type": "ephemeral", "replace_original": False,
        "text": "That button is out of date: the entry it was for is no longer in the knowledge base."})
    return True


def user_of(body) -> str:
    return (body.get("user") or {}).get("id", "")


def _feedback(body, context, vote: str) -> None:
    delivery = context["delivery"]
    what = clicked(body)
    if stale(body, context, what):
        return
    entry_id, where, _ = what
    answer = delivery.answerer.feedback(entry_id, where, user_of(body), vote)
    delivery.respond(body.get("response_url", ""), delivery.response(answer, where, replace_original=False))


def helpful(ack, body, context) -> None:
    ack()
    if replayed(context, body):
        return
    _feedback(body, context, "up")


def not_it(ack, body, context) -> None:
    ack()
    if replayed(context, body):
        return
    _feedback(body, context, "down")


def share(ack, body, client, context) -> None:
    ack()
    if replayed(context, body):
        return
    delivery = context["delivery"]
    what = clicked(body)
    if stale(body, context, what):
        return
    entry_id, where, faq_index = what
    answer = delivery.answerer.entry_in_thread(entry_id, where, faq_index)
    if answer is not None and delivery.in_conversation(client, answer, where):
        delivery.respond(body.get("response_url", ""), {"delete_original": True})
    else:
        delivery.respond(body.get("response_url", ""), {
            "response_type": "ephemeral", "replace_original": False,
            "text": f"{entry_id} is already answered there (or I can't post in that channel)."})


def pick(ack, body, client, context) -> None:
    ack()
    if replayed(context, body):
        return
    delivery = context["delivery"]
    what = clicked(body)
    if stale(body, context, what):
        return
    entry_id, where, _ = what
    if not where.thread_ts:
        delivery.respond(body.get("response_url", ""), delivery.response(delivery.answerer.lookup(entry_id, where),
                                                                         where))
        return
    answer = delivery.answerer.entry_in_thread(entry_id, where)
    if answer is not None:
        delivery.in_conversation(client, answer, where)
    if (body.get("container") or {}).get("is_ephemeral"):
        delivery.respond(body.get("response_url", ""), {"delete_original": True})


def check_workspace(ack, body, client, context) -> None:
    """The workspace comes from where the button was pressed, never from the button's value or the user."""
    ack()
    if replayed(context, body):
        return
    delivery = context["delivery"]
    what = clicked(body)
    if stale(body, context, what):
        return
    entry_id, where, _ = what
    container = body.get("container") or {}
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
    workspace = delivery.answerer.workspace_for(where.channel, team)
    url = body.get("response_url", "")
    if workspace is None:
        delivery.respond(url, {"response_type": "ephemeral", "replace_original": False,
                               "text": "This conversation isn't connected to a workspace, so I can't check its "
                                       "settings."})
    elif container.get("is_ephemeral"):
        checked = delivery.answerer.checked(workspace, entry_id)
        delivery.tell(client, checked.tell_admins)
        delivery.respond(url, {"replace_original": True, "text": checked.card.rendered.fallback,
                               "blocks": answer_blocks(checked.card, where, share=True)})
    else:
        delivery.checked_card(client, workspace, entry_id, where, container.get("message_ts", ""))


def full_card(ack, body, context) -> None:
    ack()
    if replayed(context, body):
        return
    delivery = context["delivery"]
    what = clicked(body)
    if stale(body, context, what):
        return
    entry_id, where, _ = what
    answer = delivery.answerer.full_card(entry_id)
    delivery.respond(body.get("response_url", ""),
                     delivery.response(answer, where, replace_original=True if answer.cards else False))


def register(app, settings) -> None:
    app.action(CHECK_WORKSPACE)(check_workspace)
    app.action(FULL_CARD)(full_card)
    app.action(HELPFUL)(helpful)
    app.action(NOT_IT)(not_it)
    app.action(SHARE)(share)
    app.action(re.compile(rf"^{PICK}_\d+$"))(pick)
