"""Validates one KB entry from its YAML node tree, so every problem carries its line number."""

from __future__ import annotations

import datetime
import functools
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from bot.codes import CodeFinder
from bot.kb.prose import GENERIC_TOOL_NAME, TOOL, TOOL_START, fill, placeholder_problem
from bot.kb.systems import SYSTEMS_FILE, Systems, name_words
from bot.widths import ENTRY_ID_CHARS

KINDS = ("export", "sync", "connection", "auth", "faq")
ID_PATTERN = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
STR_TAG = "tag:yaml.org,2002:str"
MIN_EXAMPLES = 3
BOOL_TAG = "tag:yaml.org,2002:bool"
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# The facts live workspace checks can confirm (see bot/checks); `checks:` in an entry may use these.
FACTS = frozenset({
    "integration", "export_date", "auto_sync", "preferred_exporter", "post_to_next_open_period", "posting_date",
    "period_closed", "integration_user_active", "books_permission", "book_close_date", "lock_date",
})



def placeholders(template: str) -> set[str]:
    """The facts a check's line names: `{export_date}; {posting_date}` → {"export_date", "posting_date"}.
    ValueError for an unbalanced brace."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


TYPE_NAMES = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "nothing (null)",
    "tag:yaml.org,2002:timestamp": "a date",
}


def colon_hint(node: Node) -> str:
    """Why a text came out a mapping, when a ': ' inside an unquoted value made it one (`- Note: do this`)."""
    if isinstance(node, MappingNode) and len(node.value) == 1:
        key, value = node.value[0]
        if isinstance(key, ScalarNode) and not key.style and key.start_mark.line == value.start_mark.line:
            return f" (the ': ' after {key.value!r} makes it a key: put the whole value in quotes)"
    return ""


def line_of(node: Node) -> int:
    return node.start_mark.line + 1


@dataclass
class Issue:
    line: int
    message: str


class EntryValidator:
    """Turns a composed YAML document into a plain dict, collecting every problem on the way.

    With `systems` (and the `codes` built from them), `system:` must be one of them, the file must sit in
    that system's folder (`folder`: the KB's folder it is in, at any depth, "" for the KB's top; `kb_name`:
    the KB folder's name, for messages) and a message's code must be of that system's family. Prose fields
    have `{tool}` filled in with `tool_name` (bot/kb/prose.py); `source`: the file's text, to say on which line
    of a long value a placeholder problem is.
    """

    def __init__(self, systems: Systems | None = None, codes: CodeFinder | None = None, folder: str = "",
                 kb_name: str = "knowledge", tool_name: str = GENERIC_TOOL_NAME, source: str = "") -> None:
        self.issues: list[Issue] = []
        self.systems = systems
        self.codes = codes or CodeFinder(systems.families if systems else {})
        self.folder = folder
        self.kb_name = kb_name
        self.tool_name = tool_name
        self.source = source  # the file's text, to place a problem inside a multi-line value

    @functools.cached_property
    def lines(self) -> list[str]:
        return self.source.splitlines()

    def fail(self, node: Node, message: str) -> None:
        self.issues.append(Issue(line_of(node), message))

    # -- typed readers: each returns None (after recording why) when the node has the wrong shape --

    def text(self, node: Node, what: str, required: bool = True) -> str | None:
        if not isinstance(node, ScalarNode) or node.tag != STR_TAG:
            got = "a list" if isinstance(node, SequenceNode) else "a mapping" if isinstance(
                node, MappingNode) else TYPE_NAMES.get(node.tag, "something else")
            self.fail(node, f"{what} must be text, got {got}{colon_hint(node)}")
            return None
        value = node.value.strip()
        if required and not value:
            self.fail(node, f"{what} is empty")
            return None
        return value

    def sequence(self, node: Node, what: str, min_items: int = 1) -> list[Node] | None:
        if not isinstance(node, SequenceNode):
            self.fail(node, f"{what} must be a list")
            return None
        if len(node.value) < min_items:
            need = "must not be empty" if min_items == 1 else f"needs at least {min_items} items"
            self.fail(node, f"{what} {need} (has {len(node.value)})")
            return None
        return node.value

    def prose(self, node: Node, what: str) -> str | None:
        """A text people read (a summary, a step): `{tool}` filled in with the tool's name."""
        value = self.text(node, what)
        if value is None:
            return None
        problem = placeholder_problem(value)
        if problem:
            self.fail_within(node, f"{what} {problem}", placeholder_problem)
            return None
        return fill(value, self.tool_name)

    def verbatim(self, node: Node, what: str) -> str | None:
        """A text kept as written (an error's message, a paste, people's words): `{tool}` is not filled in."""
        value = self.text(node, what)
        for name in (TOOL, TOOL_START):
            if value is not None and "{" + name + "}" in value:
                self.fail_within(node, f"{what} is kept exactly as written, so {{{name}}} is not filled in here: "
                                       "write the name as the error or the person wrote it",
                                 lambda line, n=name: "{" + n + "}" in line)
                return None
        return value

    def fail_within(self, node: Node, message: str, wrong: Callable[[str], object]) -> None:
        """A problem inside a value that may span lines, at the first of its lines that shows it."""
        first, last = node.start_mark.line, max(node.start_mark.line, node.end_mark.line)
        for n in range(first, min(last, len(self.lines) - 1) + 1):
            line = self.lines[n][node.start_mark.column:] if n == first else self.lines[n]
            if wrong(line):
                self.issues.append(Issue(n + 1, message))
                return
        self.fail(node, message)

    def text_list(self, node: Node, what: str, min_items: int = 1, item: Callable | None = None) -> list[str] | None:
        items = self.sequence(node, what, min_items)
        if items is None:
            return None
        read = item or self.text
        values = [read(n, f"{what}[{i}]") for i, n in enumerate(items)]
        if any(v is None for v in values):
            return None
        seen: dict[str, int] = {}
        for item, value in zip(items, values, strict=True):
            if value in seen:
                self.fail(item, f"{what} repeats an item (first at line {seen[value]})")
            seen.setdefault(value, line_of(item))
        return values  # type: ignore[return-value]

    def mapping(self, node: Node, what: str, fields: dict[str, Callable], required: set[str],
                partial: bool = False) -> dict | None:
        """The mapping's valid fields (all of them, or None, unless `partial`)."""
        if not isinstance(node, MappingNode):
            self.fail(node, f"{what} must be a mapping with keys {', '.join(sorted(fields))}")
            return None
        out: dict = {}
        ok = True
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, ScalarNode) else None
            if key not in fields:
                hint = f"; expected one of {', '.join(sorted(fields))}" if key else ""
                self.fail(key_node, f"unknown key {key!r} in {what}{hint}")
                ok = False
                continue
            if key in out:
                self.fail(key_node, f"duplicate key {key!r} in {what}")
                ok = False
                continue
            value = fields[key](value_node, f"{what}.{key}" if what != "entry" else key)
            if value is None:
                ok = False
                continue
            out[key] = value
        present = {k.value for k, _ in node.value if isinstance(k, ScalarNode)}
        for key in sorted(required - present):
            self.fail(node, f"missing required key {key!r} in {what}")
            ok = False
        return out if ok or partial else None

    # -- the entry's own shape --

    def fix(self, node: Node, what: str) -> dict | None:
        return self.mapping(node, what, {
            "title": self.prose,
            "steps": self.prose_list,
            "note": self.prose,
        }, {"title", "steps"})

    def qa(self, node: Node, what: str) -> dict | None:
        return self.mapping(node, what, {
            "q": self.prose,
            "a": self.prose,
            "also": self.verbatim_list,
        }, {"q", "a"})

    def link(self, node: Node, what: str) -> dict | None:
        link = self.mapping(node, what, {"title": self.text, "url": self.text}, {"title", "url"})
        if link and not re.match(r"^https?://\S+$", link["url"]):
            self.fail(node, f"{what}.url must be an http(s) address")
            return None
        return link

    def prose_list(self, node: Node, what: str, min_items: int = 1) -> list[str] | None:
        return self.text_list(node, what, min_items, self.prose)

    def verbatim_list(self, node: Node, what: str, min_items: int = 1) -> list[str] | None:
        return self.text_list(node, what, min_items, self.verbatim)

    def list_of(self, item_reader: Callable) -> Callable:
        def read(node: Node, what: str) -> list | None:
            items = self.sequence(node, what)
            if items is None:
                return None
            values = [item_reader(item, f"{what}[{i}]") for i, item in enumerate(items)]
            return None if any(v is None for v in values) else values
        return read

    def flag(self, node: Node, what: str) -> bool | None:
        """`true` or `false` (`draft: true`)."""
        if not isinstance(node, ScalarNode) or node.tag != BOOL_TAG:
            self.fail(node, f"{what} must be true or false")
            return None
        return bool(yaml.SafeLoader("").construct_object(node))

    def date(self, node: Node, what: str) -> datetime.date | None:
        """A day written YYYY-MM-DD (quoted or not), not after today (`reviewed: 2025-03-28`)."""
        value = node.value.strip() if isinstance(node, ScalarNode) and isinstance(node.value, str) else None
        day = None
        if value and DATE_PATTERN.match(value):
            try:
                day = datetime.date.fromisoformat(value)
            except ValueError:
                pass
        if day is None:
            shown = f" {value!r}" if value else ""
            self.fail(node, f"{what}{shown} must be a date written YYYY-MM-DD, e.g. {what}: 2025-03-28")
            return None
        if day > datetime.date.today():
            self.fail(node, f"{what} {value} is in the future: write the day the entry was last reviewed")
            return None
        return day

    def scalar(self, node: Node, what: str):
        if not isinstance(node, ScalarNode):
            self.fail(node, f"{what} must be a single value (text, true/false or a number)")
            return None
        return yaml.SafeLoader("").construct_object(node)

    def check(self, node: Node, what: str) -> dict | None:
        before = len(self.issues)
        data = self.mapping(node, what, {"fact": self.text, "expect": self.scalar, "holds": self.text,
                                         "fails": self.text, "unknown": self.text},
                            {"fact", "expect", "holds", "fails"}, partial=True)
        if data is None:
            return None
        ok = len(self.issues) == before
        if "fact" in data and data["fact"] not in FACTS:
            self.fail(node, f"{what}.fact {data['fact']!r} is not a fact providers give ({', '.join(sorted(FACTS))})")
            ok = False
        tool = {TOOL, TOOL_START}
        for key, allowed in (("holds", FACTS | tool), ("fails", FACTS | tool), ("unknown", {"reason"} | tool)):
            problem = placeholder_problem(data.get(key, ""), allowed)
            if problem:
                self.fail(node, f"{what}.{key} {problem}")
                ok = False
                continue
            if key in data and ok:
                data[key] = fill(data[key], self.tool_name, keep_others=True)
        return data if ok else None

    def entry(self, root: Node) -> dict | None:
        fields = {
            "id": self.text,
            "title": self.prose,
            "system": self.text,
            "kind": self.text,
            "message": self.verbatim,
            "variants": self.verbatim_list,
            "summary": self.prose,
            "causes": self.prose_list,
            "fixes": self.list_of(self.fix),
            "faq": self.list_of(self.qa),
            "links": self.list_of(self.link),
            "examples": lambda n, w: self.verbatim_list(n, w, MIN_EXAMPLES),
            "describes": self.verbatim_list,
            "template": self.text,
            "checks": self.list_of(self.check),
            "draft": self.flag,
            "reviewed": self.date,
        }
        before = len(self.issues)
        data = self.mapping(root, "entry", fields, {"id", "title", "system", "kind", "summary", "examples"},
                            partial=True)
        if data is None:
            return None
        self.entry_rules(root, data)
        return data if len(self.issues) == before else None

    def entry_rules(self, root: MappingNode, data: dict) -> bool:
        before = len(self.issues)
        nodes = {k.value: v for k, v in root.value}
        if "id" in data and not ID_PATTERN.match(data["id"]):
            self.fail(nodes["id"], f"id {data['id']!r} must be upper case letters, digits and dashes")
        elif "id" in data and len(data["id"]) > ENTRY_ID_CHARS:
            self.fail(nodes["id"], f"id {data['id']!r} is {len(data['id'])} characters long: at most "
                                   f"{ENTRY_ID_CHARS} (what Fixit records of an answer holds no more)")
        if "kind" in data and data["kind"] not in KINDS:
            self.fail(nodes["kind"], f"kind {data['kind']!r} must be one of {', '.join(KINDS)}")
        kind = data.get("kind")
        if kind == "faq":
            if "faq" not in nodes:
                self.fail(root, "a faq entry needs a non-empty 'faq' list")
        elif kind in KINDS:
            for key in ("message", "causes", "fixes"):
                if key not in nodes:
                    self.fail(root, f"missing required key {key!r} (required for kind {data['kind']!r})")
        for key in ("message", "variants"):
            if key not in data:
                continue
            for text in [data[key]] if key == "message" else data[key]:
                if text.count("[") != text.count("]"):
                    self.fail(nodes[key], f"{key} has unbalanced [placeholder] brackets")
        code = self.codes.leading(data.get("message", ""))
        if code and "id" in data and code != data["id"]:
            self.fail(nodes["id"], f"id {data['id']!r} differs from the code {code!r} the message starts with")
        for text, node in zip(data.get("describes", ()), getattr(nodes.get("describes"), "value", ()), strict=False):
            found = self.codes.find(text)
            if found:
                self.fail(node, f"describes holds the code {found[0].code}: a description is in people's own words, "
                                "without the code (put pastes in examples)")
        if self.systems is not None and "system" in data:
            self.system_rules(nodes["system"], data["system"], code)
        return len(self.issues) == before

    def system_rules(self, node: Node, name: str, code: str) -> None:
        systems = self.systems
        source = systems.source
        listed = f"{source.parent.name}/{source.name}" if source else SYSTEMS_FILE
        system = systems.get(name)
        if system is None:
            near = [s.name for s in systems if s.name.lower().replace(" ", "") == name.lower().replace(" ", "")]
            near = near or sorted(systems.named_in(name_words(name)))
            if len(near) == 1:
                self.fail(node, f"system: {name!r} — write {near[0]!r} (as in {listed})")
            else:
                self.fail(node, f"system: {name!r} is not a system of {listed}: write one of "
                                f"{', '.join(systems.names)}")
            return
        home = systems.by_folder(self.folder) if self.folder else None
        if home is not None and home.name != name:
            self.fail(node, f"file is in {self.kb_name}/{self.folder}/ but system: {name} — move it to "
                            f"{self.kb_name}/{system.folder}/ or fix system:")
        if code and system.prefix and not code.startswith(system.prefix):
            self.fail(node, f"the message's code {code} is not a {name} code ({name} codes start with "
                            f"{system.prefix})")
