"""Words that tell the matcher what kind of message it reads, from `knowledge/language.yaml`."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import compress
from pathlib import Path
from typing import TypeVar

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from bot.kb.model import Problem
from bot.kb.yaml_errors import compose_yaml

LANGUAGE_FILE = "language.yaml"
LISTS = {
    "trouble": "words of a message saying something went wrong",
    "not_a_code": "words next to a code-like token that say it is something else",
    "a_code": "words next to a code-like token that say it is an error code",
    "everyday_prefixes": "code prefixes that are also everyday words",
}
_WORDS = re.compile(r"[a-z0-9']+")
T = TypeVar("T")


@dataclass(frozen=True)
class Language:
    trouble: tuple[tuple[str, ...], ...] = ()
    not_a_code: tuple[tuple[str, ...], ...] = ()
    a_code: tuple[tuple[str, ...], ...] = ()
    everyday_prefixes: tuple[tuple[str, ...], ...] = ()

    # the lists' words as sets, worked out once per knowledge base (the matcher reads them per message)
    @functools.cached_property
    def not_a_code_words(self) -> frozenset[str]:
        return frozenset(w for phrase in self.not_a_code for w in phrase)

    @functools.cached_property
    def a_code_words(self) -> frozenset[str]:
        return frozenset(w for phrase in self.a_code for w in phrase)

    @functools.cached_property
    def everyday_prefix_words(self) -> frozenset[str]:
        return frozenset(w for phrase in self.everyday_prefixes for w in phrase)

    @functools.cached_property
    def trouble_by_first_word(self) -> dict[str, tuple[tuple[str, ...], ...]]:
        return phrases_by_first_word(self.trouble)


def phrases_by_first_word(phrases: Iterable[T],
                          words_of: Callable[[T], tuple[str, ...]] = lambda p: p) -> dict[str, tuple[T, ...]]:
    """Phrases (or items with a phrase, `words_of(item)`) grouped by their phrase's first word, in their order
    (for finding them in a word sequence)."""
    by_first: dict[str, list[T]] = {}
    for phrase in phrases:
        by_first.setdefault(words_of(phrase)[0], []).append(phrase)
    return {first: tuple(group) for first, group in by_first.items()}


def first_word_positions(words: Sequence[str], by_first: Mapping[str, object]) -> list[int]:
    """Where in `words` a phrase of `by_first` may start: the places of its first words, found without a
    Python loop over every word (a paste has a hundred words; a few start a phrase)."""
    return list(compress(range(len(words)), map(by_first.__contains__, words)))


def phrase_words(text: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(text.lower().replace("\u2019", "'")))


def load_language(path: Path) -> tuple[Language, list[Problem]]:
    root, problem = compose_yaml(path, "language file")
    if problem:
        return Language(), [problem]
    problems: list[Problem] = []

    def fail(node, message: str) -> None:
        problems.append(Problem(path, node.start_mark.line + 1 if node else 0, message))

    if not isinstance(root, MappingNode):
        fail(root, f"the language file must be a mapping with the lists {', '.join(LISTS)}")
        return Language(), problems
    found: dict[str, tuple[tuple[str, ...], ...]] = {}
    for key, value in root.value:
        name = key.value if isinstance(key, ScalarNode) else None
        if name not in LISTS:
            fail(key, f"unknown list {name!r}; expected one of {', '.join(LISTS)}")
            continue
        if not isinstance(value, SequenceNode):
            fail(value, f"{name} must be a list of words or phrases ({LISTS[name]})")
            continue
        phrases = []
        for item in value.value:
            words = phrase_words(item.value) if isinstance(item, ScalarNode) else ()
            if not words or " ".join(words) != item.value.strip():
                fail(item, f"{name}: {getattr(item, 'value', item)!r} must be lower-case words "
                           "(letters, digits, apostrophes) separated by spaces")
                continue
            phrases.append(words)
        found[name] = tuple(phrases)
    for name in LISTS:
        if name not in found and not any(p.message.startswith(name) for p in problems):
            fail(root, f"missing list {name!r} ({LISTS[name]})")
    if problems:
        return Language(), problems
    return Language(**found), problems
