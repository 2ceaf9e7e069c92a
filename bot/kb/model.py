"""The knowledge base's entries as plain, immutable data."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Fix:
    title: str
    steps: tuple[str, ...]
    note: str = ""


@dataclass(frozen=True)
class QA:
    q: str
    a: str
    also: tuple[str, ...] = ()  # other ways people ask the same question


@dataclass(frozen=True)
class Link:
    title: str
    url: str


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    system: str
    kind: str
    summary: str
    message: str = ""
    variants: tuple[str, ...] = ()
    causes: tuple[str, ...] = ()
    fixes: tuple[Fix, ...] = ()
    faq: tuple[QA, ...] = ()
    links: tuple[Link, ...] = ()
    examples: tuple[str, ...] = ()
    describes: tuple[str, ...] = ()  # the error in people's own words, without its code or message
    template: str = ""
    checks: tuple[dict, ...] = ()
    draft: bool = False  # `draft: true`: loaded and checked, not served until someone reviews it
    reviewed: datetime.date | None = None  # the day someone last checked it against the product
    example_lines: tuple[int, ...] = field(default=(), compare=False)
    describes_lines: tuple[int, ...] = field(default=(), compare=False)
    source: Path | None = field(default=None, compare=False)
    line: int = field(default=1, compare=False)
    draft_line: int = field(default=0, compare=False)  # the line of `draft: true`

    @property
    def is_faq(self) -> bool:
        return self.kind == "faq"

    @property
    def messages(self) -> tuple[str, ...]:
        """Every wording of the error this entry documents."""
        return ((self.message,) if self.message else ()) + self.variants


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one KB file, located to the line."""

    path: Path
    line: int | None  # 0 or None: the file as a whole (not found, empty, unreadable)
    message: str

    def __str__(self) -> str:
        """`path:line: message`; a problem with the whole file (line 0 or None) is `path: message`."""
        return f"{self.path}:{self.line}: {self.message}" if self.line else f"{self.path}: {self.message}"
