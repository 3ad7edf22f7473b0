"""The main window: connection bar on top, composer on the left, timeline over the tables in the middle.

The window is the controller between the widgets and the :class:`~flushscope.net.live.LiveSession`: the
composer and connection bar only ask, the window does it on the asyncio loop (qasync, the GUI thread), in
tasks it owns and cancels on close. Client failures become words in the status bar and next to the status
light, never exceptions.

Playback goes through a :class:`~flushscope.ui.playback.PlaybackController` when the window is given one:
the Play cells, Space, the timeline's and the table's menus and clicks on the waveform strip all play
through it, and its position moves the playheads of the timeline and the strip and the progress of the
playing row. WAV files are written on an executor thread, so long audio does not freeze the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import shutil
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Final, Protocol

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QRadioButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

import flushscope
from flushscope.audio.player import PlayerState
from flushscope.audio.wav import ExportError, safe_name, segment_file_name, write_wav
from flushscope.core.capture import CaptureError, LoadedCapture, read_capture
from flushscope.core.report import reported_segments
from flushscope.core.scenario import (
    Cancel,
    End,
    Flush,
    Raw,
    Scenario,
    ScenarioStep,
    Send,
    SendFlush,
    SetOption,
    UseContext,
    Wait,
)
from flushscope.core.session import Context, Segment, SegmentState, Session, rebuild
from flushscope.core.settings import SettingsError
from flushscope.net.client import ClientError
from flushscope.net.live import CAPTURE_SUFFIX, ConnectionState, ConnectionStatus, LiveSession, TargetKind
from flushscope.net.runner import play_scenario, wait_settled
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.composer import Composer
from flushscope.ui.connection_bar import ConnectionBar
from flushscope.ui.palette import is_dark, warning_colour
from flushscope.ui.panels import AnomaliesPanel, FramesPanel, TranscriptsPanel
from flushscope.ui.playback import OutputDeviceMenu, PlaybackController, segment_at, segment_start
from flushscope.ui.status import StatusBar, anomaly_counts
from flushscope.ui.tables import context_label
from flushscope.ui.timeline import AxisMode, TimelineView
from flushscope.ui.waveform import WaveformStrip

log = logging.getLogger("flushscope.window")

CAPTURE_FILTER: Final = f"flushscope captures (*{CAPTURE_SUFFIX} *.jsonl);;All files (*)"
#: How long a message from an action stays in the status bar.
MESSAGE_MS: Final = 8000


#: Why nothing can be played when the window has no player at all.
NO_PLAYER: Final = "audio playback is not available"


class SegmentPlayer(Protocol):
    """What plays a segment's audio when its Play cell or menu entry is used (a
    :class:`PlaybackController` does much more: contexts, a start point, stop, a playhead)."""

    def play(self, segment: Segment) -> object: ...


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def segment_timings(segment: Segment) -> str:
    """One line on a segment's timing, for the clipboard: ``context <id> flush_id 2: 1.84 s of audio,
    21 chunks, first audio 99 ms, flush_done 1266 ms, transcripts: "..."``."""
    ctx = segment.context
    fid = segment.flush_id
    name = f"flush_id {fid}" if fid is not None else f"segment {segment.label} (no flush_id yet)"
    first = segment.first_audio_ms
    if first is not None:
        first_text = f"first audio {first:.0f} ms"
    else:
        first_text = "no audio yet" if not segment.nbytes else "first audio unknown"
    done = segment.flush_done_ms
    if done is not None:
        done_text = f"flush_done {done:.0f} ms"
    elif segment.flush_done_t is not None:
        done_text = "flush_done unrequested"
    elif segment.state is SegmentState.FLUSHING:
        done_text = "flush_done pending"
    else:
        done_text = "no flush_done"
    texts = " ".join(json.dumps(t.text, ensure_ascii=False) for t in segment.transcripts) or "none"
    return (
        f"context {ctx.context_id} {name}: {segment.audio_seconds:.2f} s of audio, "
        f"{_plural(segment.chunk_count, 'chunk')}, {first_text}, {done_text}, transcripts: {texts}"
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def describe_step(step: ScenarioStep) -> str:
    """A script step in a few words, for the composer and the status bar."""
    match step:
        case UseContext():
            return f"context {step.context}" + (" (new)" if step.creates else "")
        case Send():
            return f"send {_quote(step.text)}"
        case SendFlush():
            return f"send + flush {_quote(step.text)}"
        case Flush():
            return "flush"
        case End():
            return "end"
        case Cancel():
            return "cancel"
        case Wait():
            return f"wait {step.seconds * 1000:.0f} ms"
        case Raw():
            return f"raw {step.json_text[:40]}"
        case SetOption():
            return f"set {step.key} {step.value}"


def _quote(text: str, limit: int = 48) -> str:
    shown = text if len(text) <= limit else text[: limit - 1] + "…"
    return f"“{shown}”"


class MainWindow(QMainWindow):
    """flushscope's window on a :class:`LiveSession`, or on a capture opened read-only.

    One :class:`SessionBridge` and one :class:`Selection` are shared by every view, so a segment picked
    anywhere is selected everywhere. Closing the window disconnects, stops the embedded emulator and closes
    the capture before the window really closes; :attr:`closed` tells when that is done.
    """

    closed = Signal()
    """The window closed after its cleanup (sockets, emulator, capture) finished."""
    captureOpened = Signal(str)
    """A capture file is shown (read-only), by path."""
    liveShown = Signal()
    """The live session is shown again (after a capture)."""

    def __init__(
        self, live: LiveSession, player: SegmentPlayer | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.live = live
        self.player = player
        #: The full player behind :attr:`player`, when it is one.
        self.playback = player if isinstance(player, PlaybackController) else None
        if self.playback is not None and self.playback.live_session is None:
            self.playback.live_session = live.session
        self._play_status = ""
        self.viewing: Path | None = None
        self.loaded: LoadedCapture | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._op_lock: asyncio.Lock | None = None
        self._connect_task: asyncio.Task[bool] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._cleaned_up = False
        self._context_names: dict[str, str] = {}

        self.setWindowTitle("flushscope")
        self.setAcceptDrops(True)
        self.resize(1440, 900)

        self.bridge = SessionBridge(live.session, self)
        self.selection = Selection(self)

        self.connection_bar = ConnectionBar(self)
        self.composer = Composer(self)
        self.timeline = TimelineView(self.bridge, self.selection)
        self.transcripts = TranscriptsPanel(self.bridge, self.selection)
        self.frames = FramesPanel(self.bridge, self.selection)
        self.anomalies = AnomaliesPanel(self.bridge, self.selection)
        self.waveform = WaveformStrip(self.bridge, self.selection)
        self.status = StatusBar(self.bridge, self)
        self.status.clock = live.now
        self.setStatusBar(self.status)
        self.play_label = QLabel(self)
        self.play_label.setTextFormat(Qt.TextFormat.PlainText)
        self.play_label.setContentsMargins(6, 0, 6, 0)
        self.play_label.hide()
        self.status.insertPermanentWidget(0, self.play_label)

        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.transcripts, "Transcripts")
        self.tabs.addTab(self.frames, "Frames")
        self.tabs.addTab(self.anomalies, "Anomalies")

        self.right_splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.right_splitter.addWidget(self._timeline_pane())
        self.right_splitter.addWidget(self.tabs)
        self.right_splitter.setStretchFactor(0, 3)
        self.right_splitter.setStretchFactor(1, 2)
        self.right_splitter.setChildrenCollapsible(False)

        self.composer.setMinimumWidth(250)
        self.main_splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.main_splitter.addWidget(self.composer)
        self.main_splitter.addWidget(self.right_splitter)
        self.main_splitter.setStretchFactor(0, 0)
        self.main_splitter.setStretchFactor(1, 1)
        self.main_splitter.setChildrenCollapsible(False)
        self.main_splitter.setSizes([300, 1140])
        self.right_splitter.setSizes([480, 380])

        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.connection_bar)
        layout.addWidget(line)
        layout.addWidget(self.main_splitter, 1)
        self.setCentralWidget(central)

        self._build_menus()
        self._wire()
        live.add_listener(self._on_status)
        self._on_status(live.status)
        self._refresh_tabs()
        if self.player is not None:
            self._show_availability(*self.play_availability())
        else:
            self.transcripts.model.set_play_available(False, _sentence(NO_PLAYER))
            self._update_actions()

    # --- layout ------------------------------------------------------------------------------------

    def _timeline_pane(self) -> QWidget:
        pane = QWidget(self)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 4, 8, 2)
        bar.setSpacing(4)
        bar.addWidget(QLabel("x-axis:", pane))
        self.arrival_button = QRadioButton("Arrival time", pane)
        self.arrival_button.setToolTip("x: when each chunk arrived")
        self.audio_button = QRadioButton("Audio position", pane)
        self.audio_button.setToolTip("x: where each chunk sits in its context's audio")
        self.axis_group = QButtonGroup(pane)
        self.axis_group.setExclusive(True)
        for button in (self.arrival_button, self.audio_button):
            self.axis_group.addButton(button)
            bar.addWidget(button)
        self.arrival_button.setChecked(True)
        bar.addSpacing(12)
        self.fit_button = QToolButton(pane)
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show the whole session (Ctrl+0)")
        bar.addWidget(self.fit_button)
        self.follow_check = QCheckBox("Follow live", pane)
        self.follow_check.setToolTip("Keep the newest audio in view as it arrives")
        self.follow_check.setChecked(True)
        bar.addWidget(self.follow_check)
        bar.addStretch(1)
        self.view_label = QLabel(pane)
        self.view_label.setTextFormat(Qt.TextFormat.PlainText)
        bar.addWidget(self.view_label)
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.timeline, 1)
        line = QFrame(pane)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        layout.addWidget(line)
        layout.addWidget(self.waveform)
        return pane

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open capture…", QKeySequence.StandardKey.Open)
        self.live_action = self._action(file_menu, "Back to the &live session", "Ctrl+L")
        self.save_action = self._action(file_menu, "&Save capture as…", "Ctrl+Shift+S")
        self.export_action = self._action(file_menu, "&Export timeline as PNG…", "Ctrl+Shift+P")
        file_menu.addSeparator()
        self.export_segment_action = self._action(file_menu, "Export se&gment as WAV…", "Ctrl+Shift+W")
        self.export_context_action = self._action(file_menu, "Export &context as WAV…", None)
        self.export_all_action = self._action(file_menu, "Export &all segments as WAV…", None)
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)

        edit_menu = self.menuBar().addMenu("&Edit")
        self.copy_timings_action = self._action(edit_menu, "Copy segment &timings", "Ctrl+Shift+C")
        self.copy_context_id_action = self._action(edit_menu, "Copy context_&id", None)

        view_menu = self.menuBar().addMenu("&View")
        self.fit_action = self._action(view_menu, "&Fit timeline", "Ctrl+0")
        self.follow_action = self._action(view_menu, "F&ollow live", None)
        self.follow_action.setCheckable(True)
        self.follow_action.setChecked(True)
        view_menu.addSeparator()
        self.device_menu = OutputDeviceMenu("Output &device", self.playback, self)
        self.device_menu.deviceChosen.connect(self._device_chosen)
        view_menu.addMenu(self.device_menu)

        play_menu = self.menuBar().addMenu("&Playback")
        play_menu.setToolTipsVisible(True)
        self.play_action = self._action(play_menu, "&Play or stop the selection", "Space")
        self.play_context_action = self._action(play_menu, "Play the selected &context", "Shift+Space")
        self.stop_action = self._action(play_menu, "&Stop", None)
        self.stop_action.setEnabled(False)
        for menu in (file_menu, edit_menu, play_menu):
            menu.setToolTipsVisible(True)
            menu.aboutToShow.connect(self._update_actions)

        help_menu = self.menuBar().addMenu("&Help")
        self.about_action = self._action(help_menu, "&About flushscope", None)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)

        self.open_action.triggered.connect(self._choose_capture)
        self.live_action.triggered.connect(self.show_live)
        self.save_action.triggered.connect(self._choose_save_path)
        self.export_action.triggered.connect(self._choose_png_path)
        self.quit_action.triggered.connect(self.close)
        self.fit_action.triggered.connect(self.timeline.fit_all)
        self.about_action.triggered.connect(self._about)
        self.export_segment_action.triggered.connect(self._export_selected_segment)
        self.export_context_action.triggered.connect(self._export_selected_context)
        self.export_all_action.triggered.connect(self._choose_wav_folder)
        self.copy_timings_action.triggered.connect(lambda: self.copy_segment_timings())
        self.copy_context_id_action.triggered.connect(lambda: self.copy_context_id())
        self.play_action.triggered.connect(self.toggle_playback)
        self.play_context_action.triggered.connect(self._play_selected_context)
        self.stop_action.triggered.connect(self.stop_playback)

    def _action(self, menu: QMenu, text: str, shortcut: QKeySequence.StandardKey | str | None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        menu.addAction(action)
        return action

    def _wire(self) -> None:
        bar = self.connection_bar
        bar.connectRequested.connect(self._connect_requested)
        bar.disconnectRequested.connect(self._disconnect_requested)

        composer = self.composer
        composer.newContextRequested.connect(lambda: self.spawn(self.new_context()))
        composer.sendRequested.connect(lambda text: self.spawn(self.send_text(text)))
        composer.sendFlushRequested.connect(lambda text: self.spawn(self.send_text(text, flush=True)))
        composer.flushRequested.connect(lambda: self.spawn(self.flush_context()))
        composer.endRequested.connect(lambda: self.spawn(self.end_context()))
        composer.cancelRequested.connect(lambda: self.spawn(self.cancel_context()))
        composer.contextSelected.connect(self._context_picked)

        self.axis_group.buttonToggled.connect(self._axis_toggled)
        self.fit_button.clicked.connect(self.timeline.fit_all)
        self.follow_check.toggled.connect(self._follow_toggled)
        self.follow_action.toggled.connect(self.follow_check.setChecked)
        self.timeline.followChanged.connect(self.follow_check.setChecked)
        self.timeline.axisModeChanged.connect(self._axis_changed)

        self.bridge.contextsChanged.connect(lambda _contexts: self._refresh_contexts())
        self.bridge.sessionReplaced.connect(self._refresh_tabs)
        self.status.refreshed.connect(self._refresh_tabs)
        self.status.refreshed.connect(self._check_timeouts)
        self.transcripts.playRequested.connect(self._play_cell)
        self.transcripts.segmentContextMenuRequested.connect(self._table_menu)
        self.timeline.segmentContextMenuRequested.connect(self._segment_menu)
        self.waveform.playRequested.connect(self._play_from)
        self.selection.changed.connect(self._update_actions)
        self.status.refreshed.connect(self._update_actions)
        self.bridge.sessionReplaced.connect(self.stop_playback)
        playback = self.playback
        if playback is not None:
            playback.positionChanged.connect(self._show_position)
            playback.stateChanged.connect(lambda _state: self._refresh_playback())
            playback.targetChanged.connect(self._refresh_playback)
            playback.errorOccurred.connect(self._on_play_error)
            playback.availabilityChanged.connect(self._show_availability)
            # A live segment waiting for audio does not move: its "waiting" shows on the status tick.
            self.status.refreshed.connect(lambda: self._refresh_play_label())

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
        client = self.live.client
        for context_id in self.live.open_contexts():
            ctx = self.live.session.context(context_id, client.conn if client is not None else None)
            label = context_label(ctx) if ctx is not None else f"new · {context_id[:8]}…"
            name = self._context_names.get(context_id)
            items.append((context_id, f"{label}  ({name})" if name else label))
        self.composer.set_contexts(items, select)

    def _context_picked(self, context_id: str) -> None:
        client = self.live.client
        ctx = self.live.session.context(context_id, client.conn if client is not None else None)
        if ctx is not None:
            self.selection.select_context(ctx)

    def _add_history(self, context_id: str, what: str) -> None:
        client = self.live.client
        ctx = self.live.session.context(context_id, client.conn if client is not None else None)
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
            self.status.showMessage(f"{what} {_quote(text)} to {context_id}", MESSAGE_MS)
            self._add_history(context_id, f"{'send + flush' if flush else 'send'} {_quote(text)}")
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

    # --- scripts -----------------------------------------------------------------------------------

    async def play_script(self, scenario: Scenario, timeout: float = 60.0) -> str | None:
        """Play a scenario through the live connection as if typed, then wait until every context settled
        and fit the timeline. None when all went well, else what went wrong in words."""
        client = self.live.client
        if client is None or not self.live.connected:
            return "not connected"
        self.composer.set_busy(True)
        names: dict[str, str] = {}

        def on_step(step: ScenarioStep) -> None:
            for name, context_id in names.items():
                self._context_names.setdefault(context_id, name)
            text = f"Script line {step.line}: {describe_step(step)}"
            self.composer.show_step(text)
            self.status.showMessage(text, MESSAGE_MS)
            if not isinstance(step, UseContext | SetOption | Wait):
                self.composer.add_history(f"{step.context} · {describe_step(step)}")

        try:
            await play_scenario(scenario, client, contexts=names, on_step=on_step)
            for name, context_id in names.items():
                self._context_names.setdefault(context_id, name)
            self.composer.show_step(f"Script sent; waiting for {len(names)} contexts to finish…")
            settled = await wait_settled(self.live.session, client, timeout)
        except ClientError as exc:
            self.show_client_error(exc)
            self.composer.show_step(f"Script stopped: {exc}")
            return str(exc)
        finally:
            self.composer.set_busy(False)
        self.bridge.flush()
        self._refresh_contexts()
        self.timeline.fit_all()
        if not settled:
            reason = (
                "the connection closed before every context finished"
                if client.closed.is_set()
                else f"the contexts did not finish within {timeout:g} s"
            )
            self.composer.show_step(f"Script done, but {reason}")
            return reason
        done = f"Script {Path(scenario.name).name} done: {len(names)} contexts finished"
        self.composer.show_step(done)
        self.status.showMessage(done, MESSAGE_MS)
        return None

    # --- captures ----------------------------------------------------------------------------------

    def load_capture(self, path: str | Path) -> Session:
        """Show a capture file read-only (the live session goes on behind it). Raises CaptureError and
        leaves the current view untouched if the file is not a usable capture."""
        loaded = read_capture(path)
        session = rebuild(loaded.frames)
        # The recording is over: whatever it still awaited will never come.
        session.finish()
        self.loaded = loaded
        self.viewing = Path(path)
        self.selection.clear()
        self.bridge.set_session(session)
        self.status.clock = None
        self.composer.set_read_only(True)
        self.follow_check.setEnabled(False)  # a recording does not grow
        self.follow_action.setEnabled(False)
        self._refresh_contexts()
        self.live_action.setEnabled(True)
        name = self.viewing.name
        self.status.set_connection(f"Capture · {name} (read-only)")
        self.view_label.setText(f"Capture {name} · {loaded.header.target or 'unknown target'}")
        self.setWindowTitle(f"{name} — flushscope")
        self.timeline.fit_all()
        if loaded.warnings:
            self.status.showMessage(f"{name}: " + "; ".join(loaded.warnings), MESSAGE_MS * 2)
        else:
            self.status.showMessage(f"Opened {name}: {len(loaded.frames):,} frames", MESSAGE_MS)
        self.captureOpened.emit(str(path))
        return session

    def open_capture(self, path: str | Path) -> bool:
        """:meth:`load_capture`, with a message box instead of CaptureError."""
        try:
            self.load_capture(path)
        except CaptureError as exc:
            log.warning("%s", exc)
            box = QMessageBox(QMessageBox.Icon.Warning, "Cannot open the capture", str(exc), parent=self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return False
        return True

    def show_live(self) -> None:
        """Show the live session again after a capture."""
        if self.viewing is None:
            self.live_action.setEnabled(False)
            return
        self.viewing = None
        self.loaded = None
        self.selection.clear()
        self.bridge.set_session(self.live.session)
        self.status.clock = self.live.now
        self.composer.set_read_only(False)
        self.follow_check.setEnabled(True)
        self.follow_action.setEnabled(True)
        self.live_action.setEnabled(False)
        self.view_label.setText("")
        self.setWindowTitle("flushscope")
        self._show_connection_text()
        self._refresh_contexts()
        self.liveShown.emit()

    def save_capture_as(self, path: str | Path) -> bool:
        """Copy the capture shown (the live recording, or the file opened) to ``path``."""
        source = self.viewing or self.live.capture_path
        if source is None:
            self.status.showMessage("Nothing recorded yet: connect first", MESSAGE_MS)
            return False
        try:
            if Path(path).resolve() != Path(source).resolve():
                shutil.copyfile(source, path)
        except OSError as exc:
            self.status.showMessage(f"Cannot save the capture to {path}: {exc.strerror or exc}", MESSAGE_MS)
            return False
        self.status.showMessage(f"Saved the capture to {path}", MESSAGE_MS)
        return True

    def export_timeline(self, path: str | Path) -> bool:
        ok = self.timeline.export_png(str(path))
        self.status.showMessage(f"Saved the timeline to {path}" if ok else f"Cannot write {path}", MESSAGE_MS)
        return ok

    def screenshot(self, path: str | Path) -> bool:
        """The whole window as a PNG."""
        return bool(self.grab().save(str(path), "PNG"))

    # --- menus and dialogs -------------------------------------------------------------------------

    def _choose_capture(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open capture", self._capture_dir(), CAPTURE_FILTER)
        if path:
            self.open_capture(path)

    def _choose_save_path(self) -> None:
        source = self.viewing or self.live.capture_path
        suggested = str(Path(self._capture_dir()) / (source.name if source else f"capture{CAPTURE_SUFFIX}"))
        path, _ = QFileDialog.getSaveFileName(self, "Save capture as", suggested, CAPTURE_FILTER)
        if path:
            self.save_capture_as(path)

    def _choose_png_path(self) -> None:
        stem = self.viewing.name.removesuffix(CAPTURE_SUFFIX) if self.viewing else "timeline"
        path, _ = QFileDialog.getSaveFileName(self, "Export timeline", f"{stem}.png", "PNG images (*.png)")
        if path:
            self.export_timeline(path)

    def _capture_dir(self) -> str:
        current = self.live.capture_path
        return str(current.parent) if current is not None else str(Path.home())

    def _about(self) -> None:
        QMessageBox.about(
            self,
            "About flushscope",
            f"<h3>flushscope {flushscope.__version__}</h3>"
            "<p>An inspector for Cartesia TTS WebSocket contexts, manual flushes and flush_id "
            "attribution: which audio chunk belongs to which transcript.</p>"
            "<p>Every live session is recorded to a capture file as it happens.</p>",
        )

    # --- playback ----------------------------------------------------------------------------------

    def play_availability(self) -> tuple[bool, str]:
        """Whether playing can work, and why not in words (as last checked)."""
        if self.playback is not None:
            return self.playback.available, self.playback.reason
        if self.player is not None:
            return True, ""
        return False, NO_PLAYER

    def _can_play(self) -> bool:
        available, reason = self.play_availability()
        if not available:
            self.status.showMessage(_sentence(reason), MESSAGE_MS)
        return available

    def play_segment(self, segment: Segment, start: float = 0.0) -> bool:
        """Play one segment's audio from ``start`` seconds into it; False, with the reason in the status bar,
        when it cannot."""
        if not self._can_play():
            return False
        if not segment.nbytes:
            self.status.showMessage(f"Segment {segment.label} has no audio yet", MESSAGE_MS)
            return False
        what = f"segment {segment.label} of context {segment.context.context_id}"
        if self.playback is not None:
            started = self.playback.play_segment(segment, start)
        else:
            assert self.player is not None
            try:
                self.player.play(segment)
            except Exception as exc:  # sound devices fail in many ways; none of them should end the session
                self.status.showMessage(f"Cannot play {what}: {exc}", MESSAGE_MS)
                return False
            started = True
        if started:
            self.status.showMessage(f"Playing {what}", MESSAGE_MS)
        return started

    def play_context(self, context: Context, start: float = 0.0) -> bool:
        """Play a context's segments in order, gapless, from ``start`` seconds into its audio."""
        if self.playback is None:
            self.status.showMessage(_sentence(self.play_availability()[1] or NO_PLAYER), MESSAGE_MS)
            return False
        if not self._can_play():
            return False
        if not context.total_bytes:
            self.status.showMessage(f"Context {context.context_id} has no audio yet", MESSAGE_MS)
            return False
        started = self.playback.play_context(context, start)
        if started:
            where = f" from {start:.2f} s" if start > 0 else ""
            self.status.showMessage(f"Playing context {context.context_id}{where}", MESSAGE_MS)
        return started

    def stop_playback(self) -> None:
        """Stop what plays (nothing happens when nothing does)."""
        if self.playback is not None and self.playback.state is not PlayerState.STOPPED:
            self.playback.stop()

    def toggle_playback(self) -> None:
        """Space: stop what plays; else play the selected segment, or the selected context."""
        playback = self.playback
        if playback is not None and playback.state is not PlayerState.STOPPED:
            playback.stop()
            self.status.showMessage("Stopped", MESSAGE_MS)
            return
        segment, context = self.selection.segment, self.selection.context
        if segment is not None:
            self.play_segment(segment)
        elif context is not None:
            self.play_context(context)
        else:
            self.status.showMessage("Select a transcript or a context to play it", MESSAGE_MS)

    def select_first_segment(self) -> Segment | None:
        """Select the first transcript row (the segment that appeared first), if there is one."""
        model = self.transcripts.model
        if not model.rowCount():
            return None
        segment = model.segment(0)
        self.selection.select_segment(segment)
        return segment

    def _play_selected_context(self) -> None:
        context = self.selection.context
        if context is None:
            self.status.showMessage("Select a context to play it", MESSAGE_MS)
            return
        self.play_context(context)

    def _play_cell(self, segment: Segment) -> None:
        """A Play cell (or Enter on a row): ■ stops the row that plays, ▶ plays."""
        if self.playback is not None and self.playback.is_playing(segment):
            self.playback.stop()
            return
        self.play_segment(segment)

    def _play_from(self, target: Segment | Context, seconds: float) -> None:
        if isinstance(target, Segment):
            self.play_segment(target, seconds)
        else:
            self.play_context(target, seconds)

    def _on_play_error(self, text: str) -> None:
        self.status.showMessage(_sentence(text), MESSAGE_MS)
        log.info("%s", text)

    def _show_availability(self, available: bool, reason: str) -> None:
        """Grey what plays, with the reason beside it, or bring it back."""
        reason = "" if available else _sentence(reason or NO_PLAYER)
        self.transcripts.model.set_play_available(available, reason)
        self.waveform.set_message(reason)
        if not available:
            self.status.showMessage(reason, MESSAGE_MS)
        self._refresh_play_label()
        self._update_actions()

    def _refresh_playback(self) -> None:
        """Playheads, the playing row and the status field, after what plays or its state changed."""
        playback = self.playback
        if playback is None:
            return
        if playback.target is None or playback.state is PlayerState.STOPPED:
            self.timeline.set_playhead(None)
            self.waveform.set_playhead(None)
            self.transcripts.model.set_playing(None)
            self._refresh_play_label()
            self._update_actions()
            return
        self._show_position(playback.position)
        self._update_actions()

    def _show_position(self, seconds: float) -> None:
        playback = self.playback
        target = playback.target if playback is not None else None
        if target is None:
            return
        position = target.context_position(seconds)
        self.timeline.set_playhead(target.context, position)
        self.waveform.set_playhead(target.context, position)
        segment = target.segment or segment_at(target.context, position)
        fraction = 0.0
        if segment is not None and segment.audio_seconds > 0:
            fraction = (position - segment_start(segment)) / segment.audio_seconds
        self.transcripts.model.set_playing(segment, fraction)
        self._refresh_play_label(seconds)

    def _refresh_play_label(self, seconds: float | None = None) -> None:
        """The status bar field: what plays and where, or that nothing can play."""
        playback = self.playback
        available, reason = self.play_availability()
        target = playback.target if playback is not None else None
        colour = ""
        if target is not None and playback is not None and playback.state is not PlayerState.STOPPED:
            position = playback.position if seconds is None else seconds
            segment = target.segment
            what = f"context {target.context.number}"
            if segment is not None:
                what = f"flush_id {segment.label} of {what}"
            total = segment.audio_seconds if segment is not None else target.context.audio_seconds
            state = "Paused" if playback.state is PlayerState.PAUSED else "Playing"
            waiting = " (waiting for audio)" if playback.player.buffering else ""
            text = f"{state} {what}: {position:.1f} / {total:.1f} s{waiting}"
        elif not available and self.player is not None:
            text = "No audio output"
            colour = warning_colour(is_dark(self.palette())).name()
        else:
            text = ""
        if text == self._play_status:
            return
        self._play_status = text
        self.play_label.setText(text)
        self.play_label.setToolTip(_sentence(reason) if not available else "")
        self.play_label.setStyleSheet(f"color: {colour}" if colour else "")
        self.play_label.setVisible(bool(text))

    def _update_actions(self) -> None:
        """Enable what applies to the selection, and grey playing with the reason when it cannot work."""
        available, reason = self.play_availability()
        segment, context = self.selection.segment, self.selection.context
        has_segment_audio = segment is not None and segment.nbytes > 0
        has_context_audio = context is not None and context.total_bytes > 0
        why = _sentence(reason) if not available else ""
        self.play_action.setToolTip(why or "Play the selected segment (or context), or stop what plays")
        self.play_context_action.setEnabled(available and self.playback is not None and has_context_audio)
        self.play_context_action.setToolTip(why or "Play every segment of the selected context, gapless")
        playing = self.playback is not None and self.playback.state is not PlayerState.STOPPED
        self.stop_action.setEnabled(playing)
        self.export_segment_action.setEnabled(has_segment_audio)
        self.export_context_action.setEnabled(has_context_audio)
        self.export_all_action.setEnabled(self.bridge.session.chunks.size > 0)
        self.copy_timings_action.setEnabled(segment is not None or context is not None)
        self.copy_context_id_action.setEnabled(context is not None)

    def _device_chosen(self, name: str) -> None:
        available, reason = self.play_availability()
        self.status.showMessage(f"Output device: {name}" if available else _sentence(reason), MESSAGE_MS)

    # --- the segment menu --------------------------------------------------------------------------

    def _segment_menu(self, segment: Segment, pos: QPoint) -> None:
        """The timeline's menu: with "Play from here", the audio position under the pointer."""
        here = self.timeline.audio_position_at(self.timeline.mapFromGlobal(pos))
        self._show_segment_menu(segment, pos, here[1] if here and here[0] is segment.context else None)

    def _table_menu(self, segment: Segment, pos: QPoint) -> None:
        self._show_segment_menu(segment, pos, None, from_timeline=False)

    def _show_segment_menu(
        self, segment: Segment, pos: QPoint, here: float | None, *, from_timeline: bool = True
    ) -> None:
        self.selection.select_segment(segment)
        ctx = segment.context
        available, reason = self.play_availability()
        why = _sentence(reason) if not available else ""
        needs = "" if self.playback is not None else _sentence(NO_PLAYER)
        menu = QMenu(self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.setToolTipsVisible(True)

        def add(text: str, enabled: bool, slot: Callable[[], object], tip: str = "") -> QAction:
            action = menu.addAction(text)
            action.setEnabled(enabled)
            if tip:
                action.setToolTip(tip)
            action.triggered.connect(lambda _checked=False: slot())
            return action

        add("Play segment", available and segment.nbytes > 0, lambda: self.play_segment(segment), why)
        can_context = available and self.playback is not None and ctx.total_bytes > 0
        add("Play context", can_context, lambda: self.play_context(ctx), why or needs)
        if from_timeline:
            add(
                "Play from here",
                can_context and here is not None,
                lambda: self.play_context(ctx, here or 0.0),
                why or needs or "Play the context from the point clicked",
            )
        if self.playback is not None and self.playback.state is not PlayerState.STOPPED:
            add("Stop", True, self.stop_playback)
        menu.addSeparator()
        add("Export segment as WAV…", segment.nbytes > 0, lambda: self._choose_wav_path(segment))
        add("Export context as WAV…", ctx.total_bytes > 0, lambda: self._choose_wav_path(ctx))
        menu.addSeparator()
        add("Copy segment timings", True, lambda: self.copy_segment_timings(segment))
        add("Copy context_id", True, lambda: self.copy_context_id(ctx))
        menu.popup(pos)

    # --- copying ------------------------------------------------------------------------------------

    def copy_segment_timings(self, what: Segment | Context | None = None) -> str | None:
        """Put the timings of a segment (one line), or of each segment of a context, on the clipboard;
        the selection's when not given. Returns the text copied."""
        what = what or self.selection.segment or self.selection.context
        if what is None:
            self.status.showMessage("Select a segment to copy its timings", MESSAGE_MS)
            return None
        if isinstance(what, Segment):
            text = segment_timings(what)
            said = f"segment {what.label}"
        else:
            text = "\n".join(segment_timings(s) for s in reported_segments(what))
            said = f"the segments of context {what.context_id}"
        QGuiApplication.clipboard().setText(text)
        self.status.showMessage(f"Copied the timings of {said}", MESSAGE_MS)
        return text

    def copy_context_id(self, context: Context | None = None) -> str | None:
        """Put a context's id (the selected one's when not given) on the clipboard."""
        context = context or self.selection.context
        if context is None:
            self.status.showMessage("Select a context to copy its context_id", MESSAGE_MS)
            return None
        QGuiApplication.clipboard().setText(context.context_id)
        self.status.showMessage(f"Copied {context.context_id}", MESSAGE_MS)
        return context.context_id

    # --- WAV export ---------------------------------------------------------------------------------

    def export_segment_wav(self, segment: Segment, path: str | Path) -> bool:
        """Write a segment's audio to a WAV file now, on this thread (:meth:`save_wav` does it on an
        executor)."""
        fmt = segment.context.format
        try:
            if fmt is None:
                raise ExportError(f"context {segment.context.context_id} has no known output format")
            write_wav(Path(path), segment.audio(), fmt)
        except ExportError as exc:
            self.status.showMessage(str(exc), MESSAGE_MS)
            return False
        self.status.showMessage(f"Saved {path}", MESSAGE_MS)
        return True

    async def save_wav(self, what: Segment | Context, path: str | Path) -> bool:
        """Write a segment's or a context's audio to a 16-bit WAV file on an executor thread; the outcome in
        the status bar."""
        ctx = what if isinstance(what, Context) else what.context
        fmt = ctx.format
        name = f"segment {what.label}" if isinstance(what, Segment) else f"context {ctx.context_id}"
        if fmt is None:
            self.status.showMessage(f"Cannot export {name}: its output format is not known", MESSAGE_MS)
            return False
        audio = what.audio()  # taken here: the model is only touched on this thread
        if not audio:
            self.status.showMessage(f"Cannot export {name}: it has no audio", MESSAGE_MS)
            return False
        target = Path(path)
        self.status.showMessage(f"Writing {target}…")
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, write_wav, target, audio, fmt)
        except ExportError as exc:
            self.status.showMessage(str(exc), MESSAGE_MS)
            return False
        self.status.showMessage(f"Saved {target} ({fmt.duration(len(audio)):.2f} s of audio)", MESSAGE_MS)
        return True

    async def save_all_wav(self, directory: str | Path) -> list[Path] | None:
        """One WAV per segment with audio in ``directory`` (named as ``flushscope export`` names them),
        written on an executor thread; None when it failed (said in the status bar)."""
        folder = Path(directory)
        jobs = [
            (folder / segment_file_name(s), s.audio(), s.context.format)
            for s in self.bridge.session.segments()
            if s.nbytes and s.context.format is not None
        ]
        if not jobs:
            self.status.showMessage("No segment has audio to export", MESSAGE_MS)
            return []

        def write_all() -> list[Path]:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ExportError(f"cannot create {folder}: {exc.strerror or exc}") from exc
            return [write_wav(path, audio, fmt) for path, audio, fmt in jobs if fmt is not None]

        self.status.showMessage(f"Writing {_plural(len(jobs), 'WAV file')} to {folder}…")
        try:
            paths = await asyncio.get_running_loop().run_in_executor(None, write_all)
        except ExportError as exc:
            self.status.showMessage(str(exc), MESSAGE_MS)
            return None
        self.status.showMessage(f"Saved {_plural(len(paths), 'WAV file')} to {folder}", MESSAGE_MS)
        return paths

    def _export_selected_segment(self) -> None:
        segment = self.selection.segment
        if segment is None or not segment.nbytes:
            self.status.showMessage("Select a segment with audio to export it", MESSAGE_MS)
            return
        self._choose_wav_path(segment)

    def _export_selected_context(self) -> None:
        context = self.selection.context
        if context is None or not context.total_bytes:
            self.status.showMessage("Select a context with audio to export it", MESSAGE_MS)
            return
        self._choose_wav_path(context)

    def _choose_wav_path(self, what: Segment | Context) -> None:
        if isinstance(what, Segment):
            suggested = segment_file_name(what)
        else:
            suggested = f"{what.number}-{safe_name(what.context_id)}.wav"
        path, _ = QFileDialog.getSaveFileName(self, "Export WAV", suggested, "WAV audio (*.wav)")
        if path:
            self.spawn(self.save_wav(what, path), "export wav")

    def _choose_wav_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export every segment as WAV into", str(Path.home()))
        if folder:
            self.spawn(self.save_all_wav(folder), "export wavs")

    # --- view controls -----------------------------------------------------------------------------

    def _axis_toggled(self, button: QAbstractButton, checked: bool) -> None:
        if checked:
            self.timeline.set_axis_mode(AxisMode.AUDIO if button is self.audio_button else AxisMode.ARRIVAL)

    def _axis_changed(self, mode: AxisMode) -> None:
        button = self.audio_button if mode is AxisMode.AUDIO else self.arrival_button
        if not button.isChecked():
            button.setChecked(True)

    def _follow_toggled(self, follow: bool) -> None:
        self.timeline.set_follow(follow)
        self.follow_action.setChecked(follow)

    def _refresh_tabs(self) -> None:
        session = self.bridge.session
        counted, info = anomaly_counts(session)
        self.tabs.setTabText(0, f"Transcripts ({self.transcripts.model.rowCount()})")
        self.tabs.setTabText(1, f"Frames ({len(session.frames):,})")
        self.tabs.setTabText(2, f"Anomalies ({counted + info})" if counted + info else "Anomalies")

    def _check_timeouts(self) -> None:
        if self.viewing is None:
            self.live.check_timeouts()

    # --- drag and drop -----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if _dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = _dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_capture(path)

    # --- closing -----------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._cleaned_up:
            event.accept()
            return
        # Sockets, the emulator and the capture close on the loop first; the window closes after.
        event.ignore()
        if self._closing is None:
            self._closing = asyncio.get_running_loop().create_task(self._close_async(), name="close window")

    async def _close_async(self) -> None:
        try:
            await self.aclose()
        finally:
            self._cleaned_up = True
            self.close()
            self.closed.emit()

    async def aclose(self) -> None:
        """Stop playback and release the audio device, cancel the window's tasks, then close the live
        session (connection, emulator, capture)."""
        if self.playback is not None:
            self.playback.close()
        self.live.remove_listener(self._on_status)
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.live.aclose()

    @property
    def is_closed(self) -> bool:
        """True once the cleanup ran and the window closed."""
        return self._cleaned_up


def _dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    urls = [url for url in mime.urls() if url.isLocalFile()]
    if len(urls) != 1:
        return None
    return Path(urls[0].toLocalFile())
