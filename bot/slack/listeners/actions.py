"""Buttons: 👍 / 👎 feedback, Share in channel, choosing a suggestion, "Check my workspace", the full card.
Each acknowledges first, then answers through the click's response_url."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.answer import Where, read_value
from bot.slack.cards import CHECK_WORKSPACE, FULL_CARD, HELPFUL, NOT_IT, PICK, SHARE, answer_blocks
from bot.slack.listeners.once import replayed


@dataclass(frozen=True)
class Click:
    """A button press, acknowledged and checked: the entry it is about, and where it was pressed."""

    delivery: object
    entry_id: str
    where: Where
    faq_index: int
    response_url: str

    def respond(self, payload: dict) -> None:
        self.delivery.respond(self.response_url, payload)

    def note(self, text: str) -> None:
        self.respond({"response_type": "ephemeral", "replace_original": False, "text": text})


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


def press(ack, body, context) -> Click | None:
    """Acknowledge a click; None for a replay (nothing more to do) or a value that is not Fixit's or names an
    entry no longer in the knowledge base (told privately, nothing posted)."""
    ack()
    if replayed(context, body):
        return None
    delivery, what = context["delivery"], clicked(body)
    click = what and Click(delivery, *what, body.get("response_url", ""))
    if click and delivery.answerer.fixit.kb.get(click.entry_id) is not None:
        return click
    delivery.respond(body.get("response_url", ""), {
        "response_type": "ephemeral", "replace_original": False,
        "text": "That button is out of date: the entry it was for is no longer in the knowledge base."})
    return None


def user_of(body) -> str:
    return (body.get("user") or {}).get("id", "")


def _feedback(ack, body, context, vote: str) -> None:
    click = press(ack, body, context)
    if click:
        answer = click.delivery.answerer.feedback(click.entry_id, click.where, user_of(body), vote)
        click.respond(click.delivery.response(answer, click.where, replace_original=False))


def helpful(ack, body, context) -> None:
    _feedback(ack, body, context, "up")


def not_it(ack, body, context) -> None:
    _feedback(ack, body, context, "down")


def share(ack, body, client, context) -> None:
    click = press(ack, body, context)
    if not click:
        return
    answer = click.delivery.answerer.entry_in_thread(click.entry_id, click.where, click.faq_index)
    if answer is not None and click.delivery.in_conversation(client, answer, click.where):
        click.respond({"delete_original": True})
    else:
        click.note(f"{click.entry_id} is already answered there (or I can't post in that channel).")


def pick(ack, body, client, context) -> None:
    click = press(ack, body, context)
    if not click:
        return
    delivery, where = click.delivery, click.where
    if not where.thread_ts:
        click.respond(delivery.response(delivery.answerer.lookup(click.entry_id, where), where))
        return
    answer = delivery.answerer.entry_in_thread(click.entry_id, where)
    if answer is not None:
        delivery.in_conversation(client, answer, where)
    if (body.get("container") or {}).get("is_ephemeral"):
        click.respond({"delete_original": True})


def check_workspace(ack, body, client, context) -> None:
    """The workspace comes from where the button was pressed, never from the button's value or the user."""
    click = press(ack, body, context)
    if not click:
        return
    delivery, where = click.delivery, click.where
    container = body.get("container") or {}
    team = (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id", "")
    workspace = delivery.answerer.workspace_for(where.channel, team)
    if workspace is None:
        click.note("This conversation isn't connected to a workspace, so I can't check its settings.")
    elif container.get("is_ephemeral"):
        checked = delivery.answerer.checked(workspace, click.entry_id)
        delivery.tell(client, checked.tell_admins)
        click.respond({"replace_original": True, "text": checked.card.rendered.fallback,
                       "blocks": answer_blocks(checked.card, where, share=True)})
    else:
        delivery.checked_card(client, workspace, click.entry_id, where, container.get("message_ts", ""))


def full_card(ack, body, context) -> None:
    click = press(ack, body, context)
    if click:
        answer = click.delivery.answerer.full_card(click.entry_id)
        click.respond(click.delivery.response(answer, click.where, replace_original=bool(answer.cards)))


def register(app, settings) -> None:
    app.action(CHECK_WORKSPACE)(check_workspace)
    app.action(FULL_CARD)(full_card)
    app.action(HELPFUL)(helpful)
    app.action(NOT_IT)(not_it)
    app.action(SHARE)(share)
    app.action(re.compile(rf"^{PICK}_\d+$"))(pick)
