"""The last good knowledge base, kept on disk so that a restart never serves less than it.

Hot reload refuses a broken edit and keeps serving the knowledge base it has. A restart has none in memory:
without this, a broken file would be left out, with a warning, and its error no longer answered. So every
knowledge base that loads without a problem is copied here, and at start a file that does not load is
served from this copy instead (logged with its file:line, and the copy's date). New and fixed files are
read as they are; only broken ones come from the copy. Refusing to start instead would let one typo in one
entry take every answer down until someone fixes it.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import replace
from pathlib import Path

from bot.kb.loader import KB_FILES, KnowledgeBase, load_knowledge_base

log = logging.getLogger("fixit.kb")


def save(kb: KnowledgeBase, keep: Path) -> None:
    """Copy a knowledge base that loaded cleanly to `keep` (replacing what was there, never half-written)."""
    source = kb.directory.resolve()
    if keep.resolve() == source:
        return
    staging = keep.with_name(f"{keep.name}.new-{os.getpid()}")
    try:
        shutil.rmtree(staging, ignore_errors=True)
        for path in sorted(source.rglob("*")):
            if path.suffix in (".yaml", ".yml", ".txt") and path.is_file():
                target = staging / path.relative_to(source)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        (staging / ".saved-at").write_text(time.strftime("%Y-%m-%d %H:%M:%S %z"), encoding="utf-8")
        old = keep.with_name(f"{keep.name}.old-{os.getpid()}")
        if keep.exists():
            os.replace(keep, old)
        os.replace(staging, keep)
        shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:
        log.warning("could not keep a copy of the knowledge base in %s (%s): a restart with a broken file "
                    "would serve without it", keep, exc)
        shutil.rmtree(staging, ignore_errors=True)


def with_last_good(kb: KnowledgeBase, keep: Path | None, tool_name: str | None = None) -> KnowledgeBase:
    """`kb` as loaded at start, with each file that did not load taken from the last good copy, if there is
    one. A broken systems or language file means the whole copy serves. `tool_name`: as `kb` was loaded
    with (load_knowledge_base), so the copy's entries name the expense tool the same way."""
    if not kb.problems or keep is None or not keep.is_dir():
        return kb
    good = load_knowledge_base(keep, tool_name)
    if good.problems or not good.entries:
        return kb
    saved_at = (keep / ".saved-at").read_text(encoding="utf-8").strip() if (keep / ".saved-at").is_file() else "?"
    broken = {relative(p.path, kb.directory) for p in kb.problems}
    if not kb.entries or broken & set(KB_FILES):
        log.error("knowledge base: %s; serving the last good knowledge base (%s, %d entries) instead",
                  "; ".join(map(str, kb.problems)), saved_at, len(good))
        return replace(good, directory=kb.directory, problems=list(kb.problems))
    entries = dict(kb.entries)
    for entry in good:
        if entry.id not in entries and entry.source and relative(entry.source, keep) in broken:
            entries[entry.id] = entry
            log.error("knowledge base: %s does not load; serving %s from the last good knowledge base (%s)",
                      entry_problem(kb, entry, keep), entry.id, saved_at)
    return replace(kb, entries=entries)


def relative(path: Path, directory: Path) -> str:
    try:
        return Path(path).resolve().relative_to(Path(directory).resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


def entry_problem(kb: KnowledgeBase, entry, keep: Path) -> str:
    name = relative(entry.source, keep)
    return "; ".join(str(p) for p in kb.problems if relative(p.path, kb.directory) == name) or name
