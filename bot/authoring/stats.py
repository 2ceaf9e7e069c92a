"""`kb stats`: what the KB holds, what entries lack, and where collisions will come from."""

from __future__ import annotations

import datetime
from collections import Counter

from rapidfuzz import fuzz, process

from bot.kb import Entry, KnowledgeBase
from bot.match.index import error_text

STALE_DAYS = 365


def closest_pairs(kb: KnowledgeBase, top: int = 5) -> list[tuple[float, str, str]]:
    texts = [(e.id, error_text(m, kb.codes)) for e in kb for m in e.messages]
    if len(texts) < 2:
        return []
    choices = [t for _, t in texts]
    pairs: dict[tuple[str, str], float] = {}
    for a, text in texts:
        for _, score, j in process.extract(text, choices, scorer=fuzz.ratio, limit=8):
            b = texts[j][0]
            if a != b:
                key = tuple(sorted((a, b)))
                pairs[key] = max(pairs.get(key, 0.0), float(score))
    ranked = sorted(((score, a, b) for (a, b), score in pairs.items()), reverse=True)
    return ranked[:top]


def format_stats(kb: KnowledgeBase) -> str:
    by_system = Counter(e.system for e in kb)
    by_kind = Counter((e.system, e.kind) for e in kb)
    kinds = sorted({e.kind for e in kb})
    width = max([len(s) for s in by_system] + [6])
    out = [f"{'system':<{width}}  {'total':>5}  " + "  ".join(f"{k:>10}" for k in kinds)]
    for system, total in sorted(by_system.items()):
        out.append(f"{system:<{width}}  {total:>5}  " + "  ".join(f"{by_kind[(system, k)]:>10}" for k in kinds))
    out.append(f"{'all':<{width}}  {len(kb):>5}")
    lacking = {
        "fewer than 3 examples": [e.id for e in kb if len(e.examples) < 3],
        "no FAQ": [e.id for e in kb if not e.faq],
        "no fixes": [e.id for e in kb if not e.fixes and not e.is_faq],
        "no links": [e.id for e in kb if not e.links],
    }
    for what, ids in lacking.items():
        out.append(f"entries with {what}: {len(ids)}" + (f" ({', '.join(ids)})" if ids else ""))
    if kb.drafts:
        out.append(f"drafts (not served until reviewed): {len(kb.drafts)} ({', '.join(sorted(kb.drafts))})")
    pairs = closest_pairs(kb)
    if pairs:
        out.append("closest pairs by message similarity (where collisions come from):")
        out += [f"  {score:5.1f}  {a} ~ {b}" for score, a, b in pairs]
    return "\n".join(out)


# -- freshness: entries nobody has checked against the product for a while --

def stale_entries(kb: KnowledgeBase, days: int = STALE_DAYS, today: datetime.date | None = None) -> list[Entry]:
    """The served entries whose `reviewed:` is more than `days` days ago, or that have none (never reviewed)."""
    today = today or datetime.date.today()
    return [e for e in kb if e.reviewed is None or (today - e.reviewed).days > days]


def answered_counts(database_url: str, days: int, limit: int) -> tuple[dict[str, int] | None, str]:
    """How often each entry was answered in the last `days` days, from the store at `database_url`
    (`Store.most_answered`); (None, why) when the store cannot be read. A SQLite file that is not there is
    not created."""
    from bot.store.existing import StoreUnreachable, existing_store

    try:
        with existing_store(database_url) as store:
            return dict(store.most_answered(days=days, limit=limit)), ""
    except StoreUnreachable as exc:
        return None, str(exc)


def format_stale(kb: KnowledgeBase, days: int, counts: dict[str, int] | None, why: str = "",
                 today: datetime.date | None = None) -> str:
    """The entries not reviewed for more than `days` days, most answered first (answers in those days), one a
    line: count, id, when last reviewed. Without `counts` (the store could not be read: `why`), oldest review
    first, and one line saying so."""
    stale = stale_entries(kb, days, today)
    never = datetime.date.min
    if counts is None:
        stale.sort(key=lambda e: (e.reviewed or never, e.id))
    else:
        stale.sort(key=lambda e: (-counts.get(e.id, 0), e.reviewed or never, e.id))
    out = [f"not reviewed for more than {days} days: {len(stale)} of {len(kb)}"
           + (" (most answered first, answers in those days)" if counts is not None and stale else "")]
    if counts is None:
        out.append(f"answer counts unavailable ({why}): listed without them, oldest review first")
    width = max([len(e.id) for e in stale] + [2])
    for e in stale:
        reviewed = f"reviewed {e.reviewed.isoformat()}" if e.reviewed else "never reviewed"
        count = "" if counts is None else f"{counts.get(e.id, 0):>6}  "
        out.append(f"  {count}{e.id:<{width}}  {reviewed}")
    return "\n".join(out)
