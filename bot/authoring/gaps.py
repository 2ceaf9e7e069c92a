"""`kb gaps`: what the knowledge base is missing, from what people pasted and what they voted down.

Pastes that matched nothing, of the last N days, grouped into clusters of the same error: pastes naming the
same codes are one error (an unknown code, NS9999, is the strongest key there is); else pastes of the same
wording once ids, dates and amounts are masked; else pastes whose masked wording is alike (a truncated copy,
one with chatter around it, another case): rapidfuzz token_set_ratio of at least SIMILAR, and CONTAINED of
the shorter one's content words (at least MIN_SHARED_WORDS) in the other, linked single-linkage against up
to REPRESENTATIVES distinct wordings of each cluster. Pastes naming different codes are never linked.
Candidate clusters come from an inverted index of words, so a run costs about linear time in the pastes
read, which are the newest MAX_PASTES of the window. Beside them: the unknown codes by count, and the
entries answered and voted "Not it".
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from rapidfuzz import fuzz

from bot.kb import KnowledgeBase
from bot.match import Matcher
from bot.match.index import is_term
from bot.match.matcher import named_codes
from bot.match.normalize import MASK, clean, mask
from bot.render.renderer import clip
from bot.store.existing import existing_store
from bot.wording import counted

MAX_PASTES = 5000        # pastes read per run: the newest of the window
SIMILAR = 85.0           # token_set_ratio (0-100) of two masked wordings of one error
MIN_SHARED_WORDS = 4     # ... which also share this many content words (a bare "export error" links nothing)
CONTAINED = 0.8          # ... and this share of the content words of the shorter one
REPRESENTATIVES = 5      # distinct wordings of a cluster a new one is compared with (its most frequent)
CANDIDATE_CLUSTERS = 10  # clusters compared with, those sharing the most words
POSTINGS = 32            # clusters remembered per word (the most recent)
CLOSEST_FOR = 200        # clusters whose closest entry is looked up (the biggest)
SAMPLES = 2
CODE_SHAPES = 20         # code mentions looked at per paste
GAPS_SECONDS = 60.0      # RecentGaps: worked out at most this often per team (clustering reads the whole window)
GAPS_DAYS = 30           # ... over this many days

_WORD = re.compile(r"[^\W_]+")


@dataclass
class ClosestEntry:
    id: str
    title: str
    score: float   # 0-100: the matcher's score when it answers or suggests; retrieval's share of its best else
    how: str       # "answers" (the KB answers it now), "suggests", or "retrieval" (nearest by its words)
    message: str = ""  # the entry's error message ('' for an FAQ page)


@dataclass
class Cluster:
    count: int
    first_seen: str                 # ISO date (UTC)
    last_seen: str
    samples: list[str]              # the shortest texts as stored, of different wordings when there are
    codes: list[str] = field(default_factory=list)          # every code the pastes name, most named first
    unknown_codes: list[str] = field(default_factory=list)  # ... of them, those no entry has
    channels: int = 0
    closest: ClosestEntry | None = None  # None: no entry shares its words, or past the CLOSEST_FOR biggest


@dataclass
class UnknownCode:
    code: str
    count: int      # pastes naming it
    system: str     # the system whose code family it belongs to


@dataclass
class VotedDown:
    entry_id: str
    title: str      # '' when the entry is no longer in the knowledge base
    down: int       # "Not it" votes in the window
    up: int         # "Helpful" votes in the window
    last_down: str  # ISO date (UTC)


@dataclass
class Gaps:
    days: int
    team: str | None
    since: str                 # ISO date (UTC) the window starts
    pastes: int                # unmatched pastes in the window
    read: int                  # ... of them, clustered (the newest MAX_PASTES)
    clusters: list[Cluster] = field(default_factory=list)
    unknown_codes: list[UnknownCode] = field(default_factory=list)
    voted_down: list[VotedDown] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def iso_date(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()


@dataclass
class _Variant:
    """The pastes of one exact key: the same codes and the same masked wording."""

    codes: tuple[str, ...]
    wording: str                 # masked words, '#' and punctuation left out
    words: frozenset[str]        # its content words
    rows: list[tuple[str, str, float]] = field(default_factory=list)


def knowledge_gaps(store, kb: KnowledgeBase, matcher: Matcher, days: int = 30, team: str | None = None) -> Gaps:
    """The clusters of unmatched pastes, unknown codes and voted-down entries of the last `days` days (of
    `team` and of rows from before teams were recorded; of every team when None). `store` is a Store or a
    ResilientStore (whose reads give nothing while its database is down)."""
    now = datetime.now(UTC).timestamp()
    rows = store.unmatched_since(days, team, MAX_PASTES)
    total = store.unmatched_count(days, team)
    variants = _variants(rows, kb, matcher)
    described = [_cluster(group, matcher) for group in _link(variants)]
    described.sort(key=lambda cl: cl[0].samples)
    described.sort(key=lambda cl: cl[0].last_seen, reverse=True)
    described.sort(key=lambda cl: cl[0].count, reverse=True)
    clusters = [cluster for cluster, _ in described]
    for cluster, leader in described[:CLOSEST_FOR]:
        cluster.closest = closest_entry(leader, matcher)
    return Gaps(days, team, iso_date(now - days * 86400), max(total, len(rows)), len(rows), clusters,
                _unknown_codes(variants, kb, matcher), _voted_down(store.votes_since(days, team), kb))


# -- the pastes, by exact key --

def wording_of(text: str, kb: KnowledgeBase) -> str:
    """The masked words of a paste, its codes, masks and punctuation left out."""
    return " ".join(w for w in _WORD.findall(mask(kb.codes.strip(text))) if w != MASK)


def _variants(rows, kb: KnowledgeBase, matcher: Matcher) -> list[_Variant]:
    by_key: dict[tuple, _Variant] = {}
    for row in rows:
        cleaned = clean(row[0])
        codes = tuple(sorted({m.code for m in named_codes(cleaned, kb, CODE_SHAPES)}))
        wording = wording_of(cleaned, kb)
        key = (codes, wording)
        variant = by_key.get(key)
        if variant is None:
            words = frozenset(w for w in wording.split() if is_term(w))
            variant = by_key[key] = _Variant(codes, wording, words)
        variant.rows.append(row)
    # most pasted first: a cluster's representatives are its most frequent wordings
    return sorted(by_key.values(), key=lambda v: (-len(v.rows), -len(v.wording), v.wording))


# -- linking them --

class _Clusters:
    """Union-find over variants, each cluster with its codes and representatives."""

    def __init__(self, variants: list[_Variant]) -> None:
        self.parent = list(range(len(variants)))
        self.codes = [set(v.codes) for v in variants]
        self.reps = [[i] for i in range(len(variants))]

    def find(self, i: int) -> int:
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def compatible(self, a: int, b: int) -> bool:
        """Pastes naming different codes are different errors, however alike their words."""
        return not self.codes[a] or not self.codes[b] or self.codes[a] == self.codes[b]

    def union(self, a: int, b: int) -> int:
        a, b = self.find(a), self.find(b)
        if a == b:
            return a
        if b < a:
            a, b = b, a
        self.parent[b] = a
        self.codes[a] |= self.codes[b]
        self.reps[a] = sorted(self.reps[a] + self.reps[b])[:REPRESENTATIVES]
        return a


def _link(variants: list[_Variant]) -> list[list[_Variant]]:
    clusters = _Clusters(variants)
    by_codes: dict[tuple[str, ...], int] = {}
    for i, v in enumerate(variants):
        if v.codes:
            clusters.union(by_codes.setdefault(v.codes, i), i)
    postings: dict[str, list[int]] = defaultdict(list)
    for i, v in enumerate(variants):
        shared: Counter = Counter()
        for word in v.words:
            posting = postings[word]
            if len(posting) > 2 * POSTINGS:
                posting[:] = list(dict.fromkeys(clusters.find(j) for j in posting))[-POSTINGS:]
            shared.update({clusters.find(j) for j in posting})
        for root, n in shared.most_common(CANDIDATE_CLUSTERS):
            if n < MIN_SHARED_WORDS:
                break
            root, mine = clusters.find(root), clusters.find(i)
            if root == mine or not clusters.compatible(root, mine):
                continue
            if any(_alike(v, variants[r]) for r in clusters.reps[root]):
                clusters.union(root, mine)
        for word in v.words:
            postings[word].append(i)
    groups: dict[int, list[_Variant]] = defaultdict(list)
    for i, v in enumerate(variants):
        groups[clusters.find(i)].append(v)
    return list(groups.values())


def _alike(a: _Variant, b: _Variant) -> bool:
    """Nearly every content word of the shorter wording is in the other (its last one may be cut off: the start
    of one of the other's words), and the two read alike."""
    small, large = (a, b) if len(a.words) <= len(b.words) else (b, a)
    shared = len(small.words & large.words)
    if shared < MIN_SHARED_WORDS:
        return False
    missing = len(small.words) - shared
    cut = small.wording.rpartition(" ")[2]
    if missing and len(cut) > 2 and cut not in large.words and any(w.startswith(cut) for w in large.words):
        missing -= 1
    return (shared >= CONTAINED * (shared + missing)
            and fuzz.token_set_ratio(a.wording, b.wording, score_cutoff=SIMILAR) >= SIMILAR)


# -- what is said of a cluster --

def _cluster(group: list[_Variant], matcher: Matcher) -> tuple[Cluster, str]:
    """The cluster, and the text its closest entry is looked up with."""
    rows = [row for v in group for row in v.rows]
    times = [at for _, _, at in rows]
    texts = sorted({(len(text), text, v.wording) for v in group for text, _, _ in v.rows})
    samples: list[str] = []
    wordings: set[str] = set()
    for another_wording in (True, False):  # the shortest texts, of different wordings when there are
        for _, text, wording in texts:
            if len(samples) == SAMPLES:
                break
            if text not in samples and not (another_wording and wording in wordings):
                samples.append(text)
                wordings.add(wording)
    codes = Counter(code for v in group for code in v.codes for _ in v.rows)
    known = matcher.index.codes
    ordered = [code for code, _ in sorted(codes.items(), key=lambda kv: (-kv[1], kv[0]))]
    leader = max(group[0].rows, key=lambda row: len(row[0]))[0]  # the most pasted wording, as written at length
    return Cluster(len(rows), iso_date(min(times)), iso_date(max(times)), samples, ordered,
                   [c for c in ordered if c not in known], len({channel for _, channel, _ in rows})), leader


def closest_entry(text: str, matcher: Matcher) -> ClosestEntry | None:
    """The entry the matcher would answer or suggest for the text, else the one retrieval ranks first."""
    kb = matcher.kb
    result = matcher.match(text)
    for hits, how in ((result.answers, "answers"), (result.suggestions, "suggests")):
        if hits and kb.get(hits[0].entry_id):
            return _closest(kb.get(hits[0].entry_id), hits[0].score, how)
    found = matcher.retrieval.search(mask(kb.codes.strip(clean(text))))
    if not found.ranked or not kb.get(found.ranked[0][0]):
        return None
    entry_id, score = found.ranked[0]
    return _closest(kb.get(entry_id), 100 * score / found.best_possible, "retrieval")


def _closest(entry, score: float, how: str) -> ClosestEntry:
    return ClosestEntry(entry.id, entry.title, round(score, 1), how, entry.messages[0] if entry.messages else "")


def _unknown_codes(variants: list[_Variant], kb: KnowledgeBase, matcher: Matcher) -> list[UnknownCode]:
    counts = Counter(code for v in variants for code in v.codes if code not in matcher.index.codes
                     for _ in v.rows)
    return [UnknownCode(code, n, getattr(kb.systems.of_code(code), "name", ""))
            for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]


def _voted_down(votes, kb: KnowledgeBase) -> list[VotedDown]:
    down: Counter = Counter()
    up: Counter = Counter()
    last: dict[str, float] = {}
    for entry_id, vote, at in votes:
        if vote == "down":
            down[entry_id] += 1
            last[entry_id] = max(at, last.get(entry_id, at))
        elif vote == "up":
            up[entry_id] += 1
    return [VotedDown(entry_id, kb.get(entry_id).title if kb.get(entry_id) else "", n, up[entry_id],
                      iso_date(last[entry_id]))
            for entry_id, n in sorted(down.items(), key=lambda kv: (-kv[1], kv[0]))]


# -- the terminal --

SAMPLE_CHARS = 160


def format_gaps(gaps: Gaps) -> str:
    whose = f" of team {gaps.team}" if gaps.team else ""
    out = [f"Knowledge gaps{whose}, the last {counted(gaps.days, 'day')} (since {gaps.since}): "
           f"{counted(gaps.pastes, 'unmatched paste')} in {counted(len(gaps.clusters), 'cluster')}"
           + (f" (the newest {gaps.read} read)" if gaps.read < gaps.pastes else "")]
    for n, c in enumerate(gaps.clusters, 1):
        seen = c.first_seen if c.first_seen == c.last_seen else f"{c.first_seen} to {c.last_seen}"
        out += ["", f"{n}. {counted(c.count, 'paste')} in {counted(c.channels, 'channel')}, {seen}"]
        if c.codes:
            out.append("   codes: " + ", ".join(f"{code} (unknown)" if code in c.unknown_codes else code
                                                for code in c.codes))
        out += [f"   > {_shortened(text)}" for text in c.samples]
        if c.closest:
            how = {"answers": "answered now by", "suggests": "suggests", "retrieval": "nearest by its words"}
            said = c.closest.message or c.closest.title
            out.append(f"   closest: {c.closest.id} ({how[c.closest.how]}, score {c.closest.score:g}): "
                       f"{_shortened(said, SAMPLE_CHARS - 40)}")
        else:
            out.append("   closest: none")
    if gaps.unknown_codes:
        out += ["", "Unknown codes:"]
        out += [f"  {u.code:<10} {counted(u.count, 'paste'):>10}  {u.system}" for u in gaps.unknown_codes]
    out += ["", "Answered and voted Not it:" if gaps.voted_down else "No answer was voted Not it."]
    for v in gaps.voted_down:
        helpful = f", Helpful {counted(v.up, 'time')}" if v.up else ""
        title = v.title or "(no longer in the knowledge base)"
        out.append(f"  answered {v.entry_id} {title}, voted Not it {counted(v.down, 'time')}{helpful} "
                   f"(last {v.last_down})")
    return "\n".join(out)


def _shortened(text: str, chars: int = SAMPLE_CHARS) -> str:
    return clip(" ".join(text.split()), chars)


# -- the store, for the command line --

def read_gaps(url: str, kb: KnowledgeBase, matcher: Matcher, days: int = 30, team: str | None = None) -> Gaps:
    """`knowledge_gaps` of the Store at `url` (StoreUnreachable, one line, when it cannot be read)."""
    with existing_store(url) as store:
        return knowledge_gaps(store, kb, matcher, days, team)


class RecentGaps:
    """The gaps last worked out, by team, store and knowledge base (a reload is a new one), for GAPS_SECONDS; at
    most MAX_TEAMS kept."""

    MAX_TEAMS = 100

    def __init__(self) -> None:
        self._by_team: dict[tuple[str, int, int], tuple[float, object]] = {}
        self._lock = threading.Lock()

    def of(self, store, fixit, team: str) -> Gaps:
        """The gaps of `team`'s unmatched pastes in `store` against `fixit`'s knowledge base."""
        now = time.monotonic()
        key = (team, id(store), id(fixit))
        with self._lock:
            at, gaps = self._by_team.get(key, (0.0, None))
            if gaps is not None and now - at < GAPS_SECONDS:
                return gaps
        gaps = knowledge_gaps(store, fixit.kb, fixit.matcher, days=GAPS_DAYS, team=team)
        with self._lock:
            self._by_team[key] = (now, gaps)
            while len(self._by_team) > self.MAX_TEAMS:
                self._by_team.pop(next(iter(self._by_team)))
        return gaps
