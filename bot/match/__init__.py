"""Matcher: recognises knowledge-base entries in pasted text. No Slack imports."""

from bot.match.matcher import Gate, Hit, Matcher, MatchResult

__all__ = ["Gate", "Hit", "MatchResult", "Matcher"]
