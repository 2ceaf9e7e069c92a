"""Retrying Slack Web API calls that failed on the way, without ever posting an answer twice.

A server error (5xx), a dropped or timed-out connection, or a reply that is not Slack's JSON is retried with
slack_sdk's backoff. Such a failure may come after Slack posted the message (the reply was lost, not the
request), so every post carries a `metadata` id (`Delivery.post`), and before a post is sent again the
conversation is read for a message with that id: found, the post landed and is not repeated.
"""

from __future__ import annotations

import http.client
import json
import logging
import ssl
import threading
from collections import OrderedDict
from collections.abc import Callable
from urllib.error import HTTPError

from slack_sdk.http_retry.handler import RetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

log = logging.getLogger("fixit.slack")
METADATA_TYPE = "fixit_answer"
SERVER_ERRORS = (500, 502, 503, 504)


def tag(message: dict, post_id: str) -> dict:
    """The message with the id a retry looks for."""
    return {**message, "metadata": {"event_type": METADATA_TYPE, "event_payload": {"post_id": post_id}}}


def post_id_of(message: dict) -> str:
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != METADATA_TYPE:
        return ""
    return str((metadata.get("event_payload") or {}).get("post_id") or "")


class Landed:
    """Posts found in their conversation after their reply was lost: post id → the message's ts, for the
    poster to take (the call itself still raises), the oldest forgotten past `limit`."""

    def __init__(self, limit: int = 1000) -> None:
        self._found: OrderedDict[str, str] = OrderedDict()
        self._lock = threading.Lock()
        self.limit = limit

    def record(self, post_id: str, ts: str) -> None:
        with self._lock:
            self._found[post_id] = ts
            while len(self._found) > self.limit:
                self._found.popitem(last=False)

    def take(self, post_id: str) -> str:
        with self._lock:
            return self._found.pop(post_id, "")


class SlackFaults(RetryHandler):
    """slack_sdk retry handler for failures on the way (see the module). `landed(token, message)` is the ts
    of the message with that message's post id in its conversation, or ''."""

    def __init__(self, landed: Callable[[str, dict], str], found: Landed, max_retry_count: int = 2) -> None:
        super().__init__(max_retry_count=max_retry_count)
        self.landed = landed
        self.found = found

    def _can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                   error: Exception | None = None) -> bool:
        if not failed_on_the_way(response, error):
            return False
        message = posted_message(request)
        if message is None or not post_id_of(message):
            return True
        values = request.headers.get("Authorization") or [""]
        token = values[0].removeprefix("Bearer ").strip()
        try:
            ts = self.landed(token, message)
            if ts:
                log.warning("a post to %s failed on the way but had landed: not posted again",
                            message.get("channel"))
                self.found.record(post_id_of(message), ts)
                return False
        except Exception as exc:  # noqa: BLE001 (cannot look: post again rather than lose the answer)
            log.warning("could not look for a failed post in %s (%s): posting it again", message.get("channel"),
                        type(exc).__name__)
        return True


def failed_on_the_way(response: HttpResponse | None, error: Exception | None) -> bool:
    if response is not None and response.status_code in SERVER_ERRORS:
        return True
    if response is not None and response.status_code == 200 and error is None:
        return not isinstance(response.body, dict) or "ok" not in response.body  # not Slack's reply
    if error is None or isinstance(error, (HTTPError, ssl.SSLCertVerificationError)):
        return False
    return isinstance(error, (OSError, http.client.HTTPException, json.JSONDecodeError))


def posted_message(request: HttpRequest) -> dict | None:
    """The message of a chat.postMessage request, or None for any other call."""
    if not request.url.endswith("chat.postMessage") or not request.data:
        return None
    try:
        body = json.loads(request.data)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None
