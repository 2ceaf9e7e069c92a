"""Message shortcuts: "Explain this error" on any message, threads included; "Save as a KB draft" on a solved
thread, for the knowledge base's keepers."""

from __future__ import annotations

import logging
from functools import partial
from pathlib import Path

from bot.answer import Where
from bot.authoring.thread_draft import draft_from_thread, write_draft
from bot.render.renderer import split_text
from bot.render.slack_text import escape
from bot.slack.cards import text_blocks
from bot.slack.listeners.once import replayed
from bot.slack.listeners.where import private, read_thread, shareable, team_of
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
                  team_of(shortcut, context))
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
    messages, link = read_thread(client, channel, thread, MAX_THREAD)
    if not messages:
        respond(private("I couldn't read that thread (am I in this channel?)."))
        return
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


def register(app, settings) -> None:
    app.shortcut(CALLBACK_ID)(explain)
    app.shortcut(SAVE_DRAFT)(save_draft)
