"""The HTTP edge: Bolt's ASGI adapter, with the checks a request passes before anything reads it.

A request to /slack/events is refused before Bolt sees it when its body is over MAX_BODY_BYTES (413, read no
further than that), when it is not signed with the signing secret within Slack's five minutes (401), or when
its body is not what its content type says (400). No body is ever logged. Slash commands and clicks
(form-encoded) are dispatched in a worker thread, where Bolt waits for the listener's ack(); events (JSON)
are acknowledged by Bolt at once and stay on the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

from slack_bolt import App
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_response import AsgiHttpResponse
from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from bot.slack.health import PATHS

log = logging.getLogger("fixit.slack")
MAX_BODY_BYTES = 1_000_000   # Slack's payloads are a few kB; a message of 40 000 characters fits many times


class TooLarge(Exception):
    pass


class FixitRequestHandler(SlackRequestHandler):
    def __init__(self, app: App, signing_secret: str, path: str = "/slack/events",
                 probe: Callable[[str], tuple[int, dict]] | None = None,
                 on_shutdown: Callable[[], None] | None = None) -> None:
        super().__init__(app, path)
        if not signing_secret:
            raise ValueError("serving Slack's requests over HTTP needs the app's signing secret")
        self.verifier = SignatureVerifier(signing_secret)  # the only check: Bolt's own is off (bot/slack/app.py)
        self.probe = probe
        self.on_shutdown = on_shutdown

    async def _handle_lifespan(self, receive, send) -> None:
        """uvicorn's lifespan: at shutdown (SIGTERM; no request comes in any more and the open ones are
        done) the answers still being worked out or posted go out before the process ends."""
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
            message = await receive()
        if message["type"] == "lifespan.shutdown":
            if self.on_shutdown is not None:
                await asyncio.to_thread(self.on_shutdown)
            await send({"type": "lifespan.shutdown.complete"})

    async def __call__(self, scope, receive, send) -> None:
        if self.probe and scope["type"] == "http" and scope["method"] == "GET" and scope["path"] in PATHS:
            status, body = await asyncio.to_thread(self.probe, scope["path"])  # the store's probe may wait
            response = AsgiHttpResponse(status=status, headers={"content-type": ["application/json"]},
                                        body=json.dumps(body))
            await send(response.get_response_start())
            await send(response.get_response_body())
            return
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await super().__call__(scope, receive, send)
            return
        response = await self.events(scope, receive)
        if response is not None:
            await send(response.get_response_start())
            await send(response.get_response_body())

    async def events(self, scope, receive) -> AsgiHttpResponse | None:
        headers = {str(k, "latin-1").lower(): str(v, "latin-1") for k, v in scope["headers"]}
        try:
            raw = await read_body(receive, headers.get("content-length", ""))
        except TooLarge:
            log.warning("refused a request of more than %d bytes", MAX_BODY_BYTES)
            return reply(413, "request body too large")
        except ValueError:
            return reply(400, "bad Content-Length")
        if raw is None:
            return None  # the client went away
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return reply(400, "body is not UTF-8")
        if not self.signed(body, headers):
            log.warning("refused a request without a valid signature (%d bytes)", len(raw))
            return reply(401, "invalid request")
        query = str(scope["query_string"], "latin-1")
        try:
            request = BoltRequest(body=body, query=query, headers=headers)
        except ValueError:  # JSONDecodeError included: a body that is not what its content type says
            return reply(400, "malformed body")
        if body.startswith("{"):
            response = self.app.dispatch(request)
        else:
            response = await asyncio.to_thread(self.app.dispatch, request)
        if response.status == 404:
            # an event or interaction Fixit has no listener for: acknowledged, or Slack retries it
            log.debug("no listener for a %s request", request.body.get("type") or "form")
            return reply(200, "")
        return AsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)

    # the install flow's two pages read and write the database: off the event loop
    async def handle_installation(self, request):
        return await asyncio.to_thread(self.app.oauth_flow.handle_installation, await bolt_request_of(request))

    async def handle_callback(self, request):
        return await asyncio.to_thread(self.app.oauth_flow.handle_callback, await bolt_request_of(request))

    def signed(self, body: str, headers: dict[str, str]) -> bool:
        timestamp = headers.get("x-slack-request-timestamp", "")
        signature = headers.get("x-slack-signature", "")
        return timestamp.isdigit() and bool(signature) and self.verifier.is_valid(body, timestamp, signature)


async def bolt_request_of(request) -> BoltRequest:
    """Bolt's request for one of its ASGI adapter's requests."""
    return BoltRequest(body=await request.get_raw_body(), query=request.query_string, headers=request.get_headers())


async def read_body(receive, content_length: str) -> bytes | None:
    """The request body, at most MAX_BODY_BYTES (TooLarge past that, without reading the rest); None when the
    client disconnected."""
    if content_length:
        if not content_length.isdigit():
            raise ValueError(content_length)
        if int(content_length) > MAX_BODY_BYTES:
            raise TooLarge
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks += message.get("body", b"")
        if len(chunks) > MAX_BODY_BYTES:
            raise TooLarge
        if not message.get("more_body", False):
            return bytes(chunks)


def reply(status: int, error: str) -> AsgiHttpResponse:
    """A response Fixit makes itself: an error, or (no error) an empty acknowledgement."""
    if not error:
        return AsgiHttpResponse(status=status, body="")
    return AsgiHttpResponse(status=status, headers={"content-type": ["application/json"]},
                            body=json.dumps({"error": error}))
