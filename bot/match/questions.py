"""Matches questions ("how do I update my Sage Intacct credentials?") to FAQ items.

A question only reaches the FAQ of a system it names; within it, content words are compared weighted
by rarity, the system's own names left out (they would make every question about it look alike).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.kb import KnowledgeBase
from bot.match.hit import Hit
from bot.match.index import Doc, SearchIndex, stem, words
from bot.match.limits import MAX_QUESTION_CHARS, MAX_WORDING_CHARS
from bot.match.normalize import mask

_OPENS_A_QUESTION = (r"\?|^\s*(?:how|why|what|where|when|which|who|can|could|does|do|is|are|will|should|would|"
                     r"is there|any ?one)\b")
# These patterns are matched against lower-cased text: a case-insensitive alternation is tried letter by letter
# in both cases at every place, which costs more than lower-casing the text once (docs/benchmarks.md).
_ASKING = re.compile(
    _OPENS_A_QUESTION + r"|^\s*help\b"
    r"|\b(?:not working|stopped|won'?t|isn'?t|doesn'?t|can'?t|cannot|couldn'?t|never|aren'?t|haven'?t|"
    r"hasn'?t|don'?t|didn'?t|wasn'?t|weren'?t|keeps? (?:failing|saying|disconnecting)|fail(?:s|ed|ing)?|"
    r"broken|stuck|wrong|errors?|missing|instead of|how (?:do|can|to)|need help|any idea)\b"
    r"|\bnot (?:showing|importing|updating|exporting|syncing|appearing|matching|match|loading)\b"
    r"|\b(?:empty|blank) (?:screen|page)\b")
# a question after a clause, in the text's last clause: "…a draft report to certinia, why"
_TRAILING_QUESTION = re.compile(
    r"(?:[,;.:!-]\s*|\b(?:and|so|but)\s+)(?:why|what|how|can|could|do|does|is|are|will|should)\b")
# "if we close the period, do we…": a condition, then a question on the same line
_IF_CLAUSE = re.compile(r"\bif (?:i|we) \w")
_THEN_ASKED = re.compile(r"\b(?:do|will|would|does) (?:i|we|it)\b")


_QUESTION = re.compile(_OPENS_A_QUESTION)


def is_question(text: str) -> bool:
    """Asked as a question ("do I have to reopen the period?"), not told as a report of what happened."""
    return bool(_QUESTION.search(text[:MAX_QUESTION_CHARS].lower()))


def asks_for_help(text: str) -> bool:
    """A question, or a statement of trouble ("our sync stopped"), not a remark.

    Each pattern is tried once over the text (the clause and condition checks find where to look first),
    so no input makes this slower than a few passes over it.
    """
    text = text[:MAX_QUESTION_CHARS].lower()
    if _ASKING.search(text):
        return True
    last_clause = max(text.rfind(","), text.rfind("."), text.rfind(";"), 0)
    if _TRAILING_QUESTION.search(text, last_clause):
        return True
    line_end = -1
    for m in _IF_CLAUSE.finditer(text):
        if m.start() < line_end:
            continue  # this line's first condition was looked past already
        line_end = text.find("\n", m.end())
        line_end = len(text) if line_end < 0 else line_end
        if _THEN_ASKED.search(text, m.end(), line_end):
            return True
    return False


UNNAMED_SYSTEM_SUGGEST = 0.85  # without a system named, only a question this close to an FAQ is suggested


@dataclass(frozen=True)
class QuestionGate:
    answer: float = 0.5
    suggest: float = 0.4
    margin: float = 0.06


class QuestionMatcher:
    def __init__(self, kb: KnowledgeBase, index: SearchIndex, gate: QuestionGate | None = None) -> None:
        self.kb = kb
        self.index = index
        self.gate = gate or QuestionGate()
        self.systems = kb.systems
        # the systems' own names, left out of the comparison (they would make every question about it alike)
        self.system_words = frozenset(stem(w) for w in kb.systems.name_words)

    def systems_in(self, text: str) -> set[str]:
        correct = self.index.correct
        return self.systems.named_in([correct(w) for w in words(mask(text[:MAX_WORDING_CHARS]))])

    def rank(self, text: str, entry_ids: set[str] | None = None,
             systems: set[str] | None = None) -> list[tuple[float, Doc]]:
        """FAQ questions closest to `text`, best first, one per entry.

        Without `entry_ids`: the FAQ entries of the systems the text names (or, when it names none, of
        `systems`, e.g. those of the thread it is asked in). With them: those entries' questions (a
        thread's follow-up), whatever system the text names. Only requests for help are ranked.
        """
        text = text[:MAX_QUESTION_CHARS]
        if not asks_for_help(text):
            return []
        masked = mask(text)
        correct = self.index.correct
        read = [correct(w) for w in words(masked)]
        content = set(read) - self.system_words
        if not content:
            return []
        if entry_ids is None:
            systems = self.systems.named_in(read) or set(systems or ())
            if not systems:
                return []
        best: dict[str, tuple[float, Doc]] = {}
        for i, _share, _weight in self.index.candidates(content, "question", 60):
            doc = self.index.docs[i]
            entry = self.kb.get(doc.entry_id)
            if entry_ids is not None:
                if doc.entry_id not in entry_ids:
                    continue
            elif not entry.is_faq or entry.system not in systems:
                continue
            score = self.similarity(doc, content, masked)
            if score > best.get(doc.entry_id, (0.0, None))[0]:
                best[doc.entry_id] = (score, doc)
        return sorted(best.values(), key=lambda sd: sd[0], reverse=True)

    def similarity(self, doc: Doc, content: set[str], masked: str) -> float:
        """Weighted overlap of content words with the question (both ways, F1), plus how much of the
        asker's wording the question and its answer together account for, nudged by word order."""
        weight = self.index.term_weight
        doc_terms = doc.terms - self.system_words
        asked = sum(weight(t) for t in content)
        shared = sum(weight(t) for t in doc_terms & content)
        if not shared or not asked:
            return 0.0
        recall = shared / sum(weight(t) for t in doc_terms)
        precision = shared / asked
        f1 = 2 * recall * precision / (recall + precision)
        with_answer = doc_terms | self.index.answer_terms.get((doc.entry_id, doc.faq_index), frozenset())
        covered = sum(weight(t) for t in with_answer & content) / asked
        return 0.55 * f1 + 0.3 * covered + 0.15 * fuzz.token_sort_ratio(doc.text, masked) / 100

    def unnamed_system_suggestions(self, text: str) -> list[Hit]:
        """A question naming no system ("why isn't my report exporting automatically?"): the FAQ entries
        of every system that answer it well, as suggestions only, never as a sure answer."""
        if self.systems_in(text):
            return []
        ranked = self.rank(text, systems=set(self.systems.names))
        return [Hit(doc.entry_id, round(score * 100, 1), "question", doc.faq_index)
                for score, doc in ranked[:3] if score >= UNNAMED_SYSTEM_SUGGEST]

    def decide(self, ranked: list[tuple[float, Doc]]):
        """(hit, sure) pairs: one sure answer, or up to three suggestions, or nothing."""
        g = self.gate
        if not ranked or ranked[0][0] < g.suggest:
            return
        best, doc = ranked[0]
        runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
        if best >= g.answer and best - runner_up >= g.margin:
            yield Hit(doc.entry_id, round(best * 100, 1), "question", doc.faq_index), True
            return
        for score, other in ranked[:3]:
            if score >= g.suggest:
                yield Hit(other.entry_id, round(score * 100, 1), "question", other.faq_index), False
