"""Helpers for the live session tests: a listener that can be waited on, and a WebSocket server on loopback
that stops answering on demand."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve

from flushscope.core.store.capture_reader import read_capture
from flushscope.net.live import ConnectionState, ConnectionStatus, LiveSession

#: A safety net for every wait on the network; never the thing a test measures.
TIMEOUT = 20.0


class StatusLog:
    """Every status a live session reports, and a way to wait for the next one of a given state."""

    def __init__(self, live: LiveSession) -> None:
        self.statuses: list[ConnectionStatus] = []
        self._changed = asyncio.Event()
        self._read = 0
        live.add_listener(self._heard)

    def _heard(self, status: ConnectionStatus) -> None:
        self.statuses.append(status)
        self._changed.set()

    @property
    def states(self) -> list[ConnectionState]:
        return [s.state for s in self.statuses]

    async def reach(self, state: ConnectionState) -> ConnectionStatus:
        """The first status in ``state`` reported after the one last reached (waits for it)."""
        async with asyncio.timeout(TIMEOUT):
            while True:
                for index in range(self._read, len(self.statuses)):
                    if self.statuses[index].state is state:
                        self._read = index + 1
                        return self.statuses[index]
                self._changed.clear()
                await self._changed.wait()


class FreezingServer:
    """A plain WebSocket server on 127.0.0.1 whose connections can stop reading (so pings go unanswered)
    and start again. It never pings, and it sends only what a test asks it to."""

    def __init__(self) -> None:
        self.connections: list[ServerConnection] = []
        self._joined = asyncio.Event()
        self._server: Server | None = None

    async def __aenter__(self) -> FreezingServer:
        self._server = await serve(self._handle, "127.0.0.1", 0, ping_interval=None)
        return self

    async def __aexit__(self, *exc: object) -> None:
        # A connection that does not read would never notice its client leave.
        self.thaw()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def _handle(self, ws: ServerConnection) -> None:
        self.connections.append(ws)
        self._joined.set()
        await ws.wait_closed()

    async def connection(self) -> ServerConnection:
        """The latest connection (waits for the first one)."""
        async with asyncio.timeout(TIMEOUT):
            await self._joined.wait()
        return self.connections[-1]

    def freeze(self) -> None:
        """Stop reading on every connection: pings stay in the socket, no pong goes out."""
        for ws in self.connections:
            ws.transport.pause_reading()

    def thaw(self) -> None:
        for ws in self.connections:
            if not ws.transport.is_closing() and not ws.transport.is_reading():
                ws.transport.resume_reading()


def meta_events(path: Any, conn: int | None = None) -> list[dict[str, Any]]:
    """The meta events of a capture file, in order (of one connection when ``conn`` is given)."""
    frames = read_capture(path).frames
    return [f.meta() for f in frames if f.meta() and (conn is None or f.conn == conn)]


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
