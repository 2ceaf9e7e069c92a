"""Buttons: 👍 / 👎 feedback, Share in channel, choosing a suggestion, "Check my workspace", the full card.
Each acknowledges first, then answers through the click's response_url."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from bot.answer import Where, read_value
from bot.slack.cards import (
    CHECK_WORKSPACE,
    ESCALATE,
    FULL_CARD,
    HELPFUL,
    NOT_IT,
    PICK,
    PICK_LISTED,
    SHARE,
    answer_blocks,
    text_blocks,
)
from bot.slack.listeners.once import replayed
from bot.slack.listeners.where import private, read_thread, shareable, team_of
from bot.slack.message_text import text_of

log = logging.getLogger("fixit.slack")


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
        self.respond(private(text))


def clicked(body, team: str = "") -> tuple[str, Where, int] | None:
    """The entry a button is about, and where it was pressed. The button's value is the user's to tamper
    with: the channel comes only from the payload (its container, else its channel), and the value's thread
    only counts in that channel. None for a value that is not one of Fixit's."""
    try:
        action = body["actions"][0]
        entry_id, shown, faq_index = read_value(action.get("value") or action["selected_option"]["value"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or ""
    thread = shown.thread_ts if shown.channel == channel else container.get("thread_ts", "")
    return entry_id, Where(channel, thread, team), faq_index


def press(ack, body, context) -> Click | None:
    """Acknowledge a click; None for a replay (nothing more to do) or a value that is not Fixit's or names an
    entry no longer in the knowledge base (told privately, nothing posted)."""
    ack()
    if replayed(context, body):
        return None
    delivery, what = context["delivery"], clicked(body, team_of(body, context))
    click = what and Click(delivery, *what, body.get("response_url", ""))
    if click and delivery.answerer.fixit.kb.get(click.entry_id) is not None:
        return click
    delivery.respond(body.get("response_url", ""), private(
        "That button is out of date: the entry it was for is no longer in the knowledge base."))
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
    if answer is None:
        click.note(f"{click.entry_id} is already answered there.")
        return
    failures: list[str] = []
    if click.delivery.in_conversation(client, answer, click.where, failures=failures):
        click.respond({"delete_original": True})
    else:
        click.note(why_not_posted(failures[0] if failures else "", context.get("bot_user_id") or ""))


NOT_A_MEMBER = ("not_in_channel", "channel_not_found")


def why_not_posted(error: str, bot_user_id: str) -> str:
    """What to do when Share could not post, by Slack's error."""
    me = f"<@{bot_user_id}>" if bot_user_id else "@Fixit"
    if error in NOT_A_MEMBER:
        return (f"I'm not in this conversation, so I can't post here. Add me with `/invite {me}` (in a private "
                f"channel, someone in it has to), then press Share again.")
    if error == "is_archived":
        return "This channel is archived: nothing can be posted in it."
    if error in ("restricted_action", "restricted_action_read_only_channel", "restricted_action_thread_only_channel"):
        return "This workspace's settings don't let apps post here; ask an admin, or paste the answer yourself."
    return f"I couldn't post here ({error or 'Slack did not answer'}); try again in a moment."


def pick(ack, body, client, context) -> None:
    click = press(ack, body, context)
    if not click:
        return
    delivery, where = click.delivery, click.where
    answer = delivery.answerer.pick(click.entry_id, where, shareable=shareable(body.get("channel")))
    if answer.private:  # in a thread, a note beside the list it was picked from, never over it
        click.respond(delivery.response(answer, where, replace_original=False if where.thread_ts else None))
    else:
        delivery.in_conversation(client, answer, where)
    if where.thread_ts and (body.get("container") or {}).get("is_ephemeral"):
        click.respond({"delete_original": True})  # the private list it was picked from, once in the thread


def check_workspace(ack, body, client, context) -> None:
    """The workspace comes from where the button was pressed, never from the button's value or the user."""
    click = press(ack, body, context)
    if not click:
        return
    delivery, where = click.delivery, click.where
    container = body.get("container") or {}
    workspace = delivery.answerer.workspace_for(where.channel, where.team)
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
        private = bool((body.get("container") or {}).get("is_ephemeral"))
        answer = click.delivery.answerer.full_card(click.entry_id, private, shareable(body.get("channel")))
        click.respond(click.delivery.response(answer, click.where, replace_original=bool(answer.cards)))


def ask_a_person(ack, body, client, context) -> None:
    """"Ask a person": once per thread, a post in the escalation channel with a link to the thread, its first
    message, what Fixit answered and the votes so far; the asker is told who was asked."""
    ack()
    if replayed(context, body):
        return
    delivery, what = context["delivery"], clicked(body, team_of(body, context))
    response_url = body.get("response_url", "")
    if not what or not what[1].thread_ts:
        delivery.respond(response_url, private("That button is not one of mine."))
        return
    where = what[1]
    messages, link = read_thread(client, where.channel, where.thread_ts)
    answer, post = delivery.answerer.escalation(where, user_of(body), text_of(messages[0]) if messages else "", link)
    if post:
        to = Where(delivery.answerer.settings.escalation_channel)
        if not delivery.post(client, to, text_blocks(post), post.split("\n", 1)[0]):
            answer = delivery.answerer.escalation_failed(where)
    delivery.respond(response_url, {**delivery.response(answer, where), "replace_original": False})


def register(app, settings) -> None:
    app.action(ESCALATE)(ask_a_person)
    app.action(CHECK_WORKSPACE)(check_workspace)
    app.action(FULL_CARD)(full_card)
    app.action(HELPFUL)(helpful)
    app.action(NOT_IT)(not_it)
    app.action(SHARE)(share)
    app.action(re.compile(rf"^{PICK}_\d+$"))(pick)
    app.action(PICK_LISTED)(pick)
