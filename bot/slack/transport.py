"""One TLS set-up per process: a shared SSLContext and kept-alive connections to Slack, for every Web API call
and every response_url post.

slack_sdk's stock `WebClient` sends each call through `urllib.request.urlopen`, which without an `ssl=` context
builds a new SSLContext (loading the CA bundle) and does a full TLS handshake every time: on the event path
that was nearly all the server's work (docs/benchmarks.md). Bolt's sync App also builds a new `WebClient` per
request, so the kept connections live here, outside any client instance, and `KeptClients` hands each request
the client for its token.
"""

from __future__ import annotations

import http.client
import io
import re
import select
import socket
import ssl
import threading
from collections import OrderedDict
from typing import NamedTuple
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request

import httptools
from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

from bot.slack.json_codec import encode, use_orjson

STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
         ssl.SSLEOFError, ssl.SSLZeroReturnError)
READ_SIZE = 65_536
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)


class Reply(NamedTuple):
    status: int
    headers: list[tuple[str, str]]   # as sent, in order
    body: bytes

    def header_dict(self) -> dict[str, str]:
        """Name -> value, the first of a repeated name (what `dict()` of http.client's headers gives)."""
        out: dict[str, str] = {}
        for name, value in self.headers:
            out.setdefault(name, value)
        return out

    def message(self) -> http.client.HTTPMessage:
        """The headers as http.client gives them (what urllib's HTTPError carries)."""
        message = http.client.HTTPMessage()
        for name, value in self.headers:
            message[name] = value
        return message

    def charset(self) -> str:
        found = _CHARSET.search(dict((n.lower(), v) for n, v in self.headers).get("content-type", ""))
        return found.group(1).lower() if found else "utf-8"


class _Reading:
    """httptools' callbacks for one reply."""

    __slots__ = ("headers", "body", "done", "keep_alive", "parser")

    def __init__(self) -> None:
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.done = self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True
        self.keep_alive = self.parser.should_keep_alive()  # read here: the parser forgets it once done


class Connection:
    """One kept-alive HTTP/1.1 connection. A request goes out in one write (head and body together, so no
    Nagle wait on a kept connection); the reply is read with httptools' parser, the C parser uvicorn serves
    with (http.client parses reply headers with the email package, a large share of the event path's work)."""

    def __init__(self, scheme: str, host: str, port: int, timeout: float, context: ssl.SSLContext) -> None:
        self.scheme, self.host, self.port, self.timeout, self.context = scheme, host, port, timeout, context
        self.sock: socket.socket | None = None

    def open(self) -> None:
        sock = socket.create_connection((self.host, self.port), self.timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.scheme == "https":
                sock = self.context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def send(self, request: bytes) -> None:
        self.sock.settimeout(self.timeout)
        self.sock.sendall(request)

    def read_reply(self) -> Reply:
        reading = _Reading()
        parser, received = reading.parser, False
        try:
            while not reading.done:
                data = self.sock.recv(READ_SIZE)
                if not data:
                    if not received:
                        raise http.client.RemoteDisconnected("Remote end closed connection without response")
                    raise http.client.IncompleteRead(b"".join(reading.body))
                received = True
                try:
                    parser.feed_data(data)
                except httptools.HttpParserError as exc:
                    raise http.client.BadStatusLine(f"not an HTTP reply ({exc})") from None
        finally:
            reading.parser = None  # the parser holds the reading: no cycle left for the collector
        if not reading.keep_alive:
            self.close()
        return Reply(parser.get_status_code(), reading.headers, b"".join(reading.body))


def request_bytes(method: str, target: str, netloc: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {netloc}", "Accept-Encoding: identity"]
    for name, value in headers.items():
        value = str(value)
        if "\n" in value or "\r" in value or "\n" in name or "\r" in name or ":" in name:
            raise ValueError(f"Invalid header {name!r}")  # as http.client refuses it: no header injection
        if name.lower() not in ("host", "content-length", "accept-encoding"):
            lines.append(f"{name}: {value}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class KeptConnections:
    """Kept-alive HTTP(S) connections, one per thread and host, over one SSLContext, which reads the CA
    bundle once: `ca_file`, else the system's (Python's default context, which honours SSL_CERT_FILE and
    SSL_CERT_DIR in the environment)."""

    def __init__(self, ca_file: str = "") -> None:
        self.ssl = ssl.create_default_context(cafile=ca_file or None)
        self._local = threading.local()

    def _connection(self, scheme: str, netloc: str, timeout: float, fresh: bool) -> Connection:
        pool = self._local.__dict__.setdefault("pool", {})
        key = (scheme, netloc)
        conn = pool.get(key)
        if conn is None:
            parts = urlsplit(f"{scheme}://{netloc}")
            conn = pool[key] = Connection(scheme, parts.hostname or "", parts.port or (443 if scheme == "https"
                                                                                           else 80), timeout, self.ssl)
        conn.timeout = timeout
        if fresh:
            conn.close()
        return conn

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> Reply:
        """POST; the reply. A kept connection the server closed while idle is reopened before use, and a
        request that could not be sent whole on one is sent again on a new connection; once a request went
        out, a failure is raised (whether it landed is for the caller to find out)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        request = request_bytes("POST", target, parts.netloc, headers, body)
        for attempt in (0, 1):
            conn = self._connection(parts.scheme, parts.netloc, timeout, fresh=attempt == 1)
            if conn.sock is not None and dropped(conn.sock):
                conn.close()
            reused = conn.sock is not None
            try:
                if not reused:
                    conn.open()
                conn.send(request)
            except STALE:
                conn.close()
                if reused and attempt == 0:
                    continue  # it never went out whole
                raise
            except BaseException:
                conn.close()
                raise
            try:
                return conn.read_reply()
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    def post_json(self, url: str, payload: dict, timeout: float = 10) -> int:
        """POST a JSON payload (a response_url answer); the HTTP status."""
        body = encode(payload)
        return self.post(url, body, {"Content-Type": "application/json;charset=utf-8"}, timeout).status


def dropped(sock) -> bool:
    """An idle kept connection with something to read has been closed by the server (or is out of step)."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class KeptWebClient(WebClient):
    """slack_sdk's WebClient, sending through kept connections. Everything above the socket is slack_sdk's
    own: request building, retry handlers, SlackResponse and its errors."""

    def __init__(self, *args, connections: KeptConnections, **kwargs) -> None:
        kwargs.setdefault("ssl", connections.ssl)
        super().__init__(*args, **kwargs)
        use_orjson()
        self.connections = connections

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict:
        if self.proxy is not None:
            return super()._perform_urllib_http_request_internal(url, req)
        reply = self.connections.post(url, req.data or b"", dict(req.header_items()), self.timeout)
        if reply.status >= 400:  # as urlopen does, so that slack_sdk's retry handlers and errors see the same thing
            raise HTTPError(url, reply.status, str(reply.status), reply.message(), io.BytesIO(reply.body))
        return {"status": reply.status, "headers": reply.header_dict(),
                "body": reply.body.decode(reply.charset(), errors="replace")}


class KeptClients:
    """The Web API client for a token, made once and kept (single-token mode uses one; an app installed in
    many workspaces one per token, the least recently used dropped past `limit`)."""

    def __init__(self, base: WebClient, connections: KeptConnections | None = None, limit: int = 1000) -> None:
        self.base = base
        self.connections = connections or getattr(base, "connections", None) or KeptConnections()
        self.limit = limit
        self._clients: OrderedDict[tuple, KeptWebClient] = OrderedDict()
        self._lock = threading.Lock()

    def for_token(self, token: str | None, team_id: str | None = None) -> KeptWebClient:
        key = (token, team_id)
        with self._lock:
            client = self._clients.get(key)
            if client is not None:
                self._clients.move_to_end(key)
                return client
        base = self.base
        client = KeptWebClient(token=token, base_url=base.base_url, timeout=base.timeout, proxy=base.proxy,
                               headers=dict(base.headers), team_id=team_id, logger=base.logger,
                               retry_handlers=list(base.retry_handlers), connections=self.connections)
        with self._lock:
            self._clients[key] = client
            while len(self._clients) > self.limit:
                self._clients.popitem(last=False)
        return client
