"""What a payload says about the conversation it came from."""

from __future__ import annotations

import logging

from slack_sdk.errors import SlackApiError

log = logging.getLogger("fixit.slack")


def shareable(source: dict | None) -> bool:
    """Whether "Share in channel" can work where a private answer is shown: not in a DM (between two people
    Fixit can never post; in its own DM the answer is already there). `source`: a slash command's payload
    (`channel_name`) or a payload's `channel` object (`name`)."""
    source = source or {}
    name = source.get("channel_name") or source.get("name") or ""
    return name != "directmessage"


def private(text: str) -> dict:
    """A response_url payload only the person who pressed or asked sees, beside the message (not over it)."""
    return {"response_type": "ephemeral", "replace_original": False, "text": text}


def team_of(body: dict, context) -> str:
    """The Slack team (workspace) a request is answered for, whose data it is: the one Bolt found the
    installation for, else, for an org-wide install (where Bolt has no team), the workspace the request came
    from. Never empty when Slack said it: '' would read every team's rows."""
    user = body.get("user") if isinstance(body.get("user"), dict) else {}
    team = body.get("team") if isinstance(body.get("team"), dict) else {}
    return (context.get("team_id") or body.get("team_id") or team.get("id") or user.get("team_id")
            or (body.get("event") or {}).get("team") or "")


def read_thread(client, channel: str, thread_ts: str, limit: int = 1) -> tuple[list[dict], str]:
    """A thread's first `limit` messages and a link to it; what Slack would not give is left empty (logged),
    so that what can still be said is said."""
    messages, link = [], ""
    try:
        messages = client.conversations_replies(channel=channel, ts=thread_ts, limit=limit).get("messages") or []
    except (SlackApiError, OSError) as exc:
        log.warning("conversations.replies in %s failed: %s", channel, exc)
    try:
        link = str(client.chat_getPermalink(channel=channel, message_ts=thread_ts).get("permalink") or "")
    except (SlackApiError, OSError) as exc:
        log.warning("chat.getPermalink in %s failed: %s", channel, exc)
    return messages, link.replace("|", "%7C").replace(">", "%3E")
