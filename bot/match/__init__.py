"""Matcher: recognises knowledge-base entries in pasted text. No Slack imports."""

from bot.match.hit import Hit
from bot.match.matcher import Gate, Matcher, MatchResult

__all__ = ["Gate", "Hit", "MatchResult", "Matcher"]
