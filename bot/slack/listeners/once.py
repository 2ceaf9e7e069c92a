"""Commands and clicks carry no event id; Slack gives each its own trigger id. One seen before is a replay
(inside the five minutes a signature stays valid) and gets nothing."""

from __future__ import annotations

from bot.widths import EVENT_ID_CHARS


def replayed(context, payload: dict) -> bool:
    trigger = payload.get("trigger_id") or ""
    return bool(trigger) and not context["delivery"].answerer.first_delivery(f"trigger:{trigger}"[:EVENT_ID_CHARS])
