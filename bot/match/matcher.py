"""Recognises KB entries in a paste: by code first, then by message wording, then FAQ questions.

Knows nothing of Slack beyond its markup; returns which entries to answer and which to suggest.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field, replace

from rapidfuzz import fuzz
from rapidfuzz.distance import LCSseq

from bot.codes import LOWER, OCR, CodeMention
from bot.kb import KnowledgeBase
from bot.kb.language import Language
from bot.match import limits
from bot.match.decision import Decided, Model, decide
from bot.match.evidence import Evidence, gather
from bot.match.hit import Hit
from bot.match.index import SearchIndex, prefix_sums, spans
from bot.match.normalize import MASK, clean, drop_email_headers, mask
from bot.match.questions import QuestionMatcher, asks_for_help
from bot.match.retrieval import EntryIndex, Found, RetrievalSettings

MAX_ANSWERS = 5
CLOSE_TO_AN_ERROR = 40  # a paste this close to an error's wording is not taken for an FAQ question
CANDIDATES = 10


@dataclass
class MatchResult:
    answers: list[Hit] = field(default_factory=list)
    suggestions: list[Hit] = field(default_factory=list)
    unknown_codes: list[str] = field(default_factory=list)
    more: list[Hit] = field(default_factory=list)   # codes past the answers: named in a list, no card each
    question_scores: dict[str, float] = field(default_factory=dict)  # FAQ entry -> its best question's similarity

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
    min_key: float = 11.0        # ... and enough weight in absolute terms (3-4 distinctive words)
    whole_recall: float = 0.85   # or: nearly all of a short or generic wording ...
    whole_ratio: float = 90.0    # ... almost letter for letter
    part_recall: float = 0.35    # or: a good part of a long wording ...
    part_key: float = 20.0       # ... with plenty of distinctive words
    cut_cover: float = 0.8       # or: a paste that is nothing but the start of a wording (cut off) ...
    cut_recall: float = 0.3
    cut_ratio: float = 93.0
    cut_key: float = 4.0
    min_ratio: float = 75.0      # the matched stretches must read alike
    min_purity: float = 0.65     # the match is most of its sentences, not a phrase inside a remark ...
    whole_cover: float = 0.95    # ... unless every word of the wording is there,
    strong_recall: float = 0.8   # ... or most of a long, distinctive wording
    strong_key: float = 25.0
    margin: float = 2.5          # lead in key over the next entry needed to answer ...
    relative_margin: float = 0.2  # ... or this share of the best key, when smaller
    suggest_recall: float = 0.55  # below this, a chatter line that shares a phrase would be offered
    suggest_key: float = 8.0

    @property
    def lowest_recall(self) -> float:
        """No wording found with less of its weight in the paste passes, or is close."""
        return min(self.min_recall, self.whole_recall, self.part_recall, self.cut_recall, self.suggest_recall)


@dataclass(slots=True)  # not frozen: a frozen dataclass pays object.__setattr__ per field, per alignment
class Scored:
    entry_id: str
    key: float       # weight of shared words, less part of the weight of mismatched ones
    recall: float    # share of the wording's weight found in the paste
    ratio: float     # character similarity of the two matched stretches (0-100); 0, and the defaults below,
                     # when the recall is below every gate's (then only the key counts, and these are skipped)
    start: int       # where in the paste
    end: int
    q_cover: float = 0.0  # share of the paste's words that belong to the match
    purity: float = 1.0   # share of the words of the paste's sentences holding the match that belong to it
    d_cover: float = 0.0  # share of the wording's words (all of them) found in the paste
    d_terms: int = 0      # content words of the wording found in the paste

    def passes(self, gate: Gate) -> bool:
        if self.ratio < gate.min_ratio:
            return False
        whole = self.d_cover >= gate.whole_cover and self.ratio >= gate.whole_ratio and self.d_terms >= 4
        strong = self.recall >= gate.strong_recall and self.key >= gate.strong_key
        if self.purity < gate.min_purity and not (whole or strong):
            return False
        return ((self.recall >= gate.min_recall and self.key >= gate.min_key)
                or (self.recall >= gate.whole_recall and self.ratio >= gate.whole_ratio)
                or (self.recall >= gate.part_recall and self.key >= gate.part_key)
                or (self.q_cover >= gate.cut_cover and self.recall >= gate.cut_recall
                    and self.ratio >= gate.cut_ratio and self.key >= gate.cut_key))

    def close(self, gate: Gate) -> bool:
        return self.recall >= gate.suggest_recall and self.key >= gate.suggest_key and self.ratio >= 60


_QUOTED = re.compile(r'"([^"\n]{12,400})"|(?<!\w)\'([^\'\n]{12,400}?)\'(?!\w)')


def quoted(text: str) -> list[str]:
    """Stretches of a paste the writer put in quotes: usually the part of the error they are asking about."""
    return [a or b for a, b in _QUOTED.findall(text)]


_LEADING_HEADER = re.compile(r"^\W*(?:(?:export|sync|login|connection)\s+)?error\s*:\s*")
MAX_GAP = 4      # words of other text allowed inside one occurrence of a wording
EDGE_WORDS = 2   # words either side of a matched stretch checked for substitutions


def densest_region(doc_ids, q_ids) -> list:
    """The largest cluster of in-order shared words (rapidfuzz matching blocks), or []."""
    blocks = [b for b in LCSseq.editops(doc_ids, q_ids).as_matching_blocks() if b.size]
    best, best_size, start = [], 0, 0
    for i in range(len(blocks) + 1):
        if i == len(blocks) or (i > start and blocks[i].b - (blocks[i - 1].b + blocks[i - 1].size) > MAX_GAP):
            size = sum(b.size for b in blocks[start:i])
            if size > best_size:
                best, best_size = blocks[start:i], size
            start = i
    return best


def trim_stray_blocks(blocks: list, d_terms) -> list:
    """Drop a first or last block of stopwords only ("the") that the LCS tied to a far-off occurrence:
    it would stretch the matched region over words the paste does not have. `d_terms`: running count of
    the wording's weighted words."""
    def stray(block, neighbour) -> bool:
        gap = abs(neighbour.a - (block.a + block.size)) if neighbour.a > block.a else abs(block.a - (
            neighbour.a + neighbour.size))
        return d_terms[block.a + block.size] == d_terms[block.a] and gap > 0
    while len(blocks) > 1 and stray(blocks[0], blocks[1]):
        blocks = blocks[1:]
    while len(blocks) > 1 and stray(blocks[-1], blocks[-2]):
        blocks = blocks[:-1]
    return blocks


_SENTENCE_END = re.compile(r"[.!?;:]|\s-\s")


# Words after which people quote what a system said: "netsuite says Unable to query…"
REPORTING_WORDS = frozenset("""
say says saying said get gets getting got see seeing seen shows showing showed show read reads reading
returns returned returning throws throwing threw complains complaining
""".split())


def sentence_starts(masked: str, spans) -> list[int]:
    """The words of a masked paste that start a sentence (or line, or quote), as indices: 0 and up."""
    firsts = [start for start, _ in spans]
    # the word after a mark (marks are never inside a word), and the word after a reporting word
    after_marks = {bisect_right(firsts, m.start()) for m in _SENTENCE_END.finditer(masked)}
    after_reporting = {i + 1 for i, (start, end) in enumerate(spans) if masked[start:end] in REPORTING_WORDS}
    return [0, *sorted(i for i in after_marks | after_reporting if 0 < i < len(spans))]


def ends_cut_off(masked: str, words) -> bool:
    """The paste's last word may be the start of a longer one ("…to reso")."""
    return bool(words) and len(words[-1]) >= 2 and masked.rstrip().endswith(words[-1])


def splits_paste(mention: CodeMention, language: Language) -> bool:
    """Whether the paste path splits the text at this mention (the one rule for which code-shaped mentions
    count). A lower-case code spelt with a blank, whose prefix is an everyday word ("my desk 15"), only on a
    line that talks about an error, or written alone; a misread one never (it is evidence for the decision,
    not a part of the paste)."""
    if mention.form == OCR:
        return False
    return not (mention.form == LOWER and mention.separated and not mention.error_line and not mention.alone
                and mention.code.rstrip("0123456789").lower() in language.everyday_prefix_words)


def named_codes(text: str, kb: KnowledgeBase, limit: int) -> list[CodeMention]:
    """The code mentions a text names as the matcher counts them (`splits_paste`), of a family's width; of
    its first `limit` code shapes (what the gaps and the record of an unmatched paste go by)."""
    return [m for m in kb.codes.find(text, limit) if m.exact_width and splits_paste(m, kb.language)]


@dataclass(slots=True)
class Query:
    """A masked paste prepared once for aligning against many wordings."""

    masked: str
    words: tuple[str, ...]          # typo-corrected, plurals folded
    spans: tuple[tuple[int, int], ...]
    ids: list[int]                  # the words as the index numbers them
    weight: tuple[float, ...]       # running total of the words' weights
    content: int                    # words that are not '#'
    starts: list[int] | None = None  # sentence_starts, worked out by the first `purity` (most never need it)

    @classmethod
    def of(cls, masked: str, index: SearchIndex, words=None) -> Query:
        """`words`, when given, are `index.read(masked)`."""
        if words is None:
            words = index.read(masked)
        weight = index.weights.get
        places = spans(masked)
        return cls(masked, words, places, index.query_ids(words), prefix_sums([weight(w, 0.0) for w in words]),
                   len(words) - words.count(MASK))

    def purity(self, explained: set[int], start: int, end: int) -> float:
        """Share of the words of the sentences holding words start..end that the match explains."""
        starts = self.starts
        if starts is None:
            starts = self.starts = sentence_starts(self.masked, self.spans)
        lo = starts[bisect_right(starts, start) - 1]
        after = bisect_right(starts, end - 1)
        hi = starts[after] if after < len(starts) else len(self.words)
        return sum(lo <= i < hi for i in explained) / max(hi - lo, 1)


class Matcher:
    def __init__(self, kb: KnowledgeBase, gate: Gate | None = None, model: Model | None = None) -> None:
        self.kb = kb
        self.model = model or Model.load()
        self.index = SearchIndex(kb)
        self.retrieval = EntryIndex(kb, RetrievalSettings.of(self.model.retrieval))
        self.gate = gate or Gate()
        # a stretch the writer put in quotes is meant as the error: a smaller part of it is enough
        self.quote_gate = replace(self.gate, cut_recall=self.gate.cut_recall * 0.7)
        self.lowest_recall = min(g.lowest_recall for g in (self.gate, self.quote_gate))
        self.questions = QuestionMatcher(kb, self.index)

    # -- public --

    def match(self, text: str) -> MatchResult:
        """Which entries to answer with and which to offer, decided on every path's evidence."""
        evidence, decided = self.weigh(text)
        return MatchResult(decided.answers, decided.suggestions, evidence.unknown_codes, decided.more)

    def weigh(self, text: str) -> tuple[Evidence, Decided]:
        """The evidence about a message and the decision on it (what `match --explain` shows)."""
        if not text or not text.strip():
            return Evidence(text), Decided([], [], [])
        cleaned = clean(text[:limits.MAX_INPUT_CHARS])
        mentions = self.kb.codes.find(cleaned, limits.MAX_CODE_SHAPES)
        paste = self._paste_path(cleaned, [m for m in mentions if splits_paste(m, self.kb.language)])
        opening = cleaned[:limits.MAX_QUESTION_CHARS]
        # the systems the words name, not the "xero" of "xero 45"; written as `_paste_path` writes a part
        # (";" is no word), so that a paste without codes is masked once (`mask` remembers)
        systems = self.questions.systems_in(
            self.kb.codes.strip(cleaned[:limits.MAX_WORDING_CHARS]).replace("\n", " ;\n"))
        if any(h.how == "message" for h in paste.answers) or any(
                m.canonical and m.code in self.index.codes for m in mentions):
            # the text holds a message or a canonical code outright: its words need no searching (a code
            # written another way still does: whether the words agree is what says it is one)
            found = Found()
        else:
            wording = drop_email_headers(cleaned[:limits.MAX_WORDING_CHARS])[:limits.MAX_RETRIEVAL_CHARS]
            found = self.retrieval.search(mask(wording), systems)
        evidence = gather(self.kb, text, cleaned, mentions, self.index.codes, paste, found, systems,
                          asks_for_help(opening), self.retrieval.settings.candidates)
        return evidence, decide(self.model, evidence)

    def _paste_path(self, cleaned: str, mentions: list[CodeMention]) -> MatchResult:
        """What a paste holds: its codes, the messages aligned with its wording, FAQ questions it asks."""
        result = MatchResult()
        answered: dict[str, Hit] = {}
        suggested: dict[str, Hit] = {}
        budget = limits.MAX_WORDING_CHARS  # wording compared, over all parts: a paste of many codes costs no more
        for n, (part, code_entry, unknown) in enumerate(self._parts(cleaned, mentions)):
            if unknown:
                result.unknown_codes.append(unknown)
            if code_entry:
                answered.setdefault(code_entry, Hit(code_entry, 100.0, "code"))
            if budget <= 0 or n >= limits.MAX_PARTS:
                continue  # past the budget only codes count
            wording = drop_email_headers(part[:budget])  # quotes too: not a From: "Display Name"
            budget -= len(wording)
            lines = self.kb.codes.strip(wording).replace("\n", " ;\n")
            masked = _LEADING_HEADER.sub("", mask(lines), count=1)
            if code_entry:
                masked = self._consume(masked, code_entry)
            hits = list(self._match_wording(masked))
            if not code_entry and not any(sure for _, sure in hits):
                # "why does netsuite say 'the vendor doesn't have access to the transaction currency'?"
                # (not after a known code: quotes there are part of that code's own message)
                quotes = quoted(wording)[:limits.MAX_QUOTES]
                for quote in quotes + ([" … ".join(quotes)] if len(quotes) > 1 else []):
                    hits += [(h, s) for h, s in self._match_wording(mask(quote), self.quote_gate) if s]
            for hit, sure in hits:
                if sure and not unknown:
                    answered.setdefault(hit.entry_id, hit)
                else:
                    suggested.setdefault(hit.entry_id, hit)
            if len(answered) >= MAX_ANSWERS:
                break
        opening = cleaned[:limits.MAX_QUESTION_CHARS]
        if (not answered and not mentions and not _LEADING_HEADER.match(opening.lower())
                and not self._close_to_an_error(cleaned[:limits.MAX_WORDING_CHARS], suggested.values())):
            # a question ("how do I update my Sage Intacct credentials?"), not an "Export Error: …" paste
            ranked = self.questions.rank(opening)
            result.question_scores = {doc.entry_id: score for score, doc in ranked}
            for hit, sure in self.questions.decide(ranked):
                (answered if sure else suggested).setdefault(hit.entry_id, hit)
            if not ranked and not suggested:
                for hit in self.questions.unnamed_system_suggestions(opening):
                    suggested.setdefault(hit.entry_id, hit)
        result.answers = list(answered.values())[:MAX_ANSWERS]
        result.suggestions = [h for h in suggested.values() if h.entry_id not in answered][:3]
        return result

    def neighbours(self, entry_id: str, limit: int = 3) -> list[str]:
        """The entries whose wording is closest to this one's (what a "not it" may have meant)."""
        entry = self.kb.get(entry_id)
        if entry is None:
            return []
        if entry.is_faq:
            return [e.id for e in self.kb if e.is_faq and e.system == entry.system and e.id != entry_id][:limit]
        found: list[str] = []
        for message in entry.messages:
            masked = _LEADING_HEADER.sub("", mask(self.kb.codes.strip(clean(message))), count=1)
            found += [s.entry_id for s in self._score_messages(masked, prune=False) if s.entry_id != entry_id]
        return list(dict.fromkeys(found))[:limit]

    def _close_to_an_error(self, cleaned: str, suggestions) -> bool:
        """The paste reads like (part of) an error of a system it names, rather than a question."""
        named = self.questions.systems_in(cleaned)
        return any(h.score >= CLOSE_TO_AN_ERROR and (not named or self.kb.get(h.entry_id).system in named)
                   for h in suggestions)

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
        query = Query.of(masked, self.index)
        best = None
        for i in self.index.docs_of[(entry_id, "message")]:
            scored = self._align(i, query)
            if scored and (best is None or scored.key > best.key):
                best = scored
        if best is None or not best.close(self.gate):
            return masked
        return masked[: best.start] + " " + masked[best.end:]

    # -- wording --

    def _score_messages(self, masked: str, prune: bool = True, lowest_recall: float = 0.0) -> list[Scored]:
        """The wordings found in the paste, best key first. With `lowest_recall`, [] when no candidate can
        have that much of its weight in the paste (no gate could take what is found: the keys would only
        rank the rejects)."""
        q_words = self.index.read(masked)
        terms = {w for w in q_words if w in self.index.idf}
        weight = self.index.weights.get
        if not terms or sum([weight(w, 0.0) for w in terms]) < self.gate.cut_key:
            return []  # too little KB vocabulary to pass any gate
        out: dict[str, Scored] = {}
        best_key = 0.0
        candidates = sorted(self.index.candidates(terms, "message", CANDIDATES), key=lambda c: c[2], reverse=True)
        if lowest_recall:
            cut_off = ends_cut_off(masked, q_words)
            if not any(self._could_reach(i, terms, q_words, cut_off, lowest_recall) for i, _, _ in candidates):
                return []
        query = Query.of(masked, self.index, q_words)
        for i, _share, shared_weight in candidates:
            # a doc's key hardly exceeds the weight of the words it shares (a repeated word counts twice):
            # skip those that could neither come close to the best nor pass any gate
            if prune and shared_weight * 1.25 < max(self.gate.cut_key, best_key - self.gate.margin):
                continue
            doc = self.index.docs[i]
            scored = self._align(i, query)
            if scored and (doc.entry_id not in out or scored.key > out[doc.entry_id].key):
                out[doc.entry_id] = scored
                best_key = max(best_key, scored.key)
        return sorted(out.values(), key=lambda s: s.key, reverse=True)

    def _could_reach(self, doc_index: int, terms: set[str], q_words, cut_off: bool, recall: float) -> bool:
        """Whether an alignment with this wording could gain `recall` of its weight: it gains each shared
        term at most as often as both have it, and part of a word the paste was cut off in."""
        index = self.index
        counts, idf = index.doc_term_counts[doc_index], index.idf
        most = sum([idf[t] * min(counts[t], q_words.count(t)) for t in index.docs[doc_index].terms & terms])
        if cut_off:
            most += index.doc_max_weight[doc_index]
        return most >= recall * index.doc_weight[doc_index]

    def _align(self, doc_index: int, q: Query) -> Scored | None:
        """How much of this wording the paste holds, and where (in full, truncated, or inside other text).

        Words shared in order (LCS, after typo correction) locate the stretch of the paste holding the
        wording. Its `key` adds the weight (IDF) of the shared words and takes off part of the weight of
        words on either side that do not match inside the stretch, so the entry naming the same account,
        record or setting as the paste wins over one that only shares the generic part.
        """
        doc = self.index.docs[doc_index]
        sums = self.index.doc_sums[doc_index]
        d_weight, d_masks, d_terms, q_weight = sums.weight, sums.masks, sums.terms, q.weight
        blocks = trim_stray_blocks(densest_region(self.index.doc_word_ids[doc_index], q.ids), d_terms)
        if not blocks:
            return None
        q_words, masked = q.words, q.masked
        ds, qs = blocks[0].a, blocks[0].b
        de, qe = blocks[-1].a + blocks[-1].size, blocks[-1].b + blocks[-1].size

        def mismatch(d_start: int, d_end: int, q_start: int, q_end: int) -> float:
            cost = d_weight[d_end] - d_weight[d_start]
            # a [placeholder] stands for whatever the paste has there
            return cost if d_masks[d_end] > d_masks[d_start] else cost + q_weight[q_end] - q_weight[q_start]

        gained = 0
        for b in blocks:
            gained += d_weight[b.a + b.size] - d_weight[b.a]
        cut_off = (qe == len(q_words) - 1 and de < len(doc.words) and len(q_words[qe]) >= 2
                   and doc.words[de].startswith(q_words[qe]) and masked.rstrip().endswith(q_words[qe]))
        if cut_off:  # the paste was cut off in the middle of the next word ("…to reso")
            gained += self.index.word_weights[doc_index][de] * len(q_words[qe]) / len(doc.words[de])
            de, qe = de + 1, qe + 1
        gaps = list(zip(blocks, blocks[1:], strict=False))
        missed = sum(mismatch(x.a + x.size, y.a, x.b + x.size, y.b) for x, y in gaps)
        # Words just outside the stretch that differ on both sides are substitutions too
        # ("…before exporting to QuickBooks *Online*" against "…QuickBooks *Desktop*").
        after = min(EDGE_WORDS, len(doc.words) - de, len(q_words) - qe)
        before = min(EDGE_WORDS, ds, qs)
        missed += mismatch(de, de + after, qe, qe + after)
        missed += mismatch(ds - before, ds, qs - before, qs)
        key = gained - self.gate.mismatch_cost * missed
        recall = gained / max(self.index.doc_weight[doc_index], 1e-9)
        q_start, q_end = q.spans[qs][0], q.spans[qe - 1][1]
        if recall < self.lowest_recall:  # no gate takes it: only its key can matter (it ranks the others)
            return Scored(doc.entry_id, key, recall, 0.0, q_start, q_end)

        matched_q, shared, shared_terms = int(cut_off), 0, 0
        explained = {qe - 1}
        for b in blocks:
            d_end = b.a + b.size
            shared += b.size - (d_masks[d_end] - d_masks[b.a])  # placeholders are not words the paste shares
            shared_terms += d_terms[d_end] - d_terms[b.a]
            matched_q += b.size
            explained.update(range(b.b, b.b + b.size))
        filled = []  # the paste's words standing where the wording has a [placeholder]
        for x, y in gaps:
            if d_masks[y.a] > d_masks[x.a + x.size] and y.b > x.b + x.size:
                explained.update(range(x.b + x.size, y.b))
                filled.append((q.spans[x.b + x.size][0], q.spans[y.b - 1][1]))
        d_text = doc.text[doc.spans[ds][0]: doc.spans[de - 1][1]]
        q_text, cursor = [], q_start
        for start, end in filled:  # compare "project Apollo Rollout in" with "project # in"
            q_text += [masked[cursor:start], MASK]
            cursor = end
        ratio = fuzz.ratio(d_text, "".join(q_text) + masked[cursor:q_end])
        d_cover = shared / max(len(doc.words) - d_masks[-1], 1)
        return Scored(doc.entry_id, key, recall, ratio, q_start, q_end, matched_q / max(q.content, 1),
                      q.purity(explained, qs, qe), d_cover, shared_terms)

    def _match_wording(self, masked: str, gate: Gate | None = None):
        """Greedy: take the best-supported entry, blank its wording, look again (several errors per paste)."""
        g = gate or self.gate
        for _ in range(MAX_ANSWERS):
            scored = self._score_messages(masked, lowest_recall=g.lowest_recall)
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
