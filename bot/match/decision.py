"""Answer, suggest or stay silent: one decision, from the evidence of every path.

A logistic model gives each candidate the probability that it is what the message is about. Its
weights and thresholds are data (`model.json`, written by `python -m bot fit` from labelled messages),
so that nobody tunes them by hand and `match --explain` can show what each piece of evidence added.

The most probable candidate is answered when it clears its group's `answer`; further ones only when the text holds
their error itself (its code, or its message), as a paste of several errors does. Candidates above
`suggest` that are not answered are offered.

Three things no weight decides, because they are what a code or a paste says outright:
- a code written the canonical way (INT771, NS0012:) is answered on its own;
- a message holding a code the KB does not know (NS9999) is answered only with what the paste path was
  sure of (another known code, a message it found in full), never with an entry its words resemble;
- when the paste path found the text close to two or more messages and sure of none (a paste cut off
  before the words that tell them apart: "…deleted or inactive in the"), those are offered, not
  answered: which one it is is exactly what the text does not say.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from bot.match.evidence import FEATURES, Candidate, Evidence
from bot.match.hit import Hit

MODEL_FILE = Path(__file__).with_name("model.json")
MAX_ANSWERS = 5
MAX_SUGGESTIONS = 3
MAX_LISTED = 50   # codes of a log paste past MAX_ANSWERS, named in one list rather than a card each


class ModelError(ValueError):
    """model.json is missing, malformed or does not fit the features this code computes."""


def feature_value(features: dict[str, float], name: str) -> float:
    """A feature's value, or for "a*b" the product of two."""
    a, _, b = name.partition("*")
    return features[a] * (features[b] if b else 1.0)


GROUPS = ("code", "words")  # a candidate whose code the message mentions; any other


def group_of(features: dict[str, float]) -> str:
    return "code" if features["code_canonical"] or features["code_other_form"] else "words"


@dataclass(frozen=True)
class Weights:
    """One logistic model: feature (or "a*b", a product of two) -> weight, a bias, and the probability
    one of its candidates needs to be answered."""

    weights: dict[str, float]
    bias: float
    answer: float = 0.5

    def contributions(self, features: dict[str, float]) -> dict[str, float]:
        out = {}
        for name, weight in self.weights.items():
            value = feature_value(features, name)
            if value:
                out[name] = weight * value
        return out

    @functools.cached_property
    def _terms(self) -> tuple[tuple[str, str, float], ...]:
        """(feature, second feature of a product or '', weight), in the weights' order."""
        return tuple((*name.partition("*")[::2], weight) for name, weight in self.weights.items())

    def log_odds(self, features: dict[str, float]) -> float:
        """The bias plus the sum of `contributions` (added in the same order, without building them)."""
        total = 0
        for a, b, weight in self._terms:
            value = features[a] * (features[b] if b else 1.0)
            if value:
                total += weight * value
        return self.bias + total


@dataclass(frozen=True)
class Model:
    """Two logistic models, one per group of candidates (the evidence for a mentioned code and for an
    entry found by its words is not the same), and the thresholds they share."""

    groups: dict[str, Weights]
    suggest: float                            # probability needed to offer
    retrieval: dict                           # RetrievalSettings data
    about: dict = field(default_factory=dict)  # what it was fitted on, and how it scored there

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> Model:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            groups = {name: Weights(dict(g["weights"]), float(g["bias"]), float(g["answer"]))
                      for name, g in data["groups"].items()}
            model = cls(groups, float(data["suggest"]), dict(data["retrieval"]), dict(data.get("about", {})))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ModelError(f"{path}: not a decision model ({exc})") from None
        if set(model.groups) != set(GROUPS):
            raise ModelError(f"{path}: needs the groups {', '.join(GROUPS)} (re-fit it: python -m bot fit)")
        unknown = sorted({name for g in model.groups.values() for name in g.weights
                          if any(p not in FEATURES for p in name.split("*"))})
        if unknown:
            raise ModelError(f"{path}: weights for features this code does not compute: {', '.join(unknown)} "
                             "(re-fit it: python -m bot fit)")
        return model

    def to_json(self) -> str:
        return json.dumps({"about": self.about, "suggest": self.suggest,
                           "groups": {n: {"answer": g.answer, "bias": g.bias, "weights": g.weights}
                                      for n, g in self.groups.items()},
                           "retrieval": self.retrieval}, indent=2) + "\n"

    def weights_for(self, features: dict[str, float]) -> Weights:
        return self.groups[group_of(features)]

    def answer_at(self, features: dict[str, float]) -> float:
        """The probability a candidate with these features needs to be answered (its group's)."""
        return self.groups[group_of(features)].answer

    def contributions(self, features: dict[str, float]) -> dict[str, float]:
        """What each weighted feature (or product) adds to the log-odds, for this candidate."""
        return self.weights_for(features).contributions(features)

    def probability(self, features: dict[str, float]) -> float:
        z = self.weights_for(features).log_odds(features)
        return 1 / (1 + math.exp(-max(min(z, 40.0), -40.0)))


@dataclass
class Weighed:
    candidate: Candidate
    probability: float
    verdict: str = "left"   # "answered", "listed" (a code past MAX_ANSWERS), "offered" or "left"


@dataclass
class Decided:
    answers: list[Hit]
    suggestions: list[Hit]
    weighed: list[Weighed]   # every candidate, most probable first
    more: list[Hit] = field(default_factory=list)   # codes written out past MAX_ANSWERS: listed, not carded


def decide(model: Model, evidence: Evidence, probabilities: list[float] | None = None) -> Decided:
    """`probabilities`: the candidates' own, already worked out (fitting tries thresholds on them)."""
    if probabilities is None:
        probabilities = [model.probability(c.features) for c in evidence.candidates]
    weighed = sorted((Weighed(c, p) for c, p in zip(evidence.candidates, probabilities, strict=True)),
                     key=lambda w: (w.candidate.canonical, w.probability), reverse=True)
    answers: list[Hit] = []
    suggestions: list[Hit] = []
    undecided = bool(weighed) and undecided_paste(weighed[0].candidate)
    more: list[Hit] = []
    for w in weighed:
        c = w.candidate
        if len(answers) < MAX_ANSWERS and (c.canonical or (
                w.probability >= model.answer_at(c.features) and (not answers or c.paste) and not undecided_paste(c)
                and not (evidence.unknown_codes and not c.paste_sure))):
            w.verdict = "answered"
            answers.append(hit_of(w, evidence))
        elif c.canonical and len(more) < MAX_LISTED:
            w.verdict = "listed"
            more.append(hit_of(w, evidence))
        elif len(suggestions) < MAX_SUGGESTIONS and (
                w.probability >= model.suggest or (undecided and c.features["paste_close"])):
            w.verdict = "offered"
            suggestions.append(hit_of(w, evidence))
    return Decided(answers, suggestions, weighed, more)


def undecided_paste(c: Candidate) -> bool:
    """The paste path found this and other messages close, and none surely, and nothing else (a code)
    says which it is."""
    return bool(c.features["paste_close"] and c.tied and not c.paste)


def hit_of(w: Weighed, evidence: Evidence) -> Hit:
    c = w.candidate
    if c.hit is not None:
        return Hit(c.entry_id, c.hit.score, c.hit.how, c.hit.faq_index)
    if c.features["code_canonical"] or c.features["code_other_form"]:
        return Hit(c.entry_id, 100.0, "code")
    item = evidence.found.items.get(c.entry_id, -1) if evidence.found else -1
    return Hit(c.entry_id, round(w.probability * 100, 1), "retrieval", item)
