"""What a payload says about the conversation it came from."""

from __future__ import annotations


def shareable(source: dict | None) -> bool:
    """Whether "Share in channel" can work where a private answer is shown: not in a DM (between two people
    Fixit can never post; in its own DM the answer is already there). `source`: a slash command's payload
    (`channel_name`) or a payload's `channel` object (`name`)."""
    source = source or {}
    name = source.get("channel_name") or source.get("name") or ""
    return name != "directmessage"
