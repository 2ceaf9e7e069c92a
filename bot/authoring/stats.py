"""`kb stats`: what the KB holds, what entries lack, and where collisions will come from."""

from __future__ import annotations

from collections import Counter

from rapidfuzz import fuzz, process

from bot.kb import KnowledgeBase
from bot.match.index import error_text


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
    pairs = closest_pairs(kb)
    if pairs:
        out.append("closest pairs by message similarity (where collisions come from):")
        out += [f"  {score:5.1f}  {a} ~ {b}" for score, a, b in pairs]
    return "\n".join(out)
