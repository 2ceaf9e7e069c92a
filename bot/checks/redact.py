"""Secrets never reach a log line or an error message: known values and secret-shaped fields are masked."""

from __future__ import annotations

import logging
import re
import threading

MASK = "***"
_PATTERNS = [
    re.compile(r"(<(password|sessionid|senderpassword)>)[^<]*(</\2>)", re.IGNORECASE),
    re.compile(r"((?:Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE),
    re.compile(r"((?:\"|')?(?:access_token|refresh_token|password|secret|token|sessionid)(?:\"|')?\s*[:=]\s*(?:\"|')?)"
               r"[^\"'\s,&}]+", re.IGNORECASE),
]


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *secrets: str | None) -> None:
        with self._lock:
            self._secrets.update(s for s in secrets if s and len(s) >= 4)

    def __call__(self, text: str) -> str:
        text = str(text)
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            text = text.replace(secret, MASK)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + MASK + (m.group(3) if m.lastindex and m.lastindex >= 3
                                                              else ""), text)
        return text


REDACT = Redactor()


class RedactingFilter(logging.Filter):
    """Applied to every handler: formats the record, then masks secrets in the result."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = REDACT(record.getMessage())
        record.args = ()
        return True


def install_log_redaction() -> None:
    root = logging.getLogger()
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    logging.getLogger("fixit").addFilter(RedactingFilter())
