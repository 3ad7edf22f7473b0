"""The window's controller of the live session: connect and disconnect, the composer's send, flush, end and
cancel, each on the asyncio loop in a task the window owns and cancels on close. Client failures become
words in the status bar and next to the status light, never exceptions."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Coroutine
from typing import Any

from flushscope.core.session import Context
from flushscope.core.settings import SettingsError
from flushscope.net.client import ClientError
from flushscope.net.live import ConnectionState, ConnectionStatus, TargetKind
from flushscope.ui.tables import context_label
from flushscope.ui.window_parts import WindowParts
from flushscope.ui.wording import MESSAGE_MS, quote

log = logging.getLogger("flushscope.window")


class LiveController(WindowParts):
    """The window's part that drives the :class:`~flushscope.net.live.LiveSession`: the connection bar's and
    the composer's requests, run one at a time in tasks the window owns."""

    _tasks: set[asyncio.Task[Any]]
    _op_lock: asyncio.Lock | None
    _connect_task: asyncio.Task[bool] | None
    #: Script names of contexts (``a``, ``b``…), shown beside their labels.
    _context_names: dict[str, str]

    # --- owned tasks -------------------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str | None = None) -> asyncio.Task[Any]:
        """Run ``coro`` on the loop as a task this window owns: kept until done, cancelled on close, its
        ClientError shown, anything else reported as a bug."""
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if isinstance(exc, ClientError):
            self.show_client_error(exc)
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    def _lock(self) -> asyncio.Lock:
        # Created on first use, on the running loop; one composer action at a time keeps inputs in order.
        if self._op_lock is None:
            self._op_lock = asyncio.Lock()
        return self._op_lock

    # --- connection --------------------------------------------------------------------------------

    def _connect_requested(self, kind: str, url: str, api_key: str, version: str) -> None:
        if self._connect_task is not None and not self._connect_task.done():
            return
        self._connect_task = self.spawn(self.connect_target(kind, url, api_key, version), "connect")  # type: ignore[arg-type]

    def _disconnect_requested(self) -> None:
        task = self._connect_task
        if task is not None and not task.done():
            task.cancel()
            return
        self.spawn(self.disconnect_target(), "disconnect")

    async def connect_target(
        self, kind: TargetKind, url: str | None = None, api_key: str | None = None, version: str | None = None
    ) -> bool:
        """Connect the live session (and show it, if a capture was shown). False, with the reason shown
        next to the light, if it failed."""
        self.show_live()
        bar = self.connection_bar
        if bar.target_kind() != kind:
            bar.set_target(kind, url)
        try:
            await self.live.connect(kind, url or None, api_key or None, version or bar.version())
        except ClientError as exc:
            self.show_client_error(exc)
            return False
        bar.set_emulator_url(self.live.emulator_url)
        self.composer.text_edit.setFocus()
        self.status.showMessage(f"Connected to {self.live.status.url}", MESSAGE_MS)
        if self.live.capture_path is not None:
            self.status.showMessage(f"Connected; recording to {self.live.capture_path}", MESSAGE_MS)
        return True

    async def disconnect_target(self) -> None:
        await self.live.disconnect()

    def _on_status(self, status: ConnectionStatus) -> None:
        self.connection_bar.set_status(status)
        self.connection_bar.set_emulator_url(self.live.emulator_url)
        self.composer.set_connected(status.state is ConnectionState.CONNECTED)
        if self.viewing is None:
            self._show_connection_text()
        if status.state is ConnectionState.FAILED and status.reason:
            self.status.showMessage(status.reason, MESSAGE_MS)
        if self.playback is not None and status.state in (
            ConnectionState.DISCONNECTED,
            ConnectionState.FAILED,
        ):
            # Nothing more will arrive: what plays ends with the audio it has.
            self.playback.input_ended()
        self._refresh_contexts()

    def _show_connection_text(self) -> None:
        status = self.live.status
        self.status.set_connection(f"Live · {status.state.value}")

    def show_client_error(self, exc: ClientError | str) -> None:
        """A client failure in words: in the status bar and next to the status light."""
        text = str(exc)
        self.status.showMessage(text, MESSAGE_MS)
        self.connection_bar.show_error(text)
        log.info("%s", text)

    # --- composer actions --------------------------------------------------------------------------

    def _refresh_contexts(self, select: str | None = None) -> None:
        if self.viewing is not None:
            self.composer.set_contexts([])
            return
        items = []
        for context_id in self.live.open_contexts():
            ctx = self._live_context(context_id)
            label = context_label(ctx) if ctx is not None else f"new · {context_id[:8]}…"
            name = self._context_names.get(context_id)
            items.append((context_id, f"{label}  ({name})" if name else label))
        self.composer.set_contexts(items, select)

    def _live_context(self, context_id: str) -> Context | None:
        """The live session's context by id on the current connection (None until its first frame)."""
        client = self.live.client
        return self.live.session.context(context_id, client.conn if client is not None else None)

    def _context_picked(self, context_id: str) -> None:
        ctx = self._live_context(context_id)
        if ctx is not None:
            self.selection.select_context(ctx)

    def _add_history(self, context_id: str, what: str) -> None:
        ctx = self._live_context(context_id)
        name = self._context_names.get(context_id)
        label = name or (context_label(ctx) if ctx is not None else context_id[:8] + "…")
        self.composer.add_history(f"{label} · {what}")

    def _target_context(self) -> str | None:
        context_id = self.composer.current_context()
        return context_id if self.live.is_open(context_id) else None

    async def new_context(self) -> str | None:
        """Start a context with the composer's settings and select it; its id, or None if the settings are
        wrong (said in the status bar)."""
        try:
            settings = self.composer.settings()
        except SettingsError as exc:
            self.status.showMessage(f"Check the generation settings: {exc}", MESSAGE_MS)
            self.composer.settings_section.set_expanded(True)
            return None
        try:
            context_id = self.live.new_context(settings)
        except ClientError as exc:
            self.show_client_error(exc)
            return None
        self._refresh_contexts(select=context_id)
        self.status.showMessage(f"New context {context_id}", MESSAGE_MS)
        return context_id

    async def send_text(self, text: str, *, flush: bool = False) -> bool:
        """Send a transcript to the selected context (a new one if none is open), then flush if asked.
        Clears the transcript box when it went out."""
        async with self._lock():
            context_id = self._target_context() or await self.new_context()
            if context_id is None:
                return False
            try:
                if flush:
                    await self.live.send_flush(context_id, text)
                else:
                    await self.live.send(context_id, text)
            except ClientError as exc:
                self.show_client_error(exc)
                return False
            if self.composer.text() == text:
                self.composer.clear_text()
            self.bridge.flush()
            self._refresh_contexts(select=context_id)
            what = "Sent and flushed" if flush else "Sent"
            self.status.showMessage(f"{what} {quote(text)} to {context_id}", MESSAGE_MS)
            self._add_history(context_id, f"{'send + flush' if flush else 'send'} {quote(text)}")
            return True

    async def flush_context(self) -> bool:
        return await self._context_op("flush", "Flushed")

    async def end_context(self) -> bool:
        return await self._context_op("end", "Ended")

    async def cancel_context(self) -> bool:
        return await self._context_op("cancel", "Cancelled")

    async def _context_op(self, op: str, done: str) -> bool:
        async with self._lock():
            context_id = self._target_context()
            if context_id is None:
                self.status.showMessage(
                    "No open context: send a transcript or start a new context", MESSAGE_MS
                )
                return False
            try:
                await getattr(self.live, op)(context_id)
            except ClientError as exc:
                self.show_client_error(exc)
                return False
            self.bridge.flush()
            self._refresh_contexts()
            self.status.showMessage(f"{done} {context_id}", MESSAGE_MS)
            self._add_history(context_id, op)
            return True

    def _check_timeouts(self) -> None:
        if self.viewing is None:
            self.live.check_timeouts()
