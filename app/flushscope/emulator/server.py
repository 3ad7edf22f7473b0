"""The emulator's WebSocket server: the upgrade (path, auth, version) and one handler per connection.

Each connection reads client frames in order and hands them to its contexts, each of which streams on its
own task; every task is owned by its connection and cancelled with it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import socket
import struct
import uuid
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from flushscope.emulator import errors
from flushscope.emulator.config import DEFAULT_VERSION, EmulatorConfig
from flushscope.emulator.context import ContextRun, LinkClosed
from flushscope.emulator.espeak import Synthesizer
from flushscope.net.reach import client_urls
from flushscope.protocol.audio import AudioFormat, AudioFormatError
from flushscope.protocol.messages import CancelRequest, ProtocolError, load_object, parse_client_obj
from flushscope.tasks import OwnedTasks

log = logging.getLogger("flushscope.emulator")

TTS_PATH = "/tts/websocket"


def credentials(request: Request) -> tuple[str | None, str]:
    """The key or token a client presented, and how: every form the service accepts."""
    query = parse_qs(urlsplit(request.path).query)
    authorization = request.headers.get("Authorization", "")
    if authorization.lower().startswith("bearer "):
        return authorization[7:].strip(), "bearer"
    if "X-API-Key" in request.headers:
        return request.headers["X-API-Key"], "x-api-key"
    for name in ("api_key", "access_token"):
        if query.get(name):
            return query[name][0], name
    return None, "none"


def api_version(request: Request) -> str:
    """The query parameter wins over the header, as documented for WebSockets."""
    query = parse_qs(urlsplit(request.path).query)
    if query.get("cartesia_version"):
        return query["cartesia_version"][0]
    return request.headers.get("Cartesia-Version", DEFAULT_VERSION)


class EmulatorServer:
    """A Cartesia-compatible TTS WebSocket server on ``ws://HOST:PORT/tts/websocket``.

    Use ``async with EmulatorServer(config) as server:`` or :meth:`start` / :meth:`close`.
    """

    def __init__(self, config: EmulatorConfig | None = None, synth: Synthesizer | None = None) -> None:
        self.config = config or EmulatorConfig()
        self.synth = synth or Synthesizer()
        self._owns_synth = synth is None
        self._server: Server | None = None
        self._numbers = itertools.count(1)
        self.active_contexts = 0

    @property
    def port(self) -> int:
        """The port the server listens on (the one the system chose when the configured port is 0)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        port: int = next(iter(self._server.sockets)).getsockname()[1]
        return port

    @property
    def url(self) -> str:
        """The base URL clients are given (they append ``/tts/websocket``): the first of :attr:`urls`."""
        return self.urls[0]

    @property
    def urls(self) -> list[str]:
        """The base URLs a client can use, this machine's first: never the wildcard bound to (see
        :func:`~flushscope.net.reach.client_urls`)."""
        return client_urls(self.config.host, self.port)

    @property
    def tts_url(self) -> str:
        """The full WebSocket URL, for clients that take it whole."""
        return self.url + TTS_PATH

    async def start(self) -> EmulatorServer:
        """Listen; returns once connections are accepted."""
        self._server = await serve(
            self._handle,
            self.config.host,
            self.config.port,
            process_request=self._process_request,
            process_response=self._process_response,
            # The service streams until the client closes; keep pings for liveness but never drop a slow
            # reader on a missed pong while it is busy.
            ping_interval=20,
            ping_timeout=None,
        )
        return self

    async def close(self) -> None:
        """Stop listening, close every connection and wait for their handlers; release the synthesizer
        if the server made its own."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        if self._owns_synth:
            self.synth.close()

    async def __aenter__(self) -> EmulatorServer:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # --- the upgrade ---------------------------------------------------------------------------------

    def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path.rstrip("/")
        if not path.endswith(TTS_PATH):
            return connection.respond(
                HTTPStatus.NOT_FOUND, f"No WebSocket at {path or '/'}; use {TTS_PATH}\n"
            )
        if self.config.faults.reject_429:
            return connection.respond(HTTPStatus.TOO_MANY_REQUESTS, "Too many WebSocket connections\n")
        key, how = credentials(request)
        required = self.config.require_key
        if required is not None and key != required:
            reason = "missing API key" if key is None else "invalid API key"
            log.info("refused a connection from %s: %s", _peer(connection), reason)
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"Unauthorized: {reason}\n")
        log.debug("upgrade from %s, auth %s", _peer(connection), how)
        return None

    def _process_response(self, connection: ServerConnection, request: Request, response: Response) -> None:
        response.headers["X-Request-Id"] = str(uuid.uuid4())

    async def _handle(self, ws: ServerConnection) -> None:
        # The connection keeps its own handshake request: nothing needs carrying over from the upgrade.
        assert ws.request is not None, "the handler runs only after a successful handshake"
        version = api_version(ws.request)
        await EmulatorConnection(self, ws, next(self._numbers), version).run()


class EmulatorConnection:
    """One client socket: reads its frames in order, owns its contexts' tasks, counts frames for faults."""

    def __init__(self, server: EmulatorServer, ws: ServerConnection, number: int, version: str) -> None:
        self.server = server
        self.ws = ws
        self.number = number
        self.version = version
        self.config = server.config
        self.synth = server.synth
        self.contexts: dict[str, ContextRun] = {}
        self._tasks = OwnedTasks()
        self._frames_sent = 0
        #: Chunks sent on this connection so far (the faults that act after N chunks count them).
        self.chunks_sent = 0
        self._dropped = False
        self._last_activity = 0.0

    async def run(self) -> None:
        """Read and dispatch frames until the client leaves or the socket idles out; then cancel and await
        every context task of this connection."""
        log.info("connection %d from %s opened (version %s)", self.number, _peer(self.ws), self.version)
        loop = asyncio.get_running_loop()
        idle = self.config.idle_timeout_s
        self._last_activity = loop.time()
        try:
            while True:
                try:
                    wait = max(0.0, self._last_activity + idle - loop.time())
                    message = await asyncio.wait_for(self.ws.recv(), wait)
                except TimeoutError:
                    # Frames sent meanwhile count as activity: a socket that is generating is not idle.
                    if loop.time() < self._last_activity + idle:
                        continue
                    await self.ws.close(1000, "connection idle timeout")
                    break
                except ConnectionClosed:
                    break
                self._last_activity = loop.time()
                try:
                    await self._receive(message)
                except LinkClosed:
                    # An error frame could not go out: the client is gone.
                    break
        finally:
            await self._tasks.aclose()
            log.info(
                "connection %d closed (code %s %s)",
                self.number,
                self.ws.close_code,
                self.ws.close_reason or "",
            )

    async def _receive(self, message: str | bytes) -> None:
        if isinstance(message, bytes):
            await self._error(errors.BAD_REQUEST, "binary frames are not supported; send JSON text", None)
            return
        context_id: str | None = None
        try:
            obj = load_object(message)
            raw_id = obj.get("context_id")
            context_id = raw_id if isinstance(raw_id, str) else None
            request = parse_client_obj(obj)
        except ProtocolError as exc:
            await self._error(errors.BAD_REQUEST, exc.message, context_id)
            return
        if isinstance(request, CancelRequest):
            run = self.contexts.pop(request.context_id, None)
            if run is not None:
                run.cancel()
            return
        context_id = request.context_id or str(uuid.uuid4())
        run = self.contexts.get(context_id)
        if run is None or run.input_closed:
            # Later inputs on an ended id start a new context (reuse after the end is not supported
            # upstream). The ended one stays reachable for a cancel until it is replaced or finished: a
            # cancel still stops its queued inputs.
            run = await self._open(context_id, request.voice, request.output_format, request)
            if run is None:
                return
        run.put(request)

    async def _open(
        self, context_id: str, voice: object, output_format: Any, request: Any
    ) -> ContextRun | None:
        try:
            fmt = AudioFormat.from_json(output_format)
        except AudioFormatError as exc:
            await self._error(errors.BAD_OUTPUT_FORMAT, str(exc), context_id)
            return None
        if voice is None:
            await self._error(errors.BAD_REQUEST, "missing field 'voice'", context_id)
            return None
        limit = self.config.max_contexts
        if limit is not None and self.server.active_contexts >= limit:
            await self._error(errors.CONCURRENCY, None, context_id)
            return None
        run = ContextRun(self, context_id, request, fmt)
        self.contexts[context_id] = run
        self.server.active_contexts += 1
        self._tasks.spawn(run.run(), name=f"emulator context {context_id}")
        return run

    def context_finished(self, run: ContextRun) -> None:
        """Free the context's slot and id, and log how it ended."""
        self.server.active_contexts -= 1
        if self.contexts.get(run.context_id) is run:
            del self.contexts[run.context_id]
        log.info(
            "connection %d context %s: %s after %d inputs, %d flushes, %d chunks, %.2f s of audio",
            self.number,
            run.context_id,
            run.outcome,
            run.inputs_count,
            run.flushes,
            run.chunks,
            run.audio_seconds,
        )

    async def _error(self, kind: errors.ErrorKind, detail: str | None, context_id: str | None) -> None:
        await self.send_frame(errors.error_frame(kind, detail, context_id, self.version).to_obj())

    async def send_frame(self, obj: dict[str, Any] | str, *, is_chunk: bool = False) -> None:
        """Send one frame (an object, or JSON text already made), applying the frame-counting faults;
        raises :class:`LinkClosed` once the socket is gone."""
        faults = self.config.faults
        text = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"), ensure_ascii=False)
        try:
            await self.ws.send(text)
            self._last_activity = asyncio.get_running_loop().time()
            self._frames_sent += 1
            if faults.malformed_every and self._frames_sent % faults.malformed_every == 0:
                await self.ws.send('{"type": "chunk", "context_id": ')
            if is_chunk:
                self.chunks_sent += 1
                self._drop_if_due()
        except ConnectionClosed as exc:
            # The reader notices the close and ends the connection; the context stops here.
            raise LinkClosed(str(exc)) from None

    def _drop_if_due(self) -> None:
        faults = self.config.faults
        close, reset = faults.close_after_chunks, faults.reset_after_chunks
        due_close = close is not None and self.chunks_sent >= close
        due_reset = reset is not None and self.chunks_sent >= reset
        if self._dropped or not (due_close or due_reset):
            return
        self._dropped = True
        transport = self.ws.transport
        sock = transport.get_extra_info("socket")
        if due_reset and sock is not None:
            # Lingering for zero seconds makes closing the socket send RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        how = "resetting the connection" if due_reset else "dropping the socket"
        log.info("connection %d: %s after %d chunks", self.number, how, self.chunks_sent)
        transport.abort()


def _peer(connection: ServerConnection) -> str:
    address = connection.remote_address
    if isinstance(address, tuple) and len(address) >= 2:
        return f"{address[0]}:{address[1]}"
    return str(address)
