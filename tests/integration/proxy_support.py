"""Helpers for the proxy tests: a proxy recording into a capture, and a scripted upstream whose closes and
drops the tests choose (the real emulator is the upstream everywhere else)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.frames import Close
from websockets.http11 import Request

from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session
from flushscope.core.store.capture_reader import LoadedCapture, read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.net.proxy import ProxyServer
from flushscope.net.proxy_relay import ProxyConnection, ProxyState
from flushscope.net.proxy_upstream import Upstream

#: A safety net for every wait on the network; never the thing a test measures.
TIMEOUT = 20.0


@dataclass
class ProxyRig:
    """A proxy on 127.0.0.1 (port 0) recording into its own session and capture file."""

    proxy: ProxyServer
    session: Session
    recorder: Recorder
    capture: Path
    url: str
    #: Every state change the proxy reported, as (connection number, state).
    changes: list[tuple[int, ProxyState]] = field(default_factory=list)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def loaded(self) -> LoadedCapture:
        """The capture as written so far."""
        return read_capture(self.capture)

    def heard(self, connection: ProxyConnection) -> None:
        self.changes.append((connection.number, connection.state))
        self._changed.set()

    async def until(self, number: int, state: ProxyState) -> ProxyConnection:
        """Wait until connection ``number`` reaches ``state``."""
        async with asyncio.timeout(TIMEOUT):
            while (number, state) not in self.changes:
                self._changed.clear()
                await self._changed.wait()
        return self.proxy.connections[number - 1]


@asynccontextmanager
async def proxied(upstream: Upstream | str, capture: Path, **options: Any) -> AsyncIterator[ProxyRig]:
    """A started proxy in front of ``upstream``; closed (and its capture with it) on the way out."""
    session = Session()
    recorder = Recorder(session, CaptureWriter(capture, str(upstream)))
    proxy = ProxyServer(recorder, upstream, ("127.0.0.1", 0), **options)
    url = await proxy.start()
    rig = ProxyRig(proxy, session, recorder, capture, url)
    proxy.add_listener(rig.heard)
    try:
        yield rig
    finally:
        await proxy.close()
        recorder.close()


@dataclass
class Scripted:
    """What a scripted upstream connection saw: the upgrade request, and the close frame it received."""

    request: Request
    messages: list[str | bytes] = field(default_factory=list)
    close: Close | None = None


class ScriptedUpstream:
    """A WebSocket server standing in for the service. It echoes every message, and obeys these texts:
    ``close CODE REASON`` closes with that code, ``close-empty`` sends a close frame without a code,
    ``drop`` aborts the TCP connection. Each connection's record lands in :attr:`finished` once it ends."""

    def __init__(self, hold: asyncio.Event | None = None) -> None:
        self.finished: asyncio.Queue[Scripted] = asyncio.Queue()
        #: When given, every upgrade waits for it to be set before it is answered.
        self.hold = hold
        self._server: Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    async def __aenter__(self) -> ScriptedUpstream:
        self._server = await serve(
            self._handle, "127.0.0.1", 0, ping_interval=None, process_request=self._process_request
        )
        return self

    async def _process_request(self, connection: ServerConnection, request: Request) -> None:
        if self.hold is not None:
            await self.hold.wait()

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        seen = Scripted(ws.request)
        try:
            async for message in ws:
                seen.messages.append(message)
                if message == "drop":
                    ws.transport.abort()
                elif message == "close-empty":
                    await ws.close(cast(int, None))
                elif isinstance(message, str) and message.startswith("close "):
                    _, code, reason = message.split(" ", 2)
                    await ws.close(int(code), reason)
                else:
                    await ws.send(message)
        finally:
            await ws.wait_closed()
            seen.close = ws.protocol.close_rcvd
            self.finished.put_nowait(seen)

    async def next_finished(self) -> Scripted:
        return await asyncio.wait_for(self.finished.get(), TIMEOUT)


def metas(loaded: LoadedCapture, conn: int) -> list[dict[str, Any]]:
    """The meta events of one connection, in order."""
    return [f.meta() for f in loaded.frames if f.conn == conn and f.dir.value == "meta"]


def texts(loaded: LoadedCapture, conn: int, direction: str) -> list[str]:
    """The text frames of one connection in one direction, in order."""
    return [f.text for f in loaded.frames if f.conn == conn and f.dir.value == direction]


def without_step_time(text: str) -> dict[str, Any]:
    """A server frame as an object, minus ``step_time`` (the emulator's synthesis time, which varies)."""
    obj: dict[str, Any] = json.loads(text)
    obj.pop("step_time", None)
    return obj
