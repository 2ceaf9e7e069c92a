"""QuickBooks Online: the company's book close date (`Preferences.AccountingInfoPrefs.BookCloseDate`)."""

from __future__ import annotations

from datetime import date

from bot.checks.base import Fact, ProviderError, Question, fmt_date, get_json
from bot.checks.redact import REDACT

DEFAULT_BASE_URL = "https://quickbooks.api.intuit.com"


class QuickBooksOnline:
    name = "QuickBooks Online"
    system = "QuickBooks Online"
    provides = frozenset({"period_closed", "book_close_date"})

    def __init__(self, realm_id: str, token: str, base_url: str = DEFAULT_BASE_URL) -> None:
        self.realm_id, self.token, self.base_url = realm_id, token, base_url.rstrip("/")
        REDACT.add(token)

    def facts(self, question: Question) -> dict[str, Fact]:
        body = get_json(f"{self.base_url}/v3/company/{self.realm_id}/preferences",
                        {"Authorization": f"Bearer {self.token}"}, params={"minorversion": "75"})
        try:
            prefs = body["Preferences"]
            raw = (prefs.get("AccountingInfoPrefs") or {}).get("BookCloseDate")
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ProviderError("unreadable response (malformed JSON)") from None
        if not raw:
            return {"book_close_date": Fact(None, "QuickBooks Online has no book close date set")}
        try:
            closed_through = date.fromisoformat(str(raw)[:10])
        except ValueError:
            raise ProviderError("unreadable response (bad BookCloseDate)") from None
        said = f"the QuickBooks Online books are closed through {fmt_date(closed_through)}"
        facts = {"book_close_date": Fact(closed_through, said)}
        if question.posting_date:
            facts["period_closed"] = Fact(question.posting_date <= closed_through, said)
        return facts
