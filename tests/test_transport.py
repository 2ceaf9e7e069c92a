"""Fixit's Web API transport over HTTPS (a CA made for the test, trusted the way a deployment trusts one:
SSL_CERT_FILE): one TLS set-up per connection kept, not one per call, and a dropped idle connection reopened."""

from __future__ import annotations

import json
import ssl

import pytest
import trustme
from loopback import RawServer
from slack_harness import INT771, FakeSlack, SlackSender, message, served

from bot.settings import Settings
from bot.slack.app import LISTENER_THREADS, build_client
from bot.slack.transport import KeptConnections


@pytest.fixture
def https_slack(tmp_path, monkeypatch):
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    fake = FakeSlack(tls=context)
    yield fake
    fake.close()


def test_calls_share_one_kept_tls_connection(https_slack):
    client = build_client(Settings(bot_token="xoxb-test", api_url=https_slack.api_url))
    assert https_slack.api_url.startswith("https://")
    for n in range(20):
        assert client.chat_postMessage(channel="C1", text=f"hello {n}")["ok"]
    assert len(https_slack.of("chat.postMessage")) == 20
    assert https_slack.connections == 1


def test_an_untrusted_certificate_is_refused(https_slack, monkeypatch, tmp_path):
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    client = build_client(Settings(bot_token="xoxb-test", api_url=https_slack.api_url))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.chat_postMessage(channel="C1", text="hello")
    assert https_slack.of("chat.postMessage") == []


def test_a_connection_dropped_while_idle_is_reopened(https_slack):
    https_slack.close_silently = True   # closes after each answer without saying so
    client = build_client(Settings(bot_token="xoxb-test", api_url=https_slack.api_url))
    for n in range(3):
        assert client.chat_postMessage(channel="C1", text=f"hello {n}")["ok"]
    assert len(https_slack.of("chat.postMessage")) == 3 and https_slack.connections == 3


def test_response_url_posts_use_the_kept_connections(https_slack):
    connections = KeptConnections()
    for n in range(5):
        assert connections.post_json(https_slack.response_url(f"r{n}"), {"text": "hi"}) == 200
    assert len(https_slack.of("response_url")) == 5 and https_slack.connections == 1


def test_served_app_answers_over_kept_tls_connections(https_slack, tmp_path):
    server = served(https_slack, f"sqlite:///{tmp_path / 'fixit.db'}")
    try:
        sender = SlackSender(server.url)
        for n in range(30):
            assert sender.event(message(INT771, ts=f"1700002000.{n:06d}", channel=f"C{n % 3}"))[0] == 200
        posts = https_slack.wait_for("chat.postMessage", 30)
        assert {p.args["thread_ts"] for p in posts} == {f"1700002000.{n:06d}" for n in range(30)}
        # auth.test at start-up and 30 cards: at most one connection per listener thread, not one per call
        assert https_slack.connections <= LISTENER_THREADS + 1
    finally:
        server.close()


def test_the_ca_bundle_can_be_named_in_the_env_file(https_slack, monkeypatch, tmp_path):
    """SSL_CERT_FILE written in .env (not exported) is trusted too: Fixit reads it with its other settings."""
    ca_file = __import__("os").environ["SSL_CERT_FILE"]
    monkeypatch.delenv("SSL_CERT_FILE")
    env_file = tmp_path / ".env"
    env_file.write_text(f"SSL_CERT_FILE={ca_file}\nSLACK_BOT_TOKEN=xoxb-test\nSLACK_API_URL={https_slack.api_url}\n")
    settings = Settings.load(env={}, env_file=env_file)
    assert build_client(settings).chat_postMessage(channel="C1", text="hello")["ok"]


def test_a_missing_ca_bundle_is_named(tmp_path):
    with pytest.raises(ValueError, match="SSL_CERT_FILE: .* is not a file"):
        Settings.load(env={"SSL_CERT_FILE": str(tmp_path / "nope.pem")}, env_file=None)


class RawReplies(RawServer):
    """Answers each request with the next of `replies`, bytes as given (chunked, Connection: close, garbage),
    and keeps the requests as they came."""

    def __init__(self, replies: list[bytes]) -> None:
        self.replies, self.requests = list(replies), []
        super().__init__()
        self.url = f"http://127.0.0.1:{self.port}/api/chat.postMessage"

    def connection(self, conn) -> None:
        with conn:
            buffer = b""
            while self.replies:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        break
                    buffer += data
                if b"\r\n\r\n" not in buffer:
                    break
                head, _, rest = buffer.partition(b"\r\n\r\n")
                length = int(next((line.split(b":")[1] for line in head.split(b"\r\n")
                                   if line.lower().startswith(b"content-length:")), b"0"))
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:length])
                buffer = rest[length:]
                reply = self.replies.pop(0)
                conn.sendall(reply)
                if b"Connection: close" in reply:
                    break


OK_JSON = b'{"ok": true, "channel": "C1", "ts": "1.000001"}'


def test_a_chunked_reply_is_read_and_its_connection_kept():
    chunked = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nTransfer-Encoding: chunked\r\n\r\n"
               + b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (OK_JSON[:10], OK_JSON[10:])) + b"0\r\n\r\n")
    server = RawReplies([chunked, chunked])
    try:
        connections = KeptConnections()
        for _ in range(2):
            reply = connections.post(server.url, b"{}", {"Content-Type": "application/json"}, 5)
            assert (reply.status, reply.body, reply.charset()) == (200, OK_JSON, "utf-8")
        assert server.connections == 1 and len(server.requests) == 2
    finally:
        server.close()


def test_a_reply_that_closes_the_connection_is_not_reused():
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_JSON), OK_JSON)
    server = RawReplies([close, close])
    try:
        connections = KeptConnections()
        assert [connections.post(server.url, b"{}", {}, 5).body for _ in range(2)] == [OK_JSON, OK_JSON]
        assert server.connections == 2
    finally:
        server.close()


def test_a_header_with_a_line_break_is_refused_before_anything_is_sent():
    server = RawReplies([b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"])
    try:
        with pytest.raises(ValueError, match="Invalid header"):
            KeptConnections().post(server.url, b"{}", {"Authorization": "Bearer x\r\nX-Injected: 1"}, 5)
        assert server.requests == []
    finally:
        server.close()


def test_a_reply_that_is_not_http_is_an_http_error_the_retries_see():
    import http.client

    server = RawReplies([b"SSH-2.0-OpenSSH_9.6\r\n\r\n"])
    try:
        with pytest.raises(http.client.HTTPException):
            KeptConnections().post(server.url, b"{}", {}, 5)
    finally:
        server.close()


def test_the_request_goes_out_in_one_piece_with_its_length():
    server = RawReplies([b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(OK_JSON), OK_JSON)])
    try:
        client = build_client(Settings(bot_token="xoxb-test", api_url=server.url.rsplit("/", 1)[0] + "/"))
        assert client.chat_postMessage(channel="C1", text="héllo")["ts"] == "1.000001"
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST /api/chat.postMessage HTTP/1.1"
        assert f"Content-Length: {len(body)}".encode() in lines and b"Authorization: Bearer xoxb-test" in lines
        assert json.loads(body)["text"] == "héllo"
    finally:
        server.close()


def ok_reply(body: bytes) -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s" % (
        len(body), body)


def test_web_api_json_goes_through_orjson_and_what_it_cannot_take_through_the_standard_library():
    # a reply with NaN (the standard library reads it, orjson does not) and bodies orjson cannot write
    # (a lone surrogate, as a hostile paste's "\ud800" escape decodes to; an integer past 64 bits)
    odd = b'{"ok": true, "channel": "C1", "ts": "1.000002", "score": NaN}'
    server = RawReplies([ok_reply(OK_JSON), ok_reply(odd), ok_reply(OK_JSON), ok_reply(OK_JSON)])
    try:
        client = build_client(Settings(bot_token="xoxb-test", api_url=server.url.rsplit("/", 1)[0] + "/"))
        blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "👍 réglé"}}]
        assert client.api_call("chat.postMessage", json={"channel": "C1", "blocks": blocks})["ts"] == "1.000001"
        reply = client.chat_postMessage(channel="C1", text="x")
        assert reply["ts"] == "1.000002" and reply["score"] != reply["score"]   # NaN, read
        assert client.chat_postMessage(channel="C1", text="bad \ud800 paste")["ok"]
        assert client.api_call("chat.postMessage", json={"channel": "C1", "text": "n", "n": 2**70})["ok"]
        bodies = [request.partition(b"\r\n\r\n")[2] for request in server.requests]
        # orjson's form: compact, UTF-8 as is; the standard library's for the two it could not write
        assert bodies[0] == ('{"channel":"C1","blocks":[{"type":"section","text":{"type":"mrkdwn",'
                             '"text":"👍 réglé"}}]}').encode()
        assert json.loads(bodies[2])["text"] == "bad \ud800 paste" and b"\\ud800" in bodies[2]
        assert json.loads(bodies[3])["n"] == 2**70
    finally:
        server.close()
