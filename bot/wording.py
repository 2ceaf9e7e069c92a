"""Counts said in words: `counted(1, "problem")` is "1 problem", `counted(2, "entry", "entries")` "2 entries"."""

from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """`n` and the noun, singular for exactly one, else `plural` (default: the noun with an s)."""
    return f"{n} {word if n == 1 else plural or word + 's'}"
