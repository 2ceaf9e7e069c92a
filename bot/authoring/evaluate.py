"""`eval`: scores the matcher on labelled lines `{"text", "expect": [ids], "kind"?}`."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from bot.match import Matcher


@dataclass
class Tally:
    right: int = 0
    total: int = 0
    offered: int = 0  # expected entries among the answers or the suggestions; for chatter: nothing offered

    @property
    def offered_rate(self) -> float:
        return self.offered / self.total if self.total else 1.0

    @property
    def rate(self) -> float:
        return self.right / self.total if self.total else 1.0


@dataclass
class EvalReport:
    pastes: Tally = field(default_factory=Tally)
    chatter: Tally = field(default_factory=Tally)
    by_kind: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    failures: list[str] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)


def read_labelled(path: Path) -> tuple[list[tuple[int, dict]], list[str]]:
    rows, bad = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError("needs a \"text\" string")
            expect = row.get("expect", [])
            if not isinstance(expect, list) or not all(isinstance(x, str) for x in expect):
                raise ValueError("\"expect\" must be a list of ids")
        except ValueError as exc:
            bad.append(f"{path}:{n}: {exc}")
            continue
        rows.append((n, row))
    return rows, bad


def evaluate(matcher: Matcher, path: Path) -> EvalReport:
    report = EvalReport()
    rows, report.bad_lines = read_labelled(path)
    for n, row in rows:
        expect = sorted({x.upper() for x in row.get("expect", [])})
        result = matcher.match(row["text"])
        got = sorted(set(result.answer_ids))
        right = got == expect
        offered = set(expect) <= set(got) | set(result.suggestion_ids) if expect else not (
            got or result.suggestion_ids)
        bucket = report.pastes if expect else report.chatter
        kind = str(row.get("kind") or ("chatter" if not expect else "paste"))
        for tally in (bucket, report.by_kind[kind]):
            tally.total += 1
            tally.right += right
            tally.offered += offered
        if not right:
            shown = " ".join(row["text"].split())[:100]
            report.failures.append(
                f"{path}:{n}: [{kind}] expected {expect or 'silence'}, got {got or 'silence'}: {shown!r}")
    return report


def format_eval(report: EvalReport, show_failures: int = 20) -> str:
    out = [*report.bad_lines]
    out.append(f"pastes answered exactly: {report.pastes.right}/{report.pastes.total} = {report.pastes.rate:.2%}")
    out.append(f"chatter left silent:     {report.chatter.right}/{report.chatter.total} = {report.chatter.rate:.2%}")
    out.append("by kind (answered exactly, or silent for chatter; then expected among answers or suggestions, or "
               "nothing offered for chatter):")
    for kind, tally in sorted(report.by_kind.items()):
        out.append(f"  {kind:<20} {tally.right:>5}/{tally.total:<5} {tally.rate:7.2%}   "
                   f"offered {tally.offered_rate:7.2%}")
    if report.failures and show_failures:
        out.append(f"failures (first {min(show_failures, len(report.failures))} of {len(report.failures)}):")
        out += ["  " + f for f in report.failures[:show_failures]]
    return "\n".join(out)
