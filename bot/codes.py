"""Error-code families and how people write codes: `INT771`, `INT 771`, `int-771`, `NS0012:`."""

from __future__ import annotations

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


def find_codes(text: str) -> list[CodeMention]:
    """Every code-shaped mention in `text`, in order.

    A lower-case prefix separated from its digits by a blank ("desk 15") only counts on a line that
    also talks about an error, so that ordinary words followed by numbers stay chatter.
    """
    found = []
    for m in CODE_PATTERN.finditer(text):
        prefix, sep, digits = m.group(1), m.group(2), m.group(3)
        if len(digits) > FAMILIES[prefix.upper()]:
            continue
        if (not prefix.isupper() and (" " in sep or "\t" in sep) and prefix.upper() in _WORD_PREFIXES
                and not _near_error_words(text, m.start()) and not _code_alone(text, m)):
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


def _code_alone(text: str, m: re.Match) -> bool:
    """Nothing but the code (and punctuation) was written: "int 771 ??"."""
    return not re.search(r"[A-Za-z]{2,}", text[: m.start()] + text[m.end():])


_ERROR_WORDS = re.compile(r"\b(error|err|code|export|sync|fail|failed|failing)\b", re.IGNORECASE)


def _near_error_words(text: str, pos: int) -> bool:
    start = text.rfind("\n", 0, pos) + 1
    end = text.find("\n", pos)
    return bool(_ERROR_WORDS.search(text[start:end if end >= 0 else len(text)]))
