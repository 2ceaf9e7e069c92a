"""Recognises KB entries in a paste: by code first, then by message wording, then FAQ questions.

Knows nothing of Slack beyond its markup; returns which entries to answer and which to suggest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from bot.codes import CodeMention, find_codes
from bot.kb import KnowledgeBase
from bot.match.index import STOPWORDS, SearchIndex, strip_codes, tokens, words
from bot.match.normalize import clean, mask

MAX_INPUT_CHARS = 200_000   # codes are looked for this far into a paste
MAX_FUZZY_CHARS = 6_000     # wording is compared this far into each part of a paste
MAX_ANSWERS = 5
CANDIDATES = 10

SYSTEM_WORDS = {
    "Sage Intacct": {"intacct", "sage"},
    "NetSuite": {"netsuite", "ns"},
    "QuickBooks Online": {"quickbooks", "qbo", "qb", "intuit"},
    "QuickBooks Desktop": {"quickbooks", "qbd", "qb", "desktop"},
    "Xero": {"xero"},
    "Certinia": {"certinia", "financialforce", "psa"},
    "Accelo": {"accelo"},
}


@dataclass(frozen=True)
class Hit:
    entry_id: str
    score: float          # 0-100
    how: str              # "code", "message" or "question"
    faq_index: int = -1   # the FAQ item a question hit matched


@dataclass
class MatchResult:
    answers: list[Hit] = field(default_factory=list)
    suggestions: list[Hit] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)

    @property
    def answer_ids(self) -> list[str]:
        return [h.entry_id for h in self.answers]

    @property
    def suggestion_ids(self) -> list[str]:
        return [h.entry_id for h in self.suggestions]


@dataclass(frozen=True)
class Gate:
    """Thresholds that decide between answering, suggesting and staying silent."""

    mismatch_cost: float = 0.5   # share of a mismatched word's weight taken off the key
    min_recall: float = 0.5      # answer: the paste holds at least half of the wording's weight ...
    min_key: float = 12.0        # ... and enough weight in absolute terms (3-4 distinctive words)
    whole_recall: float = 0.85   # or: nearly all of a short or generic wording ...
    whole_ratio: float = 90.0    # ... almost letter for letter
    min_ratio: float = 75.0      # the matched stretches must read alike
    margin: float = 3.0          # lead in key over the next entry needed to answer ...
    relative_margin: float = 0.2  # ... or this share of the best key, when smaller
    suggest_recall: float = 0.35
    suggest_key: float = 8.0
    question_answer: float = 0.72
    question_suggest: float = 0.5


@dataclass(frozen=True)
class Scored:
    entry_id: str
    key: float       # weight of shared words, less part of the weight of mismatched ones
    recall: float    # share of the wording's weight found in the paste
    ratio: float     # character similarity of the two matched stretches (0-100)
    start: int       # where in the paste
    end: int

    def passes(self, gate: "Gate") -> bool:
        if self.ratio < gate.min_ratio:
            return False
        return (self.recall >= gate.min_recall and self.key >= gate.min_key) or (
            self.recall >= gate.whole_recall and self.ratio >= gate.whole_ratio)

    def close(self, gate: "Gate") -> bool:
        return self.recall >= gate.suggest_recall and self.key >= gate.suggest_key and self.ratio >= 60


MAX_GAP = 4  # words of other text allowed inside one occurrence of a wording


def densest_region(doc_words, q_words):
    """The doc and paste word ranges of the largest cluster of in-order shared words, or None."""
    blocks = [b for b in LCSseq.editops(doc_words, q_words).as_matching_blocks() if b.size]
    if not blocks:
        return None
    best, best_size = None, 0
    start = 0
    for i in range(len(blocks) + 1):
        if i == len(blocks) or (i > start and blocks[i].b - (blocks[i - 1].b + blocks[i - 1].size) > MAX_GAP):
            size = sum(b.size for b in blocks[start:i])
            if size > best_size:
                best, best_size = blocks[start:i], size
            start = i
    first, last = best[0], best[-1]
    matched_d = {b.a + k for b in best for k in range(b.size)}
    matched_q = {b.b + k for b in best for k in range(b.size)}
    return (first.a, last.a + last.size), (first.b, last.b + last.size), matched_d, matched_q


class Matcher:
    def __init__(self, kb: KnowledgeBase, gate: Gate | None = None) -> None:
        self.kb = kb
        self.index = SearchIndex(kb)
        self.gate = gate or Gate()

    # -- public --

    def match(self, text: str) -> MatchResult:
        result = MatchResult()
        if not text or not text.strip():
            return result
        cleaned = clean(text[:MAX_INPUT_CHARS])
        mentions = find_codes(cleaned)
        answered: dict[str, Hit] = {}
        suggested: dict[str, Hit] = {}
        for part, code_entry, unknown in self._parts(cleaned, mentions):
            if unknown:
                result.unknown_codes.append(unknown)
            if code_entry:
                answered.setdefault(code_entry, Hit(code_entry, 100.0, "code"))
            masked = mask(strip_codes(part[:MAX_FUZZY_CHARS]))
            if code_entry:
                masked = self._consume(masked, code_entry)
            for hit, sure in self._match_wording(masked):
                if sure and not unknown:
                    answered.setdefault(hit.entry_id, hit)
                else:
                    suggested.setdefault(hit.entry_id, hit)
            if len(answered) >= MAX_ANSWERS:
                break
        if not answered and not mentions:
            for hit, sure in self._match_question(cleaned[:MAX_FUZZY_CHARS]):
                (answered if sure else suggested).setdefault(hit.entry_id, hit)
        result.answers = list(answered.values())[:MAX_ANSWERS]
        result.suggestions = [h for h in suggested.values() if h.entry_id not in answered][:3]
        return result

    # -- splitting a paste around its codes --

    def _parts(self, cleaned: str, mentions: list[CodeMention]):
        """(text, entry id of its known code or '', unknown code or '') for each stretch of the paste.

        The text before the first code is one part; each code starts a part that runs to the next code.
        """
        if not mentions or mentions[0].start > 0:
            yield cleaned[: mentions[0].start if mentions else len(cleaned)], "", ""
        for i, m in enumerate(mentions):
            end = mentions[i + 1].start if i + 1 < len(mentions) else len(cleaned)
            entry_id = self.index.codes.get(m.code, "")
            unknown = m.code if not entry_id and m.exact_width else ""
            yield cleaned[m.start:end], entry_id, unknown

    def _consume(self, masked: str, entry_id: str) -> str:
        """Blank out the wording of `entry_id` that follows its code, so it is not matched again."""
        q_words, q_spans = tokens(masked)
        q_words = tuple(self.index.correct(w) for w in q_words)
        best = None
        for i, doc in enumerate(self.index.docs):
            if doc.entry_id == entry_id and doc.kind == "message":
                scored = self._align(i, masked, q_words, q_spans)
                if scored and (best is None or scored.key > best.key):
                    best = scored
        if best is None or not best.close(self.gate):
            return masked
        return masked[: best.start] + " " + masked[best.end:]

    # -- wording --

    def _score_messages(self, masked: str) -> list[Scored]:
        q_words, q_spans = tokens(masked)
        q_words = tuple(self.index.correct(w) for w in q_words)
        terms = {w for w in q_words if w in self.index.idf}
        if not terms:
            return []
        out: dict[str, Scored] = {}
        for i, _share in self.index.candidates(terms, "message", CANDIDATES):
            doc = self.index.docs[i]
            scored = self._align(i, masked, q_words, q_spans)
            if scored and (doc.entry_id not in out or scored.key > out[doc.entry_id].key):
                out[doc.entry_id] = scored
        return sorted(out.values(), key=lambda s: s.key, reverse=True)

    def _align(self, doc_index: int, masked: str, q_words, q_spans) -> Scored | None:
        """How much of this wording the paste holds, and where (in full, truncated, or inside other text).

        Words shared in order (LCS, after typo correction) locate the stretch of the paste holding the
        wording. Its `key` adds the weight (IDF) of the shared words and takes off part of the weight of
        words on either side that do not match inside the stretch, so the entry naming the same account,
        record or setting as the paste wins over one that only shares the generic part.
        """
        doc = self.index.docs[doc_index]
        region = densest_region(doc.words, q_words)
        if region is None:
            return None
        (ds, de), (qs, qe), matched_d, matched_q = region
        weight = self.index.term_weight
        gained = sum(weight(doc.words[i]) for i in matched_d if doc.words[i] not in STOPWORDS)
        missed = sum(weight(doc.words[i]) for i in range(ds, de)
                     if i not in matched_d and doc.words[i] not in STOPWORDS)
        missed += sum(weight(q_words[j]) for j in range(qs, qe)
                      if j not in matched_q and q_words[j] not in STOPWORDS)
        key = gained - self.gate.mismatch_cost * missed
        recall = gained / max(self.index.doc_weight[doc_index], 1e-9)
        d_text = doc.text[doc.spans[ds][0]: doc.spans[de - 1][1]]
        q_start, q_end = q_spans[qs][0], q_spans[qe - 1][1]
        ratio = fuzz.ratio(d_text, masked[q_start:q_end])
        return Scored(doc.entry_id, key, recall, ratio, q_start, q_end)

    def _match_wording(self, masked: str):
        """Greedy: take the best-supported entry, blank its wording, look again (several errors per paste)."""
        g = self.gate
        for _ in range(MAX_ANSWERS):
            scored = self._score_messages(masked)
            if not scored:
                return
            best = scored[0]
            runner_up = scored[1].key if len(scored) > 1 else 0.0
            if best.passes(g) and best.key - runner_up >= min(g.margin, g.relative_margin * best.key):
                yield Hit(best.entry_id, round(min(best.recall, 1.0) * best.ratio, 1), "message"), True
                masked = masked[: best.start] + " " + masked[best.end:]
                continue
            for s in scored[:3]:
                if s.close(g):
                    yield Hit(s.entry_id, round(min(s.recall, 1.0) * s.ratio, 1), "message"), False
            return

    # -- FAQ questions --

    def _match_question(self, cleaned: str):
        masked = mask(cleaned)
        terms = set(words(masked))
        if not terms:
            return
        scored: dict[str, tuple[float, int]] = {}
        for i, _share in self.index.candidates(terms, "question", CANDIDATES * 2):
            doc = self.index.docs[i]
            entry = self.kb.get(doc.entry_id)
            if not terms & SYSTEM_WORDS.get(entry.system, set()):
                continue
            score = self._question_similarity(doc, terms, masked)
            if score > scored.get(doc.entry_id, (0.0, -1))[0]:
                scored[doc.entry_id] = (score, doc.faq_index)
        ranked = sorted(scored.items(), key=lambda kv: kv[1][0], reverse=True)
        if not ranked or ranked[0][1][0] < self.gate.question_suggest:
            return
        (best_id, (best, faq_index)), rest = ranked[0], ranked[1:]
        runner_up = rest[0][1][0] if rest else 0.0
        if best >= self.gate.question_answer and best - runner_up >= 0.05:
            yield Hit(best_id, round(best * 100, 1), "question", faq_index), True
            return
        for entry_id, (score, idx) in ranked[:3]:
            if score >= self.gate.question_suggest:
                yield Hit(entry_id, round(score * 100, 1), "question", idx), False

    def _question_similarity(self, doc, terms: set[str], masked: str) -> float:
        """Weighted overlap of content words (both ways), nudged by plain string similarity."""
        w = self.index.term_weight
        shared = sum(w(t) for t in doc.terms & terms)
        recall = shared / max(sum(w(t) for t in doc.terms), 1e-9)
        precision = shared / max(sum(w(t) for t in terms if t in self.index.idf), 1e-9)
        if not shared:
            return 0.0
        f1 = 2 * recall * precision / (recall + precision)
        return 0.8 * f1 + 0.2 * fuzz.token_sort_ratio(doc.text, masked) / 100
