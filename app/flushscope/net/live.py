"""The live session behind the window: one session model, its capture file, the client and the emulator.

Qt-free, so the window stays a view of it and tests can drive it with plain asyncio. Every connection
attempt, send and failure is reported through listeners as a :class:`ConnectionState` and words the user
can read; failures are raised as :class:`~flushscope.net.client.ClientError` and never leak as other
exception types.

A connection whose server stops answering is reported :attr:`ConnectionState.STALLED` within the keepalive's
stall time, back to CONNECTED when it answers again, and FAILED when the keepalive timeout passes (see
:class:`~flushscope.net.keepalive.Keepalive`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Final, Literal
from urllib.parse import urlsplit

from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import Context, ContextState
from flushscope.core.model.session import Session
from flushscope.core.store.capture_folder import CaptureFolder, RetentionError
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.config import EmulatorConfig
from flushscope.net.client import DEFAULT_VERSION, Client, ClientError, NotConnected, Target
from flushscope.net.keepalive import Keepalive, stalled_words
from flushscope.net.proxy import DEFAULT_LISTEN_TEXT, ListenError, ProxyListener, ProxyServer, parse_listen
from flushscope.net.proxy_relay import ProxyConnection
from flushscope.net.proxy_upstream import Upstream, UpstreamError
from flushscope.net.reach import REMOTE_RISK, is_loopback_host

if TYPE_CHECKING:
    from flushscope.emulator.server import EmulatorServer

log = logging.getLogger("flushscope.live")

TargetKind = Literal["emulator", "cartesia", "custom"]
TARGET_KINDS: Final[tuple[TargetKind, ...]] = ("emulator", "cartesia", "custom")

CAPTURE_SUFFIX: Final = ".fscap.jsonl"
#: Where the proxy listens unless told otherwise: one setting for the user's app to keep.
DEFAULT_PROXY_LISTEN: Final = DEFAULT_LISTEN_TEXT


class ConnectionState(StrEnum):
    """What the status light shows. STALLED is a connection still open whose server has not answered for
    the keepalive's stall time; it turns back into CONNECTED or, after the timeout, FAILED. LISTENING is the
    recording proxy waiting for (or forwarding) the user's own app."""

    DISCONNECTED = "disconnected"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    STALLED = "stalled"
    LISTENING = "listening"
    FAILED = "failed"


@dataclass(frozen=True)
class ConnectionStatus:
    """The connection's state and, when it failed or closed by itself, why (in words)."""

    state: ConnectionState
    reason: str = ""
    url: str = ""


StatusListener = Callable[[ConnectionStatus], None]


def default_capture_dir() -> Path:
    """Where captures go unless told otherwise: the user's data directory."""
    import platformdirs

    return Path(platformdirs.user_data_dir("flushscope")) / "captures"


def timestamped_capture_name(moment: datetime | None = None) -> str:
    """``flushscope-YYYYmmdd-HHMMSS.fscap.jsonl`` for the local time ``moment`` (now if None)."""
    moment = moment or datetime.now()
    return f"flushscope-{moment:%Y%m%d-%H%M%S}{CAPTURE_SUFFIX}"


class LiveSession:
    """A live inspection session: frames recorded to a capture file as they happen, from one client at a
    time, optionally talking to an emulator that runs in this process.

    Reconnecting (to the same or another target) starts a new connection in the same session: the model and
    the capture keep everything. The capture file is created by the first connection attempt, with that
    target in its header; ``capture_path`` fixes its name, otherwise it is a timestamped file in
    ``capture_dir`` (the user's data directory by default), :attr:`capture_folder`, whose size cap is then
    applied (:meth:`prune_captures`).

    Listeners added with :meth:`add_listener` hear every change of :attr:`status`, on the loop's thread.
    :attr:`keepalive` sets how a server that stops answering is noticed; a new value applies from the next
    connection on.
    """

    def __init__(
        self,
        *,
        capture_path: str | os.PathLike[str] | None = None,
        capture_dir: str | os.PathLike[str] | None = None,
        emulator_config: EmulatorConfig | None = None,
        thresholds: Thresholds | None = None,
        keepalive: Keepalive | None = None,
    ) -> None:
        self.session = Session(thresholds)
        self.keepalive = keepalive or Keepalive()
        self.recorder = Recorder(self.session)
        self.client: Client | None = None
        self.emulator_config = emulator_config or EmulatorConfig()
        # Imported on first use: a session on the real service never loads espeak-ng.
        self.emulator: EmulatorServer | None = None
        self.status = ConnectionStatus(ConnectionState.DISCONNECTED)
        self._capture_path = Path(capture_path) if capture_path is not None else None
        #: Where the session records unless ``capture_path`` says otherwise, under a size cap.
        self.capture_folder = CaptureFolder(
            Path(capture_dir) if capture_dir is not None else default_capture_dir(),
            f"flushscope-*{CAPTURE_SUFFIX}",
        )
        self._pruning = ""
        self._capture_opened = False
        self._listeners: list[StatusListener] = []
        self._proxy_listeners: list[ProxyListener] = []
        #: The recording proxy while it listens.
        self.proxy: ProxyServer | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    # --- state -------------------------------------------------------------------------------------

    def add_listener(self, listener: StatusListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    def _set_status(self, state: ConnectionState, reason: str = "", url: str | None = None) -> None:
        """Report a change to the listeners; ``url`` None keeps the current target's URL."""
        status = ConnectionStatus(state, reason, self.status.url if url is None else url)
        if status == self.status:
            return
        self.status = status
        for listener in list(self._listeners):
            listener(status)

    @property
    def connected(self) -> bool:
        return self.client is not None and self.client.connected

    @property
    def capture_path(self) -> Path | None:
        """The capture being recorded, once the first connection attempt has opened it."""
        capture = self.recorder.capture
        return capture.path if capture is not None else (self._capture_path if self._capture_opened else None)

    @property
    def capture_error(self) -> str | None:
        """Why the capture stopped recording (disk full, removed), if it did."""
        return self.recorder.capture_error

    @property
    def emulator_url(self) -> str | None:
        """The in-process emulator's base URL while it runs."""
        return self.emulator.url if self.emulator is not None else None

    def now(self) -> float:
        """Seconds since the session started (the frames' clock)."""
        return self.recorder.now()

    # --- emulator ----------------------------------------------------------------------------------

    async def start_emulator(self, config: EmulatorConfig | None = None) -> str:
        """Start the in-process emulator (on a free port unless the config names one); returns its URL.
        Restarts it when a config is given and it already runs."""
        if self._closed:
            raise ClientError("the session is closed")
        if config is not None:
            self.emulator_config = config
            if self.emulator is not None:
                await self.stop_emulator()
        if self.emulator is None:
            from flushscope.emulator.server import EmulatorServer

            server = EmulatorServer(self.emulator_config)
            try:
                await server.start()
            except OSError as exc:
                await server.close()
                where = f"{self.emulator_config.host}:{self.emulator_config.port}"
                raise ClientError(f"the embedded emulator cannot listen on {where}: {_cause(exc)}") from exc
            self.emulator = server
            log.info("embedded emulator on %s", server.url)
        return self.emulator.url

    async def stop_emulator(self) -> None:
        server, self.emulator = self.emulator, None
        if server is not None:
            # close() also waits for the server's connections and handlers to finish.
            await server.close()

    # --- connection --------------------------------------------------------------------------------

    def _target(
        self, kind: TargetKind, url: str | None, api_key: str | None, version: str, emulator_url: str | None
    ) -> Target:
        key = api_key or None
        if kind == "emulator":
            assert emulator_url is not None
            return Target(emulator_url, key, version=version)
        if kind == "cartesia":
            return Target.cartesia(key, version=version)
        if kind == "custom":
            if not url or not url.strip():
                raise ClientError("enter a URL to connect to (ws://HOST:PORT or wss://...)")
            return Target(url.strip(), key, version=version)
        raise ClientError(f"unknown target {kind!r}: choose one of {', '.join(TARGET_KINDS)}")

    def _open_capture(self, target: str, key: str | None) -> None:
        """Create the capture file on the first attempt to record (``target`` is its header's URL, secrets
        removed); later attempts only teach it ``key``, a secret to remove from every line."""
        secrets = [s for s in (key, os.environ.get("CARTESIA_API_KEY")) if s]
        if self._capture_opened:
            if self.recorder.capture is not None and secrets:
                self.recorder.capture.add_secrets(secrets)
            return
        self._capture_opened = True
        path = self._capture_path
        if path is None:
            path = self.capture_folder.path / timestamped_capture_name()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            writer = _new_writer(path, target, secrets, numbered=self._capture_path is None)
        except OSError as exc:
            self.recorder.capture_error = f"cannot record the capture {path}: {exc.strerror or exc}"
            log.error("%s", self.recorder.capture_error)
            return
        self._capture_path = writer.path
        self.recorder.capture = writer
        log.info("recording to %s", writer.path)
        if writer.path.parent == self.capture_folder.path:
            self.prune_captures()

    def prune_captures(self) -> str:
        """Apply the captures folder's size cap now, keeping the capture being recorded; what it did, in
        words ("" when there is nothing to say; logged, and kept for :meth:`take_pruning`)."""
        keep = [self.capture_path] if self.capture_path is not None else []
        try:
            words = self.capture_folder.prune(keep).words()
        except RetentionError as exc:
            words = f"{exc}; no recording was removed"
        if words:
            log.info("%s", words)
        self._pruning = words
        return words

    def take_pruning(self) -> str:
        """What applying the cap did when this session started recording, once ("" after that)."""
        words, self._pruning = self._pruning, ""
        return words

    async def connect(
        self,
        target_kind: TargetKind,
        url: str | None = None,
        api_key: str | None = None,
        version: str = DEFAULT_VERSION,
    ) -> int:
        """Connect to a target (closing the current connection first); returns the connection number.
        ``emulator`` starts the embedded emulator if it does not run yet. Raises ClientError."""
        async with self._lock:
            await self._start_over()
            try:
                emulator_url = await self.start_emulator() if target_kind == "emulator" else None
                target = self._target(target_kind, url, api_key, version, emulator_url)
            except ClientError as exc:
                self._set_status(ConnectionState.FAILED, str(exc))
                raise
            self._set_status(ConnectionState.CONNECTING, url=target.display_url)
            self._open_capture(target.display_url, target.api_key)
            client = Client(self.recorder, target, keepalive=self.keepalive)
            client.on_stall = lambda stalled: self._stall_changed(client, stalled)
            try:
                conn = await client.connect()
            except ClientError as exc:
                self._set_status(ConnectionState.FAILED, str(exc))
                raise
            except asyncio.CancelledError:
                self._set_status(ConnectionState.DISCONNECTED, "connection attempt cancelled")
                raise
            self.client = client
            self._watcher = asyncio.create_task(self._watch(client), name=f"flushscope watch {conn}")
            self._set_status(ConnectionState.CONNECTED)
            return conn

    async def _start_over(self) -> None:
        """Before a new connection or proxy: close what runs, and say a new attempt starts."""
        if self._closed:
            raise ClientError("the session is closed")
        await self._disconnect(report=False)
        self._set_status(ConnectionState.CONNECTING, url="")

    def _stall_changed(self, client: Client, stalled: bool) -> None:
        if client is not self.client or not client.connected:
            return
        if stalled:
            self._set_status(ConnectionState.STALLED, stalled_words(client.keepalive.stall_after_s))
        else:
            self._set_status(ConnectionState.CONNECTED)

    async def _watch(self, client: Client) -> None:
        """Report a connection that the server closed or that dropped."""
        await client.closed.wait()
        info = self.session.connections.get(client.conn)
        if client.close_error is not None:
            self._set_status(ConnectionState.FAILED, str(client.close_error))
        else:
            code = info.close_code if info is not None else None
            reason = info.close_reason if info is not None and info.close_reason else ""
            words = f"the server closed the connection (code {code}{', ' + reason if reason else ''})"
            self._set_status(ConnectionState.DISCONNECTED, words)

    async def disconnect(self) -> None:
        """Close the connection, or stop the proxy (cleanly; the session and capture stay)."""
        async with self._lock:
            await self._disconnect(report=True)

    async def _disconnect(self, *, report: bool) -> None:
        proxy, self.proxy = self.proxy, None
        if proxy is not None:
            proxy.remove_listener(self._proxy_changed)
            await proxy.close()
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        client = self.client
        if client is not None:
            await client.aclose()
        if report:
            self._set_status(ConnectionState.DISCONNECTED)

    # --- the recording proxy -----------------------------------------------------------------------

    async def start_proxy(
        self,
        listen: str = DEFAULT_PROXY_LISTEN,
        upstream: str = "cartesia",
        api_key: str | None = None,
        *,
        allow_remote: bool = False,
    ) -> str:
        """Listen for the user's own app on ``listen`` (``HOST:PORT``; port 0 picks a free one) and forward
        each of its connections to ``upstream`` (``cartesia``, ``emulator`` for the embedded emulator, or a
        URL), recording everything into this session; returns the URL apps connect to. Closes the current
        connection first. ``api_key`` replaces the app's key upstream; without it ``CARTESIA_API_KEY``
        replaces only placeholder keys; neither goes on connections from other machines. An address other
        machines can reach needs ``allow_remote``. Raises ClientError."""
        async with self._lock:
            await self._start_over()
            try:
                address = _listen_address(listen)
                if not allow_remote and not is_loopback_host(address[0]):
                    raise ClientError(
                        f"{listen} can be reached from other machines, and {REMOTE_RISK}: "
                        "tick Allow remote if that is what you want"
                    )
                target = await self._upstream(upstream)
            except ClientError as exc:
                self._set_status(ConnectionState.FAILED, str(exc))
                raise
            self._open_capture(f"proxy to {target.display_url}", api_key)
            proxy = ProxyServer(
                self.recorder, target, address, api_key, fallback_api_key=os.environ.get("CARTESIA_API_KEY")
            )
            try:
                url = await proxy.start()
            except OSError as exc:
                await proxy.close()
                words = f"the proxy cannot listen on {listen}: {_cause(exc)}"
                self._set_status(ConnectionState.FAILED, words)
                raise ClientError(words) from exc
            proxy.add_listener(self._proxy_changed)
            self.proxy = proxy
            self._set_status(ConnectionState.LISTENING, url=url)
            return url

    async def _upstream(self, upstream: str) -> Upstream:
        where = upstream.strip()
        if where == "cartesia":
            return Upstream.cartesia()
        if where == "emulator":
            return Upstream.at(await self.start_emulator(), "the embedded emulator")
        if not where:
            raise ClientError("enter the URL the proxy forwards to (ws://HOST:PORT or wss://...)")
        try:
            return Upstream.at(where)
        except UpstreamError as exc:
            raise ClientError(str(exc)) from exc

    @property
    def proxy_remote_urls(self) -> list[str]:
        """The URLs other machines use to reach the running proxy (none while it listens on the loopback)."""
        if self.proxy is None:
            return []
        return [url for url in self.proxy.urls if not is_loopback_host(urlsplit(url).hostname or "")]

    def add_proxy_listener(self, listener: ProxyListener) -> None:
        """Hear every change of a proxied connection (opened, closed, refused), on the loop's thread."""
        self._proxy_listeners.append(listener)

    def remove_proxy_listener(self, listener: ProxyListener) -> None:
        with contextlib.suppress(ValueError):
            self._proxy_listeners.remove(listener)

    def _proxy_changed(self, connection: ProxyConnection) -> None:
        for listener in list(self._proxy_listeners):
            listener(connection)

    # --- contexts ----------------------------------------------------------------------------------

    def _client(self) -> Client:
        client = self.client
        if client is None or not client.connected:
            raise NotConnected("not connected: connect first")
        return client

    def new_context(self, settings: GenerationSettings, context_id: str | None = None) -> str:
        """A new context on the current connection; returns its id. Nothing is sent until its first input."""
        return self._client().new_context(settings, context_id).context_id

    def open_contexts(self) -> list[str]:
        """Ids of the current connection's contexts that may still take input, oldest first: opened by this
        client, neither ended nor cancelled, and not failed or finished according to the server."""
        client = self.client
        if client is None or not client.connected:
            return []
        ids = []
        for context_id, ctx in client.contexts.items():
            if not ctx.open:
                continue
            model = self.session.context(context_id, client.conn)
            if model is not None and model.state is not ContextState.OPEN:
                continue
            ids.append(context_id)
        return ids

    def is_open(self, context_id: str | None) -> bool:
        return context_id is not None and context_id in self.open_contexts()

    def context_name(self, context_id: str) -> str | None:
        """The name a script gave a context of the current connection (None if none, or not its context)."""
        client = self.client
        ctx = client.contexts.get(context_id) if client is not None else None
        return ctx.name if ctx is not None else None

    def context(self, context_id: str) -> Context | None:
        """The model of a context of the current connection (None before its first frame is recorded)."""
        client = self.client
        return self.session.context(context_id, client.conn) if client is not None else None

    async def send(self, context_id: str, transcript: str) -> None:
        await self._client().send(context_id, transcript)

    async def flush(self, context_id: str) -> None:
        await self._client().flush(context_id)

    async def send_flush(self, context_id: str, transcript: str) -> None:
        await self._client().send_flush(context_id, transcript)

    async def end(self, context_id: str) -> None:
        await self._client().end(context_id)

    async def cancel(self, context_id: str) -> None:
        await self._client().cancel(context_id)

    def check_timeouts(self) -> None:
        """Let the model notice silence (flushes and ends waiting too long) when no frame arrives."""
        self.session.check_timeouts(self.recorder.now())

    # --- closing -----------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Disconnect, stop the emulator, close the capture. Idempotent."""
        if self._closed:
            return
        self._closed = True
        async with self._lock:
            await self._disconnect(report=True)
            await self.stop_emulator()
            self.recorder.close()
        self._listeners.clear()


def _new_writer(path: Path, target: str, secrets: list[str], *, numbered: bool) -> CaptureWriter:
    if not numbered:
        # A path the user named is theirs to overwrite.
        return CaptureWriter(path, target, secrets=secrets, overwrite=True)
    # A second session started within the same second gets a numbered name rather than failing.
    candidate = path
    for attempt in range(1, 100):
        try:
            return CaptureWriter(candidate, target, secrets=secrets)
        except FileExistsError:
            stem = path.name.removesuffix(CAPTURE_SUFFIX)
            candidate = path.with_name(f"{stem}-{attempt + 1}{CAPTURE_SUFFIX}")
    return CaptureWriter(path, target, secrets=secrets, overwrite=True)


def _cause(exc: OSError) -> str:
    # asyncio's text repeats the address; the error number says it plainly.
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


def _listen_address(listen: str) -> tuple[str, int]:
    try:
        return parse_listen(listen)
    except ListenError as exc:
        raise ClientError(str(exc)) from None
