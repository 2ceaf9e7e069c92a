"""What every live-check provider shares: facts, failures, and the HTTP client settings."""

from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import httpx

CONNECT_SECONDS = 2.0
TOTAL_SECONDS = 5.0


@dataclass(frozen=True)
class Fact:
    """Something confirmed about a workspace: a value, and how to say it to a person (mrkdwn)."""

    value: Any
    text: str


@dataclass
class Facts:
    known: dict[str, Fact] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)   # provider name -> reason it could not answer
    unsure: set[str] = field(default_factory=set)              # facts a failing provider would have given


class ProviderError(Exception):
    """A provider could not answer. `reason` is safe to show (no secrets); `bad_credentials` asks for the
    workspace's admins to be told."""

    def __init__(self, reason: str, bad_credentials: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.bad_credentials = bad_credentials


@dataclass(frozen=True)
class Question:
    """What the checks need to know about: the workspace and the date a report would post on."""

    workspace: str
    posting_date: date | None


class Provider(Protocol):
    name: str
    provides: frozenset[str]   # the facts it can give

    def facts(self, question: Question) -> dict[str, Fact]: ...


_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("provider_deadline", default=None)


@contextmanager
def deadline(seconds: float):
    """Every request made inside ends by then: httpx's timeouts are per read, so a server that drips a byte
    every few seconds would otherwise hold the check for as long as it likes."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


class _UntilDeadline(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, end: float) -> None:
        self.stream, self.end = stream, end

    def __iter__(self):
        for chunk in self.stream:
            if time.monotonic() > self.end:
                raise httpx.ReadTimeout("the provider's deadline passed")
            yield chunk

    def close(self) -> None:
        self.stream.close()


class DeadlineTransport(httpx.HTTPTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        end = _deadline.get()
        if end is not None and time.monotonic() > end:
            raise httpx.ConnectTimeout("the provider's deadline passed", request=request)
        response = super().handle_request(request)
        if end is None:
            return response
        return httpx.Response(response.status_code, headers=response.headers, extensions=response.extensions,
                              stream=_UntilDeadline(response.stream, end), request=request)


def http_client() -> httpx.Client:
    """A client whose every read waits at most what is left of the deadline (or TOTAL_SECONDS)."""
    end = _deadline.get()
    left = TOTAL_SECONDS if end is None else max(0.05, min(TOTAL_SECONDS, end - time.monotonic()))
    return httpx.Client(timeout=httpx.Timeout(left, connect=min(CONNECT_SECONDS, left)), transport=DeadlineTransport(),
                        follow_redirects=False)


def http_failure(exc: Exception) -> ProviderError:
    """A one-line, secret-free reason for an HTTP-level failure."""
    if isinstance(exc, httpx.TimeoutException):
        return ProviderError("timed out")
    if isinstance(exc, httpx.HTTPStatusError):
        status = exc.response.status_code
        if status in (401, 403):
            return ProviderError(f"credentials were rejected (HTTP {status})", bad_credentials=True)
        if status == 429:
            return ProviderError("rate limited (HTTP 429)")
        return ProviderError(f"server error (HTTP {status})" if status >= 500 else f"HTTP {status}")
    if isinstance(exc, httpx.HTTPError):
        return ProviderError(f"could not connect ({type(exc).__name__})")
    return ProviderError(type(exc).__name__)


def get_json(url: str, headers: dict, params: dict | None = None):
    """GET a JSON API; its decoded body, or ProviderError for an HTTP failure or a body that is not JSON."""
    try:
        with http_client() as client:
            response = client.get(url, params=params, headers={"Accept": "application/json", **headers})
            response.raise_for_status()
    except httpx.HTTPError as exc:
        raise http_failure(exc) from None
    try:
        return response.json()
    except ValueError:
        raise ProviderError("unreadable response (malformed JSON)") from None


def fmt_date(day: date) -> str:
    return day.strftime("%m/%d/%Y")
