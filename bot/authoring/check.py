"""`kb check`: the KB is valid, every example answers its own entry, no chatter line answers anything."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.kb import KnowledgeBase, read_chatter
from bot.match import Matcher
from bot.render import Renderer
from bot.wording import counted

CHATTER_FILE = "chatter.txt"
MIN_CHATTER_LINES = 150


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)       # load, template and baseline problems
    warnings: list[str] = field(default_factory=list)       # drafts: fine to keep, not served until reviewed
    example_failures: list[str] = field(default_factory=list)
    chatter_failures: list[str] = field(default_factory=list)
    collisions: Counter = field(default_factory=Counter)     # (expected, got) -> count
    describe_failures: list[str] = field(default_factory=list)
    describes: int = 0
    describes_answered: int = 0
    examples: int = 0
    chatter_lines: int = 0

    @property
    def ok(self) -> bool:
        return not (self.problems or self.example_failures or self.chatter_failures or self.describe_failures)


DRAFT_WARNING = ("draft: true — not served until reviewed: rewrite what it took from elsewhere in your own "
                 "words, then remove the draft line")


def check_knowledge_base(kb: KnowledgeBase, chatter: Path | None = None) -> CheckReport:
    """Checks `kb` as it will be served once its drafts are reviewed: a draft is validated, and its examples
    and the chatter baseline matched, like any entry; that it is still a draft is a warning."""
    report = CheckReport(problems=[str(p) for p in kb.problems])
    report.warnings = [f"{e.source}:{e.draft_line}: {DRAFT_WARNING}" for e in kb.drafts.values()]
    kb = kb.with_drafts()
    if not kb.entries:
        report.problems.append(f"{kb.directory}: no entries loaded")
        return report
    renderer = Renderer()
    for entry in kb:
        reason = renderer.check_template(entry)
        if reason:
            report.problems.append(f"{entry.source}:{entry.line}: {reason}")
    matcher = Matcher(kb)
    for entry in kb:
        for i, example in enumerate(entry.examples):
            report.examples += 1
            got = matcher.match(example).answer_ids
            if got != [entry.id]:
                line = entry.example_lines[i] if i < len(entry.example_lines) else entry.line
                shown = " ".join(example.split())[:90]
                report.example_failures.append(
                    f"{entry.source}:{line}: example {i + 1} of {entry.id} answered {got or 'nothing'}: {shown!r}")
                for other in got or ["(silent)"]:
                    if other != entry.id:
                        report.collisions[(entry.id, other)] += 1
        for i, text in enumerate(entry.describes):
            # a description in someone's own words is less sure than a paste: its entry must at least be
            # offered; how many are answered outright is reported
            report.describes += 1
            result = matcher.match(text)
            if result.answer_ids == [entry.id]:
                report.describes_answered += 1
            elif entry.id not in result.answer_ids + result.suggestion_ids:
                line = entry.describes_lines[i] if i < len(entry.describes_lines) else entry.line
                shown = " ".join(text.split())[:90]
                got = result.answer_ids or result.suggestion_ids
                report.describe_failures.append(
                    f"{entry.source}:{line}: describes {i + 1} of {entry.id} is not even offered "
                    f"(got {got or 'nothing'}): {shown!r}")
    chatter = chatter or kb.directory / CHATTER_FILE
    if not chatter.is_file():
        report.problems.append(f"{chatter}: chatter baseline not found")
        return report
    lines = read_chatter(chatter)
    report.chatter_lines = len(lines)
    if len(lines) < MIN_CHATTER_LINES:
        report.problems.append(f"{chatter}: only {counted(len(lines), 'line')}, at least {MIN_CHATTER_LINES} needed")
    for n, line in lines:
        got = matcher.match(line).answer_ids
        if got:
            report.chatter_failures.append(f"{chatter}:{n}: chatter answered {got}: {line.strip()[:90]!r}")
    return report


def format_report(report: CheckReport, kb: KnowledgeBase) -> str:
    out = [f"warning: {w}" for w in report.warnings]
    out += [*report.problems, *report.example_failures, *report.describe_failures, *report.chatter_failures]
    if report.collisions:
        out.append("collisions (expected -> answered instead: count):")
        out += [f"  {a} -> {b}: {n}" for (a, b), n in report.collisions.most_common()]
    passed = report.examples - len(report.example_failures)
    quiet = report.chatter_lines - len(report.chatter_failures)
    drafts = f" ({counted(len(kb.drafts), 'draft')}, not served)" if kb.drafts else ""
    out.append(
        f"{'OK' if report.ok else 'FAILED'}: {counted(len(kb) + len(kb.drafts), 'entry', 'entries')}{drafts}, "
        f"{counted(len(report.problems), 'problem')}, "
        f"examples {passed}/{report.examples} answered exactly, describes {report.describes_answered}/"
        f"{report.describes} answered ({report.describes - len(report.describe_failures)} at least offered), "
        f"chatter {quiet}/{report.chatter_lines} silent")
    return "\n".join(out)
