"""Runs a workspace's providers for one entry: concurrently, within a time budget, with a cache; then
turns the entry's declared checks into the lines of the card's "Your workspace" section."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from datetime import date

from bot.checks.base import Fact, Facts, Provider, ProviderError, Question, deadline
from bot.checks.redact import REDACT, RedactingFilter
from bot.checks.settings_file import SettingsFile, posting_date
from bot.checks.workspaces import Workspace
from bot.kb import Entry
from bot.kb.schema import placeholders

log = logging.getLogger("fixit.checks")
log.addFilter(RedactingFilter())

BUDGET_SECONDS = 7.0       # all providers together
PROVIDER_SECONDS = 5.0     # one provider, all its requests (they run side by side, so this is the wait)
CACHE_SECONDS = 300.0      # a provider's answer is reused this long
FAILURE_CACHE_SECONDS = 30.0
IN_FLIGHT_PER_WORKSPACE = 4  # provider calls of one workspace still running; past that its checks say "busy"
_REPORT_ID = re.compile(r"\bR[0-9A-Z]{4,}\b")


@dataclass
class WorkspaceReport:
    workspace: str
    lines: list[str] = field(default_factory=list)
    bad_credentials: list[str] = field(default_factory=list)   # providers whose credentials were rejected
    failures: dict[str, str] = field(default_factory=dict)


def report_id_in(text: str) -> str:
    m = _REPORT_ID.search(text or "")
    return m.group(0) if m else ""


class CheckRunner:
    def __init__(self, budget: float = BUDGET_SECONDS, cache_seconds: float = CACHE_SECONDS,
                 today=date.today) -> None:
        self.budget = budget
        self.cache_seconds = cache_seconds
        self.today = today
        self._cache: dict[tuple, tuple[float, dict | ProviderError]] = {}
        self._lock = threading.Lock()
        self._in_flight: Counter[str] = Counter()

    def applies(self, entry: Entry | None) -> bool:
        return bool(entry and entry.checks)

    def run(self, workspace: Workspace, entry: Entry, paste: str = "") -> WorkspaceReport:
        report = WorkspaceReport(workspace.name)
        needed = {c["fact"] for c in entry.checks} | {name for c in entry.checks for name in _names(c)}
        facts = Facts()
        providers: list[Provider] = []
        for spec in workspace.providers:
            try:
                providers.append(spec.build(workspace.base))
            except ProviderError as exc:
                facts.failures[spec.kind] = exc.reason
                log.warning("workspace %s: %s provider: %s", workspace.name, spec.kind, exc.reason)
        local = [p for p in providers if isinstance(p, SettingsFile)]
        remote = [p for p in providers if not isinstance(p, SettingsFile)
                  and getattr(p, "system", None) == entry.system and p.provides & needed]
        question = Question(workspace.name, None)
        for provider in local:
            self._merge(workspace, provider, self._ask(workspace, provider, question), facts, report)
        question = Question(workspace.name, self._posting_date(local, facts, paste))
        futures = {self._start(workspace, p, question): p for p in remote}
        done, late = wait(futures, timeout=min(self.budget, PROVIDER_SECONDS))
        for future in done:
            self._merge(workspace, futures[future], future.result(), facts, report)
        for future in late:
            provider = futures[future]
            self._merge(workspace, provider, ProviderError("timed out"), facts, report)
        report.failures = dict(facts.failures)
        report.lines = workspace_lines(entry, facts)
        return report

    # -- providers --

    def _start(self, workspace: Workspace, provider, question: Question) -> Future:
        """Ask a provider in a thread of its own, within its deadline. A workspace whose earlier calls are
        still running (a provider that hangs past every timeout) gets "busy" at once: its threads are its
        own, and never another workspace's capacity."""
        future: Future = Future()
        with self._lock:
            if self._in_flight[workspace.name] >= IN_FLIGHT_PER_WORKSPACE:
                future.set_result(ProviderError("busy (earlier checks of this workspace are still waiting)"))
                return future
            self._in_flight[workspace.name] += 1

        def ask() -> None:
            try:
                with deadline(PROVIDER_SECONDS):
                    future.set_result(self._ask(workspace, provider, question))
            finally:
                with self._lock:
                    self._in_flight[workspace.name] -= 1
        threading.Thread(target=ask, name=f"fixit-check-{workspace.name}", daemon=True).start()
        return future

    def _posting_date(self, local: list[SettingsFile], facts: Facts, paste: str) -> date | None:
        export = facts.known.get("export_date")
        if export is None:
            return None
        report_id = report_id_in(paste)
        dates = {}
        for provider in local:
            try:
                dates = provider.reports().get(report_id.upper(), {}) or dates
            except ProviderError:
                pass
        found = posting_date(export.value, report_id, dates, self.today())
        if found is None:
            return None
        facts.known["posting_date"] = Fact(found[0], found[1])
        return found[0]

    def _ask(self, workspace: Workspace, provider, question: Question) -> dict | ProviderError:
        key = (workspace.name, provider.name, question.posting_date)
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            result: dict | ProviderError = provider.facts(question)
            ttl = self.cache_seconds
        except ProviderError as exc:
            result, ttl = exc, FAILURE_CACHE_SECONDS
        except Exception as exc:  # a provider bug must not break the answer
            log.exception("workspace %s: %s provider failed", workspace.name, provider.name)
            result, ttl = ProviderError(f"internal error ({type(exc).__name__})"), FAILURE_CACHE_SECONDS
        with self._lock:
            self._cache[key] = (time.monotonic() + ttl, result)
        return result

    def _merge(self, workspace: Workspace, provider, result, facts: Facts, report: WorkspaceReport) -> None:
        if isinstance(result, ProviderError):
            reason = REDACT(result.reason)
            facts.failures[provider.name] = reason
            for name in provider.provides:
                facts.unsure.add(name)
            if result.bad_credentials:
                report.bad_credentials.append(provider.name)
            log.warning("workspace %s: couldn't verify with %s: %s", workspace.name, provider.name, reason)
            return
        facts.known.update(result)


def _names(check: dict) -> set[str]:
    return placeholders(check.get("holds", "")) | placeholders(check.get("fails", ""))


def workspace_lines(entry: Entry, facts: Facts) -> list[str]:
    """The "Your workspace" lines: a declared check speaks only from confirmed facts, and says why when a
    provider that would have known could not answer."""
    lines = []
    reasons = "; ".join(f"{name}: {reason}" for name, reason in facts.failures.items())
    for check in entry.checks:
        fact = facts.known.get(check["fact"])
        if fact is None:
            if check["fact"] in facts.unsure or (facts.failures and check["fact"] == "export_date"):
                lines.append(check.get("unknown", "Couldn't verify your workspace ({reason}).").format(
                    reason=reasons or "no answer"))
            continue
        template = check["holds"] if fact.value == check["expect"] else check["fails"]
        names = placeholders(template)
        if not names <= facts.known.keys():
            continue  # a needed fact is not confirmed: say nothing rather than guess
        lines.append(template.format_map({n: facts.known[n].text for n in names}))
    if not lines and facts.failures:
        lines.append(f"Couldn't verify your workspace ({reasons}).")
    return list(dict.fromkeys(lines))
