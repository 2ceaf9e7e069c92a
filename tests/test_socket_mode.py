"""Socket Mode through a loopback Slack: apps.connections.open hands out a local ws:// URL, a WebSocket
server there pushes an event envelope, Fixit acks it on the socket and answers through the Web API."""

from __future__ import annotations

import asyncio
import json
import threading

import pytest
from slack_harness import FakeSlack, eventually, message
from slack_harness import envelope as events_api_body

from bot.settings import Settings
from bot.slack.app import build_runtime

websockets = pytest.importorskip("websockets")
from websockets.asyncio.server import serve  # noqa: E402


class FakeSocketModeServer:
    """Sends `hello`, then each queued envelope; records what the client sends back (acks)."""

    def __init__(self, envelopes: list[dict]) -> None:
        self.envelopes = envelopes
        self.received: list[dict] = []
        self.ready = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)

    async def _start(self):
        self.server = await serve(self._session, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _session(self, ws):
        await ws.send(json.dumps({"type": "hello", "num_connections": 1,
                                  "connection_info": {"app_id": "A0001"}, "debug_info": {"host": "loopback"}}))
        for envelope in self.envelopes:
            await ws.send(json.dumps(envelope))
        try:
            async for raw in ws:
                self.received.append(json.loads(raw))
        except websockets.ConnectionClosed:
            pass

    def close(self):
        async def stop():
            self.server.close()
            await self.server.wait_closed()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)


def test_socket_mode_event_is_acked_and_answered(tmp_path):
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    fake = FakeSlack()
    body = events_api_body(message("NS0012", ts="1700003000.000001"), "EvSOCKET1")
    envelope = {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                "retry_attempt": 0, "retry_reason": "", "payload": body}
    server = FakeSocketModeServer([envelope])
    fake.socket_url = f"ws://127.0.0.1:{server.port}/link"
    settings = Settings(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.api_url,
                        database_url=f"sqlite:///{tmp_path / 'fixit.db'}")
    runtime = build_runtime(settings, watch=False)
    handler = SocketModeHandler(runtime.app, settings.app_token)
    try:
        handler.connect()
        (post,) = fake.wait_for("chat.postMessage", timeout=15)
        assert post.args["thread_ts"] == "1700003000.000001"
        assert post.args["blocks"][0]["text"]["text"].startswith("NS0012")
        eventually(lambda: any(r.get("envelope_id") == "env-1" for r in server.received))  # the ack
        assert fake.of("apps.connections.open")
    finally:
        handler.close()
        server.close()
        fake.close()


def test_socket_mode_slash_command_is_answered_in_its_ack(tmp_path):
    """/fixit over Socket Mode: the private answer rides on the acknowledgement, as over HTTP."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    fake = FakeSlack()
    command = {"token": "x", "team_id": "T0001", "channel_id": "C0001", "user_id": "U0001", "command": "/fixit",
               "text": "INT771", "response_url": fake.response_url("sm"), "trigger_id": "t.1", "api_app_id": "A0001"}
    envelope = {"envelope_id": "env-cmd", "type": "slash_commands", "accepts_response_payload": True,
                "payload": command}
    server = FakeSocketModeServer([envelope])
    fake.socket_url = f"ws://127.0.0.1:{server.port}/link"
    settings = Settings(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.api_url,
                        database_url=f"sqlite:///{tmp_path / 'fixit.db'}")
    handler = SocketModeHandler(build_runtime(settings, watch=False).app, settings.app_token)
    try:
        handler.connect()
        eventually(lambda: any(r.get("envelope_id") == "env-cmd" for r in server.received), timeout=15)
        (ack,) = [r for r in server.received if r.get("envelope_id") == "env-cmd"]
        assert ack["payload"]["response_type"] == "ephemeral"
        assert ack["payload"]["blocks"][0]["text"]["text"] == "INT771 Export Error"
    finally:
        handler.close()
        server.close()
        fake.close()


def test_socket_mode_serves_readiness_on_the_health_port(tmp_path):
    """Socket Mode has no inbound port: FIXIT_HEALTH_PORT serves /healthz and /readyz, ready only while the
    socket is connected."""
    import urllib.error
    import urllib.request

    from slack_harness import free_port

    from bot.slack.app import start_socket_mode

    fake = FakeSlack()
    server = FakeSocketModeServer([])
    fake.socket_url = f"ws://127.0.0.1:{server.port}/link"
    port = free_port()
    settings = Settings(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.api_url, kb_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'fixit.db'}", health_port=port, health_host="127.0.0.1")

    def get(path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    runtime, handler, probes = start_socket_mode(settings)
    try:
        assert get("/healthz") == (200, {"ok": True})
        eventually(lambda: get("/readyz")[0] == 200)
        assert get("/readyz")[1]["entries"] == len(runtime.reloader.current.kb.entries)
        handler.close()
        status, body = get("/readyz")
        assert status == 503 and body["reason"] == "not connected to Slack in Socket Mode"
    finally:
        handler.close()
        probes.shutdown()
        server.close()
        fake.close()
