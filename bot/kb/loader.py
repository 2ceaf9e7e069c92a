"""Reads `knowledge/**/*.yaml` into entries, reporting every problem with its file and line.

A bad file is skipped and reported; the rest of the knowledge base still loads.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from bot.codes import CodeFinder
from bot.kb.language import LANGUAGE_FILE, Language, load_language
from bot.kb.model import QA, Entry, Fix, Link, Problem
from bot.kb.prose import GENERIC_TOOL_NAME
from bot.kb.schema import EntryValidator
from bot.kb.systems import SYSTEMS_FILE, Systems, load_systems
from bot.kb.yaml_errors import yaml_problem

MAX_FILE_BYTES = 1_000_000
BUNDLED_KB = Path(__file__).resolve().parent.parent.parent / "knowledge"
# libyaml when PyYAML was built with it (several times faster); the pure-Python loader otherwise
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass
class KnowledgeBase:
    directory: Path
    entries: dict[str, Entry] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    systems: Systems = field(default_factory=Systems)
    language: Language = field(default_factory=Language)
    codes: CodeFinder = field(default_factory=lambda: CodeFinder({}))
    tool_name: str = GENERIC_TOOL_NAME  # what `{tool}` became in the entries' prose
    # entries marked `draft: true`: validated like the others, not served (not in `entries`) until reviewed
    drafts: dict[str, Entry] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries.values())

    def get(self, entry_id: str) -> Entry | None:
        return self.entries.get(entry_id.upper())

    def with_drafts(self) -> KnowledgeBase:
        """This knowledge base as it will be once its drafts are reviewed: the drafts served like entries
        (what `kb check` checks, so that removing `draft: true` cannot make it fail)."""
        if not self.drafts:
            return self
        return replace(self, entries={**self.entries, **self.drafts}, drafts={})


KB_FILES = (SYSTEMS_FILE, LANGUAGE_FILE)  # the KB's own data files, at its top, beside the entries' folders


def entry_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
                  and not (p.parent == directory and p.name in KB_FILES))


def kb_file(directory: Path, name: str) -> Path:
    """The KB's own systems or language file, else the bundled one (a KB folder of entries alone uses
    the bundled systems and words)."""
    own = directory / name
    return own if own.is_file() or not (BUNDLED_KB / name).is_file() else BUNDLED_KB / name


def load_knowledge_base(directory: str | Path, tool_name: str | None = None) -> KnowledgeBase:
    """Every entry of the KB folder `directory`, with every problem found on the way.

    `tool_name`: the expense tool's name written where the prose says `{tool}`; None or "": the KB's own
    (`expense_tool:` in its systems.yaml)."""
    directory = Path(directory)
    kb = KnowledgeBase(directory)
    if not directory.is_dir():
        kb.problems.append(Problem(directory, 0, "knowledge base folder not found"))
        return kb
    kb.systems, problems = load_systems(kb_file(directory, SYSTEMS_FILE))
    kb.problems.extend(problems)
    kb.language, problems = load_language(kb_file(directory, LANGUAGE_FILE))
    kb.problems.extend(problems)
    kb.codes = CodeFinder(kb.systems.families)
    kb.tool_name = (tool_name or "").strip() or kb.systems.expense_tool or GENERIC_TOOL_NAME
    validator_context = (kb.systems, kb.codes) if kb.systems.systems else None
    kb_name = directory.resolve().name
    for path in entry_files(directory):
        entry, problems = load_entry(path, validator_context, directory, kb.tool_name, kb_name)
        kb.problems.extend(problems)
        if entry is None:
            continue
        first = kb.entries.get(entry.id) or kb.drafts.get(entry.id)
        if first is not None:
            kb.problems.append(
                Problem(path, entry.line, f"duplicate id {entry.id!r} (also in {first.source}:{first.line})"))
            continue
        (kb.drafts if entry.draft else kb.entries)[entry.id] = entry
    return kb


def load_entry(path: Path, context: tuple[Systems, CodeFinder] | None = None, directory: Path | None = None,
               tool_name: str = GENERIC_TOOL_NAME, kb_name: str = "") -> tuple[Entry | None, list[Problem]]:
    """One entry file. `context`: the KB's systems and code finder, which `system:`, the folder and the
    message's code are checked against (left unchecked without it); `directory`: the KB's folder (`kb_name`:
    its name, worked out from it when not given); `tool_name`: what `{tool}` becomes in the prose."""
    text, problem = read_text(path)
    if problem:
        return None, [problem]
    try:
        root = yaml.compose(text, Loader=FAST_LOADER)
    except yaml.YAMLError as exc:
        return None, [yaml_problem(path, exc, text)]
    if root is None:
        return None, [Problem(path, 0, "file is empty")]
    parts = path.relative_to(directory).parts if directory is not None else ()
    folder = parts[0] if len(parts) > 1 else ""  # knowledge/netsuite/old/NS0005.yaml is in netsuite/
    validator = EntryValidator(*(context or (None, None)), folder=folder,
                               kb_name=kb_name or (directory.resolve().name if directory is not None else "knowledge"),
                               tool_name=tool_name, source=text)
    data = validator.entry(root)
    problems = [Problem(path, issue.line, issue.message) for issue in validator.issues]
    if data is None:
        return None, problems
    if path.stem.upper() != data["id"]:
        problems.append(Problem(path, root.start_mark.line + 1, f"file name should be {data['id']}.yaml"))
    return build_entry(data, path, root.start_mark.line + 1, item_lines(root, "examples"),
                       item_lines(root, "describes"), key_line(root, "draft")), problems


def item_lines(root, key: str) -> tuple[int, ...]:
    """The line of each item of the entry's list `key`."""
    for name, value in root.value:
        if name.value == key:
            return tuple(item.start_mark.line + 1 for item in value.value)
    return ()


def key_line(root, key: str) -> int:
    """The line of the entry's key `key` (0 when it has none)."""
    return next((name.start_mark.line + 1 for name, _ in root.value if name.value == key), 0)


def read_text(path: Path) -> tuple[str, Problem | None]:
    raw = path.read_bytes()
    if len(raw) > MAX_FILE_BYTES:
        return "", Problem(path, 0, f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        return "", Problem(path, line, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start})")


def build_entry(data: dict, path: Path, line: int, examples_at: tuple[int, ...] = (),
                describes_at: tuple[int, ...] = (), draft_at: int = 0) -> Entry:
    return Entry(
        id=data["id"],
        title=data["title"],
        system=data["system"],
        kind=data["kind"],
        summary=data["summary"],
        message=data.get("message", ""),
        variants=tuple(data.get("variants", ())),
        causes=tuple(data.get("causes", ())),
        fixes=tuple(Fix(f["title"], tuple(f["steps"]), f.get("note", "")) for f in data.get("fixes", ())),
        faq=tuple(QA(x["q"], x["a"], tuple(x.get("also", ()))) for x in data.get("faq", ())),
        links=tuple(Link(x["title"], x["url"]) for x in data.get("links", ())),
        examples=tuple(data["examples"]),
        describes=tuple(data.get("describes", ())),
        template=data.get("template", ""),
        checks=tuple(data.get("checks", ())),
        draft=data.get("draft", False),
        reviewed=data.get("reviewed"),
        example_lines=examples_at,
        describes_lines=describes_at,
        source=path,
        line=line,
        draft_line=draft_at or line,
    )


def read_chatter(path: Path) -> list[tuple[int, str]]:
    """A chatter baseline file (messages Fixit must not answer): (line number, text) for each message line."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
