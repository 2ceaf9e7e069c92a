"""Liveness and readiness, for load balancers and Kubernetes: `/healthz` and `/readyz` on the HTTP port, or on
FIXIT_HEALTH_PORT in Socket Mode (which has no inbound port of its own)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

log = logging.getLogger("fixit.slack")
PATHS = ("/healthz", "/readyz")


def probe(runtime, path: str, connected: Callable[[], bool] | None = None) -> tuple[int, dict]:
    """`/healthz`: the process answers. `/readyz`: the knowledge base has entries, the store's database
    answers, Slack's auth.test succeeded (and, in Socket Mode, the socket is connected). 200 or 503, with a
    one-line reason."""
    if path == "/healthz":
        return 200, {"ok": True}
    entries = len(runtime.reloader.current.kb.entries)
    reasons = []
    if not entries:
        reasons.append("no knowledge-base entries loaded")
    if not runtime.store.reachable():
        reasons.append("the store's database is not reachable (answering from memory)")
    if not runtime.identity:
        reasons.append("Slack's auth.test has not succeeded")
    if connected is not None and not connected():
        reasons.append("not connected to Slack in Socket Mode")
    body = {"ready": not reasons, "entries": entries, "team": runtime.identity.get("team_id", "")}
    if reasons:
        body["reason"] = "; ".join(reasons)
    return (503 if reasons else 200), body


def serve_probes(runtime, host: str, port: int, connected: Callable[[], bool]) -> ThreadingHTTPServer:
    """A small HTTP server for the two probes, in a daemon thread (Socket Mode)."""
    class Probes(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path not in PATHS:
                self.send_error(404)
                return
            status, body = probe(runtime, path, connected)
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *_):  # probes every few seconds: not worth a log line each
            pass

    server = ThreadingHTTPServer((host, port), Probes)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="fixit-probes", daemon=True).start()
    log.info("health probes on http://%s:%d/healthz and /readyz", host, server.server_address[1])
    return server
