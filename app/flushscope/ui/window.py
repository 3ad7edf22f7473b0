"""The main window: connection bar on top, composer on the left, timeline over the tables in the middle.

The window is the controller between the widgets and the :class:`~flushscope.net.live.LiveSession`: the
composer and connection bar only ask, the window does it on the asyncio loop (qasync, the GUI thread), in
tasks it owns and cancels on close. Its parts live beside it: :mod:`~flushscope.ui.live_controller`
(connection and composer actions), :mod:`~flushscope.ui.script_mode` (scripts),
:mod:`~flushscope.ui.capture_files` (open, save, drop), :mod:`~flushscope.ui.playback_actions` (playing and
its playheads), :mod:`~flushscope.ui.export_actions` (WAV, PNG, clipboard) and
:mod:`~flushscope.ui.window_menus` (menus and shortcuts); this module assembles them and closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QSplitter,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flushscope.net.live import LiveSession
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.capture_files import CAPTURE_FILTER
from flushscope.ui.composer import Composer
from flushscope.ui.connection_bar import ConnectionBar
from flushscope.ui.export_actions import segment_timings
from flushscope.ui.panels import AnomaliesPanel, FramesPanel, TranscriptsPanel
from flushscope.ui.playback import PlaybackController
from flushscope.ui.script_mode import ScriptMode, describe_step
from flushscope.ui.status import StatusBar, anomaly_counts
from flushscope.ui.timeline import AxisMode, TimelineView
from flushscope.ui.waveform import WaveformStrip
from flushscope.ui.window_menus import WindowMenus
from flushscope.ui.window_parts import SegmentPlayer
from flushscope.ui.wording import MESSAGE_MS, NO_PLAYER, sentence

__all__ = [
    "CAPTURE_FILTER",
    "MESSAGE_MS",
    "NO_PLAYER",
    "MainWindow",
    "SegmentPlayer",
    "describe_step",
    "segment_timings",
]


class MainWindow(ScriptMode, WindowMenus):
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
        self.playback = player if isinstance(player, PlaybackController) else None
        if self.playback is not None and self.playback.live_session is None:
            self.playback.live_session = live.session
        self._play_status = ""
        self.viewing = None
        self.loaded = None
        self._tasks = set()
        self._op_lock = None
        self._connect_task = None
        self._closing: asyncio.Task[None] | None = None
        self._cleaned_up = False
        self._context_names = {}

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

        line = _hline(self)
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
            self.transcripts.model.set_play_available(False, sentence(NO_PLAYER))
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
        line = _hline(pane)
        layout.addWidget(line)
        layout.addWidget(self.waveform)
        return pane

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

    def screenshot(self, path: str | Path) -> bool:
        """The whole window as a PNG."""
        return bool(self.grab().save(str(path), "PNG"))

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


def _hline(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
