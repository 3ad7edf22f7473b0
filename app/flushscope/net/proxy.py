"""The recording proxy: apps connect to it instead of the TTS service; every frame is forwarded unchanged and
recorded, one connection number per app connection, into one session and one capture.

The upstream connection is opened during the app's upgrade (``process_request``), before the app's
WebSocket is accepted, so that the upstream's refusal reaches the app as the same HTTP status and body
(401, 402, 403, 429, ...); an upstream that cannot be reached is a 502 (504 when it does not answer in
time), in words, as is an upstream URL that cannot be dialled at all. The open upstream connection waits
for the app's handler in a dict keyed by the app's connection object: the handler takes it out, and if the
handshake fails instead, the app connection's loss takes it out and closes it. Nothing is keyed by
``id()``, so nothing leaks or goes stale.

Frames are bounded both ways (``max_frame`` from apps, ``max_upstream_frame`` from the upstream): websockets
refuses a larger one from its header, before reading it, and closes that side with 1009 (see
:mod:`flushscope.net.proxy_relay` for what the other side gets and what the capture says).

The proxy's own key goes only on connections from this machine
(:func:`~flushscope.net.reach.peer_is_local`) unless ``share_key`` says otherwise: a peer from elsewhere
goes upstream with whatever key it sent.

Where it records is a :class:`~flushscope.net.proxy_recording.ProxyRecording`: the window's live session (a
recorder: every connection in one session and capture), or one capture file per connection
(:class:`~flushscope.net.proxy_capture_dir.CaptureDirectory`). When a connection ends, one line in the log
says who it was, how long it lasted, how it closed and what its recording holds.

Stopping (:meth:`ProxyServer.close`) refuses new apps at once, may let the open connections end on their own
for a while (``drain``), and then closes each of them.

Qt-free and driven by plain asyncio: the window runs it on its own loop with the live session's recorder
and follows :attr:`ProxyServer.connections` through :meth:`ProxyServer.add_listener`.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, Final
from urllib.parse import urlsplit

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake, InvalidStatus, InvalidURI
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import CloseCode
from websockets.http11 import Request, Response

from flushscope.core.model.recorder import Recorder
from flushscope.core.store.redaction import redact_text, redact_url
from flushscope.net.client import TTS_PATH
from flushscope.net.proxy_recording import ConnectionSummary, ProxyRecording, SharedCapture
from flushscope.net.proxy_relay import ProxyConnection, ProxyState, Relay, Side, close_with
from flushscope.net.proxy_upstream import (
    Upstream,
    UpstreamRequest,
    app_credential,
    plan_upstream,
    replacement_key,
)
from flushscope.net.reach import client_urls, peer_is_local
from flushscope.tasks import OwnedTasks

__all__ = [
    "DEFAULT_LISTEN",
    "DEFAULT_LISTEN_TEXT",
    "DEFAULT_MAX_FRAME",
    "DEFAULT_MAX_UPSTREAM_FRAME",
    "ListenError",
    "ProxyConnection",
    "ProxyListener",
    "ProxyServer",
    "ProxyState",
    "Upstream",
    "parse_listen",
]

log = logging.getLogger("flushscope.proxy")

DEFAULT_LISTEN: Final = ("127.0.0.1", 8765)
#: The same, as a user writes it.
DEFAULT_LISTEN_TEXT: Final = f"{DEFAULT_LISTEN[0]}:{DEFAULT_LISTEN[1]}"
#: The largest frame taken from an app: websockets' own default, which the emulator and the clients built
#: on websockets (the official SDK, Pipecat) apply too. A request is a few kilobytes (README: "Frame size").
DEFAULT_MAX_FRAME: Final = 1 << 20
#: The largest frame taken from the upstream: aiohttp's default (LiveKit's plugin reads with it), four times
#: what websockets clients accept; an audio chunk is tens of kilobytes.
DEFAULT_MAX_UPSTREAM_FRAME: Final = 4 << 20
#: Upstream response headers worth passing on with a refusal (what went wrong, when to retry, for whom).
_REFUSAL_HEADERS: Final = ("Content-Type", "Retry-After", "WWW-Authenticate", "X-Request-Id")

ProxyListener = Callable[[ProxyConnection], None]
#: Reads a connection's peer address, ``(host, port, ...)`` as sockets report it.
PeerAddress = Callable[[ServerConnection], object]


class ListenError(ValueError):
    """A listen address that is not ``HOST:PORT``, in words."""


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[IPv6]:PORT``, ``:PORT`` or ``PORT`` (host 127.0.0.1) as a host and a port."""
    host, sep, port = text.strip().rpartition(":")
    if not sep:
        host, port = "", text.strip()
    host = host.strip("[]") or DEFAULT_LISTEN[0]
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ListenError(f"listen on HOST:PORT, such as {DEFAULT_LISTEN_TEXT} (port 0 picks a free one)")
    return host, int(port)


class _Link:
    """An upstream connection opened for an app connection whose handler has not taken it yet."""

    def __init__(self, info: ProxyConnection, upstream: ClientConnection) -> None:
        self.info = info
        self.upstream = upstream


class ProxyServer:
    """A WebSocket server on ``listen`` that forwards each app connection on ``.../tts/websocket`` to its own
    connection to ``upstream``, recording both directions through ``recording`` (a recorder records every
    connection into its session and capture).

    ``api_key`` replaces every app's key; ``fallback_api_key`` (the CLI passes ``CARTESIA_API_KEY``) replaces
    only placeholder keys (see :mod:`flushscope.net.proxy_upstream`); neither goes on a connection from
    another machine unless ``share_key`` is true. ``peer_address`` reads a connection's peer (its socket's,
    by default). ``max_frame`` and ``max_upstream_frame`` bound the frames taken from each side.
    ``upstream`` is an :class:`Upstream` or a URL (a base such as the embedded emulator's
    ``ws://127.0.0.1:PORT`` gets ``/tts/websocket``).

    Compression: each side negotiates its own. Upstream, the proxy offers permessage-deflate as the SDK
    does (unless ``upstream_deflate`` is false: an upstream on the same machine only spends CPU on it).
    Towards an app that offers it, the proxy accepts and sends its frames at ``app_deflate_level``: 0 by
    default, stored blocks without compression. Base64 audio hardly compresses (to about 70%), and
    deflating it costs more than the rest of a frame's trip through the proxy; on the loopback a proxy
    usually shares with its app the bytes saved are worth nothing. The app's decompression still runs.
    """

    def __init__(
        self,
        recording: Recorder | ProxyRecording,
        upstream: Upstream | str,
        listen: tuple[str, int] = DEFAULT_LISTEN,
        api_key: str | None = None,
        *,
        fallback_api_key: str | None = None,
        open_timeout: float = 10.0,
        ping_interval: float | None = 20.0,
        upstream_ping_timeout: float | None = 60.0,
        app_deflate_level: int = 0,
        upstream_deflate: bool = True,
        share_key: bool = False,
        max_frame: int = DEFAULT_MAX_FRAME,
        max_upstream_frame: int = DEFAULT_MAX_UPSTREAM_FRAME,
        peer_address: PeerAddress | None = None,
    ) -> None:
        self.recording: ProxyRecording = (
            SharedCapture(recording) if isinstance(recording, Recorder) else recording
        )
        self.upstream = upstream if isinstance(upstream, Upstream) else Upstream.at(upstream)
        self.listen = listen
        self.api_key = api_key or None
        self.fallback_api_key = fallback_api_key or None
        self.open_timeout = open_timeout
        self.ping_interval = ping_interval
        self.upstream_ping_timeout = upstream_ping_timeout
        if not 0 <= app_deflate_level <= 9:
            raise ValueError(f"the deflate level must be from 0 to 9, not {app_deflate_level}")
        self.app_deflate_level = app_deflate_level
        self.upstream_deflate = upstream_deflate
        self.share_key = share_key
        if max_frame <= 0 or max_upstream_frame <= 0:
            raise ValueError("frame limits must be positive")
        self.max_frame = max_frame
        self.max_upstream_frame = max_upstream_frame
        self._peer_address: PeerAddress = peer_address or _remote_address
        #: Every connection of this proxy, in the order apps arrived, closed ones included.
        self.connections: list[ProxyConnection] = []
        self._listeners: list[ProxyListener] = []
        self._server: Server | None = None
        self._pending: dict[ServerConnection, _Link] = {}
        self._tasks = OwnedTasks()
        self._secrets: set[str] = {k for k in (self.api_key, self.fallback_api_key) if k}
        self._stop: asyncio.Future[None] | None = None
        self._hurry = asyncio.Event()

    # --- life ----------------------------------------------------------------------------------------

    async def start(self) -> str:
        """Listen; returns the URL apps connect to, ``ws://HOST:PORT`` (they add ``/tts/websocket``)."""
        if self._server is not None:
            return self.url
        self._stop = asyncio.get_running_loop().create_future()
        self._add_secrets(self._secrets)
        host, port = self.listen
        self._server = await serve(
            self._handle,
            host,
            port,
            process_request=self._process_request,
            process_response=self._process_response,
            max_size=self.max_frame,
            extensions=[_app_deflate(self.app_deflate_level)],
            # Like the service: pings for liveness, but a slow app is never dropped for a late pong.
            ping_interval=self.ping_interval,
            ping_timeout=None,
            # The upstream's own timeout must fire first, so that the app hears why.
            open_timeout=self.open_timeout + 10.0,
        )
        log.debug("proxy on %s forwarding to %s", self.url, self.upstream.display_url)
        return self.url

    async def stop_accepting(self) -> None:
        """Refuse new apps from now on (the port is closed; an app whose upgrade is under way gets 503), while
        the open connections go on. :meth:`close` does it first too."""
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)
        server = self._server
        if server is not None and server.is_serving():
            server.close(close_connections=False)
            # websockets closes the port in a task of its own, at once when that task first runs.
            while server.is_serving():
                await asyncio.sleep(0)

    async def close(self, drain: float = 0.0) -> None:
        """Stop: refuse new apps at once (:meth:`stop_accepting`), let the open connections end on their own
        for up to ``drain`` seconds (or until :meth:`hurry`), then close those still open (apps get 1001,
        upstreams 1001 "proxy stopped"), and wait until every handler has finished. Calling it again does
        nothing."""
        await self.stop_accepting()
        if self._server is not None:
            server, self._server = self._server, None
            closed = asyncio.ensure_future(server.wait_closed())
            hurry = asyncio.ensure_future(self._hurry.wait())
            try:
                if drain > 0 and server.connections:
                    await asyncio.wait({closed, hurry}, timeout=drain, return_when=asyncio.FIRST_COMPLETED)
            finally:
                hurry.cancel()
            await asyncio.gather(*(app.close(CloseCode.GOING_AWAY) for app in server.connections))
            await closed
        await self._tasks.join()

    def hurry(self) -> None:
        """Cut a :meth:`close` that lets connections end on their own short: close them now."""
        self._hurry.set()

    async def __aenter__(self) -> ProxyServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def stopping(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._stop is not None and self._stop.done()

    @property
    def url(self) -> str:
        """``ws://HOST:PORT`` while listening: the first of :attr:`urls`."""
        return self.urls[0]

    @property
    def urls(self) -> list[str]:
        """The URLs apps can use while listening, this machine's first: never the wildcard bound to (see
        :func:`~flushscope.net.reach.client_urls`)."""
        if self._server is None:
            raise RuntimeError("the proxy is not listening")
        host, port = next(iter(self._server.sockets)).getsockname()[:2]
        return client_urls(str(host), int(port))

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen when ``listen`` asked for port 0)."""
        return int(urlsplit(self.url).port or 0)

    @property
    def secrets(self) -> frozenset[str]:
        """Every key and token seen or used so far: a capture opened later must redact them too."""
        return frozenset(self._secrets)

    # --- listeners -----------------------------------------------------------------------------------

    def add_listener(self, listener: ProxyListener) -> None:
        """Call ``listener(connection)`` on the loop's thread whenever a connection's state changes
        (connecting, open, closed, refused)."""
        self._listeners.append(listener)

    def remove_listener(self, listener: ProxyListener) -> None:
        """Stop calling ``listener``; one that was never added is ignored."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    @property
    def open_connections(self) -> list[ProxyConnection]:
        """The connections whose frames are flowing now."""
        return [c for c in self.connections if c.state is ProxyState.OPEN]

    def _set_state(self, info: ProxyConnection, state: ProxyState) -> None:
        info.state = state
        if state is ProxyState.CLOSED or state is ProxyState.REFUSED:
            self._ended(info)
        for listener in list(self._listeners):
            try:
                listener(info)
            except Exception:
                log.exception("a proxy listener failed")

    # --- recording -----------------------------------------------------------------------------------

    def _add_secrets(self, secrets: set[str] | frozenset[str]) -> None:
        self._secrets.update(secrets)
        if secrets:
            self.recording.add_secrets(secrets)

    def _meta(self, conn: int, event: str, **fields: Any) -> None:
        try:
            self.recording.meta(conn, event, **fields)
        except Exception:
            log.exception("recording a proxy event failed")

    def _ended(self, info: ProxyConnection) -> None:
        """The connection is over: its recording is finished, and one line says what it was."""
        try:
            summary = self.recording.end(info.number)
        except Exception:
            log.exception("finishing the recording of connection %d failed", info.number)
            summary = ConnectionSummary()
        log.info("%s", _ending_words(info, summary))

    def _words(self, text: str) -> str:
        return redact_text(text, self._secrets)

    # --- the upgrade ---------------------------------------------------------------------------------

    async def _process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        path = urlsplit(request.path).path.rstrip("/")
        if not path.endswith(TTS_PATH):
            return connection.respond(
                HTTPStatus.NOT_FOUND, f"No TTS WebSocket at {path or '/'}; use {TTS_PATH}\n"
            )
        headers = list(request.headers.raw_items())
        address = self._peer_address(connection)
        shared = self.share_key or peer_is_local(address)
        plan = plan_upstream(
            self.upstream,
            request.path,
            headers,
            api_key=self.api_key if shared else None,
            fallback_key=self.fallback_api_key if shared else None,
        )
        withheld = not shared and (
            replacement_key(app_credential(request.path, headers)[1], self.api_key, self.fallback_api_key)
            is not None
        )
        self._add_secrets(plan.secrets)
        number = self.recording.begin(plan.client_label)
        remote = _peer(address)
        info = ProxyConnection(number, plan.client_label, remote, plan.display_url)
        self.connections.append(info)
        self._meta(
            number,
            "connect",
            url=plan.display_url,
            client=plan.client_label,
            remote=remote,
            port=_port(address),
            path=self._words(redact_url(request.path)),
            auth=plan.auth.value,
            key_replaced=plan.key_replaced,
            key_withheld=withheld,
        )
        if withheld:
            log.warning("connection %d from %s: your key withheld (another machine)", number, remote)
        self._set_state(info, ProxyState.CONNECTING)
        try:
            upstream = await self._dial(plan)
        except _Refusal as refusal:
            info.status, info.error = refusal.response.status_code, refusal.message
            self._meta(number, "error", message=refusal.message, status=info.status)
            self._set_state(info, ProxyState.REFUSED)
            return refusal.response
        except asyncio.CancelledError:
            info.error = "the app's handshake was abandoned while the upstream was dialled"
            self._meta(number, "error", message=info.error)
            self._set_state(info, ProxyState.REFUSED)
            raise
        link = _Link(info, upstream)
        self._pending[connection] = link
        # Whatever ends the app's connection before its handler runs (a failed handshake, the app leaving,
        # the proxy stopping) hands the upstream back to be closed.
        connection.connection_lost_waiter.add_done_callback(lambda _: self._abandon(connection))
        return None

    def _process_response(self, connection: ServerConnection, request: Request, response: Response) -> None:
        link = self._pending.get(connection)
        if link is not None and link.upstream.response is not None:
            request_id = link.upstream.response.headers.get("X-Request-Id")
            if request_id is not None:
                response.headers["X-Request-Id"] = request_id

    async def _dial(self, plan: UpstreamRequest) -> ClientConnection:
        """Open the upstream connection; :class:`_Refusal` with the response for the app when it fails."""
        assert self._stop is not None
        dial = asyncio.create_task(self._connect(plan), name="proxy dial")
        waiting: set[asyncio.Future[Any]] = {dial, self._stop}
        try:
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            await _drop(dial)
            raise
        if not dial.done():
            await _drop(dial)
            raise _Refusal(_text_response(HTTPStatus.SERVICE_UNAVAILABLE, "The proxy is stopping.\n"))
        try:
            return dial.result()
        except InvalidStatus as exc:
            raise _Refusal(
                self._mirror(exc.response), f"upstream refused: {self._status_words(exc.response)}"
            ) from None
        except TimeoutError:
            words = f"{plan.display_url} did not answer within {self.open_timeout:g} s"
            raise _Refusal(
                _text_response(HTTPStatus.GATEWAY_TIMEOUT, f"Upstream timeout: {words}\n")
            ) from None
        except InvalidURI:
            words = f"not a WebSocket URL: {plan.display_url}"
            raise _Refusal(_text_response(HTTPStatus.BAD_GATEWAY, f"Bad upstream: {words}\n")) from None
        except OSError as exc:
            words = self._words(f"cannot reach {plan.display_url}: {exc.strerror or exc}")
            raise _Refusal(
                _text_response(HTTPStatus.BAD_GATEWAY, f"Upstream unreachable: {words}\n")
            ) from None
        except InvalidHandshake as exc:
            words = self._words(f"the WebSocket handshake with {plan.display_url} failed: {exc}")
            raise _Refusal(
                _text_response(HTTPStatus.BAD_GATEWAY, f"Upstream handshake failed: {words}\n")
            ) from None
        except ValueError as exc:
            # An address the socket layer cannot take (a port out of range, a bad IPv6 literal): the URL is
            # checked when the proxy starts, but an Upstream may be made by hand.
            words = self._words(f"cannot dial {plan.display_url}: {exc}")
            raise _Refusal(_text_response(HTTPStatus.BAD_GATEWAY, f"Bad upstream: {words}\n")) from None

    async def _connect(self, plan: UpstreamRequest) -> ClientConnection:
        return await connect(
            plan.url,
            additional_headers=list(plan.headers),
            user_agent_header=plan.user_agent,
            compression="deflate" if self.upstream_deflate else None,
            open_timeout=self.open_timeout,
            max_size=self.max_upstream_frame,
            ping_interval=self.ping_interval,
            ping_timeout=self.upstream_ping_timeout,
        )

    def _status_words(self, response: Response) -> str:
        body = response.body.decode("utf-8", "replace").strip() if response.body else ""
        detail = f" ({self._words(body)[:200]})" if body else ""
        return f"HTTP {response.status_code} {response.reason_phrase}{detail}".replace("  ", " ")

    def _mirror(self, upstream: Response) -> Response:
        """The upstream's refusal as the app's: same status, reason, body and telling headers."""
        body = bytes(upstream.body or b"")
        headers = Headers(
            [
                ("Date", email.utils.formatdate(usegmt=True)),
                ("Connection", "close"),
                ("Content-Length", str(len(body))),
            ]
        )
        for name in _REFUSAL_HEADERS:
            value = upstream.headers.get(name)
            if value is not None:
                headers[name] = value
        return Response(upstream.status_code, upstream.reason_phrase, headers, body)

    def _abandon(self, connection: ServerConnection) -> None:
        link = self._pending.pop(connection, None)
        if link is None:
            return
        self._tasks.spawn(self._close_abandoned(link), name="proxy abandon")

    async def _close_abandoned(self, link: _Link) -> None:
        info = link.info
        info.error = "the app left during its handshake"
        self._meta(info.number, "error", message=info.error)
        await close_with(link.upstream, CloseCode.GOING_AWAY, "client went away")
        self._meta(
            info.number,
            "close",
            code=CloseCode.ABNORMAL_CLOSURE,
            reason="",
            by=Side.APP.value,
            relayed_code=CloseCode.GOING_AWAY,
            relayed_reason="client went away",
        )
        info.close_code, info.closed_by = CloseCode.ABNORMAL_CLOSURE, Side.APP
        self._set_state(info, ProxyState.CLOSED)

    # --- a connection --------------------------------------------------------------------------------

    async def _handle(self, app: ServerConnection) -> None:
        link = self._pending.pop(app, None)
        if link is None:
            return
        info = link.info
        self._meta(
            info.number,
            "open",
            app_compression=_compression(app),
            upstream_compression=_compression(link.upstream),
        )
        self._set_state(info, ProxyState.OPEN)
        log.info(
            "connection %d from %s (%s) open to %s", info.number, info.remote, info.client, info.upstream_url
        )
        relay = Relay(self.recording, info, app, link.upstream, lambda: self.stopping)
        try:
            await relay.run()
        finally:
            self._set_state(info, ProxyState.CLOSED)


class _Refusal(Exception):
    """The upstream could not be opened: the response for the app, and why in words."""

    def __init__(self, response: Response, message: str | None = None) -> None:
        super().__init__(message)
        self.response = response
        self.message = message or bytes(response.body).decode("utf-8", "replace").strip()


def _ending_words(info: ProxyConnection, summary: ConnectionSummary) -> str:
    """The line logged when a connection ends: who, how long, how it ended, what it held, where."""
    if info.state is ProxyState.REFUSED:
        how = f"refused: {info.error}"
    else:
        by = info.closed_by.value if info.closed_by is not None else "?"
        how = f"closed by {by} ({info.close_code} {info.close_reason})".replace(" )", ")")
        how += f"; frames sent {info.sent}, received {info.received}"
    files = ""
    if summary.files:
        more = len(summary.files) - 1
        files = f"; capture {summary.files[0]}" + (f" and {more} more parts" if more else "")
    return (
        f"connection {info.number} ({info.client}, {info.remote}) ended after {summary.seconds:.1f} s, {how}: "
        f"{summary.words()}{files}"
    )


def _app_deflate(level: int) -> ServerPerMessageDeflateFactory:
    """permessage-deflate for apps that offer it, as websockets sets it up by default, at ``level``."""
    return ServerPerMessageDeflateFactory(
        server_max_window_bits=12,
        client_max_window_bits=12,
        compress_settings={"memLevel": 5, "level": level},
    )


async def _drop(dial: asyncio.Task[ClientConnection]) -> None:
    """Stop dialling; a connection that opened in the meantime is closed at once."""
    dial.cancel()
    await asyncio.gather(dial, return_exceptions=True)
    if not dial.cancelled() and dial.exception() is None:
        dial.result().transport.abort()


def _text_response(status: HTTPStatus, text: str) -> Response:
    body = text.encode()
    headers = Headers(
        [
            ("Date", email.utils.formatdate(usegmt=True)),
            ("Connection", "close"),
            ("Content-Length", str(len(body))),
            ("Content-Type", "text/plain; charset=utf-8"),
        ]
    )
    return Response(status.value, status.phrase, headers, body)


def _compression(ws: ServerConnection | ClientConnection) -> str | None:
    names = [extension.name for extension in ws.protocol.extensions]
    return names[0] if names else None


def _remote_address(connection: ServerConnection) -> object:
    return connection.remote_address


def _peer(address: object) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"{host if ':' not in host else f'[{host}]'}:{address[1]}"
    return str(address)


def _port(address: object) -> int | None:
    if isinstance(address, tuple) and len(address) >= 2 and isinstance(address[1], int):
        return address[1]
    return None
