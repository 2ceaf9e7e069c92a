"""The peer Fixit is measured against: a plain BM25 over the published help articles.

Each article of `../shared/reference/help-articles/` is one document (its Markdown as it is), mapped to
the KB entry that links to it. A message is answered with the best article's entry when its score clears
a threshold; the threshold is tuned on the very set being scored (the most exact answers while staying
silent on at least 99 % of that set's chatter), which flatters the peer. Lower-case words, English
stopwords out, no stemming, k1 = 1.2, b = 0.75.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ARTICLES = ROOT.parent / "shared" / "reference" / "help-articles"
_WORD = re.compile(r"[a-z0-9]+")
STOP = frozenset("""a an the and or of to in on for at by be is are was were it its this that these those with as from
i my me we our you your he she they them not no can do does did has have had will would should could if then
than so but into out up about what when where which who how why there here""".split())
K1, B = 1.2, 0.75
SILENCE = 0.99


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOP and len(w) > 1]


class ArticleBM25:
    def __init__(self, kb, articles: Path = ARTICLES) -> None:
        by_source = {}
        for row in csv.DictReader((articles / "INDEX.tsv").open(encoding="utf-8"), delimiter="\t"):
            key = row["source_path"].removeprefix("docs/articles/").removesuffix(".md")
            by_source[key] = articles / row["saved_path"]
        self.docs: list[tuple[str, Counter, int]] = []
        for entry in kb:
            for link in entry.links:
                key = link.url.split("help.expensify.com/articles/")[-1].split("#")[0].removesuffix(".md")
                path = by_source.get(key)
                if path and path.is_file():
                    terms = words(path.read_text(encoding="utf-8"))
                    self.docs.append((entry.id, Counter(terms), len(terms)))
        n = len(self.docs)
        self.average = sum(length for _, _, length in self.docs) / max(n, 1)
        frequency = Counter(t for _, counts, _ in self.docs for t in counts)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in frequency.items()}
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, (_, counts, _) in enumerate(self.docs):
            for t, c in counts.items():
                self.postings[t].append((i, c))

    def rank(self, text: str) -> list[tuple[str, float]]:
        scores: dict[int, float] = defaultdict(float)
        for t in set(words(text)):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for i, c in self.postings[t]:
                norm = K1 * (1 - B + B * self.docs[i][2] / self.average)
                scores[i] += idf * c * (K1 + 1) / (c + norm)
        best: dict[str, float] = {}
        for i, s in scores.items():
            entry_id = self.docs[i][0]
            best[entry_id] = max(best.get(entry_id, 0.0), s)
        return sorted(best.items(), key=lambda es: es[1], reverse=True)


def tuned_scores(peer: ArticleBM25, rows: list[dict]) -> tuple[float, dict[str, tuple[int, int]]]:
    """(threshold, kind -> (right, total)): the threshold that answers the most labelled rows exactly while
    leaving at least SILENCE of the chatter rows silent, and the tallies it gives."""
    ranked = [(row, peer.rank(row["text"])) for row in rows]
    chatter = sorted((r[0][1] for row, r in ranked if not row["expect"] and r), reverse=True)
    allowed = int((1 - SILENCE) * sum(1 for row, _ in ranked if not row["expect"]))
    floor = chatter[allowed] if allowed < len(chatter) else 0.0
    candidates = sorted({s for _, r in ranked if r for _, s in r[:1] if s > floor} | {floor + 1e-9})
    best = (None, -1, {})
    for threshold in candidates:
        tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        right = 0
        for row, r in ranked:
            answer = {r[0][0]} if r and r[0][1] >= threshold else set()
            ok = answer == {x.upper() for x in row["expect"]}
            kind = row.get("kind") or ("chatter" if not row["expect"] else "paste")
            tally[kind][0] += ok
            tally[kind][1] += 1
            right += ok and bool(row["expect"])
        if right > best[1]:
            best = (threshold, right, {k: (v[0], v[1]) for k, v in tally.items()})
    return best[0] or 0.0, best[2]
