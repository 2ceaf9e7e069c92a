"""The accounting systems, from `knowledge/systems.yaml`: names, folders, code families, nicknames.

Read by the loader (an entry's `system:` and folder must be one of these), the code finder (which
prefixes and digit counts are codes) and the matchers (which system a message names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.kb.language import first_word_positions, phrases_by_first_word
from bot.kb.model import Problem
from bot.kb.yaml_errors import compose_yaml

SYSTEMS_FILE = "systems.yaml"
_NAME_WORD = re.compile(r"[a-z0-9]+")
_PREFIX = re.compile(r"^[A-Z]{2,6}$")


@dataclass(frozen=True)
class System:
    name: str
    folder: str
    prefix: str = ""       # error-code prefix, "" when the system has no codes
    digits: int = 0        # digits of a published code
    names: tuple[tuple[str, ...], ...] = ()  # what people call it, each as its words


@dataclass
class Systems:
    systems: tuple[System, ...] = ()
    shared: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # (words of a name, systems it reaches)
    source: Path | None = None
    expense_tool: str = ""  # the expense tool's name, which entries write as {tool} (`expense_tool:`)
    _by_first_word: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = field(default_factory=dict,
                                                                                          repr=False)

    def __post_init__(self) -> None:
        """Each name (its words) with the systems it reaches, by its first word, the longest name first."""
        reaching = [(words, (system.name,)) for system in self.systems for words in system.names] + list(self.shared)
        reaching.sort(key=lambda option: len(option[0]), reverse=True)
        self._by_first_word = phrases_by_first_word(reaching, lambda option: option[0])

    def __iter__(self):
        return iter(self.systems)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.systems)

    def get(self, name: str) -> System | None:
        return next((s for s in self.systems if s.name == name), None)

    def by_folder(self, folder: str) -> System | None:
        return next((s for s in self.systems if s.folder == folder), None)

    def of_code(self, code: str) -> System | None:
        """The system whose code family a canonical code (`NS0012`) is of."""
        prefix = code.rstrip("0123456789")
        return next((s for s in self.systems if s.prefix and s.prefix == prefix), None)

    @property
    def families(self) -> dict[str, int]:
        """Code prefix -> digits of a published code."""
        return {s.prefix: s.digits for s in self.systems if s.prefix}

    @property
    def name_words(self) -> frozenset[str]:
        """The words that only ever name a system: each one-word name ("intacct", "qb"), and the words
        of a longer name whose other words are names ("online" of "qb online"), not those of a name
        made of ordinary words ("web connector", "financial force")."""
        names = [name for s in self.systems for name in s.names] + [name for name, _ in self.shared]
        single = {name[0] for name in names if len(name) == 1}
        words = set(single)
        for name in names:
            for i, word in enumerate(name):
                if all(other in single for j, other in enumerate(name) if j != i):
                    words.add(word)
        return frozenset(words)

    def named_in(self, words) -> set[str]:
        """The systems a sequence of lower-case words names. A shared name ("quickbooks") reaches each of
        its systems unless one of them is named on its own elsewhere ("quickbooks online")."""
        words = list(words)
        alone: set[str] = set()
        shared: set[str] = set()
        free = 0  # the first word not inside a name already found
        for i in first_word_positions(words, self._by_first_word):
            if i < free:
                continue
            for name, reached in self._by_first_word[words[i]]:
                if tuple(words[i:i + len(name)]) == name:
                    (alone if len(reached) == 1 else shared).update(reached)
                    free = i + len(name)
                    break
        if shared and not shared & alone:
            alone |= shared
        return alone


def name_words(text: str) -> tuple[str, ...]:
    return tuple(_NAME_WORD.findall(text.lower()))


def load_systems(path: Path) -> tuple[Systems, list[Problem]]:
    """The systems file, or (empty Systems, the problems that kept it from loading), each with its line."""
    root, problem = compose_yaml(path, "systems file")
    if problem:
        return Systems(), [problem]
    reader = _Reader(path)
    systems = reader.read(root)
    return (systems if not reader.problems else Systems()), reader.problems


class _Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def fail(self, node: Node, message: str) -> None:
        self.problems.append(Problem(self.path, node.start_mark.line + 1, message))

    def mapping(self, node: Node, what: str, allowed: set[str], required: set[str]) -> dict[str, Node] | None:
        if not isinstance(node, MappingNode):
            self.fail(node, f"{what} must be a mapping with keys {', '.join(sorted(allowed))}")
            return None
        out: dict[str, Node] = {}
        for key, value in node.value:
            name = key.value if isinstance(key, ScalarNode) else None
            if name not in allowed:
                self.fail(key, f"unknown key {name!r} in {what}; expected one of {', '.join(sorted(allowed))}")
            elif name in out:
                self.fail(key, f"duplicate key {name!r} in {what}")
            else:
                out[name] = value
        for name in sorted(required - set(out)):
            self.fail(node, f"missing required key {name!r} in {what}")
        return out

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != "tag:yaml.org,2002:str" or not node.value.strip():
            self.fail(node, f"{what} must be text")
            return None
        return node.value.strip()

    def names(self, node: Node, what: str) -> tuple[tuple[str, ...], ...]:
        if not isinstance(node, SequenceNode) or not node.value:
            self.fail(node, f"{what} must be a non-empty list of names")
            return ()
        out = []
        for item in node.value:
            text = self.text(item, f"{what} item")
            if text is None:
                continue
            words = name_words(text)
            if " ".join(words) != text or not words:
                self.fail(item, f"{what}: {text!r} must be lower-case words and digits separated by spaces")
                continue
            out.append(words)
        return tuple(out)

    def read(self, root: Node | None) -> Systems:
        keys = {"systems", "shared", "expense_tool"}
        top = self.mapping(root, "the systems file", keys, {"systems"}) if root else None
        if top is None:
            if root is None:
                self.problems.append(Problem(self.path, 0, "the systems file is empty"))
            return Systems()
        systems: list[System] = []
        node = top["systems"]
        if not isinstance(node, SequenceNode) or not node.value:
            self.fail(node, "systems must be a non-empty list")
            return Systems()
        seen: dict[str, int] = {}
        for item in node.value:
            system = self.system(item)
            if system is None:
                continue
            for key, value in (("name", system.name), ("folder", system.folder), ("prefix", system.prefix)):
                if value and (key, value) in seen:
                    self.fail(item, f"{key} {value!r} is used twice (first at line {seen[(key, value)]})")
                seen.setdefault((key, value), item.start_mark.line + 1)
            systems.append(system)
        by_name = {s.name for s in systems}
        claimed: dict[tuple[str, ...], str] = {}
        for system in systems:
            for words in system.names:
                if words in claimed:
                    self.fail(node, f"the name {' '.join(words)!r} is given to both {claimed[words]} and {system.name}"
                              "; list it under `shared`")
                claimed.setdefault(words, system.name)
        shared = []
        if "shared" in top:
            shared_node = top["shared"]
            for item in shared_node.value if isinstance(shared_node, SequenceNode) else [shared_node]:
                fields = self.mapping(item, "a shared name", {"names", "systems"}, {"names", "systems"})
                if not fields:
                    continue
                reached = [self.text(n, "shared.systems item") for n in getattr(fields["systems"], "value", [])]
                for name, n in zip(reached, getattr(fields["systems"], "value", []), strict=False):
                    if name and name not in by_name:
                        self.fail(n, f"shared.systems: {name!r} is not a system of this file")
                if len([r for r in reached if r]) < 2:
                    self.fail(item, "a shared name must reach at least two systems")
                    continue
                for words in self.names(fields["names"], "shared.names"):
                    shared.append((words, tuple(r for r in reached if r)))
        tool = ""
        if "expense_tool" in top:
            tool = self.text(top["expense_tool"], "expense_tool") or ""
            if "{" in tool or "}" in tool:
                self.fail(top["expense_tool"], "expense_tool is a name: write it without braces")
                tool = ""
        return Systems(tuple(systems), tuple(shared), self.path, tool)

    def system(self, node: Node) -> System | None:
        fields = self.mapping(node, "a system", {"name", "folder", "codes", "names"}, {"name", "folder", "names"})
        if fields is None:
            return None
        before = len(self.problems)
        name = self.text(fields["name"], "name") if "name" in fields else None
        folder = self.text(fields["folder"], "folder") if "folder" in fields else None
        if folder and not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", folder):
            self.fail(fields["folder"], f"folder {folder!r} must be lower-case words joined by dashes")
        prefix, digits = "", 0
        if "codes" in fields:
            codes = self.mapping(fields["codes"], "codes", {"prefix", "digits"}, {"prefix", "digits"})
            if codes and {"prefix", "digits"} <= set(codes):
                prefix = self.text(codes["prefix"], "codes.prefix") or ""
                if prefix and not _PREFIX.match(prefix):
                    self.fail(codes["prefix"], f"codes.prefix {prefix!r} must be 2-6 upper-case letters")
                raw = codes["digits"].value if isinstance(codes["digits"], ScalarNode) else ""
                if not (raw.isdigit() and 1 <= int(raw) <= 6):
                    self.fail(codes["digits"], "codes.digits must be a number from 1 to 6")
                else:
                    digits = int(raw)
        names = self.names(fields["names"], "names") if "names" in fields else ()
        if len(self.problems) > before or not name or not folder:
            return None
        return System(name, folder, prefix, digits, names)
