"""The embedded provider: an export of the workspace's accounting settings (YAML or JSON).

Field names follow the expense tool's own connection config:

    connection: intacct                 # intacct | netsuite | quickbooksOnline | quickbooksDesktop | xero
    config:
      export:
        exportDate: SUBMITTED           # SUBMITTED | EXPORTED | LAST_EXPENSE
        exporter: ap@acme.com           # the preferred exporter
      autoSync:
        enabled: true
      postToNextOpenPeriod: false
    reports:                            # optional: recent reports, to know the date one would post on
      - reportID: R00J5K2LM8P
        submitted: 2026-03-28
        lastExpenseDate: 2026-03-27
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import yaml

from bot.checks.base import Fact, ProviderError, Question, fmt_date

EXPORT_DATES = {
    "SUBMITTED": "submitted", "REPORT_SUBMITTED": "submitted",
    "EXPORTED": "exported", "REPORT_EXPORTED": "exported",
    "LAST_EXPENSE": "last_expense", "REPORT_LAST_EXPENSE": "last_expense",
}
EXPORT_DATE_LABELS = {"submitted": "Submitted date", "exported": "Exported date",
                      "last_expense": "Date of last expense"}


class SettingsFile:
    name = "settings file"
    provides = frozenset({"integration", "export_date", "auto_sync", "preferred_exporter",
                          "post_to_next_open_period"})

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._parsed: tuple[tuple[int, int], dict] | None = None   # (file's mtime and size, its data)

    def load(self) -> dict:
        """The export, parsed again only when the file changed (a check asks for its facts, then its reports)."""
        try:
            stat = self.path.stat()
            version = (stat.st_mtime_ns, stat.st_size)
            if self._parsed and self._parsed[0] == version:
                return self._parsed[1]
            text = self.path.read_text(encoding="utf-8")
            data = json.loads(text) if self.path.suffix == ".json" else yaml.safe_load(text)
        except OSError as exc:
            raise ProviderError(f"settings file unreadable ({exc.strerror or type(exc).__name__})") from None
        except (ValueError, yaml.YAMLError):
            raise ProviderError("settings file is not valid YAML/JSON") from None
        if not isinstance(data, dict):
            raise ProviderError("settings file does not hold a mapping")
        self._parsed = (version, data)
        return data

    def facts(self, question: Question) -> dict[str, Fact]:
        data = self.load()
        config = data.get("config") or {}
        export = config.get("export") or {}
        facts: dict[str, Fact] = {}
        if data.get("connection"):
            facts["integration"] = Fact(str(data["connection"]), f"connected to *{data['connection']}*")
        raw_date = str(export.get("exportDate") or "").upper()
        if raw_date in EXPORT_DATES:
            value = EXPORT_DATES[raw_date]
            facts["export_date"] = Fact(value, f"Your workspace exports with *{EXPORT_DATE_LABELS[value]}*")
        if isinstance(config.get("autoSync"), dict) and "enabled" in config["autoSync"]:
            on = bool(config["autoSync"]["enabled"])
            facts["auto_sync"] = Fact(on, f"auto-sync is {'on' if on else 'off'}")
        if export.get("exporter"):
            exporter = str(export["exporter"])
            facts["preferred_exporter"] = Fact(exporter, f"the preferred exporter is {exporter}")
        if "postToNextOpenPeriod" in config:
            on = bool(config["postToNextOpenPeriod"])
            facts["post_to_next_open_period"] = Fact(on, f"posting to the next open period is {'on' if on else 'off'}")
        return facts

    def reports(self) -> dict[str, dict[str, date]]:
        """Report id → its dates (submitted, last_expense), for the reports the export lists."""
        out = {}
        for row in self.load().get("reports") or []:
            if isinstance(row, dict) and row.get("reportID"):
                dates = {key: _as_date(row.get(field)) for key, field in (("submitted", "submitted"),
                                                                          ("last_expense", "lastExpenseDate"))}
                out[str(row["reportID"]).upper()] = {key: day for key, day in dates.items() if day}
        return out


def posting_date(export_date: str, report_id: str, dates: dict[str, date], today: date) -> tuple[date, str] | None:
    """The date an export would post on, and how to say why; None when not confirmed."""
    if export_date == "exported":
        return today, f"an export today would post on {fmt_date(today)}"
    day = dates.get(export_date)
    if day is None:
        return None
    what = "was submitted on" if export_date == "submitted" else "has its last expense on"
    return day, f"report {report_id} {what} {fmt_date(day)}"


def _as_date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
