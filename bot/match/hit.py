from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Hit:
    """One entry recognised in a paste."""

    entry_id: str
    score: float          # 0-100
    how: str              # "code", "message" or "question"
    faq_index: int = -1   # the FAQ item a question hit matched
