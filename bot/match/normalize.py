"""Turns a Slack paste, or a KB message, into comparable plain text.

Two stages: `clean` removes Slack markup and unifies characters (the result is still readable, and
codes are found in it); `mask` lower-cases and replaces the parts that vary between two occurrences of
the same error (dates, amounts, ids, emails, links, `[placeholders]`) with one `#`.
"""

from __future__ import annotations

import functools
import html
import re
import unicodedata

MASK = "#"

# Slack escapes a literal "<" in messages, so a link never holds one: stopping at "<" keeps every
# unclosed opener ("<http:<http:…") to its own stretch instead of rescanning the rest of the paste.
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^|<>\s]*)(?:\|([^<>]*))?>")
_SLACK_REF = re.compile(r"<[@#!][^<>]{0,200}>")
_CODE_FENCE = re.compile(r"```")
_QUOTE_MARK = re.compile(r"^[ \t]*(?:>|&gt;)+[ \t]?", re.MULTILINE)
_EMOJI = re.compile(r":(?:[+-]1|(?=[a-z0-9_+'\-]{0,39}[a-z])[a-z0-9_+'\-]{1,40}):(?::skin-tone-\d:)?", re.IGNORECASE)
# Emphasis marks that open or close a word: a `*`/`~` run unless it sits inside a word ("a*b"); an `_` run
# that opens (no word before it, something after) or closes (a word before it, none after) — of a run
# with a blank on either side, a lone `_` stays ("a _ b"). Every alternative can only start where a run
# does (its lookbehind fails inside one) and takes the run whole, so a long run is one pass.
_EMPHASIS = re.compile(r"(?<![*~\w])[*~]+|(?<![*~])[*~]++(?!\w)"
                       r"|(?<!\w)_++(?=\S)|(?<!\w)__++(?!\S)|(?<=[^\w\s])_(?!\S)|(?<=[^\W_])_++(?!\w)")

_CHAR_MAP = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "`": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u200b": "", "\u200c": "", "\u200d": "", "\ufeff": "",
    "\u2026": "...", "\u2022": " ", "\u25cf": " ",
})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]+")


def clean(text: str) -> str:
    """Slack markup and typography removed; case and line breaks kept."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<" in text:
        text = _SLACK_LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
        text = _SLACK_REF.sub(_reference_label, text)
    if "```" in text:
        text = _CODE_FENCE.sub("\n", text)
    if ">" in text or "&" in text:
        text = _QUOTE_MARK.sub("", text)
        text = html.unescape(text) if "&" in text else text
        text = _QUOTE_MARK.sub("", text)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    # of the characters mapped, only the backtick is ASCII (a translate looks up every character in the map)
    text = _CONTROL.sub(" ", text.replace("`", "'") if text.isascii() else text.translate(_CHAR_MAP))
    if text.count(":") > 1:
        text = _EMOJI.sub(" ", text)
    if _MAY_BE_OCR.search(text) or _MAY_BE_OCR_ONE.search(text):
        text = _OCR_DIGIT.sub(_letter_for_digit, text)
    return _EMPHASIS.sub("", text) if "*" in text or "~" in text or "_" in text else text


# A 0 or 1 that OCR (or a hurried typist) put inside a word of letters: "Exp0rt Err0r", "Unab1e", "1oad".
# Only a lone digit between letters, or a 1 opening a word of lower-case letters ("1st" is left alone);
# ids, amounts and versions ("R00123", "win10", "B2B") have more digits or digits at their ends.
_OCR_DIGIT = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]++[01][A-Za-z]++(?![A-Za-z0-9])"
                        r"|(?<![A-Za-z0-9])1(?!(?:st|nd|rd|th)(?![a-z]))[a-z]{2,}+(?![A-Za-z0-9])")


# What each of its alternatives needs, as patterns the regex engine scans for quickly (they start with a
# character set or a literal, where _OCR_DIGIT starts with a lookbehind tried at every character)
_MAY_BE_OCR = re.compile(r"[A-Za-z][01][A-Za-z]")
_MAY_BE_OCR_ONE = re.compile(r"1[a-z][a-z]")


def _letter_for_digit(m: re.Match) -> str:
    word = m.group()
    upper = sum(c.isupper() for c in word) > len(word) / 2
    return word.replace("0", "O" if upper else "o").replace("1", "I" if upper else "l")


_EMAIL_SEPARATOR = r"-{2,}[ \t]*(?:forwarded|original)[ \t]+message[ \t]*-{2,}|begin[ \t]+forwarded[ \t]+message[ \t]*:"
_EMAIL_FIELD = r"[ \t]*(?:from|to|cc|bcc|date|sent|reply-to|subject)[ \t]*:[^\n]*"
_EMAIL_HEADERS = re.compile(rf"^[ \t]*(?:{_EMAIL_SEPARATOR})[ \t]*$|^{_EMAIL_FIELD}(?:\n{_EMAIL_FIELD})+$",
                            re.IGNORECASE | re.MULTILINE)
_SUBJECT = re.compile(r"^[ \t]*subject[ \t]*:[ \t]*(?:(?:fwd?|re)[ \t]*:[ \t]*)*(.*)$", re.IGNORECASE | re.MULTILINE)


def drop_email_headers(text: str) -> str:
    """A forwarded email's header block (two or more From/To/Date/Subject... lines, "Forwarded message"
    lines) reduced to its subject: the rest is addresses and dates, never the error, and its generic words
    would be compared with every wording."""
    if ":" not in text or ("\n" not in text and "message" not in text.casefold()):
        return text  # a header block is two lines or more, or a "… message" separator line
    return _EMAIL_HEADERS.sub(lambda m: "\n".join(_SUBJECT.findall(m.group())), text)


def _reference_label(m: re.Match) -> str:
    inner = m.group(0)[1:-1]
    if inner.startswith("#") and "|" in inner:
        return "#" + inner.split("|", 1)[1]
    return " "


_PLACEHOLDER = re.compile(r"\[[^\[\]]{0,60}\]")
_VARIABLE = re.compile(
    r"""
      [\w.+'-]{1,64}+@[\w-]+(?:\.[\w-]+)+                 # email (a local part is at most 64 characters)
    | (?:https?://|www\.)\S+                              # link
    | \b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b                 # 03/28/2026, 2026-03-28
    | \b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?,?(?:\s+\d{4})?\b
    | \b\d{1,2}(?:st|nd|rd|th)?\s+(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?:,?\s+\d{4})?\b
    | [$€£¥]\s?-?\d[\d,]*(?:\.\d+)?                       # $1,234.56
    | \b\d[\d,]{0,24}+\.\d+\b                             # 12.50, 1,234,567.89
    | (?<![\w#])(?<![^\d#]-)[\w-]*\d[\w-]*                 # anything with a digit: R00123, VEN-0042, 4000
    """,
    re.VERBOSE,  # applied to lower-cased text only
)
# Each alternative starts at a place few characters can be (a run's first character, a bounded local
# part), so that a long run without the rest of a match is not rescanned from each of its characters.
# every _VARIABLE alternative needs one of these: a run of [\d@$€£¥], "http" or "www." (written to start with a
# character set, which the regex engine skips to, instead of trying three alternatives at every character)
_MAY_VARY = re.compile(r"[\d@$€£¥hw](?:(?<=h)ttp|(?<=w)ww\.|(?<=[\d@$€£¥])[\d@$€£¥]*)")
REACH = 2   # a variable spans at most three whitespace-separated words ("mar 28, 2026") around what it needs
_QUOTES = re.compile(r"[\"']")
_NON_TEXT = re.compile(r"[^\w#.,:;?!()/&%+\s-]+")
_MASK_RUN = re.compile(r"#(?:[\s\-/.,:]*#)+")
_NO_SPACE_BEFORE = ".,:;?!)"


def mask_variables(text: str) -> str:
    """`_VARIABLE.sub(MASK, text)`, run only over the stretches that can hold a variable: every alternative
    needs one of `_MAY_VARY`'s characters and reaches at most REACH words either side of it, so the words
    further away are copied as they are: the regex tries every alternative at every character it is given."""
    pieces, cursor = [], 0
    for begin, end in _stretches(text):
        pieces += [text[cursor:begin], _VARIABLE.sub(MASK, text[begin:end])]
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces)


def variable_spans(text: str) -> list[tuple[int, int]]:
    """Where `text` holds what `mask` replaces with '#' (an email, a link, a date, an amount, anything with
    a digit): the (start, end) of each, in order; `[placeholders]` are not among them. For writing a paste
    as a KB message with `[placeholders]` (bot/authoring/draft.py)."""
    lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)  # same length, same offsets
    return [(begin + m.start(), begin + m.end()) for begin, end in _stretches(lowered)
            for m in _VARIABLE.finditer(lowered[begin:end])]


_WORD_REST = re.compile(r"\S*")
_REACHED = re.compile(rf"\S*(?:\s+\S+){{0,{REACH}}}")  # the rest of a word and up to REACH words after it


def _stretches(text: str) -> list[list[int]]:
    """The [begin, end) stretches of `text` that can hold a variable (see mask_variables): around each place
    `_MAY_VARY` finds, from the start of the word REACH words before to the end of the word REACH words after
    (found in the reversed text). A place in the word of the last one looked at reaches no further."""
    stretches: list[list[int]] = []
    reversed_text, size, word_end = "", len(text), -1
    for m in _MAY_VARY.finditer(text):
        at = m.start()
        if at < word_end:
            continue
        if not reversed_text:
            reversed_text = text[::-1]
        word_end = _WORD_REST.match(text, at).end()
        begin, end = size - _REACHED.match(reversed_text, size - 1 - at).end(), _REACHED.match(text, at).end()
        if stretches and begin <= stretches[-1][1]:
            stretches[-1][1] = max(stretches[-1][1], end)
        else:
            stretches.append([begin, end])
    return stretches


# One message is often masked whole more than once (for the systems it names, its wording, its retrieval
# words: the same text when it holds no code and no line break); masking is pure, so the last few are kept.
@functools.lru_cache(maxsize=32)
def mask(text: str) -> str:
    """Lower-cased text with every varying part replaced by '#', quotes dropped, spaces collapsed."""
    text = text.lower()
    if "[" in text:
        text = _PLACEHOLDER.sub(f" {MASK} ", text)
    if _MAY_VARY.search(text):
        text = mask_variables(text)
    text = _NON_TEXT.sub(" ", _QUOTES.sub("", text))
    if MASK in text:
        text = _MASK_RUN.sub(MASK, text)
    text = " ".join(text.split())
    for punct in _NO_SPACE_BEFORE:  # "account ." -> "account."
        if " " + punct in text:
            text = text.replace(" " + punct, punct)
    return text


def normalize(text: str) -> str:
    return mask(clean(text))
