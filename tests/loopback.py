"""An HTTP server on 127.0.0.1 for the fakes of the systems Fixit talks to (Slack's Web API, Sage Intacct,
QuickBooks Online, Xero): each subclass says how a request is answered."""

from __future__ import annotations

import socket
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DROP = object()


class LoopbackServer:
    """Serves in a thread. Every request is answered by `respond(method, path, headers, body)`, which returns
    (status, headers, payload), None to send nothing (a server that hangs), or DROP to close the connection
    without an answer. `headers` are looked up
    regardless of case, as HTTP wants. Connections are kept alive (HTTP/1.1), as real APIs keep them; with
    `tls` (a server-side SSLContext) it speaks HTTPS, each connection's handshake done in its own thread."""

    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        fake = self
        self.connections = 0   # accepted so far
        self.close_silently = False

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in two writes: without TCP_NODELAY the second waits for the client's
            # delayed ACK of the first (40 ms) on a kept-alive connection
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def answer(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                reply = fake.respond(method, self.path, self.headers, body)
                if fake.close_silently:  # like a server or proxy dropping an idle kept-alive connection
                    self.close_connection = True
                if reply is DROP:
                    self.close_connection = True
                    return
                if reply is None:
                    return
                status, headers, payload = reply
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self):
                self.answer("GET")

            def do_POST(self):
                self.answer("POST")

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # the default 5 drops connections under load (1 s SYN retries)
            daemon_threads = True

            def handle_error(self, request, client_address):  # a client that gave up, a refused handshake
                pass

            def get_request(self):
                fake.connections += 1
                return super().get_request()

        self.server = Server(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
        self.port = self.server.server_address[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def respond(self, method: str, path: str, headers: dict, body: bytes) -> tuple[int, dict, bytes] | None:
        raise NotImplementedError

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class RawServer:
    """A TCP server on 127.0.0.1 below HTTP, for what a test must write byte by byte: each accepted
    connection is handed to `connection(sock)`, in the accepting thread; `connections` counts them."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:   # closed
                return
            self.connections += 1
            self.connection(conn)

    def connection(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.listener.close()
