"""Socket Mode through a loopback Slack: apps.connections.open hands out a local ws:// URL, a WebSocket
server there pushes an event envelope, Fixit acks it on the socket and answers through the Web API."""

from __future__ import annotations

import pytest
from slack_harness import FakeSlack, eventually, get_json, message
from slack_harness import envelope as events_api_body

from bot.settings import Settings
from bot.slack.app import build_runtime

pytest.importorskip("websockets")
from socket_mode_fake import FakeSocketModeServer  # noqa: E402


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

    from slack_harness import free_port

    from bot.slack.app import start_socket_mode

    fake = FakeSlack()
    server = FakeSocketModeServer([])
    fake.socket_url = f"ws://127.0.0.1:{server.port}/link"
    port = free_port()
    settings = Settings(bot_token="xoxb-test", app_token="xapp-test", api_url=fake.api_url, kb_poll_seconds=0,
                        database_url=f"sqlite:///{tmp_path / 'fixit.db'}", health_port=port, health_host="127.0.0.1")

    def get(path):
        return get_json(port, path, wait=0)

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
