"""What the matcher searches: every error wording and FAQ question of the KB, normalised and indexed."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from itertools import accumulate
from operator import itemgetter

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.codes import CodeFinder
from bot.kb import KnowledgeBase
from bot.match.normalize import MASK, clean, mask

# Words that say nothing about which error it is; they count for alignment, not for retrieval.
STOPWORDS = frozenset("""
a an the and or of to in on for at by be is are was were it its this that these those with as from
please your you we our i my me not no can can't cannot could couldn't doesn't isn't don't do does
has have had will would should must may been any all each if then than so but into out up
""".split())

TYPO_DISTANCE = 1  # edits (2 for words of 8+ letters) within which an unknown word is read as a KB word

_TOKEN = re.compile(r"[a-z0-9_]+|#")
_ERROR_HEADER = re.compile(r"^(?:[\w ]{0,20}?\b)?(?:export|sync)?\s*error\s*:\s*|^:\s*", re.IGNORECASE)


_PLAIN = re.compile(r"[^a-z0-9_]+")


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light plural fold, so 'permissions' meets 'permission' and 'locations' meets 'location'."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def is_term(word: str) -> bool:
    return len(word) > 1 and word not in STOPWORDS and not word[0].isdigit() and word != "#"


def words(masked: str) -> list[str]:
    """The retrieval terms of a masked text (`is_term`, written out: a call per word costs more than the test)."""
    return [w for w in map(stem, _TOKEN.findall(masked))
            if len(w) > 1 and w not in STOPWORDS and not w[0].isdigit() and w != "#"]


def tokens(masked: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
    """Every word of a masked text (stopwords and '#' included, plurals folded) with its character span."""
    found = list(_TOKEN.finditer(masked))
    return tuple(stem(m.group()) for m in found), tuple(m.span() for m in found)


def spans(masked: str) -> tuple[tuple[int, int], ...]:
    """Where each word of `tokens(masked)` is."""
    return tuple([m.span() for m in _TOKEN.finditer(masked)])


def error_text(message: str, codes: CodeFinder) -> str:
    """A KB message as the matcher compares it: code and 'Export Error:' header removed, masked."""
    text = clean(message)
    if codes.leading(text):
        text = codes.strip(text, count=1)
    return mask(_ERROR_HEADER.sub("", text.strip(), count=1))


class Speller:
    """Reads a misspelt word as the nearest word of a vocabulary ('permision' -> 'permission'): within
    TYPO_DISTANCE edits (one more for words of 8 letters or more), nearest first, then the more common.
    Every word read is remembered (up to 50 000, then forgotten all at once)."""

    def __init__(self, rarity: dict[str, float], fold=lambda word: word) -> None:
        """`rarity`: the vocabulary, each word with its IDF; `fold`: applied to a word first (plurals)."""
        self.rarity = rarity
        self.fold = fold
        self._by_length: dict[int, list[str]] = defaultdict(list)
        for term in rarity:
            self._by_length[len(term)].append(term)
        self._read_as: dict[str, str] = {}

    def correct(self, raw: str) -> str:
        known = self._read_as.get(raw)
        return known if known is not None else self._read(raw)

    def _read(self, raw: str) -> str:
        word = best = self.fold(raw)
        if len(word) >= 5 and word not in self.rarity and word.isalpha():
            limit = TYPO_DISTANCE + (len(word) >= 8)
            near = [(distance, -fuzz.ratio(word, found), self.rarity[found], found)
                    for length in range(len(word) - limit, len(word) + limit + 1)
                    for found, distance, _ in process.extract(
                        word, self._by_length.get(length, ()), scorer=OSA.distance, score_cutoff=limit, limit=None)]
            best = min(near)[3] if near else word
        if len(self._read_as) > 50_000:
            self._read_as.clear()
        self._read_as[raw] = best
        return best


@dataclass(frozen=True)
class Doc:
    entry_id: str
    text: str               # masked, compared with rapidfuzz
    terms: frozenset[str]   # retrieval terms
    kind: str               # "message" or "question"
    faq_index: int = -1
    words: tuple[str, ...] = ()
    spans: tuple[tuple[int, int], ...] = ()


def prefix_sums(values) -> tuple:
    """0, then each running total (added left to right)."""
    return tuple(accumulate(values, initial=0))


@dataclass(frozen=True)
class DocSums:
    """Running totals over a wording's words, so the aligner sums any stretch in constant time."""

    weight: tuple[float, ...]   # IDF weight
    masks: tuple[int, ...]      # '#' placeholders
    terms: tuple[int, ...]      # words that carry weight

    @classmethod
    def of(cls, words, weights) -> DocSums:
        return cls(prefix_sums(weights), prefix_sums(w == MASK for w in words), prefix_sums(w > 0 for w in weights))


class SearchIndex:
    def __init__(self, kb: KnowledgeBase) -> None:
        self.codes: dict[str, str] = {}
        self.docs: list[Doc] = []
        self.answer_terms: dict[tuple[str, int], frozenset[str]] = {}
        finder = kb.codes
        for entry in kb:
            code = finder.leading(entry.message) or (entry.id if finder.is_code(entry.id) else "")
            if code:
                self.codes[code] = entry.id
            for message in entry.messages:
                self._add(Doc(entry.id, error_text(message, finder), frozenset(), "message"))
            for i, qa in enumerate(entry.faq):
                for question in (qa.q, *qa.also):
                    self._add(Doc(entry.id, mask(clean(question)), frozenset(), "question", i))
                self.answer_terms[(entry.id, i)] = frozenset(words(_PLAIN.sub(" ", qa.a.lower())))
        self._build_postings()

    def _add(self, doc: Doc) -> None:
        all_words, spans = tokens(doc.text)
        terms = frozenset(w for w in all_words if is_term(w))
        if terms:
            self.docs.append(Doc(doc.entry_id, doc.text, terms, doc.kind, doc.faq_index, all_words, spans))

    def _build_postings(self) -> None:
        postings: dict[str, list[int]] = defaultdict(list)
        for i, doc in enumerate(self.docs):
            for term in doc.terms:
                postings[term].append(i)
        n = max(len(self.docs), 1)
        self.idf = {t: math.log(1 + n / len(ids)) for t, ids in postings.items()}
        self.weights = {t: w for t, w in self.idf.items() if t not in STOPWORDS}  # see term_weight
        self.postings = {kind: defaultdict(list) for kind in ("message", "question")}
        for term, ids in postings.items():
            for i in ids:
                self.postings[self.docs[i].kind][term].append(i)
        self.doc_weight = [sum(self.idf[t] for t in doc.terms) for doc in self.docs]
        self.word_weights = [tuple(self.term_weight(w) for w in doc.words) for doc in self.docs]
        self.word_ids: dict[str, int] = {}
        for doc in self.docs:
            for w in doc.words:
                self.word_ids.setdefault(w, len(self.word_ids))
        self.doc_word_ids = [[self.word_ids[w] for w in doc.words] for doc in self.docs]
        self.doc_term_counts = [Counter(w for w in doc.words if w in doc.terms) for doc in self.docs]
        self.doc_max_weight = [max(weights, default=0.0) for weights in self.word_weights]
        self.doc_sums = [DocSums.of(doc.words, weights) for doc, weights in zip(self.docs, self.word_weights,
                                                                                strict=True)]
        self.docs_of: dict[tuple[str, str], list[int]] = defaultdict(list)
        for i, doc in enumerate(self.docs):
            self.docs_of[(doc.entry_id, doc.kind)].append(i)
        self.speller = Speller(self.idf, stem)
        # correct(word): the KB word a misspelt word stands for ('permision' -> 'permission'), else the word
        # itself, plurals folded first (`stem`). The speller's own method, not a wrapper: it runs per word.
        self.correct = self.speller.correct

    def read(self, masked: str) -> tuple[str, ...]:
        """The words of a masked text as the KB reads them: `tokens`, with misspelt words corrected."""
        correct = self.correct
        return tuple([correct(w) for w in _TOKEN.findall(masked)])

    def query_ids(self, words) -> list[int]:
        """Words as integers, the KB's numbering (rapidfuzz aligns integers faster than strings); a word
        the KB does not use gets a negative number of its own. Nothing shared is changed (threads)."""
        known, unknown = self.word_ids, {}
        return [known.get(w) if w in known else unknown.setdefault(w, -1 - len(unknown)) for w in words]

    def term_weight(self, term: str) -> float:
        """IDF of a content word; 0 for stopwords, masks and words the KB does not use."""
        return self.weights.get(term, 0.0)

    def candidates(self, terms: set[str], kind: str, limit: int) -> list[tuple[int, float, float]]:
        """Docs of `kind` sharing the most weighted terms with `terms`:
        (doc index, share of the doc's weight, that weight)."""
        gained: dict[int, float] = {}
        add = gained.get
        postings, idf = self.postings[kind], self.idf
        for term in terms:
            ids = postings.get(term)
            if ids is None:
                continue
            w = idf[term]
            for i in ids:
                gained[i] = add(i, 0.0) + w
        weight = self.doc_weight
        # sorted() is stable like heapq.nlargest, and cheaper on the few dozen docs a paste touches
        return sorted([(i, g / weight[i], g) for i, g in gained.items()], key=itemgetter(1), reverse=True)[:limit]
