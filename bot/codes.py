"""How people write error codes: `INT771`, `INT 771`, `int-771`, `NS0012:`, `NS885`.

The code families (prefix and digits) come from `knowledge/systems.yaml`; a `CodeFinder` is built from
them once per knowledge base. It finds every code-shaped mention and says how it was written; whether a
mention that is not written the canonical way is an error code or a desk, a flight or a ticket is decided
by its context (`form` and `context` below, weighed by the matcher's decision).
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

CANONICAL = "canonical"   # INT771, NS0012:, (ONL888), INT#771 — upper case, nothing or a mark between
SPACED = "spaced"         # INT 771, NS 12
HYPHENATED = "hyphenated"  # INT-771, CER_091, XERO.11
LOWER = "lower"           # int771, ns0012, int 771, int-771 (any separator)
SHORT = "short"           # NS885: fewer digits than the family's codes
OCR = "ocr"               # lNT592, 0NL912, XER056, CER2B9: letters and digits OCR (or a typist) mixed up

# What OCR reads for what: a code's letters and digits, each with the characters it is mistaken for.
_LOOKS_LIKE = {"I": "I1l|", "O": "O0", "S": "S5", "B": "B8", "Z": "Z2"}
_DIGIT_LOOKS_LIKE = {"0": "0Oo", "1": "1Il|", "5": "5S", "8": "8B", "2": "2Z"}
_AS_LETTER = {c: letter for letter, chars in _LOOKS_LIKE.items() for c in chars}
_AS_DIGIT = {c: d for d, chars in _DIGIT_LOOKS_LIKE.items() for c in chars}


@dataclass(frozen=True)
class CodeMention:
    code: str          # canonical, e.g. "NS0012"
    start: int
    end: int
    exact_width: bool  # written with the family's usual digit count
    form: str = CANONICAL
    separated: bool = False   # a blank between prefix and digits ("int 771", "DESK 41")
    error_line: bool = False  # the line holding it talks about an error (error, export, sync, fail…)
    alone: bool = False       # nothing but the code (and punctuation) was written

    @property
    def canonical(self) -> bool:
        return self.form == CANONICAL


_NEVER = re.compile(r"(?!)")
_ERROR_WORDS = re.compile(r"\b(error|err|code|export|sync|fail|failed|failing)\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]{2,}")


class CodeFinder:
    def __init__(self, families: dict[str, int]) -> None:
        """`families`: code prefix -> number of digits in the published codes ({"INT": 3, "NS": 4})."""
        self.families = {p.upper(): d for p, d in families.items()}
        if not self.families:
            self.pattern = self._leading = self._in_lower_case = _NEVER
            return
        prefix = "|".join(sorted(self.families, key=len, reverse=True))
        widest = max(self.families.values())
        self.pattern = re.compile(
            rf"(?<![A-Za-z0-9])({prefix})([ \t]?[-_#:.]?[ \t]?)(\d{{1,{widest}}})(?![0-9])(?!\.[0-9])",
            re.IGNORECASE)
        # The same pattern for lower-cased text, where each prefix checks what is before it once found: the
        # regex engine then skips to the prefixes' first letters instead of trying the lookbehind and every
        # prefix case-insensitively at each character (docs/benchmarks.md). ASCII texts only, which
        # lower-casing keeps in place.
        lower = "|".join(f"{p}(?<![a-z0-9]{p})" for p in (re.escape(p.lower()) for p in
                                                          sorted(self.families, key=len, reverse=True)))
        self._in_lower_case = re.compile(
            rf"({lower})([ \t]?[-_#:.]?[ \t]?)(\d{{1,{widest}}})(?![0-9])(?!\.[0-9])")
        self._leading = re.compile(rf"^\s*({prefix})(\d+)\b")
        looks = "|".join("".join(f"[{re.escape(_LOOKS_LIKE[c])}]" if c in _LOOKS_LIKE else c for c in p)
                         for p in sorted(self.families, key=len, reverse=True))
        digit = "[0-9" + re.escape("".join(c for chars in _DIGIT_LOOKS_LIKE.values() for c in chars if
                                          not c.isdigit())) + "]"
        self._ocr = re.compile(rf"(?<![A-Za-z0-9])({looks})({digit}{{1,{widest}}})(?![A-Za-z0-9])")

    def canonical(self, prefix: str, digits: str) -> str:
        prefix = prefix.upper()
        return f"{prefix}{int(digits):0{self.families[prefix]}d}"

    def leading(self, message: str) -> str:
        """The code a KB message starts with ('' when none), e.g. 'INT771' for 'INT771 Export Error: …'."""
        m = self._leading.match(message)
        return self.canonical(m.group(1), m.group(2)) if m else ""

    def is_code(self, text: str) -> bool:
        """`text` is one code and nothing else ("INT771", "ns 12")."""
        return bool(self.pattern.fullmatch(text))

    def strip(self, text: str, count: int = 0) -> str:
        """`text` with its code-shaped mentions blanked out (the first `count` only, when given)."""
        if not text.isascii():
            return self.pattern.sub(" ", text, count=count)
        pieces, cursor = [], 0
        for m in itertools.islice(self._in_lower_case.finditer(text.lower()), count or None):
            pieces += [text[cursor:m.start()], " "]
            cursor = m.end()
        return "".join(pieces) + text[cursor:] if pieces else text

    def _shapes(self, text: str):
        """`self.pattern.finditer(text)`, as (start, end, prefix as written, separator, digits)."""
        if not text.isascii():
            return ((m.start(), m.end(), *m.groups()) for m in self.pattern.finditer(text))
        return ((m.start(), m.end(), text[m.start():m.end(1)], m.group(2), m.group(3))
                for m in self._in_lower_case.finditer(text.lower()))

    def find(self, text: str, limit: int | None = None) -> list[CodeMention]:
        """Every code-shaped mention in `text`, in order; with `limit`, of the first `limit` code shapes only.

        Shapes that are never codes are left out: more digits than the family's, a lower-case prefix
        joined to its digits by a dot ("ns.1"), a shortened code that runs into a word ("NS5Hq") or is
        neither in capitals nor lower case with a blank ("Ns5", "ns5"; "ns 23" is kept). One pass over the
        text: each line is looked at for error words once, however many codes it holds.
        """
        found = []
        context = _Context(text)
        for start, end, prefix, sep, digits in itertools.islice(self._shapes(text), limit):
            width = self.families.get(prefix.upper())
            if width is None or len(digits) > width:
                continue  # too many digits; or a letter that only matches case-insensitively ("İNT771")
            upper = prefix.isupper()
            if "." in sep and not upper:
                continue
            lower_spaced = prefix.islower() and sep == " "  # "ns 23 again": a short code typed in a hurry
            if len(digits) < width and (not (upper or lower_spaced) or text[end:end + 1].isalpha()):
                continue
            spaced = " " in sep or "\t" in sep
            if len(digits) < width:
                form = SHORT
            elif not upper:
                form = LOWER
            elif spaced:
                form = SPACED
            elif sep.strip() in ("", ":", "#"):
                form = CANONICAL
            else:
                form = HYPHENATED
            found.append(CodeMention(self.canonical(prefix, digits), start, end, len(digits) == width, form,
                                     spaced, context.near_error_words(start), context.code_alone()))
        if self.families and (limit is None or len(found) < limit):
            found = self._misread(text, found, context, limit)
        return found

    def _misread(self, text: str, found: list[CodeMention], context: _Context, limit: int | None):
        """Codes OCR damaged ("lNT592", "XER056", "CER2B9"): exactly a code's width once its letters and
        digits are read back, with at least one real digit, and not already found as written."""
        taken = {(m.start, m.end) for m in found}
        extra = []
        for m in itertools.islice(self._ocr.finditer(text), limit):
            raw_prefix, raw_digits = m.group(1), m.group(2)
            prefix = "".join(_AS_LETTER.get(c, c) for c in raw_prefix)
            digits = "".join(_AS_DIGIT.get(c, c) for c in raw_digits)
            misread = raw_prefix != prefix or raw_digits != digits
            if (not misread or prefix not in self.families or len(digits) != self.families[prefix]
                    or not any(c.isdigit() for c in raw_digits) or (m.start(), m.end()) in taken):
                continue
            extra.append(CodeMention(self.canonical(prefix, digits), m.start(), m.end(), True, OCR, False,
                                     context.near_error_words(m.start()), context.code_alone()))
        return sorted(found + extra, key=lambda mention: mention.start) if extra else found


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
