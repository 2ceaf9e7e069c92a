"""Slack's Socket Mode on 127.0.0.1: a WebSocket server that says hello, pushes envelopes and records the acks."""

from __future__ import annotations

import asyncio
import json
import threading

import websockets
from websockets.asyncio.server import serve


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
