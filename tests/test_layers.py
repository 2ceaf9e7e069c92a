"""Imports run one way, with the data: knowledge → kb → match → render → answer → edges. A module may import
from its own layer or a lower one, never from a higher one (lazy imports inside functions count too)."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"

# lowest first; a module's layer is that of the longest prefix listed
LAYERS = [
    ("foundations", ["bot.settings", "bot.codes", "bot.store", "bot.wording", "bot.widths"]),
    ("kb", ["bot.kb"]),
    ("match", ["bot.match", "bot.checks"]),
    ("render", ["bot.render"]),
    ("answer", ["bot.pipeline", "bot.answer"]),
    ("authoring", ["bot.authoring"]),
    ("edges", ["bot.slack", "bot.cli", "bot.console", "bot.__main__"]),
]


def layer_of(module: str) -> int:
    best, rank = "", None
    for n, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > len(best):
                best, rank = prefix, n
    if rank is None:
        raise AssertionError(f"{module} is in no layer: add it to LAYERS")
    return rank


def module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def bot_imports(path: Path) -> list[tuple[int, str]]:
    """Every import of a bot module in `path`: absolute or relative, and `from bot import x` as bot.x."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                base = ".".join(parent + ([base] if base else []))
            if base == "bot" or (node.level and not node.module):
                found += [(node.lineno, f"{base}.{a.name}") for a in node.names]
            elif base.startswith("bot."):
                found.append((node.lineno, base))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("bot.")]
    return found


def against_the_flow() -> list[str]:
    wrong = []
    for path in sorted(BOT.rglob("*.py")):
        importer = module_name(path)
        for line, imported in bot_imports(path):
            if layer_of(imported) > layer_of(importer):
                wrong.append(f"{path.relative_to(BOT.parent)}:{line}: {importer} ({LAYERS[layer_of(importer)][0]}) "
                             f"imports {imported} ({LAYERS[layer_of(imported)][0]})")
    return wrong


def test_imports_follow_the_data_flow():
    assert against_the_flow() == []


def test_the_check_finds_an_import_against_the_flow(tmp_path, monkeypatch):
    """The test above can fail: a kb module importing a higher layer is caught, with its file and line, however
    the import is written (absolute, relative, `from bot import x`)."""
    fake_bot = tmp_path / "bot"
    (fake_bot / "kb").mkdir(parents=True)
    (fake_bot / "kb" / "check.py").write_text("import json\n\nfrom bot.match import Matcher\n")
    (fake_bot / "match").mkdir()
    (fake_bot / "match" / "matcher.py").write_text("from bot.kb import KnowledgeBase\n")
    (fake_bot / "kb" / "relative.py").write_text("from ..render import cards\nfrom .. import slack\n")
    (fake_bot / "kb" / "__init__.py").write_text("from bot import answer\nfrom . import check\n")
    monkeypatch.setattr(__import__(__name__), "BOT", fake_bot)
    assert against_the_flow() == ["bot/kb/__init__.py:1: bot.kb (kb) imports bot.answer (answer)",
                                  "bot/kb/check.py:3: bot.kb.check (kb) imports bot.match (match)",
                                  "bot/kb/relative.py:1: bot.kb.relative (kb) imports bot.render (render)",
                                  "bot/kb/relative.py:2: bot.kb.relative (kb) imports bot.slack (edges)"]
