"""One paste in, the cards to post out: the path shared by the CLI, the console and Slack."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.kb import KnowledgeBase, load_knowledge_base
from bot.match import Matcher, MatchResult
from bot.match.normalize import clean, mask
from bot.match.questions import is_question
from bot.render import Rendered, Renderer, RenderError
from bot.render.slack_text import entry_line
from bot.settings import Settings

log = logging.getLogger("fixit")
USAGE_HINT = "Paste the whole error message (with its code, e.g. `INT771`), or look it up with `/fixit CODE`."


@dataclass
class Reply:
    """What Fixit says about one paste."""

    match: MatchResult
    cards: list[Rendered] = field(default_factory=list)          # one per answered entry
    suggestions: Rendered | None = None                            # "did you mean" when only close

    @property
    def answered(self) -> bool:
        return bool(self.cards)


class Fixit:
    def __init__(self, kb: KnowledgeBase, renderer: Renderer | None = None) -> None:
        self.kb = kb
        self.matcher = Matcher(kb)
        self.renderer = renderer or Renderer()
        self._cards: dict[tuple[str, int, bool], Rendered] = {}

    def card(self, entry_id: str, faq_index: int = -1, workspace: list[str] | None = None,
             full: bool = False) -> Rendered:
        """An entry's card: its first screen (what it means, the most likely fix; `Renderer.brief`), or `full`.
        Rendered once per knowledge base (entries do not change under it), except with a "Your workspace"
        section, which is rendered each time."""
        if workspace:
            return self._render(entry_id, faq_index, workspace, full)
        key = (entry_id, faq_index, full)
        card = self._cards.get(key)
        if card is None:
            card = self._cards[key] = self._render(entry_id, faq_index, None, full)
        return card

    def _render(self, entry_id: str, faq_index: int, workspace: list[str] | None, full: bool) -> Rendered:
        """A broken entry template is logged and the default one used: the answer still goes out."""
        entry = self.kb.get(entry_id)
        render = self.renderer.card if full else self.renderer.brief
        try:
            return render(entry, faq_index, workspace=workspace)
        except RenderError as exc:
            log.error("%s: %s; using the default template", entry_id, exc)
            return render(replace(entry, template=""), faq_index, workspace=workspace)

    def prerendered(self) -> Fixit:
        """Render every entry's card now (a server does this once per knowledge base, so the first paste
        of each error is answered as fast as the next one)."""
        for entry in self.kb:
            self.card(entry.id)
        return self

    @classmethod
    def from_directory(cls, directory: str | Path | None = None, tool_name: str | None = None) -> Fixit:
        """The knowledge base in `directory` (default: this repository's `knowledge/`); `tool_name`: the
        expense tool's name in its prose (None: the knowledge base's own)."""
        return cls(load_knowledge_base(directory or Settings().kb_path, tool_name))

    def reply(self, text: str) -> Reply:
        """The cards for a paste or a description; for a question, the one FAQ answer or fix of each
        entry that answers it (the full card is a click away)."""
        result = self.matcher.match(text)
        asked = is_question(text)
        # a question answered by the entry's words or FAQ, not a paste of the error with "any idea?" after it
        cards = [self.answer_card(h, text) if asked and h.how in ("retrieval", "question")
                 else self.card(h.entry_id, h.faq_index) for h in result.answers]
        reply = Reply(result, cards)
        if not cards and result.suggestions:
            reply.suggestions = self.suggestions_card(result)
        return reply

    def answer_card(self, hit, text: str) -> Rendered:
        """What answers a question about an entry: the FAQ item the match came from, else the item or fix
        whose words the question shares most, else the whole card."""
        entry = self.kb.get(hit.entry_id)
        if 0 <= hit.faq_index < len(entry.faq):
            return self.renderer.short_answer(entry, "faq", hit.faq_index)
        kind, index = self.matcher.retrieval.best_item(entry, mask(clean(text)))
        if kind:
            return self.renderer.short_answer(entry, kind, index)
        return self.card(hit.entry_id, hit.faq_index)

    def suggestions_card(self, result: MatchResult) -> Rendered:
        entries = [self.kb.get(h.entry_id) for h in result.suggestions]
        lines = [entry_line(e) for e in entries]
        return self.renderer.message("Did you mean…", lines)

    def no_match(self, result: MatchResult | None = None, heading: bool = True) -> Rendered:
        lines = ["I couldn't match that to an error I know.", USAGE_HINT]
        if result and result.unknown_codes:
            codes = ", ".join(result.unknown_codes)
            lines.insert(0, f"`{codes}` is not a code in my knowledge base.")
        return self.renderer.message("No match", lines) if heading else self.renderer.note(lines)

    def search(self, query: str, limit: int = 10) -> list[str]:
        """Entry ids for a search of the knowledge base (the App Home's): codes and wording through the matcher,
        then entries whose id, title, system, messages or summary contain every word of the query."""
        query = query.strip()
        if not query:
            return []
        result = self.matcher.match(query)
        found = result.answer_ids + result.suggestion_ids
        words = query.casefold().split()
        for e in self.kb:
            text = " ".join([e.id, e.title, e.system, *e.messages, e.summary]).casefold()
            if all(w in text for w in words):
                found.append(e.id)
        return list(dict.fromkeys(found))[:limit]
