"""The TTS WebSocket client: connects to a target, sends inputs, records every frame both ways.

It sends what real clients send (every input repeats the context's settings) and keeps nothing of its own
about the replies: what came back is in the session, derived from the recorded frames.

Each connection has two owned tasks: the reader, and the keepalive monitor (:mod:`flushscope.net.keepalive`),
which pings the server and records ``stalled``, ``resumed`` and ``keepalive_timeout`` meta events when it
stops and starts answering. websockets' own keepalive is switched off: it cannot say "stalled". The
``close`` event says who ended the connection (``by``: ``client`` or ``server``); a refused upgrade's
``error`` event carries its HTTP ``status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import ssl
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final
from urllib.parse import urlencode, urlsplit, urlunsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus, InvalidURI

from flushscope.core.frames import Direction
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.model.connections import CONTEXT_NAME
from flushscope.core.model.recorder import Recorder
from flushscope.core.store.redaction import redact_url
from flushscope.net.keepalive import Keepalive, KeepaliveMonitor, timeout_words

log = logging.getLogger("flushscope.client")

CARTESIA_URL: Final = "wss://api.cartesia.ai/tts/websocket"
#: What the current official Python SDK sends.
DEFAULT_VERSION: Final = "2026-08-14"
TTS_PATH: Final = "/tts/websocket"

_STATUS_REASONS: Final[dict[int, str]] = {
    400: "the server rejected the request",
    401: "the API key is missing or wrong",
    402: "the account has no credits or no plan for this",
    403: "the API key may not use this endpoint",
    404: "there is no TTS WebSocket at this URL",
    429: "too many connections for this account",
}


class ClientError(Exception):
    """Something the user should read: what failed, in words."""


class Unreachable(ClientError):
    """The host could not be reached (refused, unknown name, timed out)."""


class TLSFailure(ClientError):
    """The TLS handshake failed (certificate, protocol)."""


class HandshakeRejected(ClientError):
    """The server answered the WebSocket upgrade with an HTTP error status."""

    def __init__(self, status: int, body: str) -> None:
        reason = _STATUS_REASONS.get(status, "the server refused the WebSocket upgrade")
        detail = f" ({body.strip()[:200]})" if body.strip() else ""
        super().__init__(f"HTTP {status}: {reason}{detail}")
        self.status = status


class ServerClosed(ClientError):
    """The server closed the connection (or it dropped) while it was in use."""

    def __init__(self, code: int | None, reason: str) -> None:
        text = f"code {code}" if code is not None else "no close frame"
        super().__init__(f"the connection closed ({text}{', ' + reason if reason else ''})")
        self.code = code
        self.reason = reason


class Unresponsive(ServerClosed):
    """The server stopped answering (no pong, no frame) for the keepalive timeout: the connection was
    closed by this client."""

    def __init__(self, silent_s: float) -> None:
        ClientError.__init__(self, timeout_words(silent_s))
        self.code = None
        self.reason = ""
        self.silent_s = silent_s


class NotConnected(ClientError):
    """A send while there is no open connection."""


class AuthMode(StrEnum):
    """Where the API key travels."""

    X_API_KEY = "x-api-key"
    BEARER = "bearer"
    QUERY = "query"


@dataclass(frozen=True)
class Target:
    """Where to connect and how to authenticate. ``url`` may be a base (``ws://host:port``): the TTS path
    is added when it has none."""

    url: str
    api_key: str | None = None
    auth: AuthMode = AuthMode.X_API_KEY
    version: str = DEFAULT_VERSION
    extra_headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def cartesia(cls, api_key: str | None = None, version: str = DEFAULT_VERSION) -> Target:
        return cls(CARTESIA_URL, api_key or os.environ.get("CARTESIA_API_KEY"), version=version)

    def resolved_url(self) -> str:
        parts = urlsplit(self.url)
        path = parts.path if parts.path not in ("", "/") else TTS_PATH
        query = parts.query
        if self.api_key and self.auth is AuthMode.QUERY:
            query = (query + "&" if query else "") + urlencode({"api_key": self.api_key})
        return urlunsplit((parts.scheme, parts.netloc, path, query, parts.fragment))

    def headers(self) -> dict[str, str]:
        headers = {"Cartesia-Version": self.version, "User-Agent": "flushscope", **self.extra_headers}
        if self.api_key and self.auth is AuthMode.X_API_KEY:
            headers["X-API-Key"] = self.api_key
        elif self.api_key and self.auth is AuthMode.BEARER:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    @property
    def display_url(self) -> str:
        """The URL with secrets removed, for logs, captures and the window."""
        return redact_url(self.resolved_url())


@dataclass
class ClientContext:
    """A context this client opened: its id, its settings, its name (a scenario's, or None), and whether it
    may still take input."""

    context_id: str
    settings: GenerationSettings
    ended: bool = False
    cancelled: bool = False
    name: str | None = None
    #: The connection on which the name was recorded (0: not yet).
    named_on: int = 0

    @property
    def open(self) -> bool:
        return not self.ended and not self.cancelled


#: Hears True when the connection stalls and False when the server answers again.
StallListener = Callable[[bool], None]


class Client:
    """One session's connection to a TTS WebSocket. Reconnecting starts a new connection in the same
    session; everything recorded before stays.

    ``keepalive`` sets how a server that stopped answering is noticed (used from the next connection on);
    ``on_stall`` hears each change between answering and stalled. A connection silent for the keepalive
    timeout is closed, with an :class:`Unresponsive` error in :attr:`close_error`.
    """

    def __init__(
        self,
        recorder: Recorder,
        target: Target,
        *,
        open_timeout: float = 10.0,
        compression: bool = True,
        keepalive: Keepalive | None = None,
        on_stall: StallListener | None = None,
    ) -> None:
        self.recorder = recorder
        self.target = target
        self.open_timeout = open_timeout
        #: Offer permessage-deflate, as the official SDK and Pipecat do (LiveKit does not).
        self.compression = compression
        self.keepalive = keepalive or Keepalive()
        self.on_stall = on_stall
        self.contexts: dict[str, ClientContext] = {}
        self.conn = 0
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self._monitor: KeepaliveMonitor | None = None
        self._pinger: asyncio.Task[None] | None = None
        self._gave_up: Unresponsive | None = None
        # The connection this client is closing (or aborting) itself, to tell who ended it.
        self._closing: ClientConnection | None = None
        #: Set when the current connection is gone (closed by either side, or dropped).
        self.closed = asyncio.Event()
        self.close_error: ServerClosed | None = None

    @property
    def connected(self) -> bool:
        """Open, whether the server answers or not (see :attr:`stalled`)."""
        return self._ws is not None and not self.closed.is_set()

    @property
    def stalled(self) -> bool:
        """Whether the open connection's server has been silent past the keepalive's stall time."""
        return self.connected and self._monitor is not None and self._monitor.stalled

    async def connect(self) -> int:
        """Open a new connection; returns its number in the session."""
        await self.disconnect()
        conn = self.recorder.new_connection()
        url = self.target.resolved_url()
        self.recorder.meta(conn, "connect", url=self.target.display_url)
        try:
            ws = await connect(
                url,
                additional_headers=self.target.headers(),
                open_timeout=self.open_timeout,
                compression="deflate" if self.compression else None,
                max_size=None,
                # The monitor below pings instead; it reports a stall long before any timeout.
                ping_interval=None,
                ping_timeout=None,
                # A close that is not answered within the stall time will not be: do not hang on it.
                close_timeout=self.keepalive.stall_after_s,
            )
        except BaseException as exc:
            error = _describe(exc, self.target.display_url)
            # A refused upgrade's status lets a report name the refusal (its body is in the message).
            status = {"status": error.status} if isinstance(error, HandshakeRejected) else {}
            self.recorder.meta(conn, "error", message=str(error), **status)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise error from exc
        self.recorder.meta(conn, "open")
        self.conn = conn
        self._ws = ws
        self.closed = asyncio.Event()
        self.close_error = None
        self._gave_up = None
        monitor = KeepaliveMonitor(
            self.keepalive,
            lambda: _ping(ws),
            on_stalled=lambda silent_s: self._stalled(conn, silent_s),
            on_resumed=lambda silent_s: self._resumed(conn, silent_s),
            on_timeout=lambda silent_s: self._timed_out(ws, conn, silent_s),
        )
        self._monitor = monitor
        self._reader = asyncio.create_task(self._read(ws, conn, monitor), name=f"flushscope reader {conn}")
        self._pinger = asyncio.create_task(monitor.run(), name=f"flushscope keepalive {conn}")
        return conn

    async def disconnect(self) -> None:
        """Close the connection (a close handshake, or at once when the server does not answer) and wait
        for its tasks to end. Nothing happens when there is no connection."""
        ws, reader, pinger, monitor = self._ws, self._reader, self._pinger, self._monitor
        if ws is None:
            return
        self._closing = ws
        if pinger is not None:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger
        if monitor is not None and monitor.stalled:
            # A close handshake would wait for an answer that is not coming.
            ws.transport.abort()
        await ws.close()
        if reader is not None:
            await reader
        self._ws = None
        self._reader = None
        self._pinger = None
        self._monitor = None

    async def _read(self, ws: ClientConnection, conn: int, monitor: KeepaliveMonitor) -> None:
        record = self.recorder.record
        heard = monitor.heard
        try:
            async for message in ws:
                heard()
                if isinstance(message, str):
                    record(conn, Direction.RECV, message)
                else:
                    self.recorder.meta(conn, "binary", bytes=len(message))
        except ConnectionClosed:
            pass
        finally:
            if self._pinger is not None:
                # Nothing left to ping; disconnect() or the next connect() collects the task.
                self._pinger.cancel()
            code = ws.close_code
            reason = ws.close_reason or ""
            self.recorder.meta(conn, "close", code=code, reason=reason, by=self._ended_by(ws))
            if self._gave_up is not None:
                self.close_error = self._gave_up
            elif code not in (1000, 1001):
                self.close_error = ServerClosed(code, reason)
            self.closed.set()

    def _ended_by(self, ws: ClientConnection) -> str:
        """Who ended ``ws``: ``server`` when its close frame came first or the connection dropped, ``client``
        when this client closed or aborted it (on request, or because the server stopped answering)."""
        protocol = ws.protocol
        if protocol.close_rcvd is not None and (protocol.close_sent is None or protocol.close_rcvd_then_sent):
            return "server"
        if self._closing is ws or self._gave_up is not None or protocol.close_sent is not None:
            return "client"
        return "server"

    # --- keepalive reports ---------------------------------------------------------------------------

    def _stalled(self, conn: int, silent_s: float) -> None:
        self.recorder.meta(conn, "stalled", silent_s=round(silent_s, 3), after_s=self.keepalive.stall_after_s)
        self._tell(True)

    def _resumed(self, conn: int, silent_s: float) -> None:
        self.recorder.meta(conn, "resumed", silent_s=round(silent_s, 3))
        self._tell(False)

    def _timed_out(self, ws: ClientConnection, conn: int, silent_s: float) -> None:
        error = Unresponsive(self.keepalive.timeout_s)
        self.recorder.meta(
            conn, "keepalive_timeout", silent_s=round(silent_s, 3), after_s=self.keepalive.timeout_s
        )
        self.recorder.meta(conn, "error", message=str(error))
        self._gave_up = error
        # No close handshake: the peer is not answering. The reader sees the connection lost and reports it.
        ws.transport.abort()

    def _tell(self, stalled: bool) -> None:
        listener = self.on_stall
        if listener is None:
            return
        try:
            listener(stalled)
        except Exception:
            # A listener's failure must not stop the pings of a connection that is still in use.
            log.exception("a stall listener failed")

    # --- contexts ------------------------------------------------------------------------------------

    def new_context(
        self, settings: GenerationSettings, context_id: str | None = None, name: str | None = None
    ) -> ClientContext:
        """A context to send into; the id is a new uuid unless given. A ``name`` is recorded (a
        ``context_name`` meta event) just before the context's first input goes out."""
        context_id = context_id or str(uuid.uuid4())
        existing = self.contexts.get(context_id)
        if existing is not None and existing.open:
            raise ClientError(f"context {context_id} is already open")
        ctx = ClientContext(context_id, settings, name=name)
        self.contexts[context_id] = ctx
        return ctx

    async def send(self, context_id: str, transcript: str) -> None:
        """A transcript with ``continue: true``."""
        await self._input(context_id, transcript, cont=True)

    async def flush(self, context_id: str) -> None:
        """A manual flush: empty transcript, ``continue: true``, ``flush: true``."""
        await self._input(context_id, "", cont=True, flush=True)

    async def send_flush(self, context_id: str, transcript: str) -> None:
        """The transcript, then a manual flush, as two frames (the form the docs describe)."""
        await self.send(context_id, transcript)
        await self.flush(context_id)

    async def end(self, context_id: str) -> None:
        """The last input: empty transcript, ``continue: false``."""
        await self._input(context_id, "", cont=False)
        self.contexts[context_id].ended = True

    async def cancel(self, context_id: str) -> None:
        ctx = self._context(context_id)
        await self.send_raw(json.dumps({"context_id": ctx.context_id, "cancel": True}))
        ctx.cancelled = True

    async def send_raw(self, text: str) -> None:
        """A frame exactly as given."""
        ws = self._ws
        if ws is None or self.closed.is_set():
            raise NotConnected("not connected: connect first")
        self.recorder.record(self.conn, Direction.SEND, text)
        try:
            await ws.send(text)
        except ConnectionClosed as exc:
            self.recorder.meta(self.conn, "error", message=f"send failed: {exc}")
            raise ServerClosed(ws.close_code, ws.close_reason or "") from None

    def _context(self, context_id: str) -> ClientContext:
        ctx = self.contexts.get(context_id)
        if ctx is None:
            raise ClientError(f"no context {context_id}: create it first")
        return ctx

    async def _input(self, context_id: str, transcript: str, *, cont: bool, flush: bool = False) -> None:
        ctx = self._context(context_id)
        if not ctx.open:
            state = "ended" if ctx.ended else "cancelled"
            raise ClientError(f"context {context_id} was {state}; start a new context")
        request: dict[str, Any] = {"context_id": context_id, **ctx.settings.request_fields()}
        request["transcript"] = transcript
        request["continue"] = cont
        if flush:
            request["flush"] = True
        if ctx.name is not None and ctx.named_on != self.conn and self.connected:
            # Before the frame that opens the context in the model: the name is there when it opens.
            self.recorder.meta(self.conn, CONTEXT_NAME, context_id=context_id, name=ctx.name)
            ctx.named_on = self.conn
        await self.send_raw(json.dumps(request, ensure_ascii=False, separators=(",", ":")))

    async def aclose(self) -> None:
        with contextlib.suppress(ClientError):
            await self.disconnect()


async def _ping(ws: ClientConnection) -> bool:
    """One ping and its pong: True when answered, False when the connection closed first."""
    try:
        pong = await ws.ping()
        await pong
    except ConnectionClosed:
        return False
    return True


def _describe(exc: BaseException, url: str) -> ClientError:
    if isinstance(exc, asyncio.CancelledError):
        return ClientError(f"the connection attempt to {url} was cancelled")
    if isinstance(exc, InvalidStatus):
        body = exc.response.body.decode("utf-8", "replace") if exc.response.body else ""
        return HandshakeRejected(exc.response.status_code, body)
    if isinstance(exc, InvalidURI):
        return ClientError(f"not a WebSocket URL: {url} (use ws:// or wss://)")
    if isinstance(exc, ssl.SSLError):
        return TLSFailure(f"TLS failed with {url}: {exc.reason or exc}")
    if isinstance(exc, ConnectionResetError) and url.startswith("wss:"):
        # asyncio reports a peer that hangs up on the TLS hello as a reset, not as an SSL error.
        return TLSFailure(
            f"TLS failed with {url}: the server closed the connection (is it a plain ws:// server?)"
        )
    if isinstance(exc, TimeoutError):
        return Unreachable(f"{url} did not answer within the time limit")
    if isinstance(exc, socket.gaierror):
        # The resolver's own text ("[Errno -2] Name or service not known") names neither the host nor the cause.
        return Unreachable(f"cannot resolve host {urlsplit(url).hostname or url}: {_resolver_words(exc)}")
    if isinstance(exc, UnicodeError):
        # A host name the IDNA codec refuses (an empty label: "a..b", a label over 63 characters).
        return ClientError(f"not a valid host name in {url}")
    if isinstance(exc, ConnectionRefusedError):
        # asyncio's own text ("Connect call failed (address)") repeats the address and hides the cause.
        return Unreachable(f"cannot reach {url}: connection refused (nothing listens there)")
    if isinstance(exc, OSError):
        return Unreachable(f"cannot reach {url}: {exc.strerror or exc}")
    if isinstance(exc, InvalidHandshake):
        return ClientError(f"the WebSocket handshake with {url} failed: {exc}")
    return ClientError(f"cannot connect to {url}: {exc}")


def _resolver_words(exc: socket.gaierror) -> str:
    if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
        return "no such host"
    if exc.errno == socket.EAI_AGAIN:
        return "the name server did not answer (is the network up?)"
    return str(exc.strerror or exc)
