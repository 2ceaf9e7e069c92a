"""`python -m bot fit`: fits the decision model on labelled messages and writes `bot/match/model.json`.

Every labelled message (and every KB entry's `examples`) is weighed by the matcher as it runs; each
candidate entry is one row (its features, and whether it is one of the entries the message expects).
Two logistic regressions (Newton's method, a little L2), one per group of candidates, are fitted on the
rows. The thresholds are set on out-of-fold probabilities (five folds: each message weighed by a model
that had not seen it): per group, the `answer` thresholds that answer the most labelled messages
exactly while chatter is answered at most `chatter_answered` of the time, then the lowest `suggest`
that offers chatter anything at most `chatter_offered` of the time. The held-out sets are never read.

numpy does the linear algebra (a development dependency: fitting is a development step; answering is a
dot product that needs nothing).
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

from bot.authoring.evaluate import read_labelled
from bot.kb import KnowledgeBase, read_chatter
from bot.match import Matcher
from bot.match.decision import GROUPS, Model, Weights, decide, feature_value, group_of
from bot.match.evidence import FEATURES, Evidence

ROOT = Path(__file__).resolve().parents[2]
DEV_SETS = [ROOT / "tests" / "data" / name for name in (
    "devset_generated.jsonl", "dev_pastes_handwritten.jsonl", "people_dev.jsonl", "people_dev2.jsonl",
    "people_dev2_chatter.jsonl", "dev_chatter.txt")]
# products of two features the model may weigh (evidence that only counts together)
PRODUCTS = [("retr_share", "trouble"), ("retr_words", "trouble"), ("retr_pairs", "trouble"),
            ("code_other_form", "code_error_line"), ("code_other_form", "code_not_a_code"), ("is_faq", "asks"),
            ("retr_top", "retr_weight"), ("retr_top", "retr_pairs"), ("retr_top", "trouble"),
            ("code_other_form", "names_its_system"), ("code_other_form", "trouble"), ("code_other_form", "code_a_code"),
            ("code_other_form", "code_alone"), ("paste_close", "paste_rivals"), ("retr_top", "paste_rivals"),
            ("faq_similarity", "is_faq"), ("code_word_prefix", "code_a_code"), ("code_spaced", "code_a_code"),
            ("code_hyphenated", "code_a_code"), ("code_lower", "code_a_code")]
# What the code group weighs: how the code was written, the words around it, and whether the rest of the
# message agrees (its wording aligns with the entry's message, retrieval ranks the entry first). Not how
# long the message is or how well its words match in detail: the chatter with code-like tokens in the dev
# sets is longer than the pastes of one code, and a model free to use such things learns the sets
# instead of the words around the code.
FOR_CODES = {"code_canonical", "code_other_form", "code_error_line", "code_alone", "code_not_a_code", "code_a_code",
             "code_spaced", "code_hyphenated", "code_lower", "code_short", "code_misread", "code_word_prefix",
             "unknown_code", "paste_message", "paste_close", "paste_score", "retr_top", "trouble", "asks",
             "names_its_system", "names_other_system"}
L2 = {"code": 1.0, "words": 0.1}  # few rows hold a code not written the canonical way: shrink that model harder
FOLDS = 5


@dataclass
class Labelled:
    text: str
    expect: set[str]
    kind: str
    evidence: Evidence | None = None


def read_sets(paths: list[Path]) -> list[Labelled]:
    """JSONL files of {"text", "expect", "kind"}, and plain-text chatter files (one line each, # comments)."""
    rows = []
    for path in paths:
        if path.suffix == ".txt":
            rows += [Labelled(line, set(), "chatter") for _, line in read_chatter(path)]
            continue
        labelled, bad = read_labelled(path)
        if bad:
            raise ValueError("\n".join(bad))
        for _, row in labelled:
            expect = {x.upper() for x in row.get("expect", [])}
            rows.append(Labelled(row["text"], expect, str(row.get("kind") or ("paste" if expect else "chatter"))))
    return rows


def vector(features: dict[str, float], names: list[str]) -> list[float]:
    return [feature_value(features, name) for name in names]


def newton(rows: list[list[float]], labels: list[float], l2: float, iterations: int = 40):
    import numpy as np

    x = np.array(rows, dtype=float)
    x = np.hstack([x, np.ones((len(rows), 1))])
    y = np.array(labels, dtype=float)
    w = np.zeros(x.shape[1])
    penalty = l2 * np.eye(x.shape[1])
    penalty[-1, -1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1 / (1 + np.exp(-np.clip(x @ w, -40, 40)))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return [float(v) for v in w[:-1]], float(w[-1])


def training_rows(items: list[Labelled], names: list[str], group: str):
    rows, labels = [], []
    for item in items:
        for c in item.evidence.candidates:
            if group_of(c.features) == group:
                rows.append(vector(c.features, names))
                labels.append(float(c.entry_id in item.expect))
    return rows, labels


def fitted(base: Model, items: list[Labelled], names: list[str]) -> Model:
    groups = {}
    every = names
    for group in GROUPS:
        names = [n for n in every if group != "code" or set(n.split("*")) <= FOR_CODES]
        rows, labels = training_rows(items, names, group)
        if not rows:
            groups[group] = Weights({}, -20.0)
            continue
        weights, bias = newton(rows, labels, L2[group])
        groups[group] = Weights({n: round(w, 4) for n, w in zip(names, weights, strict=True) if abs(w) > 1e-6},
                                round(bias, 4))
    return replace(base, groups=groups)


def scores(model: Model, items: list[Labelled], probabilities: list[list[float]] | None = None):
    """Per kind: answered exactly, expected among answers or offers; for chatter, left silent and offered
    nothing. `probabilities`: each item's candidates', when already worked out."""
    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for n, item in enumerate(items):
        decided = decide(model, item.evidence, probabilities[n] if probabilities else None)
        answered = {h.entry_id for h in decided.answers}
        offered = answered | {h.entry_id for h in decided.suggestions}
        t = tally[item.kind]
        t[0] += 1
        if item.expect:
            t[1] += answered == item.expect
            t[2] += item.expect <= offered
        else:
            t[1] += not answered
            t[2] += not offered
    return {kind: {"n": n, "exact_or_silent": round(a / n, 4), "offered_or_quiet": round(o / n, 4)}
            for kind, (n, a, o) in sorted(tally.items())}


def kb_examples(kb: KnowledgeBase) -> list[Labelled]:
    """Each entry's `examples`, which `kb check` requires it to answer (not its `describes`: retrieval
    indexes those, so they would teach the model what a perfect match looks like)."""
    return [Labelled(example, {entry.id}, "kb_example") for entry in kb for example in entry.examples]


THRESHOLDS = [round(0.3 + 0.025 * i, 3) for i in range(28)]   # 0.3 … 0.975
BUDGET_SHARE = {"code": 0.4, "words": 0.6}  # of the chatter that may be answered, by which group
SUGGEST = [round(0.1 + 0.025 * i, 3) for i in range(25)]      # 0.1 … 0.7


def with_thresholds(model: Model, answers: dict[str, float], suggest: float) -> Model:
    groups = {name: replace(g, answer=answers[name]) for name, g in model.groups.items()}
    return replace(model, groups=groups, suggest=suggest)


def choose_thresholds(model: Model, items: list[Labelled], probabilities: list[list[float]],
                      chatter_answered: float, chatter_offered: float) -> tuple[dict[str, float], float]:
    """Per group, the lowest `answer` threshold at which that group's candidates answer chatter at most its
    share of `chatter_answered` of the time; then the lowest `suggest` that offers chatter anything at
    most `chatter_offered` of the time. On out-of-fold probabilities."""
    chatter = [n for n, item in enumerate(items) if not item.expect]

    def outcome(m: Model) -> tuple[int, int]:
        """Chatter answered, and chatter offered anything."""
        answered = offered = 0
        for n in chatter:
            decided = decide(m, items[n].evidence, probabilities[n])
            answered += bool(decided.answers)
            offered += bool(decided.answers or decided.suggestions)
        return answered, offered

    # chatter holding a canonical code ("ticket DESK41 is …") is answered whatever the thresholds: it is
    # not theirs to keep silent, so it does not count against their budget
    always, _ = outcome(with_thresholds(model, {"code": 1.01, "words": 1.01}, 1.01))
    # each group gets its own share of the budget, and the lowest threshold that keeps to it: choosing the
    # pair jointly trades one group's misses for the other's on an objective too flat to be stable
    best = {}
    for group, share in BUDGET_SHARE.items():
        best[group] = THRESHOLDS[-1]
        for value in THRESHOLDS:
            others = {g: 1.01 for g in BUDGET_SHARE if g != group}
            answered, _ = outcome(with_thresholds(model, {group: value, **others}, 1.0))
            if answered <= always + share * chatter_answered * len(chatter):
                best[group] = value
                break
    for suggest in SUGGEST:
        _, offered = outcome(with_thresholds(model, best, suggest))
        if offered <= always + chatter_offered * len(chatter):
            return best, suggest
    return best, SUGGEST[-1]


def fit(kb: KnowledgeBase, paths: list[Path], base: Model, chatter_answered: float = 0.005,
        chatter_offered: float = 0.04, seed: int = 12) -> Model:
    matcher = Matcher(kb, model=base)
    items = read_sets(paths) + kb_examples(kb)
    for item in items:
        item.evidence = matcher.weigh(item.text)[0]
    names = list(FEATURES) + [f"{a}*{b}" for a, b in PRODUCTS]
    order = list(range(len(items)))
    random.Random(seed).shuffle(order)
    out_of_fold: list[list[float]] = [[] for _ in items]
    for k in range(FOLDS):
        held = [i for n, i in enumerate(order) if n % FOLDS == k]
        model = fitted(base, [items[i] for n, i in enumerate(order) if n % FOLDS != k], names)
        for i in held:
            out_of_fold[i] = [model.probability(c.features) for c in items[i].evidence.candidates]
    answers, suggest = choose_thresholds(base, items, out_of_fold, chatter_answered, chatter_offered)
    final = with_thresholds(fitted(base, items, names), answers, suggest)
    about = {
        "fitted_on": [str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p) for p in paths]
        + ["the KB's examples"],
        "messages": len(items),
        "candidates": sum(len(i.evidence.candidates) for i in items),
        "targets": {"chatter_answered_at_most": chatter_answered, "chatter_offered_at_most": chatter_offered},
        "cross_validated": scores(final, items, out_of_fold),
        "refit": "python -m bot fit",
    }
    return replace(final, about=about)
