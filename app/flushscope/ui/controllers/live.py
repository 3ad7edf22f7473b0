"""The controller of the live session: the connection bar and the composer are its views.

Connect and disconnect, and the composer's commands (new context, send, flush, end and cancel: the window's
actions call :meth:`LiveController.request_send` and its neighbours), each run on the asyncio loop (qasync,
the GUI thread) in a task this controller owns and cancels when it closes; one composer command at a time,
so inputs go out in the order they were asked for. Client failures become words (next to the status light
and through :attr:`LiveController.error`), never exceptions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, cast

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from flushscope.core.inputs.generation_settings import SettingsError
from flushscope.core.model.findings import Thresholds
from flushscope.net.client import ClientError
from flushscope.net.keepalive import Keepalive, seconds
from flushscope.net.live import ConnectionState, ConnectionStatus, LiveSession, TargetKind
from flushscope.net.proxy_relay import ProxyConnection
from flushscope.tasks import OwnedTasks
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.wording import quote
from flushscope.ui.tables import context_label
from flushscope.ui.widgets.composer import Composer
from flushscope.ui.widgets.connection_bar import TARGET_WORDS, Choice, ConnectionBar
from flushscope.ui.widgets.proxy_panel import ProxyPanel
from flushscope.ui.windows.keepalive_settings import KeepaliveDialog

log = logging.getLogger("flushscope.window")

#: How often silence is checked for (a flush or an end waiting too long) when no frame arrives.
TIMEOUT_CHECK_MS: Final = 250


class LiveController(QObject):
    """Drives a :class:`~flushscope.net.live.LiveSession` from its views: the connection bar's and the
    composer's requests, and what they show back (the state, the open contexts, what was sent); while the
    recording proxy runs, the proxy panel says where the user's app connects and which apps did."""

    status = Signal(str)
    """A message for the status bar."""
    error = Signal(str)
    """Something failed; the text says what, in words."""
    connectionChanged = Signal(object)
    """The :class:`~flushscope.net.live.ConnectionStatus` changed."""
    inputEnded = Signal()
    """The connection is gone (closed or failed): nothing more will arrive on it."""
    recordingProblemChanged = Signal(str)
    """Why the live session is not (or no longer) recorded to its capture file changed (empty: it is)."""
    thresholdsChanged = Signal(object)
    """The :class:`~flushscope.core.model.findings.Thresholds` the user chose: the live session uses them
    from now on, and captures opened next should too."""

    def __init__(
        self,
        live: LiveSession,
        bar: ConnectionBar,
        composer: Composer,
        proxy_panel: ProxyPanel,
        bridge: SessionBridge,
        selection: Selection,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.live = live
        self._bar = bar
        self._composer = composer
        self._proxy_panel = proxy_panel
        self._bridge = bridge
        self._selection = selection
        self.tasks = OwnedTasks(lambda exc: self.show_error(str(exc)), (ClientError,))
        self._op_lock: asyncio.Lock | None = None
        self._connect_task: asyncio.Task[bool] | None = None
        self._shown = True
        self._status: ConnectionStatus | None = None
        self._recording_problem = ""
        #: The question asked before another target replaces the one running, while it is open.
        self.switch_question: QMessageBox | None = None

        bar.connectRequested.connect(self._connect_requested)
        bar.proxyRequested.connect(self._proxy_requested)
        bar.disconnectRequested.connect(self._disconnect_requested)
        bar.targetSwitchRequested.connect(self._switch_requested)
        composer.contextSelected.connect(self._context_picked)
        bridge.contextsChanged.connect(lambda _contexts: self.refresh_contexts())

        self._timeouts = QTimer(self)
        self._timeouts.setInterval(TIMEOUT_CHECK_MS)
        self._timeouts.timeout.connect(self._check)
        self._timeouts.start()
        live.add_listener(self._on_status)
        live.add_proxy_listener(self._proxy_changed)
        self._on_status(live.status)

    # --- connection --------------------------------------------------------------------------------

    def _connect_requested(self, kind: TargetKind, url: str, api_key: str, version: str) -> None:
        if self._connect_task is not None and not self._connect_task.done():
            return
        self._connect_task = self.tasks.spawn(self.connect_target(kind, url, api_key, version), "connect")

    def _proxy_requested(self, listen: str, upstream: str, api_key: str) -> None:
        if self._connect_task is not None and not self._connect_task.done():
            return
        starting = self.start_proxy(listen, upstream, api_key, allow_remote=self._bar.allow_remote())
        self._connect_task = self.tasks.spawn(starting, "start proxy")

    async def start_proxy(
        self,
        listen: str,
        upstream: str = "cartesia",
        api_key: str | None = None,
        *,
        allow_remote: bool = False,
    ) -> bool:
        """Run the recording proxy (the connection bar shows it); False, with the reason shown next to the
        light, if it cannot listen, its upstream is wrong, or it would reach other machines unallowed."""
        self._bar.set_target("proxy", listen)
        self._bar.set_upstream(upstream)
        self._bar.set_allow_remote(allow_remote)
        try:
            url = await self.live.start_proxy(listen, upstream, api_key or None, allow_remote=allow_remote)
        except ClientError as exc:
            self.show_error(str(exc))
            return False
        recording = self.live.capture_path
        where = f"; recording to {recording}" if recording else ""
        self.status.emit(f"Proxy listening on {url}{where}{_also(self.live.take_pruning())}")
        return True

    def _switch_requested(self, kind: str) -> None:
        """Another target was picked while one runs: ask before stopping it, in a dialog that does not block
        the loop (:attr:`switch_question` while it is open)."""
        if self.switch_question is not None:
            return
        status = self.live.status
        listening = status.state is ConnectionState.LISTENING
        running = f"the proxy on {status.url}" if listening else f"the connection to {status.url}"
        question = QMessageBox(
            QMessageBox.Icon.Question,
            "Change the target",
            f"Stop {running} to use {TARGET_WORDS[kind]} instead? What was recorded stays in this session.",
            QMessageBox.StandardButton.NoButton,
            self._bar.window(),
        )
        stop = question.addButton(
            "Stop proxy" if listening else "Disconnect", QMessageBox.ButtonRole.AcceptRole
        )
        question.addButton(QMessageBox.StandardButton.Cancel)
        question.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        question.finished.connect(
            lambda _result: self._switch_answered(kind, question.clickedButton() is stop)
        )
        self.switch_question = question
        question.open()

    def _switch_answered(self, kind: str, stop: bool) -> None:
        self.switch_question = None
        if stop:
            self.tasks.spawn(self._switch_to(cast("Choice", kind)), "switch target")

    async def _switch_to(self, kind: Choice) -> None:
        """Stop what runs, then show the fields of ``kind``: the user starts it."""
        await self.live.disconnect()
        self._bar.set_target(kind)
        self.status.emit(f"Stopped; set up {TARGET_WORDS[kind]} and press {self._bar.connect_button.text()}")

    def _disconnect_requested(self) -> None:
        task = self._connect_task
        if task is not None and not task.done():
            task.cancel()
            return
        self.tasks.spawn(self.live.disconnect(), "disconnect")

    async def connect_target(
        self, kind: TargetKind, url: str | None = None, api_key: str | None = None, version: str | None = None
    ) -> bool:
        """Connect the live session to a target, as if chosen in the connection bar (which shows it). False,
        with the reason shown next to the light, if it failed."""
        bar = self._bar
        bar.show_target(kind, url, api_key, version)
        try:
            await self.live.connect(kind, url or None, api_key or None, bar.version())
        except ClientError as exc:
            self.show_error(str(exc))
            return False
        bar.set_emulator_url(self.live.emulator_url)
        self._composer.text_edit.setFocus()
        recording = self.live.capture_path
        connected = (
            f"Connected; recording to {recording}" if recording else f"Connected to {self.live.status.url}"
        )
        self.status.emit(connected + _also(self.live.take_pruning()))
        return True

    @property
    def connected(self) -> bool:
        """Whether the composer's commands can go out: connected, or stalled (a stalled connection may come
        back, and what is typed meanwhile still goes out on it)."""
        return self.live.status.state in (ConnectionState.CONNECTED, ConnectionState.STALLED)

    @property
    def recording_problem(self) -> str:
        """Why the live session is not recorded to its capture file ("" when it is)."""
        return self._recording_problem

    def _check(self) -> None:
        """Silences that went on too long, and whether the capture still records."""
        self.live.check_timeouts()
        self._check_recording()

    def _check_recording(self) -> None:
        # The capture stops recording as a frame is written (or as it opens): no one says so but the session.
        problem = self.live.capture_error or ""
        if problem != self._recording_problem:
            self._recording_problem = problem
            self.recordingProblemChanged.emit(problem)

    def _on_status(self, status: ConnectionStatus) -> None:
        self._bar.set_status(status)
        self._bar.set_emulator_url(self.live.emulator_url)
        listening = status.state is ConnectionState.LISTENING
        # The app is the client: the composer gives its room to what to paste and who connected.
        self._composer.setVisible(not listening)
        if listening:
            self._proxy_panel.show_proxy(status.url, self.live.proxy_remote_urls)
            self._proxy_changed()
        else:
            self._proxy_panel.hide_proxy()
        if status.state is ConnectionState.FAILED and status.reason:
            self.status.emit(status.reason)
        if status.state in (ConnectionState.DISCONNECTED, ConnectionState.FAILED):
            self.inputEnded.emit()
        if status != self._status:
            self._status = status
            self.connectionChanged.emit(status)
        self.refresh_contexts()
        self._check_recording()

    def choose_keepalive(self) -> None:
        """Ask how a server that stopped answering is noticed (from the next connection on) and when first
        audio is slow (from now on)."""
        dialog = KeepaliveDialog(self.live.keepalive, self.live.session.thresholds, self._bar.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.set_keepalive(dialog.keepalive()))
        dialog.accepted.connect(lambda: self.set_thresholds(dialog.thresholds()))
        dialog.open()

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Flag slow first audio and silences by ``thresholds`` from now on (and in captures opened next)."""
        if thresholds == self.live.session.thresholds:
            return
        self.live.session.set_thresholds(thresholds)
        self.thresholdsChanged.emit(thresholds)
        self.status.emit(f"First audio later than {thresholds.slow_first_audio_s * 1000:.0f} ms is slow")

    def set_keepalive(self, keepalive: Keepalive) -> None:
        """Use these keepalive settings from the next connection on."""
        self.live.keepalive = keepalive
        self.status.emit(
            f"Ping every {seconds(keepalive.interval_s)} s; stalled after {seconds(keepalive.stall_after_s)} s "
            f"without an answer; closed after {seconds(keepalive.timeout_s)} s (from the next connection)"
        )

    def _proxy_changed(self, _connection: ProxyConnection | None = None) -> None:
        proxy = self.live.proxy
        self._proxy_panel.set_connections(list(proxy.connections) if proxy is not None else [])

    def show_error(self, text: str) -> None:
        """A failure in words: next to the status light, and through :attr:`error`."""
        self._bar.show_error(text)
        log.info("%s", text)
        self.error.emit(text)

    # --- what the composer shows -------------------------------------------------------------------

    def set_live_shown(self, shown: bool) -> None:
        """Whether the live session is what the window shows (a capture may be shown instead): the composer
        offers its open contexts only then."""
        self._shown = shown
        self._composer.set_read_only(not shown)
        self.refresh_contexts()

    def refresh_contexts(self, select: str | None = None) -> None:
        """Offer the open contexts of the live connection in the composer."""
        if not self._shown:
            self._composer.set_contexts([])
            return
        items = []
        for context_id in self.live.open_contexts():
            ctx = self.live.context(context_id)
            name = self.live.context_name(context_id) or f"{context_id[:8]}…"
            items.append((context_id, context_label(ctx) if ctx is not None else f"new · {name}"))
        self._composer.set_contexts(items, select)

    def _context_picked(self, context_id: str) -> None:
        ctx = self.live.context(context_id)
        if ctx is not None:
            self._selection.select_context(ctx)

    def add_history(self, context_id: str, what: str) -> None:
        """One line in the composer's list of what was sent."""
        ctx = self.live.context(context_id)
        name = self.live.context_name(context_id)
        label = name or (context_label(ctx) if ctx is not None else context_id[:8] + "…")
        self._composer.add_history(f"{label} · {what}")

    # --- the composer's commands ------------------------------------------------------------------

    def request_new_context(self) -> None:
        """Start a context with the composer's settings (in a task of this controller)."""
        self.tasks.spawn(self.new_context())

    def request_send(self, *, flush: bool = False) -> None:
        """Send what is typed in the composer, then flush with ``flush`` (or when auto-flush is on)."""
        text = self._composer.text()
        if text.strip():
            flush = flush or self._composer.auto_flush.isChecked()
            self.tasks.spawn(self.send_text(text, flush=flush))

    def request_flush(self) -> None:
        """Flush the context chosen in the composer."""
        self.tasks.spawn(self.flush_context())

    def request_end(self) -> None:
        """End the context chosen in the composer."""
        self.tasks.spawn(self.end_context())

    def request_cancel(self) -> None:
        """Cancel the context chosen in the composer."""
        self.tasks.spawn(self.cancel_context())

    def _lock(self) -> asyncio.Lock:
        # Created on first use, on the running loop.
        if self._op_lock is None:
            self._op_lock = asyncio.Lock()
        return self._op_lock

    def _target_context(self) -> str | None:
        context_id = self._composer.current_context()
        return context_id if self.live.is_open(context_id) else None

    async def new_context(self) -> str | None:
        """Start a context with the composer's settings and select it; its id, or None if the settings are
        wrong (said through :attr:`status`)."""
        try:
            settings = self._composer.settings()
        except SettingsError as exc:
            self.status.emit(f"Check the generation settings: {exc}")
            self._composer.settings_section.set_expanded(True)
            return None
        try:
            context_id = self.live.new_context(settings)
        except ClientError as exc:
            self.show_error(str(exc))
            return None
        self.refresh_contexts(select=context_id)
        self.status.emit(f"New context {context_id}")
        return context_id

    async def send_text(self, text: str, *, flush: bool = False) -> bool:
        """Send a transcript to the selected context (a new one if none is open), then flush if asked.
        Clears the transcript box when it went out."""
        async with self._lock():
            context_id = self._target_context() or await self.new_context()
            if context_id is None:
                return False
            send = self.live.send_flush if flush else self.live.send
            if not await self._sent(send(context_id, text)):
                return False
            if self._composer.text() == text:
                self._composer.clear_text()
            self._after_send(context_id, f"{'send + flush' if flush else 'send'} {quote(text)}")
            what = "Sent and flushed" if flush else "Sent"
            self.status.emit(f"{what} {quote(text)} to {context_id}")
            return True

    async def flush_context(self) -> bool:
        return await self._context_op("flush", self.live.flush, "Flushed")

    async def end_context(self) -> bool:
        return await self._context_op("end", self.live.end, "Ended")

    async def cancel_context(self) -> bool:
        return await self._context_op("cancel", self.live.cancel, "Cancelled")

    async def _context_op(self, op: str, call: Callable[[str], Awaitable[None]], done: str) -> bool:
        async with self._lock():
            context_id = self._target_context()
            if context_id is None:
                self.status.emit("No open context: send a transcript or start a new context")
                return False
            if not await self._sent(call(context_id)):
                return False
            self._after_send(context_id, op)
            self.status.emit(f"{done} {context_id}")
            return True

    async def _sent(self, sending: Awaitable[Any]) -> bool:
        try:
            await sending
        except ClientError as exc:
            self.show_error(str(exc))
            return False
        return True

    def _after_send(self, context_id: str, what: str) -> None:
        # The views show what was sent at once rather than on the next tick.
        self._bridge.flush()
        self.refresh_contexts(select=context_id)
        self.add_history(context_id, what)

    # --- closing -----------------------------------------------------------------------------------

    async def aclose(self) -> None:
        """Cancel this controller's tasks, then close the live session (connection, emulator, capture)."""
        self._timeouts.stop()
        self.live.remove_listener(self._on_status)
        self.live.remove_proxy_listener(self._proxy_changed)
        await self.tasks.aclose()
        await self.live.aclose()


def _also(words: str) -> str:
    """A further sentence for a status message, when there is one."""
    return f"; {words}" if words else ""
