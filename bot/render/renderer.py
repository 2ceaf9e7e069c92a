"""Turns a matched entry into Slack Block Kit blocks and a text form, through Jinja templates.

Templates live in `bot/render/templates/`; an entry may name its own with `template:`. They run in
Jinja's sandbox, and every value they print is escaped for Slack mrkdwn unless it was built by a
helper that escapes it itself (`link_to`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import FileSystemLoader, StrictUndefined, TemplateError, TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from bot.kb import QA, Entry
from bot.render.slack_text import escape, plain, unescape
from bot.wording import counted

TEMPLATES = Path(__file__).parent / "templates"
SECTION_BREAK = re.compile(r"^---[ \t]*$", re.MULTILINE)
MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_HEADER_CHARS = 150
_LINK = re.compile(r"<(https?://[^|>]+)\|([^>]+)>")


class RenderError(Exception):
    """A template could not be loaded or run; the message names the template and line."""


LISTED_QUESTIONS = 4   # a FAQ page's other questions named on its first screen


class SlackSafe(str):
    """Text already in Slack mrkdwn form; templates print it as is."""


@dataclass
class Rendered:
    blocks: list[dict]
    mrkdwn: str                 # the whole card in Slack mrkdwn (escaped)
    fallback: str               # short notification text
    sections: list[str] = field(default_factory=list)
    short: bool = False         # one FAQ answer or one fix of a larger card (which is a click away)

    @property
    def text(self) -> str:
        """The card as a person reads it in Slack, as plain text (what the CLI prints)."""
        return unescape(_LINK.sub(lambda m: f"{m.group(2)} ({m.group(1)})", self.mrkdwn))


def link_to(url: str, title: str) -> SlackSafe:
    url = str(url).replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")
    return SlackSafe(f"<{url}|{escape(title).replace('|', '/')}>")


def _finalize(value: object) -> str:
    if isinstance(value, SlackSafe):
        return value
    return escape(value)


class Renderer:
    def __init__(self, template_dir: Path = TEMPLATES) -> None:
        self.template_dir = Path(template_dir)
        self.env = SandboxedEnvironment(
            loader=FileSystemLoader(str(template_dir)),
            finalize=_finalize,
            undefined=StrictUndefined,
            keep_trailing_newline=False,
            autoescape=False,
        )
        self.env.globals["link_to"] = link_to

    def template_name(self, entry: Entry) -> str:
        return entry.template or ("faq.j2" if entry.is_faq else "card.j2")

    def check_template(self, entry: Entry) -> str | None:
        """None when the entry's template loads and renders, else a one-line reason."""
        try:
            self.card(entry)
        except RenderError as exc:
            return str(exc)
        return None

    def card(self, entry: Entry, faq_index: int = -1, workspace: list[str] | None = None) -> Rendered:
        question: QA | None = entry.faq[faq_index] if 0 <= faq_index < len(entry.faq) else None
        return self._from_template(self.template_name(entry), entry, question=question, workspace=workspace or [])

    def _from_template(self, name: str, entry: Entry, **context) -> Rendered:
        try:
            output = self.env.get_template(name).render(entry=entry, **context)
        except TemplateSyntaxError as exc:
            raise RenderError(f"template {exc.filename or name}:{exc.lineno}: {exc.message}") from None
        except TemplateError as exc:
            line = _template_line(exc, name)
            raise RenderError(f"template {self.template_dir / name}{line}: {exc}") from None
        sections = [s.strip("\n") for s in SECTION_BREAK.split(output)]
        sections = [s for s in sections if s.strip()]
        title = plain(sections[0]) if sections else entry.title
        return build(title, sections[1:], fallback=f"{entry.title}: {plain(escape(entry.summary))}")

    def brief(self, entry: Entry, faq_index: int = -1, workspace: list[str] | None = None) -> Rendered:
        """A card's first screen: for an error (`brief.j2`), what it means and its first fix, numbered; for a FAQ
        page (`brief_faq.j2`), the question asked and a few others. The rest (other fixes, causes, the whole
        FAQ) is on the full card. An entry with a template of its own, or nothing more to show, gets its card."""
        question = entry.faq[faq_index] if 0 <= faq_index < len(entry.faq) else None
        if entry.is_faq:
            shown = 0 if question else min(1, len(entry.fixes))
            unlisted = len(entry.faq) - bool(question) - LISTED_QUESTIONS
            hidden = [counted(len(entry.fixes) - shown, "fix", "fixes") if len(entry.fixes) > shown else "",
                      counted(unlisted, "more question") if unlisted > 0 else ""]
            name = "brief_faq.j2"
        else:
            hidden = [counted(len(entry.fixes) - 1, "other fix", "other fixes") if len(entry.fixes) > 1 else "",
                      "why it happens" if entry.causes else "",
                      counted(len(entry.faq), "FAQ answer") if entry.faq else ""]
            name = "brief.j2"
        hidden = [h for h in hidden if h]
        if entry.template or not hidden:
            return self.card(entry, faq_index, workspace)
        more = ", ".join(hidden[:-1]) + " and " + hidden[-1] if len(hidden) > 1 else hidden[0]
        card = self._from_template(name, entry, question=question, workspace=workspace or [], more=more,
                                   listed=LISTED_QUESTIONS)
        card.short = True
        return card

    def faq_answer(self, entry: Entry, index: int) -> Rendered:
        """One FAQ item of an entry, as a short card (a follow-up question answered in a thread)."""
        qa = entry.faq[index]
        return build(entry.title, [f"*{escape(qa.q)}*\n{escape(qa.a)}"], fallback=f"{entry.title}: {qa.q}")

    def fix_answer(self, entry: Entry, index: int) -> Rendered:
        """One fix of an entry, numbered, as a short card (a question that fix answers)."""
        fix = entry.fixes[index]
        steps = "\n".join(f"{n}. {escape(step)}" for n, step in enumerate(fix.steps, 1))
        note = f"\n_{escape(fix.note)}_" if fix.note else ""
        others = len(entry.fixes) - 1
        more = f"\n_{others} other fix{'es' if others > 1 else ''} on the full card._" if others else ""
        return build(entry.title, [f"*{escape(fix.title)}*\n{steps}{note}{more}"],
                     fallback=f"{entry.title}: {fix.title}")

    def short_answer(self, entry: Entry, kind: str, index: int) -> Rendered:
        """The one FAQ answer ("faq") or fix ("fix") of an entry that answers a question."""
        answer = self.faq_answer(entry, index) if kind == "faq" else self.fix_answer(entry, index)
        hint = f"_The whole card: ask for `{escape(entry.id)}`._"
        card = build(entry.title, [*answer.sections, hint], fallback=answer.fallback)
        card.short = True
        return card

    def note(self, lines: list[str]) -> Rendered:
        """A few mrkdwn lines without a title (usage, "no match", "thanks, noted")."""
        text = "\n".join(lines)
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
                  for chunk in split_text(text, MAX_SECTION_CHARS)][:MAX_BLOCKS]
        return Rendered(blocks, text, notification(text), [text])

    def message(self, title: str, lines: list[str]) -> Rendered:
        """A small card with a title and mrkdwn lines (no-match, usage, suggestions)."""
        return build(title, ["\n".join(lines)], fallback=title)


def build(title: str, sections: list[str], fallback: str) -> Rendered:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": clip(title, MAX_HEADER_CHARS),
                                                     "emoji": True}}]
    for section in sections:
        for chunk in split_text(section, MAX_SECTION_CHARS):
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": chunk}})
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": "Card shortened; the full article has the rest."}]}]
    mrkdwn = "\n\n".join([f"*{escape(title)}*", *sections])
    return Rendered(blocks, mrkdwn, notification(fallback), sections)


def notification(mrkdwn: str) -> str:
    """A message's `text` (the notification, and what clients without blocks show): markup dropped, but
    still escaped, because Slack reads it as mrkdwn too (a raw `<!channel>` in it would broadcast)."""
    return escape(clip(plain(mrkdwn), 300))


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at line breaks where possible."""
    pieces, current = [], ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current.strip():
        pieces.append(current)
    return pieces


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _template_line(exc: Exception, name: str) -> str:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(name):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f":{line}" if line else ""
