"""Message shortcuts: "Explain this error" on any message, threads included; "Save as a KB draft" on a solved
thread, for the knowledge base's keepers."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from slack_sdk.errors import SlackApiError

from bot.answer import Where
from bot.authoring.thread_draft import ThreadDraft, draft_from_thread
from bot.render.renderer import split_text
from bot.render.slack_text import escape
from bot.slack.cards import text_blocks
from bot.slack.listeners.once import replayed
from bot.slack.listeners.where import shareable
from bot.slack.message_text import text_of

log = logging.getLogger("fixit.slack")
CALLBACK_ID = "fixit_explain"
SAVE_DRAFT = "fixit_save_draft"
MAX_THREAD = 200   # messages of a thread read for a draft
FENCE = "`" * 3


def explain(ack, shortcut, context) -> None:
    ack()
    if replayed(context, shortcut):
        return
    delivery = context["delivery"]
    message = shortcut.get("message") or {}
    where = Where((shortcut.get("channel") or {}).get("id", ""), message.get("thread_ts") or message.get("ts", ""),
                  context.get("team_id") or "")
    answer = delivery.answerer.lookup(text_of(message), where, shareable=shareable(shortcut.get("channel")))
    delivery.respond(shortcut.get("response_url", ""), delivery.response(answer, where))


def save_draft(ack, shortcut, client, context) -> None:
    """The thread a message is in, as a draft entry written to FIXIT_DRAFTS_DIR and shown privately."""
    ack()
    if replayed(context, shortcut):
        return
    delivery = context["delivery"]
    settings, respond = delivery.answerer.settings, partial(delivery.respond, shortcut.get("response_url", ""))
    if (shortcut.get("user") or {}).get("id") not in settings.kb_admins:
        respond(private("Only the knowledge base's keepers (FIXIT_KB_ADMINS) can save drafts."))
        return
    message = shortcut.get("message") or {}
    channel = (shortcut.get("channel") or {}).get("id", "")
    thread = message.get("thread_ts") or message.get("ts", "")
    try:
        found = client.conversations_replies(channel=channel, ts=thread, limit=MAX_THREAD)
        link = client.chat_getPermalink(channel=channel, message_ts=thread).get("permalink") or ""
    except (SlackApiError, OSError) as exc:
        log.warning("reading the thread %s in %s for a draft failed: %s", thread, channel, exc)
        respond(private("I couldn't read that thread (am I in this channel?)."))
        return
    messages = found.get("messages") or [message]
    bot = context.get("bot_user_id") or ""
    replies = [text_of(m) for m in messages[1:] if not m.get("bot_id") and m.get("user") != bot]
    fixit = delivery.answerer.fixit
    draft = draft_from_thread(fixit.kb, fixit.matcher, text_of(messages[0]), replies, link)
    try:
        path = write_draft(Path(settings.drafts_dir), draft)
    except OSError as exc:
        log.warning("writing a draft to %s failed: %s", settings.drafts_dir, exc)
        respond(private(f"I couldn't write the draft to FIXIT_DRAFTS_DIR ({settings.drafts_dir}): {exc.strerror}."))
        return
    system = fixit.kb.systems.get(draft.system)
    folder = system.folder if system else "<system>"
    intro = (f"Saved a draft of *{escape(draft.entry_id)}* to `{escape(str(path))}`. Put its prose in your own "
             f"words, remove `draft: true`, move it to `knowledge/{escape(folder)}/` and run "
             f"`python -m bot kb check`.")
    code = [{"type": "section", "text": {"type": "mrkdwn", "text": f"{FENCE}{chunk}{FENCE}"}}
            for chunk in split_text(draft.yaml.replace(FENCE, "'''"), 2900)]
    respond({**private(intro), "blocks": (text_blocks(intro) + code)[:50]})


def write_draft(folder: Path, draft: ThreadDraft) -> Path:
    """`folder/ID.yaml`, or `ID-2.yaml`… when a draft of that id is already waiting there."""
    folder.mkdir(parents=True, exist_ok=True)
    path, n = folder / f"{draft.entry_id}.yaml", 1
    while path.exists():
        n += 1
        path = folder / f"{draft.entry_id}-{n}.yaml"
    path.write_text(draft.yaml, encoding="utf-8")
    return path


def private(text: str) -> dict:
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def register(app, settings) -> None:
    app.shortcut(CALLBACK_ID)(explain)
    app.shortcut(SAVE_DRAFT)(save_draft)
