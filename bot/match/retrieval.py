"""Retrieval over whole entries: what a message is about, when it describes or asks rather than pastes.

Every field that says what an entry is about is indexed (its message and variants, title, summary,
causes, fix titles and steps, FAQ questions with their other phrasings, FAQ answers, and `describes`),
weighted by field, and scored BM25F-style: per field, a term's count is normalised by the field's
length, the fields' weighted counts summed, then saturated. Adjacent word pairs are terms too, so "period
closed" counts for more than "period" and "closed" apart. Words are stemmed (Snowball), typos read as
the nearest KB word, and the systems' own names left out: which system a message names is evidence of
its own (the decision weighs it), not a word to match.
"""

from __future__ import annotations

import functools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import snowballstemmer

from bot.kb import Entry, KnowledgeBase
from bot.match.index import STOPWORDS, Speller, tokens
from bot.match.normalize import clean, mask

_STEMMER = snowballstemmer.stemmer("english")
RESCORED = 60  # documents the rarer terms ranked highest, to which the common terms are added


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    return _STEMMER.stemWord(word)


@dataclass(frozen=True)
class RetrievalSettings:
    fields: dict[str, float]   # field name -> weight
    k1: float = 1.2            # saturation of a term's weighted count
    b: float = 0.75            # how much a field's length normalises its counts
    bigram: float = 1.0        # weight of an adjacent pair of words, relative to a word
    candidates: int = 5        # entries passed on to the decision
    common: float = 0.3        # terms in more than this share of the documents are added last (see EntryIndex)

    @classmethod
    def of(cls, data: dict) -> RetrievalSettings:
        return cls(dict(data["fields"]), data.get("k1", 1.2), data.get("b", 0.75), data.get("bigram", 1.0),
                   data.get("candidates", 5), data.get("common", 0.3))


def entry_fields(entry: Entry, item: int = -1) -> dict[str, list[str]]:
    """An entry's texts, per field; with `item`, of that FAQ item only (its question and answer beside the
    entry's title and summary): an FAQ page holds many answers, and a question is about one of them."""
    faq = entry.faq if item < 0 else entry.faq[item:item + 1]
    return {
        "message": list(entry.messages),
        "title": [entry.title],
        "summary": [entry.summary],
        "causes": list(entry.causes),
        "fix_titles": [fix.title for fix in entry.fixes],
        "steps": [step for fix in entry.fixes for step in fix.steps],
        "faq_q": [text for qa in faq for text in (qa.q, *qa.also)],
        "faq_a": [qa.a for qa in faq],
        "describes": list(entry.describes),
    }


def documents(entry: Entry) -> list[tuple[int, dict[str, list[str]]]]:
    """(FAQ item or -1, texts): one document for an error entry, one per item for an FAQ page."""
    if entry.is_faq and entry.faq:
        return [(i, entry_fields(entry, i)) for i in range(len(entry.faq))]
    return [(-1, entry_fields(entry))]




@dataclass
class Found:
    """What retrieval found for one message."""

    ranked: list[tuple[str, float]] = field(default_factory=list)  # (entry id, score), best first
    matched: dict[str, int] = field(default_factory=dict)      # entry id -> distinct words it shares
    matched_weight: dict[str, float] = field(default_factory=dict)  # entry id -> IDF of the words shared
    pairs: dict[str, int] = field(default_factory=dict)        # entry id -> adjacent pairs it shares
    items: dict[str, int] = field(default_factory=dict)        # FAQ page id -> the item that scored
    best_possible: float = 1e-9   # the score of an entry holding every term of the message
    words: int = 0                # distinct words of the message retrieval reads
    known: int = 0                # ... of them, those the index holds


class EntryIndex:
    def __init__(self, kb: KnowledgeBase, settings: RetrievalSettings) -> None:
        self.kb = kb
        self.settings = settings
        self.ignored = STOPWORDS | kb.systems.name_words
        raw_counts: Counter = Counter()
        docs: list[tuple[str, int, dict[str, list[str]]]] = []
        read: dict[str, list[str]] = {}  # an FAQ page's items share its title, summary and fixes: read each once
        for entry in kb:
            for item, texts in documents(entry):
                words = {name: [w for text in parts for w in self._read_once(text, read)]
                         for name, parts in texts.items() if settings.fields.get(name)}
                raw_counts.update({w for ws in words.values() for w in ws})
                docs.append((entry.id, item, {name: [stem(w) for w in ws] for name, ws in words.items()}))
        n = max(len(docs), 1)
        self.speller = Speller({w: math.log(1 + n / c) for w, c in raw_counts.items()})
        self.docs = [(entry_id, item) for entry_id, item, _ in docs]
        average = {name: sum(len(f.get(name, ())) for _, _, f in docs) / n + 1e-9 for name in settings.fields}
        weighted = [self._weighted_counts(fields, average) for _, _, fields in docs]
        frequency: Counter = Counter(term for counts in weighted for term in counts)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in frequency.items()}
        # each posting holds the term's whole share of the score (the query's own counts are not weighed),
        # so a search is one addition per posting; what a candidate shares is counted afterwards, for the
        # few that are passed on
        k1 = settings.k1
        # Terms in more than `common` of the documents ("export", "report") have long posting lists and
        # small weights: they are added only to the documents the other terms ranked highest.
        common = settings.common * n
        self.postings: dict[object, list[tuple[int, float]]] = defaultdict(list)
        self.common_shares: list[dict[object, float]] = [{} for _ in docs]
        for d, counts in enumerate(weighted):
            for term, count in counts.items():
                share = self.idf[term] * count * (k1 + 1) / (count + k1)
                if frequency[term] <= common:
                    self.postings[term].append((d, share))
                else:
                    self.common_shares[d][term] = share
        self.common = {t for t, c in frequency.items() if c > common}
        self.system_of = {entry.id: entry.system for entry in kb}
        self.doc_terms = [frozenset(counts) for counts in weighted]

    def _weighted_counts(self, fields: dict[str, list[str]], average: dict[str, float]) -> dict:
        s = self.settings
        weighted: dict[object, float] = defaultdict(float)
        for name, words in fields.items():
            weight = s.fields[name]
            norm = 1 - s.b + s.b * len(words) / average[name]
            for term, count in Counter(words).items():
                weighted[term] += weight * count / norm
            if s.bigram:
                for pair, count in Counter(zip(words, words[1:], strict=False)).items():
                    weighted[pair] += s.bigram * weight * count / norm
        return weighted

    def _read_once(self, text: str, read: dict[str, list[str]]) -> list[str]:
        words = read.get(text)
        if words is None:
            words = read[text] = self._words(text)
        return words

    def _content(self, word: str) -> bool:
        """Not a stopword, a digit, a mask or a system's name."""
        return len(word) > 1 and word not in self.ignored and not word[0].isdigit() and word != "#"

    def _words(self, text: str) -> list[str]:
        """The content words of a text, in order."""
        return [w for w in tokens(mask(clean(text)))[0] if self._content(w)]

    def terms(self, masked: str) -> list[str]:
        """A masked message's terms as the index holds them: content words, typos read, stemmed."""
        correct = self.speller.correct
        read = [correct(w) for w in tokens(masked)[0] if self._content(w)]
        return [stem(w) for w in read if w not in self.ignored]

    def search(self, masked: str, systems: set[str] | None = None, keep: int = 10) -> Found:
        """Entries sharing the message's terms, best first (an FAQ page by its best item); only those of
        `systems` when given. What the `keep` best share with the message is counted for the decision."""
        words = self.terms(masked)
        query: Counter = Counter(words)
        unique = len(query)
        if self.settings.bigram:
            query.update(zip(words, words[1:], strict=False))
        scores: dict[int, float] = defaultdict(float)
        best_possible = 1e-9
        k1 = self.settings.k1
        postings, idf_of = self.postings, self.idf
        known = [term for term in query if term in idf_of]
        common = [term for term in known if term in self.common]
        for term in known:
            best_possible += idf_of[term] * (k1 + 1)
            if term not in self.common:
                for d, share in postings[term]:
                    scores[d] += share
        if common:
            shortlist = sorted(scores, key=scores.__getitem__, reverse=True)[:RESCORED] if scores else range(
                len(self.docs))
            for d in shortlist:
                shares = self.common_shares[d]
                scores[d] += sum(shares.get(term, 0.0) for term in common)
        best: dict[str, int] = {}
        for d, score in scores.items():
            entry_id = self.docs[d][0]
            if entry_id not in best or score > scores[best[entry_id]]:
                best[entry_id] = d
        if systems:
            system_of = self.system_of
            best = {e: d for e, d in best.items() if system_of[e] in systems}
        ranked = sorted(((e, scores[d]) for e, d in best.items()), key=lambda es: es[1], reverse=True)
        singles = {t for t in known if not isinstance(t, tuple)}
        pairs_asked = set(known) - singles
        found = Found(ranked, best_possible=best_possible, words=unique,
                      known=sum(1 for w in set(words) if w in idf_of))
        for entry_id, _ in ranked[:keep]:
            terms = self.doc_terms[best[entry_id]]
            shared = singles & terms
            found.matched[entry_id] = len(shared)
            found.matched_weight[entry_id] = sum(idf_of[t] for t in shared)
            found.pairs[entry_id] = len(pairs_asked & terms)
            item = self.docs[best[entry_id]][1]
            if item >= 0:
                found.items[entry_id] = item
        return found

    def best_item(self, entry: Entry, masked: str) -> tuple[str, int]:
        """The FAQ item ("faq", i) or fix ("fix", i) of an entry that shares the most weight with the
        message, or ("", -1) when none shares any."""
        terms = set(self.terms(masked))
        idf = self.idf
        best, where = 0.0, ("", -1)
        items = [("faq", i, (qa.q, *qa.also, qa.a)) for i, qa in enumerate(entry.faq)]
        items += [("fix", i, (fix.title, *fix.steps)) for i, fix in enumerate(entry.fixes)]
        for kind, i, texts in items:
            item_terms = {stem(w) for text in texts for w in self._words(text)}
            weight = sum(idf.get(t, 0.0) for t in terms & item_terms)
            if weight > best:
                best, where = weight, (kind, i)
        return where
