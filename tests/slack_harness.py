"""Loopback Slack for end-to-end tests: a fake Web API that records calls, the real Fixit app served
over HTTP (uvicorn + Bolt's ASGI adapter), and requests signed the way Slack signs them."""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
BOT_USER = "UFIXITBOT"


@dataclass
class Call:
    method: str          # "chat.postMessage", or "response_url" for posts to a response URL
    args: dict
    path: str = ""
    at: float = 0.0      # time.perf_counter() when it arrived


class FakeSlack:
    """Slack's Web API on 127.0.0.1: answers like Slack, records every call, fails on request."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[tuple[int, dict, dict]]] = {}
        self.waiters: dict[str, threading.Event] = {}
        self.socket_url = ""  # what apps.connections.open hands out (Socket Mode tests)
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                args = fake.parse(raw, self.headers.get("Content-Type", ""))
                path = urllib.parse.urlparse(self.path).path
                method = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
                status, headers, body = fake.respond(method, args, path)
                payload = json.dumps(body).encode()
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops connections under load (1 s SYN retries)
            daemon_threads = True

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"http://127.0.0.1:{self.port}/response/{name}"

    @staticmethod
    def parse(raw: bytes, content_type: str) -> dict:
        if "json" in content_type:
            return json.loads(raw or b"{}")
        args = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    def fail_next(self, method: str, status: int, headers: dict | None = None, body: dict | None = None) -> None:
        self.failures.setdefault(method, []).append((status, headers or {}, body or {"ok": False, "error": "fail"}))

    def respond(self, method: str, args: dict, path: str) -> tuple[int, dict, dict]:
        with self._lock:
            queue = self.failures.get(method)
            if queue:
                status, headers, body = queue.pop(0)
                self.calls.append(Call(f"{method}!{status}", args, path, time.perf_counter()))
                return status, headers, body
            self.calls.append(Call(method, args, path, time.perf_counter()))
            waiter = self.waiters.get(args.get("thread_ts") or "")
            if waiter is not None:
                waiter.set()
        if method == "auth.test":
            return 200, {}, {"ok": True, "user_id": BOT_USER, "bot_id": "BFIXIT", "team_id": "T0001",
                             "team": "Test", "user": "fixit", "url": "https://test.slack.com/"}
        if method in ("chat.postMessage", "chat.update"):
            return 200, {}, {"ok": True, "channel": args.get("channel"), "ts": f"1700000000.{next(self._ts):06d}",
                             "message": {"text": args.get("text", "")}}
        if method == "apps.connections.open":
            return 200, {}, {"ok": True, "url": self.socket_url}
        if method == "chat.postEphemeral":
            return 200, {}, {"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"}
        return 200, {}, {"ok": True}

    def expect_answer(self, thread_ts: str) -> threading.Event:
        """An event set when a message is posted in that thread."""
        with self._lock:
            return self.waiters.setdefault(thread_ts, threading.Event())

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        got = self.of(method)
        summary = [(c.method, str(c.args)[:200]) for c in got[:5]]
        raise AssertionError(f"expected {count} {method} call(s), got {len(got)}: {summary}")

    def settle(self, seconds: float = 0.6) -> None:
        """Give lazy listeners time to do anything they were going to do (for asserting silence)."""
        time.sleep(seconds)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.failures.clear()
            self.waiters.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FixitServer:
    """The real app, served by uvicorn on 127.0.0.1, the way `python -m bot serve --http` serves it."""

    def __init__(self, runtime) -> None:
        import uvicorn

        from bot.slack.app import asgi_app

        self.runtime = runtime
        self.port = free_port()
        config = uvicorn.Config(asgi_app(runtime), host="127.0.0.1", port=self.port, log_level="warning",
                                access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


class SlackSender:
    """Sends signed requests to Fixit the way Slack does."""

    _ids = itertools.count(1)

    def __init__(self, url: str, secret: str = SECRET) -> None:
        self.url = url
        self.verifier = SignatureVerifier(secret)

    def send(self, body: bytes, content_type: str, timestamp: int | None = None, signature: str | None = None,
             retry_num: int | None = None) -> tuple[int, bytes]:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts,
                   "X-Slack-Signature": signature or self.verifier.generate_signature(timestamp=ts, body=body)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def event(self, event: dict, event_id: str | None = None, **kw) -> tuple[int, bytes]:
        body = {"token": "x", "team_id": "T0001", "api_app_id": "A0001", "type": "event_callback",
                "event_id": event_id or f"Ev{next(self._ids):08d}", "event_time": int(time.time()),
                "event": {"event_ts": event.get("ts", "1.0"), **event}}
        return self.send(json.dumps(body).encode(), "application/json", **kw)

    def command(self, text: str, response_url: str, channel: str = "C0001", user: str = "U0001",
                command: str = "/fixit") -> tuple[int, bytes]:
        form = {"token": "x", "team_id": "T0001", "channel_id": channel, "user_id": user, "command": command,
                "text": text, "response_url": response_url, "trigger_id": "t.1", "api_app_id": "A0001"}
        return self.send(urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interactive(self, payload: dict) -> tuple[int, bytes]:
        payload = {"team": {"id": "T0001"}, "api_app_id": "A0001", "token": "x", "trigger_id": "t.1", **payload}
        form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.send(form, "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, response_url: str, channel: str = "C0001", user: str = "U0001",
              ephemeral: bool = False) -> tuple[int, bytes]:
        return self.interactive({
            "type": "block_actions", "user": {"id": user}, "channel": {"id": channel},
            "container": {"type": "message", "is_ephemeral": ephemeral, "channel_id": channel},
            "response_url": response_url,
            "actions": [{"type": "button", "action_id": action_id, "value": value, "block_id": "b",
                         "action_ts": "1.1"}]})


def message(text: str, ts: str = "1700000100.000100", channel: str = "C0001", user: str = "U0001",
            **extra) -> dict:
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
            "channel_type": "channel", **extra}


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")
