"""Live checks whose provider drips or hangs: each provider call ends at its deadline, one workspace's slow
provider takes none of another's capacity, and a slow check holds no listener thread."""

from __future__ import annotations

import socket
import threading
import time
from datetime import date

import pytest
from checks_fakes import qbo_fake
from slack_harness import SECRET, FakeSlack, FixitServer, SlackSender, message
from test_checks import workspaces_file

from bot.checks import runner as checks_runner
from bot.checks.runner import CheckRunner
from bot.checks.workspaces import load_workspaces
from bot.settings import Settings
from bot.slack.app import build_runtime

ONL888 = "ONL888 on report R0012"


class Drip:
    """An HTTP server on 127.0.0.1 that answers one byte at a time: in the body, or (`headers`) before the
    status line is even complete. Each byte comes well within any read timeout."""

    def __init__(self, every: float = 0.3, headers: bool = False) -> None:
        self.every, self.headers = every, headers
        self.requests = 0
        self.dropped = 0   # connections the client closed while bytes were still coming
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.closed = threading.Event()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while not self.closed.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.drip, args=(conn,), daemon=True).start()

    def drip(self, conn: socket.socket) -> None:
        self.requests += 1
        conn.recv(65536)
        status = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9999\r\n\r\n"
        head = b"" if self.headers else status
        rest = b"HTTP/1.1 200 OK\r\n" if self.headers else b'{"Preferences": ' + b" " * 9000
        try:
            conn.sendall(head)
            for byte in rest:
                if self.closed.wait(self.every):
                    break
                conn.sendall(bytes([byte]))
        except OSError:
            self.dropped += 1
        finally:
            conn.close()

    def close(self) -> None:
        self.closed.set()
        self.sock.close()


@pytest.fixture(autouse=True)
def short_deadline(monkeypatch):
    monkeypatch.setattr(checks_runner, "PROVIDER_SECONDS", 1.0)


def test_a_provider_that_drips_its_body_ends_at_its_deadline(kb, tmp_path, monkeypatch):
    drip = Drip()
    try:
        workspace = load_workspaces(workspaces_file(tmp_path, monkeypatch, qbo=drip)).get("acme")
        runner = CheckRunner(budget=5, cache_seconds=0, today=lambda: date(2026, 4, 2))
        started = time.perf_counter()
        report = runner.run(workspace, kb.get("ONL888"), ONL888)
        assert time.perf_counter() - started < 2.0
        assert "timed out" in report.failures.get("QuickBooks Online", "")
        # and the request itself was given up (not left reading a byte every 0.3 s for the next 45 minutes)
        deadline = time.monotonic() + 3
        while not drip.dropped and time.monotonic() < deadline:
            time.sleep(0.05)
        assert drip.dropped == 1
    finally:
        drip.close()


def test_one_workspaces_hanging_provider_takes_none_of_anothers_capacity(kb, tmp_path, monkeypatch):
    hang, healthy = Drip(every=5, headers=True), qbo_fake("qbo-t0ken-xyz", book_close="2026-03-31")
    try:
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        slow_ws = load_workspaces(workspaces_file(tmp_path / "a", monkeypatch, qbo=hang)).get("acme")
        ok_ws = load_workspaces(workspaces_file(tmp_path / "b", monkeypatch, qbo=healthy)).get("acme")
        ok_ws = type(ok_ws)(**{**ok_ws.__dict__, "name": "globex"})
        runner = CheckRunner(budget=5, cache_seconds=0, today=lambda: date(2026, 4, 2))
        slow = [threading.Thread(target=runner.run, args=(slow_ws, kb.get("ONL888"), ONL888)) for _ in range(10)]
        for t in slow:
            t.start()
        time.sleep(0.2)
        report = runner.run(ok_ws, kb.get("ONL888"), ONL888)
        assert report.failures == {} and healthy.requests
        assert any("closed through 03/31/2026" in line for line in report.lines)
        for t in slow:
            t.join(timeout=5)
        assert hang.requests <= checks_runner.IN_FLIGHT_PER_WORKSPACE
    finally:
        hang.close()
        healthy.close()


def test_a_slow_check_holds_no_listener_thread(tmp_path, monkeypatch):
    monkeypatch.setattr(checks_runner, "PROVIDER_SECONDS", 4.0)   # each check waits 4 s on the provider
    hang, fake = Drip(every=5, headers=True), FakeSlack()
    path = workspaces_file(tmp_path, monkeypatch, qbo=hang)
    settings = Settings(bot_token="xoxb-test", signing_secret=SECRET, api_url=fake.api_url,
                        database_url=f"sqlite:///{tmp_path / 'fixit.db'}", workspaces_file=str(path))
    runtime = build_runtime(settings, watch=False)
    runtime.answerer.checks = CheckRunner(budget=5, cache_seconds=0, today=lambda: date(2026, 4, 2))
    server = FixitServer(runtime)
    try:
        sender = SlackSender(server.url)
        for n in range(10):   # pastes in the workspace's channel: each card then waits on the hanging provider
            sender.event(message(ONL888, ts=f"1700050000.{n:06d}", channel="CACME"))
        fake.wait_for("chat.postMessage", 10, timeout=10)
        answered = fake.expect_answer("1700050001.000001")
        started = time.perf_counter()
        sender.event(message(ONL888, ts="1700050001.000001", channel="COTHER"))
        assert answered.wait(timeout=10) and time.perf_counter() - started < 1.5
    finally:
        server.close()
        fake.close()
        hang.close()
