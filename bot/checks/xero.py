"""Xero: the organisation's lock dates (`PeriodLockDate`, `EndOfYearLockDate`)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from bot.checks.base import Fact, ProviderError, Question, fmt_date, get_json
from bot.checks.redact import REDACT

DEFAULT_BASE_URL = "https://api.xero.com/api.xro/2.0"
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def xero_date(value) -> date | None:
    """`/Date(1711843200000+0000)/` or `2024-03-31T00:00:00` → a date; None when empty."""
    if not value:
        return None
    text = str(value).strip()
    m = _MS_DATE.match(text)
    if m:
        return datetime.fromtimestamp(int(m.group(1)) / 1000, tz=UTC).date()
    return date.fromisoformat(text[:10])


class Xero:
    name = "Xero"
    system = "Xero"
    provides = frozenset({"period_closed", "lock_date"})

    def __init__(self, tenant_id: str, token: str, base_url: str = DEFAULT_BASE_URL) -> None:
        self.tenant_id, self.token, self.base_url = tenant_id, token, base_url.rstrip("/")
        REDACT.add(token)

    def facts(self, question: Question) -> dict[str, Fact]:
        body = get_json(f"{self.base_url}/Organisation",
                        {"Authorization": f"Bearer {self.token}", "Xero-tenant-id": self.tenant_id})
        try:
            organisation = body["Organisations"][0]
            period_lock = xero_date(organisation.get("PeriodLockDate"))
            year_end_lock = xero_date(organisation.get("EndOfYearLockDate"))
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise ProviderError("unreadable response (malformed JSON)") from None
        locks = [(d, label) for d, label in ((year_end_lock, "year-end lock date"), (period_lock, "lock date"))
                 if d is not None]
        if not locks:
            return {"lock_date": Fact(None, "Xero has no lock dates set")}
        lock, label = max(locks)
        said = f"Xero's {label} is {fmt_date(lock)}"
        facts = {"lock_date": Fact(lock, said)}
        if question.posting_date:
            facts["period_closed"] = Fact(question.posting_date <= lock, said)
        return facts
