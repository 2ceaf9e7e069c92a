"""YAML syntax errors, located where the author has to fix them and said in an author's words.

PyYAML reports where it gave up, which is often far from the mistake: a quote left open swallows the
following lines up to the next quote, and the error is noticed there. Each common mistake is recognised
from the error and the tokens just before it, and reported at the line where it starts.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from yaml.tokens import ScalarToken

from bot.kb.model import Problem
from bot.wording import counted

OPENED = (("quoted scalar", "a quoted string"), ("flow sequence", "a [ list"), ("flow mapping", "a { mapping"))
QUOTE_IT = "put the whole value in quotes"


def yaml_problem(path: Path, exc: Exception, text: str = "") -> Problem:
    """The problem for a YAML error `exc` raised reading `text` (the file's text) from `path`."""
    line, message = diagnose(exc, text)
    return Problem(path, line, f"malformed YAML: {message}")


def diagnose(exc: Exception, text: str) -> tuple[int, str]:
    """(the line the mistake starts on, what it is)."""
    context, found = getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)
    reason = str(getattr(exc, "problem", None) or str(exc).splitlines()[0]).strip()
    opened = str(getattr(exc, "context", "") or "")
    mark = found or context
    at = mark.line + 1 if mark else 1
    noticed = f" (noticed at line {found.line + 1})" if found else ""
    lines = text.splitlines()
    source = lines[found.line] if found and found.line < len(lines) else ""
    char = source[found.column] if found and found.column < len(source) else ""

    for what, words in OPENED:
        if context and what in opened:  # still open at the end of the file
            return context.line + 1, f"{words} opened here is never closed{noticed}"
    before = token_before(text, found) if found else None
    quoted = isinstance(before, ScalarToken) and before.style in ("'", '"')
    if quoted and before.start_mark.line != before.end_mark.line:
        # the quote runs on over the next lines, up to the next quote, where YAML gives up
        return before.start_mark.line + 1, f"a quoted string opened here is never closed{noticed}"
    if "tab" in reason or char == "\t":
        return at, "a tab character: YAML indents with spaces only (replace the tab with spaces)"
    if "mapping values are not allowed" in reason:
        if isinstance(before, ScalarToken) and before.start_mark.line < found.line:
            first = before.start_mark.line + 1
            return at, (f"this line is indented more than line {first}, so YAML reads it as more of the value "
                        f"begun there, where a ': ' is not allowed: line it up with the keys above it (or, if it "
                        f"is part of the value, {QUOTE_IT})")
        return at, f"a ': ' (colon and space) inside an unquoted value: {QUOTE_IT}"
    if "could not find expected ':'" in reason and context:
        return context.line + 1, f"this line has no ':' after its key (write `key: value`){noticed}"
    if "alias" in opened or "anchor" in opened or "alias" in reason:
        sign = char if char in "*&" else "*"
        return at, f"a value that starts with {sign} is read as a YAML alias or anchor: {QUOTE_IT}"
    if "cannot start any token" in reason and char:
        return at, f"a value cannot start with {char}: {QUOTE_IT}"
    if quoted and before.end_mark.line == found.line:
        if before.style == "'" and char.isalpha():
            return at, ("an apostrophe ends a '…' value: write it twice ('') or put the value in double "
                        "quotes")
        return at, f"text after the closing quote: {QUOTE_IT} (a value that starts with a quote ends with it)"
    if "expected key" in reason or "block end" in reason or "'-' indicator" in reason:
        indent = len(source) - len(source.lstrip(" "))
        return at, (f"this line's indentation ({counted(indent, 'space')}) does not fit the lines above it: "
                    f"line it up with the key or list item it belongs beside")
    return at, reason


def token_before(text: str, found) -> yaml.Token | None:
    """The last token that starts before the place `found` where YAML gave up."""
    last = None
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if (token.start_mark.line, token.start_mark.column) >= (found.line, found.column):
                break
            last = token
    except yaml.YAMLError:
        pass
    return last


def compose_yaml(path: Path, what: str):
    """(the file's YAML node tree, None), or (None, the problem that kept it from being read)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return None, Problem(path, 0, f"cannot read the {what} ({exc.strerror or exc})")
    except UnicodeDecodeError as exc:
        return None, Problem(path, 0, f"the {what} is not valid UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        return yaml.compose(text), None
    except yaml.YAMLError as exc:
        return None, yaml_problem(path, exc, text)
