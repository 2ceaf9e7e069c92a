"""Error-code families and how people write codes: `INT771`, `INT 771`, `int-771`, `NS0012:`."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

# prefix -> number of digits in the published codes
FAMILIES = {"INT": 3, "NS": 4, "ONL": 3, "DESK": 2, "XERO": 2, "CER": 3}

_PREFIX = "|".join(sorted(FAMILIES, key=len, reverse=True))
CODE_PATTERN = re.compile(
    rf"(?<![A-Za-z0-9])({_PREFIX})([ \t]?[-_#:.]?[ \t]?)(\d{{1,4}})(?![0-9])(?!\.[0-9])",
    re.IGNORECASE,
)
_LEADING = re.compile(rf"^\s*({_PREFIX})(\d+)\b")


@dataclass(frozen=True)
class CodeMention:
    code: str          # canonical, e.g. "NS0012"
    start: int
    end: int
    exact_width: bool  # written with the family's usual digit count


def canonical(prefix: str, digits: str) -> str:
    prefix = prefix.upper()
    return f"{prefix}{int(digits):0{FAMILIES[prefix]}d}"


def leading_code(message: str) -> str:
    """The code a KB message starts with ('' when none), e.g. 'INT771' for 'INT771 Export Error: …'."""
    m = _LEADING.match(message)
    return canonical(m.group(1), m.group(2)) if m else ""


def find_codes(text: str, limit: int | None = None) -> list[CodeMention]:
    """Every code-shaped mention in `text`, in order; with `limit`, of the first `limit` code shapes only.

    A lower-case prefix separated from its digits by a blank ("desk 15") only counts on a line that
    also talks about an error, so that ordinary words followed by numbers stay chatter. One pass over the
    text: each line is looked at for error words once, however many codes it holds.
    """
    found = []
    context = _Context(text)
    for m in itertools.islice(CODE_PATTERN.finditer(text), limit):
        prefix, sep, digits = m.group(1), m.group(2), m.group(3)
        if len(digits) > FAMILIES[prefix.upper()]:
            continue
        if (not prefix.isupper() and (" " in sep or "\t" in sep) and prefix.upper() in _WORD_PREFIXES
                and not context.near_error_words(m.start()) and not context.code_alone()):
            continue
        if "." in sep and not prefix.isupper():
            continue
        if len(digits) < FAMILIES[prefix.upper()] and (not prefix.isupper() or text[m.end():m.end() + 1].isalpha()):
            continue  # a shortened code ("NS885") is written in capitals and ends where a word would
        found.append(CodeMention(canonical(prefix, digits), m.start(), m.end(),
                                 len(digits) == FAMILIES[prefix.upper()]))
    return found


# Prefixes that are also ordinary words ("my desk 15", "int 100", "xero 12 months").
_WORD_PREFIXES = {"DESK", "INT", "XERO"}
_ERROR_WORDS = re.compile(r"\b(error|err|code|export|sync|fail|failed|failing)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]{2,}")


class _Context:
    """What the text around a mention says, each worked out once per text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_end = -1       # where the line of the last mention looked at ends (its newline)
        self._line_has_error = False
        self._alone: bool | None = None

    def near_error_words(self, pos: int) -> bool:
        """Whether the line holding `pos` has an error word. Mentions come in order, so each line is
        found and searched once."""
        if pos > self._line_end:
            start = self.text.rfind("\n", max(self._line_end, 0), pos) + 1
            end = self.text.find("\n", pos)
            self._line_end = end if end >= 0 else len(self.text)
            self._line_has_error = bool(_ERROR_WORDS.search(self.text, start, self._line_end))
        return self._line_has_error

    def code_alone(self) -> bool:
        """Nothing but the code (and punctuation) was written: "int 771 ??". The prefix of a mention is a
        word of its own (nothing alphanumeric before it, digits after), so the code is alone exactly when
        it holds the text's only word."""
        if self._alone is None:
            words = _WORD.finditer(self.text)
            self._alone = next(words, None) is not None and next(words, None) is None
        return self._alone
