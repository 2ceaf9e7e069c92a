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
import json
import select
import socket
import ssl
import threading
from collections import OrderedDict
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.errors import SlackRequestError

STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError,
         ssl.SSLEOFError, ssl.SSLZeroReturnError)


class KeptConnections:
    """Kept-alive HTTP(S) connections, one per thread and host, over one SSLContext, which reads the CA
    bundle once: `ca_file`, else the system's (Python's default context, which honours SSL_CERT_FILE and
    SSL_CERT_DIR in the environment)."""

    def __init__(self, ca_file: str = "") -> None:
        self.ssl = ssl.create_default_context(cafile=ca_file or None)
        self._local = threading.local()

    def _connection(self, scheme: str, netloc: str, timeout: float, fresh: bool) -> http.client.HTTPConnection:
        pool = self._local.__dict__.setdefault("pool", {})
        key = (scheme, netloc)
        conn = pool.get(key)
        if conn is not None and (fresh or conn.timeout != timeout):
            conn.close()
            conn = None
        if conn is None:
            if scheme == "https":
                conn = http.client.HTTPSConnection(netloc, timeout=timeout, context=self.ssl)
            else:
                conn = http.client.HTTPConnection(netloc, timeout=timeout)
            pool[key] = conn
        return conn

    def post(self, url: str, body: bytes, headers: dict[str, str], timeout: float) -> tuple[int, object, bytes]:
        """POST; (status, response headers, body). A kept connection the server closed while idle is reopened
        before use, and a request that could not be sent whole on one is sent again on a new connection; once
        a request went out, a failure is raised (whether it landed is for the caller to find out)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise SlackRequestError(f"Invalid URL detected: {url}")
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in (0, 1):
            conn = self._connection(parts.scheme, parts.netloc, timeout, fresh=attempt == 1)
            if conn.sock is not None and dropped(conn.sock):
                conn.close()
            reused = conn.sock is not None
            try:
                if not reused:
                    conn.connect()
                    # http.client writes the headers and the body separately: without TCP_NODELAY the body
                    # waits for the server's ACK of the headers (Nagle's algorithm) on every kept connection
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                conn.request("POST", target or "/", body=body, headers=headers)
            except STALE:
                conn.close()
                if reused and attempt == 0:
                    continue  # it never went out whole
                raise
            except Exception:
                conn.close()
                raise
            try:
                response = conn.getresponse()
                data = response.read()
            except Exception:
                conn.close()
                raise
            if response.will_close:
                conn.close()
            return response.status, response.headers, data
        raise AssertionError("unreachable")

    def post_json(self, url: str, payload: dict, timeout: float = 10) -> int:
        """POST a JSON payload (a response_url answer); the HTTP status."""
        body = json.dumps(payload).encode()
        status, _, _ = self.post(url, body, {"Content-Type": "application/json;charset=utf-8"}, timeout)
        return status


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
        self.connections = connections

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict:
        if self.proxy is not None:
            return super()._perform_urllib_http_request_internal(url, req)
        status, headers, data = self.connections.post(url, req.data or b"", dict(req.header_items()), self.timeout)
        if status >= 400:  # as urlopen does, so that slack_sdk's retry handlers and errors see the same thing
            raise HTTPError(url, status, str(status), headers, io.BytesIO(data))
        charset = headers.get_content_charset() or "utf-8"
        return {"status": status, "headers": headers, "body": data.decode(charset, errors="replace")}


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
