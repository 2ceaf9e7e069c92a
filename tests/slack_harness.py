"""Loopback Slack for end-to-end tests: a fake Web API that records calls, the real Fixit app served
over HTTP (uvicorn + Bolt's ASGI adapter), and requests signed the way Slack signs them."""

from __future__ import annotations

import base64
import hashlib
import html
import itertools
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from loopback import DROP, LoopbackServer
from slack_sdk.signature import SignatureVerifier

SECRET = "test-signing-secret"
INT771 = "INT771 Export Error: Export not completed. The batches for this reporting period are closed in Sage Intacct."
BOT_USER = "UFIXITBOT"


@dataclass
class Call:
    method: str          # "chat.postMessage", or "response_url" for posts to a response URL
    args: dict
    path: str = ""
    at: float = 0.0      # time.perf_counter() when it arrived
    token: str = ""      # the bearer token it came with


@dataclass
class Team:
    """A workspace (or, with `enterprise`, an Enterprise Grid org installing org-wide) that can install the
    app through the fake's oauth.v2.access."""

    id: str
    enterprise: str = ""
    org_wide: bool = False
    expires_in: int = 43200        # a rotating token's lifetime, seconds
    admins: tuple[str, ...] = ()


class FakeSlack(LoopbackServer):
    """Slack's Web API on 127.0.0.1: answers like Slack, records every call, fails on request."""

    def __init__(self, tls=None) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[tuple[int, dict, dict]]] = {}
        self.drops: dict[str, int] = {}                 # method: how many calls to carry out, then drop unanswered
        self.messages: dict[str, list[dict]] = {}       # channel: messages posted, as Slack stores them
        self.slow: dict[str, float] = {}                # channel: seconds each post there takes
        self.stalls: dict[str, list[float]] = {}        # method: stall this long, then drop, undone
        self.waiters: dict[str, threading.Event] = {}
        self.socket_url = ""  # what apps.connections.open hands out (Socket Mode tests)
        self.refused_tokens: set[str] = set()           # answered invalid_auth, as Slack answers a bad token
        self.teams: dict[str, Team] = {}                # code → who installs with it (oauth.v2.access)
        self.tokens: dict[str, Team] = {}               # bot tokens handed out, and whose they are
        self.refresh_tokens: dict[str, Team] = {}
        self.client_id, self.client_secret = "1234.5678", "client-secret"
        self._ts = itertools.count(1)
        self._lock = threading.Lock()
        super().__init__(tls)

    def respond(self, method, path, headers, body):
        parsed = urllib.parse.urlparse(path)
        args = {**{k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()},
                **self.parse(body, headers.get("Content-Type", ""))}
        path = parsed.path
        name = "response_url" if path.startswith("/response/") else path.rsplit("/", 1)[-1]
        with self._lock:
            stall = self.stalls.get(name)
            if stall:
                self.stalls[name] = stall[1:]
        if stall:
            time.sleep(stall[0])
            return DROP  # never carried out, and no answer before the client gave up
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if token.startswith("Basic "):   # oauth.v2.access: the client's id and secret, as HTTP Basic auth
            client_id, _, client_secret = base64.b64decode(token[6:]).decode().partition(":")
            args.setdefault("client_id", client_id)
            args.setdefault("client_secret", client_secret)
            token = ""
        if token and token in self.refused_tokens:
            self.calls.append(Call(f"{name}!invalid_auth", args, path, time.perf_counter(), token))
            return 200, {"Content-Type": "application/json"}, b'{"ok": false, "error": "invalid_auth"}'
        args["_token"] = token
        delay = self.slow.get(str(args.get("channel", "")), 0.0)
        if delay:
            time.sleep(delay)  # Slack slow for that channel (its handler thread waits; the others do not)
        status, extra, answer = self.answer(name, args, path)
        with self._lock:
            if self.drops.get(name):
                self.drops[name] -= 1
                return DROP  # done, but the answer never leaves: the client cannot tell whether it was
        payload = answer if isinstance(answer, bytes) else json.dumps(answer).encode()  # bytes: a garbled reply
        return status, {"Content-Type": "application/json", **extra}, payload

    def stall_next(self, method: str, seconds: float) -> None:
        """The next call of `method` waits `seconds` (past the client's timeout), is not carried out, and gets
        no answer."""
        self.stalls.setdefault(method, []).append(seconds)

    def drop_next(self, method: str, count: int = 1) -> None:
        """Carry out the next `count` calls of `method`, then close the connection without answering."""
        self.drops[method] = self.drops.get(method, 0) + count

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/"

    def response_url(self, name: str = "r1") -> str:
        return f"{self.url}/response/{name}"

    @staticmethod
    def parse(raw: bytes, content_type: str) -> dict:
        if "json" in content_type:
            return json.loads(raw or b"{}")
        args = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        return args

    def fail_next(self, method: str, status: int, headers: dict | None = None,
                  body: dict | bytes | None = None) -> None:
        self.failures.setdefault(method, []).append((status, headers or {}, body or {"ok": False, "error": "fail"}))

    def answer(self, method: str, args: dict, path: str) -> tuple[int, dict, dict]:
        token = args.pop("_token", "")
        with self._lock:
            queue = self.failures.get(method)
            if queue:
                status, headers, body = queue.pop(0)
                self.calls.append(Call(f"{method}!{status}", args, path, time.perf_counter(), token))
                return status, headers, body
            self.calls.append(Call(method, args, path, time.perf_counter(), token))
            waiter = self.waiters.get(args.get("thread_ts") or "")
            if waiter is not None:
                waiter.set()
        if method == "auth.test":
            team = self.tokens.get(token)
            if team is not None:
                return 200, {}, {"ok": True, "user_id": f"U{team.id}BOT", "bot_id": f"B{team.id}",
                                 "team_id": None if team.org_wide else team.id, "team": team.id, "user": "fixit",
                                 "enterprise_id": team.enterprise or None, "is_enterprise_install": team.org_wide,
                                 "url": f"https://{team.id.lower()}.slack.com/"}
            return 200, {}, {"ok": True, "user_id": BOT_USER, "bot_id": "BFIXIT", "team_id": "T0001",
                             "team": "Test", "user": "fixit", "url": "https://test.slack.com/"}
        if method == "oauth.v2.access":
            return 200, {}, self.oauth_access(args)
        if method == "users.info":   # as the team of the token sees the user
            team = self.tokens.get(token)
            admin = team is not None and args.get("user") in team.admins
            return 200, {}, {"ok": True, "user": {"id": args.get("user"), "is_admin": admin, "is_owner": False,
                                                  "team_id": team.id if team else "T0001"}}
        if method in ("chat.postMessage", "chat.update"):
            ts = args.get("ts") or f"1700000000.{next(self._ts):06d}"
            # like Slack, the answer carries the message as posted, blocks and all
            message = {"type": "message", "user": BOT_USER, "bot_id": "BFIXIT", "app_id": "A0001", "team": "T0001",
                       "ts": ts, "text": args.get("text", ""),
                       **({"blocks": args["blocks"]} if args.get("blocks") else {})}
            if method == "chat.postMessage":
                stored = {**message, "thread_ts": args.get("thread_ts") or ts}
                if args.get("metadata"):
                    metadata = args["metadata"]
                    stored["metadata"] = json.loads(metadata) if isinstance(metadata, str) else metadata
                with self._lock:
                    self.messages.setdefault(args.get("channel", ""), []).append(stored)
            return 200, {}, {"ok": True, "channel": args.get("channel"), "ts": ts, "message": message}
        if method in ("conversations.replies", "conversations.history"):
            with self._lock:
                found = [m for m in self.messages.get(args.get("channel", ""), [])
                         if method == "conversations.history" or m["thread_ts"] == args.get("ts")]
            if str(args.get("include_all_metadata")) not in ("1", "true", "True"):
                found = [{k: v for k, v in m.items() if k != "metadata"} for m in found]
            return 200, {}, {"ok": True, "messages": found, "has_more": False}
        if method == "chat.getPermalink":
            p = str(args.get("message_ts", "")).replace(".", "")
            return 200, {}, {"ok": True, "channel": args.get("channel"),
                             "permalink": f"https://test.slack.com/archives/{args.get('channel')}/p{p}"}
        if method == "apps.connections.open":
            return 200, {}, {"ok": True, "url": self.socket_url}
        if method == "chat.postEphemeral":
            return 200, {}, {"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"}
        return 200, {}, {"ok": True}

    def said(self, channel: str, ts: str, text: str, user: str = "U0001", thread_ts: str = "") -> None:
        """A message someone wrote (not through the API), as conversations.replies will return it."""
        with self._lock:
            self.messages.setdefault(channel, []).append({"type": "message", "user": user, "text": text, "ts": ts,
                                                          "thread_ts": thread_ts or ts})

    def oauth_access(self, args: dict) -> dict:
        """oauth.v2.access: a code for an installation, or a refresh token for a fresh rotating token."""
        if args.get("client_id") != self.client_id or args.get("client_secret") != self.client_secret:
            return {"ok": False, "error": "invalid_client_id"}
        with self._lock:
            if args.get("grant_type") == "refresh_token":
                team = self.refresh_tokens.get(args.get("refresh_token", ""))
            else:
                team = self.teams.pop(args.get("code", ""), None)   # a code is good once
            if team is None:
                return {"ok": False, "error": "invalid_code" if "code" in args else "invalid_refresh_token"}
            n = sum(1 for t in self.tokens.values() if t is team) + 1
            token, refresh = f"xoxe.xoxb-{team.id}-{n}", f"xoxe-1-{team.id}-{n}"
            self.tokens[token] = team
            self.refresh_tokens[refresh] = team
        answer = {"ok": True, "app_id": "A0001", "token_type": "bot", "scope": "chat:write,commands",
                  "access_token": token, "bot_user_id": f"U{team.id}BOT", "refresh_token": refresh,
                  "expires_in": team.expires_in,
                  "team": None if team.org_wide else {"id": team.id, "name": f"Team {team.id}"},
                  "enterprise": {"id": team.enterprise, "name": "Org"} if team.enterprise else None,
                  "is_enterprise_install": team.org_wide}
        if args.get("grant_type") != "refresh_token":
            answer["authed_user"] = {"id": f"U{team.id}ADMIN"}
        return answer

    def expect_answer(self, thread_ts: str) -> threading.Event:
        """An event set when a message is posted in that thread."""
        with self._lock:
            return self.waiters.setdefault(thread_ts, threading.Event())

    def of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def posts_in(self, thread_ts: str) -> list[Call]:
        """The messages posted in one thread."""
        return [c for c in self.of("chat.postMessage") if c.args.get("thread_ts") == thread_ts]

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

    def forget_calls(self) -> None:
        """Forget the calls made so far; what the conversations hold (`said`) and the failures stay."""
        with self._lock:
            self.calls.clear()

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.failures.clear()
            self.drops.clear()
            self.messages.clear()
            self.slow.clear()
            self.stalls.clear()
            self.waiters.clear()


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


def served(fake: FakeSlack, database_url: str, **settings) -> FixitServer:
    """The real app, single-token, against `fake`, with `settings` over the tests' defaults."""
    from bot.settings import Settings
    from bot.slack.app import build_runtime

    return FixitServer(build_runtime(Settings(**{"bot_token": "xoxb-test", "signing_secret": SECRET,
                                                  "api_url": fake.api_url, "database_url": database_url,
                                                  **settings}), watch=False))


ROOT = Path(__file__).resolve().parent.parent
STARTED = ("serving /slack/events", "connected to Slack in Socket Mode")


def server_env(fake: FakeSlack, folder: Path, **settings: str) -> dict[str, str]:
    """The environment of `python -m bot serve` against `fake`, its database in `folder`, nothing else of this
    process's (a developer's FIXIT_ or SLACK_ settings)."""
    return {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "SLACK_BOT_TOKEN": "xoxb-test",
            "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": fake.api_url,
            "FIXIT_DATABASE_URL": f"sqlite:///{folder / 'fixit.db'}", "FIXIT_KB_LAST_GOOD": "", **settings}


def serve_process(fake: FakeSlack, folder: Path, *args: str, **settings: str) -> tuple[subprocess.Popen, list[str]]:
    """`python -m bot serve ARGS` as an operator starts it, and its log lines up to the one saying it serves."""
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", *args], cwd=folder, stderr=subprocess.PIPE,
                              text=True, env=server_env(fake, folder, **settings))
    lines = []
    for line in server.stderr:
        lines.append(line.rstrip())
        if any(started in line for started in STARTED):
            return server, lines
    raise AssertionError("the server did not start:\n" + "\n".join(lines[-30:]))


def get_json(port: int, path: str, wait: float = 20) -> tuple[int, dict]:
    """GET a JSON page of a server on 127.0.0.1 (a probe), waiting up to `wait` s for it to listen."""
    deadline = time.monotonic() + wait
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except (ConnectionError, urllib.error.URLError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class SlackSender:
    """Sends signed requests to Fixit the way Slack does."""

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
        return self.send(json.dumps(envelope(event, event_id)).encode(), "application/json", **kw)

    def event_once_listening(self, event: dict, wait: float = 20) -> int:
        """`event`, sent as soon as the server listens (a served process logs "serving" just before uvicorn
        binds its port, and workers listen once they have loaded the KB): the HTTP status."""
        deadline = time.monotonic() + wait
        while True:
            try:
                return self.event(event)[0]
            except OSError:
                assert time.monotonic() < deadline, f"nothing listens on {self.url} after {wait} s"
                time.sleep(0.1)

    def command(self, text: str, response_url: str, channel: str = "C0001", user: str = "U0001",
                command: str = "/fixit", trigger_id: str = "", team: str = "T0001",
                channel_name: str = "") -> tuple[int, bytes]:
        form = {"token": "x", "team_id": team, "channel_id": channel, "user_id": user, "command": command,
                "text": text, "response_url": response_url, "trigger_id": trigger_id or new_trigger_id(),
                "api_app_id": "A0001", **({"channel_name": channel_name} if channel_name else {})}
        return self.send(urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded")

    def interactive(self, payload: dict) -> tuple[int, bytes]:
        payload = {"team": {"id": "T0001"}, "api_app_id": "A0001", "token": "x", "trigger_id": new_trigger_id(),
                   **payload}
        form = urllib.parse.urlencode({"payload": json.dumps(payload)}).encode()
        return self.send(form, "application/x-www-form-urlencoded")

    def click(self, action_id: str, value: str, response_url: str, channel: str = "C0001", user: str = "U0001",
              ephemeral: bool = False, thread_ts: str = "") -> tuple[int, bytes]:
        container = {"type": "message", "is_ephemeral": ephemeral, "channel_id": channel,
                     **({"thread_ts": thread_ts} if thread_ts else {})}
        return self.interactive({
            "type": "block_actions", "user": {"id": user}, "channel": {"id": channel}, "container": container,
            "response_url": response_url,
            "actions": [{"type": "button", "action_id": action_id, "value": value, "block_id": "b",
                         "action_ts": "1.1"}]})


def message(text: str, ts: str = "1700000100.000100", channel: str = "C0001", user: str = "U0001",
            **extra) -> dict:
    return {"type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
            "channel_type": "channel", **extra}


_event_ids = itertools.count(1)


def new_trigger_id() -> str:
    """Slack gives every command and interaction a trigger id of its own."""
    return f"{next(_event_ids)}.{uuid.uuid4().int % 10**12}.{uuid.uuid4().hex}"


def envelope(event: dict, event_id: str | None = None) -> dict:
    """An Events API request body as Slack sends it: the event as delivered, in its envelope."""
    return {"token": "x", "team_id": "T0001", "context_team_id": "T0001", "context_enterprise_id": None,
            "api_app_id": "A0001", "event": as_delivered(event), "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):08d}", "event_time": int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": "T0001", "user_id": BOT_USER, "is_bot": True,
                                "is_enterprise_install": False}],
            "is_ext_shared_channel": False, "event_context": "4-eyJldCI6Im1lc3NhZ2UiLCJ0aWQiOiJUMDAwMSJ9"}


def as_delivered(event: dict) -> dict:
    """The fields Slack adds to an event: `event_ts`, and for what a person typed in a client, the message's
    id, team and the composer's rich-text block (Slack sends `text` and `blocks` side by side)."""
    event = {**event, "event_ts": event.get("event_ts", event.get("ts", "1.0"))}
    typed = (event.get("type") in ("message", "app_mention") and "user" in event and "text" in event
             and not event.get("bot_id") and not event.get("subtype"))
    if typed:
        event.setdefault("client_msg_id", str(uuid.uuid5(uuid.NAMESPACE_URL, event["ts"] + event["text"])))
        event.setdefault("team", "T0001")
        event.setdefault("blocks", [rich_text(event["text"])])
    return event


_MARKUP = re.compile(r"<([@#!])([^<>|]*)(?:\|([^<>]*))?>|<([^<>|]+)(?:\|([^<>]*))?>")  # Slack escapes a literal "<"


def rich_text(text: str) -> dict:
    """The rich_text block Slack's composer makes of a message: text runs, mentions, links, broadcasts."""
    elements: list[dict] = []
    cursor = 0
    for m in _MARKUP.finditer(text):
        if m.start() > cursor:
            elements.append({"type": "text", "text": html.unescape(text[cursor:m.start()])})
        sigil, ref, label, url, url_label = m.groups()
        if sigil == "@":
            elements.append({"type": "user", "user_id": ref})
        elif sigil == "#":
            elements.append({"type": "channel", "channel_id": ref})
        elif sigil == "!":
            elements.append({"type": "broadcast", "range": ref.split("^")[0]})
        else:
            elements.append({"type": "link", "url": url, **({"text": url_label} if url_label else {})})
        cursor = m.end()
    if cursor < len(text):
        elements.append({"type": "text", "text": html.unescape(text[cursor:])})
    block_id = hashlib.sha1(text.encode()).hexdigest()[:5]
    return {"type": "rich_text", "block_id": block_id,
            "elements": [{"type": "rich_text_section", "elements": elements}]}


def eventually(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def same_arguments_as_bolt(app, bodies: list[tuple[str, str]]) -> int:
    """For each (body, content type) and every listener of `app`: asserts that Fixit's listener matches as
    Bolt's own matchers do and, where it matches, gets the arguments Bolt's `build_required_kwargs` would
    build (bot/slack/arguments.py). Returns how many (request, listener) pairs matched."""
    from slack_bolt.kwargs_injection import build_required_kwargs
    from slack_bolt.listener_matcher.builtins import BuiltinListenerMatcher
    from slack_bolt.request import BoltRequest
    from slack_bolt.response import BoltResponse

    from bot.slack.arguments import DirectListener, DirectMatcher

    listeners = app._listeners
    assert listeners and all(type(listener) is DirectListener for listener in listeners)
    # each names only arguments the table fetches (a new name would quietly cost Bolt's whole build again)
    assert [listener.ack_function.__name__ for listener in listeners if listener._fetch is None] == []
    assert sum(type(m) is DirectMatcher for listener in listeners for m in listener.matchers) >= len(listeners)
    matched = 0
    for body, content_type in bodies:
        request = BoltRequest(body=body, headers={"content-type": content_type})
        app._init_context(request)
        response = BoltResponse(status=200)
        for listener in listeners:
            bolts = all(BuiltinListenerMatcher.matches(m, request, response) if type(m) is DirectMatcher
                        else m.matches(request, response) for m in listener.matchers)
            assert listener.matches(req=request, resp=response) == bolts
            if bolts:
                matched += 1
                expected = build_required_kwargs(logger=listener.logger, required_arg_names=list(listener.arg_names),
                                                 request=request, response=response, this_func=listener.ack_function)
                assert listener.arguments(request, response) == expected, listener.ack_function.__name__
    return matched
