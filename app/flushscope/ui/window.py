"""The main window: connection bar on top, composer on the left, timeline over the tables in the middle.

The window lays out the views and owns the controllers that do the work, each a :class:`QObject` with one
job and its own signals, in ``flushscope.ui.controllers``: ``LiveController`` (the live session, its
connection bar and composer), ``CaptureController`` (captures opened, saved, dropped),
``PlaybackController`` (playing and playheads), ``ExportController`` (WAV, PNG, clipboard),
``ScriptRunner`` (scenarios), ``TableTabs`` (the tables' tabs and their counts), ``Remembering`` (where the
window was, its theme, its settings) and ``WindowHelp`` (help, About, the captures folder).
:class:`~flushscope.ui.actions.ActionSet` holds every action, the composer's commands and the output
devices included, enabled from one :class:`~flushscope.ui.actions.ActionState` that
:meth:`MainWindow._update_actions` takes again whenever one of its inputs changed. This module connects
them, in :meth:`MainWindow._wire` and :meth:`MainWindow._wire_remembered`, and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, Final, TypeVar

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon
from PySide6.QtWidgets import QFrame, QMainWindow, QSplitter, QVBoxLayout, QWidget

from flushscope.audio.player import Player
from flushscope.core.model.records import Segment
from flushscope.net.live import ConnectionState, LiveSession
from flushscope.resources import resource_path
from flushscope.tasks import OwnedTasks
from flushscope.ui.actions import ActionSet, ActionState
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.controllers.analysis_windows import AnalysisViews
from flushscope.ui.controllers.captures import CaptureController
from flushscope.ui.controllers.datasets import DatasetController, FindingsViews
from flushscope.ui.controllers.exports import ExportController
from flushscope.ui.controllers.live import LiveController
from flushscope.ui.controllers.playback import PlaybackController
from flushscope.ui.controllers.recordings import RecordingsController
from flushscope.ui.controllers.remembering import COMPOSER_WIDTH, Remembering
from flushscope.ui.controllers.script_runner import ScriptRunner
from flushscope.ui.controllers.tabs import TableTabs
from flushscope.ui.controllers.window_help import WindowHelp
from flushscope.ui.look.wording import MESSAGE_MS
from flushscope.ui.options import Theme
from flushscope.ui.panels import AnomaliesPanel, BoundariesPanel, FramesPanel, LintsPanel, TranscriptsPanel
from flushscope.ui.preferences.secret import KeyStore
from flushscope.ui.preferences.store import Preferences
from flushscope.ui.timeline import TimelineView
from flushscope.ui.timeline.model.empty_hint import waiting_for_app
from flushscope.ui.widgets.column_scroll import ColumnScroll
from flushscope.ui.widgets.composer import Composer
from flushscope.ui.widgets.connection_bar import ConnectionBar
from flushscope.ui.widgets.connection_chooser import ConnectionChooser
from flushscope.ui.widgets.proxy_panel import ProxyPanel
from flushscope.ui.widgets.status_bar import PlayStatusLabel, StatusBar
from flushscope.ui.widgets.timeline_controls import TimelineControls
from flushscope.ui.widgets.waveform import WaveformStrip

log = logging.getLogger("flushscope.window")

#: How often the views follow the session: live, and while a capture is being indexed.
LIVE_HZ: Final = 30.0
OPENING_HZ: Final = 10.0
#: How long a picture of the window waits for the timeline to paint before it is taken anyway (a window
#: that is not on screen never paints).
PAINT_WAIT_S: Final = 5.0
T = TypeVar("T")


class MainWindow(QMainWindow):
    """flushscope's window on a :class:`LiveSession`, or on a capture opened read-only.

    One :class:`SessionBridge` and one :class:`Selection` are shared by every view and controller, so a
    segment picked anywhere is selected everywhere. ``player`` plays the audio (tests give one on a fake or
    file-backed output). Closing the window stops playback, disconnects, stops the embedded emulator and
    closes the capture before the window really closes; :attr:`closed` tells when that is done.
    """

    closed = Signal()
    """The window closed after its cleanup (sockets, emulator, capture) finished."""

    def __init__(
        self,
        live: LiveSession,
        player: Player | None = None,
        parent: QWidget | None = None,
        *,
        preferences: Preferences | None = None,
        keys: KeyStore | None = None,
        theme: Theme = Theme.SYSTEM,
    ) -> None:
        super().__init__(parent)
        self.live = live
        self._closing: asyncio.Task[None] | None = None
        self._cleaned_up = False
        self.setWindowTitle("flushscope")
        self.setWindowIcon(app_icon())
        self.preferences = preferences or Preferences()

        self.bridge = SessionBridge(live.session, self, LIVE_HZ)
        self.selection = Selection(self)
        self.tasks = OwnedTasks()

        self.action_set = ActionSet(self)
        self.connection_bar = ConnectionBar(self)
        self.composer = Composer(self.action_set, self)
        self.proxy_panel = ProxyPanel(self)
        self.timeline = TimelineView(self.bridge, self.selection)
        self.transcripts = TranscriptsPanel(self.bridge, self.selection)
        self.frames = FramesPanel(self.bridge, self.selection)
        self.anomalies = AnomaliesPanel(self.bridge, self.selection)
        self.analysis = AnalysisModel(self.bridge, live.session, self)
        self.lints = LintsPanel(self.analysis, self.selection)
        self.boundaries = BoundariesPanel(self.analysis, self.selection)
        self.waveform = WaveformStrip(self.bridge, self.selection)
        self.status = StatusBar(self.bridge, live.now, self)
        self.setStatusBar(self.status)
        panels = (self.transcripts, self.frames, self.anomalies, self.lints, self.boundaries)
        self.table_tabs = TableTabs(self.bridge, self.analysis, panels, self)
        self.tabs = self.table_tabs.widget

        self.live_control = LiveController(
            live, self.connection_bar, self.composer, self.proxy_panel, self.bridge, self.selection, self
        )
        self.captures = CaptureController(live, self.bridge, self.selection, self)
        self.playback = PlaybackController(
            player, live_session=live.session, bridge=self.bridge, selection=self.selection, parent=self
        )
        self.exports = ExportController(self.bridge, self.selection, self.timeline.export_png, self)
        self.scripts = ScriptRunner(live, self)
        self.recordings = RecordingsController(live, self, self)
        self.play_label = PlayStatusLabel(self.playback, self.bridge, self)
        self.status.insertPermanentWidget(0, self.play_label)
        self.connections = ConnectionChooser(self.bridge, self)
        self.timeline_controls = TimelineControls(
            self.timeline, self.action_set.fit, self.action_set.follow, self.connections
        )
        self.analysis_views = AnalysisViews(
            live,
            self.bridge,
            self.selection,
            self.playback,
            self.composer.settings,
            self._shown_name,
            self.preferences,
            self,
        )
        self.help = WindowHelp(self.action_set, live.capture_folder.path, self)

        self._lay_out()
        self.remembering = Remembering(
            self.preferences,
            keys or KeyStore(),
            self.connection_bar,
            self.composer.settings_form,
            self,
            {"main": self.main_splitter, "right": self.right_splitter, "frames": self.frames.splitter},
        )
        findings = FindingsViews(self.tabs, self.anomalies, self.lints, self.analysis, self.connections)
        self.datasets = DatasetController(self.captures, findings, self)
        self.action_set.fill_menu_bar(self.menuBar(), self._update_actions)
        self._wire()
        self._wire_remembered(theme)
        self._shown_changed()
        self._availability_changed()

    # --- layout ------------------------------------------------------------------------------------

    def _lay_out(self) -> None:
        pane = _column(self, self.timeline_controls, (self.timeline, 1), _hline(self), self.waveform)
        self.right_splitter = right = QSplitter(Qt.Orientation.Vertical, self)
        right.addWidget(pane)
        right.addWidget(self.tabs)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setChildrenCollapsible(False)

        # The composer (under the proxy's panel in proxy mode) scrolls on a screen too short for it.
        left = ColumnScroll(_column(self, (self.proxy_panel, 1), (self.composer, 1)), self)
        left.setMinimumWidth(max(COMPOSER_WIDTH[0], left.minimumWidth()))
        self.main_splitter = main = QSplitter(Qt.Orientation.Horizontal, self)
        main.addWidget(left)
        main.addWidget(right)
        main.setStretchFactor(0, 0)
        main.setStretchFactor(1, 1)
        main.setChildrenCollapsible(False)
        main.setSizes([300, 1140])
        right.setSizes([480, 380])
        self.setCentralWidget(_column(self, self.connection_bar, _hline(self), (main, 1)))

    # --- wiring: who tells whom ----------------------------------------------------------------------

    def _wire(self) -> None:
        acts, live, captures, playback, exports, scripts = (
            self.action_set,
            self.live_control,
            self.captures,
            self.playback,
            self.exports,
            self.scripts,
        )
        for controller in (
            live,
            captures,
            playback,
            exports,
            scripts,
            self.analysis_views,
            self.recordings,
            self.table_tabs,
        ):
            controller.status.connect(self.show_message)
        # What the controllers say to each other.
        live.error.connect(self.show_message)
        scripts.error.connect(live.show_error)
        live.connectionChanged.connect(lambda _status: self._connection_changed())
        live.recordingProblemChanged.connect(lambda _problem: self._show_recording_problem())
        live.inputEnded.connect(playback.input_ended)
        self.proxy_panel.copied.connect(lambda what: self.show_message(f"Copied {what}"))
        self.proxy_panel.connectionPicked.connect(self.connections.choose)
        self.connections.connectionChosen.connect(self._narrow)
        captures.shownChanged.connect(self._shown_changed)
        # A capture opening: its progress and the button that stops it; what to keep saying about it.
        captures.progressChanged.connect(self.status.show_progress)
        self.status.stopRequested.connect(captures.cancel_opening)
        captures.noticeChanged.connect(self.status.set_notice)
        captures.progressChanged.connect(self.analysis.hold_while_opening)
        captures.progressChanged.connect(self._opening_progress)
        captures.openFinished.connect(self._capture_opened)
        scripts.stepShown.connect(self.composer.show_step)
        scripts.stepSent.connect(self.composer.add_history)
        scripts.runningChanged.connect(lambda _running: self._update_actions())
        scripts.settled.connect(self._script_settled)

        # Playback shown in the views.
        playback.playheadMoved.connect(self.timeline.set_playhead)
        playback.playheadMoved.connect(self.waveform.set_playhead)
        playback.playingChanged.connect(self.transcripts.model.set_playing)
        playback.availabilityChanged.connect(lambda _available, _reason: self._availability_changed())
        for changed in (playback.stateChanged, playback.targetChanged):
            changed.connect(self._update_actions)
        self.transcripts.playRequested.connect(playback.toggle_segment)
        self.waveform.playRequested.connect(playback.play_from)
        self.bridge.sessionReplaced.connect(playback.stop)

        # Segment menus, and the state every action follows: taken again when one of its inputs changed.
        self.transcripts.segmentContextMenuRequested.connect(self._table_menu)
        self.timeline.segmentContextMenuRequested.connect(self._timeline_menu)
        self.selection.selectionChanged.connect(self._update_actions)
        self.composer.textChanged.connect(self._update_actions)
        self.composer.contextChanged.connect(self._update_actions)
        self.bridge.chunksAdded.connect(self._update_actions)  # audio for the selection, or any
        self.bridge.segmentsChanged.connect(lambda _segments: self._update_actions())
        self.bridge.sessionReplaced.connect(self._update_actions)
        self.timeline.followChanged.connect(acts.follow.setChecked)

        # What each action does.
        acts.new_context.triggered.connect(lambda: live.request_new_context())
        acts.send.triggered.connect(lambda: live.request_send())
        acts.send_flush.triggered.connect(lambda: live.request_send(flush=True))
        acts.flush.triggered.connect(lambda: live.request_flush())
        acts.end_context.triggered.connect(lambda: live.request_end())
        acts.cancel_context.triggered.connect(lambda: live.request_cancel())
        acts.open_capture.triggered.connect(captures.choose_and_open)
        acts.show_live.triggered.connect(captures.show_live)
        acts.save_capture.triggered.connect(captures.choose_and_save)
        acts.export_png.triggered.connect(exports.choose_and_export_timeline)
        acts.export_segment.triggered.connect(exports.export_selected_segment)
        acts.export_context.triggered.connect(exports.export_selected_context)
        acts.export_all.triggered.connect(exports.export_all_segments)
        acts.quit.triggered.connect(self.close)
        acts.copy_timings.triggered.connect(lambda: exports.copy_segment_timings())
        acts.copy_context_id.triggered.connect(lambda: exports.copy_context_id())
        acts.connection_settings.triggered.connect(live.choose_keepalive)
        # The captures folder: its cap, and the capture shown pinned against it.
        acts.preferences.triggered.connect(self.recordings.open_preferences)
        acts.pin_capture.triggered.connect(lambda pin: self.recordings.set_pinned(self._shown_capture(), pin))
        self.recordings.pinsChanged.connect(self._update_actions)
        live.thresholdsChanged.connect(captures.set_thresholds)
        acts.fit.triggered.connect(self.timeline.fit_all)
        acts.follow.toggled.connect(self.timeline.set_follow)
        acts.play.triggered.connect(playback.toggle_playback)
        acts.play_segment.triggered.connect(playback.play_selected_segment)
        acts.play_context.triggered.connect(lambda: playback.play_selected_context())
        acts.play_from_here.triggered.connect(
            lambda: playback.play_selected_context(acts.play_from_here.data() or 0.0)
        )
        acts.stop.triggered.connect(playback.stop)
        acts.device_menu.aboutToShow.connect(self._list_devices)
        acts.devices.triggered.connect(self._device_chosen)

        # The analysis: its markers on the timeline, and the windows beside this one.
        self.analysis.resultsChanged.connect(self._show_analysis)
        acts.export_all_labels.triggered.connect(lambda: exports.export_all_segments(labels=True))
        acts.compare_capture.triggered.connect(self.analysis_views.choose_capture_and_diff)
        acts.compare_strategies.triggered.connect(self.analysis_views.open_compare)

        # Datasets: the Calls window, and the calls opened from it.
        self.datasets.status.connect(self.show_message)
        self.datasets.error.connect(self.show_message)
        acts.open_dataset.triggered.connect(self.datasets.choose_and_open)

    def _wire_remembered(self, theme: Theme) -> None:
        """What the window remembers, the theme, the recent captures and their folder, moving between tabs,
        and help."""
        acts, remembering, captures, help_ = self.action_set, self.remembering, self.captures, self.help
        remembering.status.connect(self.show_message)
        remembering.restore()
        remembering.themeChanged.connect(acts.check_theme)
        acts.check_theme(theme.value)
        acts.themes.triggered.connect(lambda action: remembering.set_theme(Theme(action.data())))
        acts.recent_menu.aboutToShow.connect(
            lambda: remembering.fill_recent(acts.recent_menu, acts.clear_recent)
        )
        remembering.recentChosen.connect(captures.open)
        acts.clear_recent.triggered.connect(remembering.clear_recent)
        captures.captureOpened.connect(remembering.opened)
        captures.set_start_folder(lambda: remembering.folder(self.live.capture_folder.path))
        self.status.setToolTip(f"Live sessions are recorded in {self.live.capture_folder.path}")
        acts.next_tab.triggered.connect(lambda: self.table_tabs.step(1))
        acts.previous_tab.triggered.connect(lambda: self.table_tabs.step(-1))
        help_.status.connect(self.show_message)
        acts.show_captures_folder.triggered.connect(help_.show_captures_folder)
        acts.shortcuts_help.triggered.connect(help_.show_shortcuts)
        acts.flushing_help.triggered.connect(help_.show_flushing_help)
        acts.about.triggered.connect(help_.show_about)

    def show_message(self, text: str) -> None:
        """A message in the status bar for a few seconds."""
        self.status.showMessage(text, MESSAGE_MS)

    def _update_actions(self) -> None:
        segment, context = self.selection.segment, self.selection.context
        playback, composer = self.playback, self.composer
        self.action_set.apply(
            ActionState(
                viewing_capture=self.captures.viewing is not None,
                connected=self.live_control.connected,
                busy=self.scripts.running,
                has_text=bool(composer.text().strip()),
                has_context=composer.current_context() is not None,
                segment=segment is not None,
                segment_audio=segment is not None and segment.nbytes > 0,
                context=context is not None,
                context_audio=context is not None and context.total_bytes > 0,
                any_audio=self.bridge.session.chunks.size > 0,
                play_available=playback.available,
                play_reason=playback.why_not(),
                playing=playback.playing,
                aimed=self.action_set.play_from_here.data() is not None,
                pinned=self.recordings.pinned(self._shown_capture()),
            )
        )

    def _shown_capture(self) -> Path | None:
        """The capture file of what is shown: the one opened, or the live session's recording."""
        return self.captures.viewing or self.live.capture_path

    def _shown_changed(self) -> None:
        """A capture file is shown instead of the live session, or the live session again."""
        viewing = self.captures.viewing
        header = self.captures.header
        self.live_control.set_live_shown(viewing is None)
        self.status.set_live_shown(viewing is None)
        self._show_recording_problem()
        self.exports.name_after(viewing)
        if viewing is None:
            self.timeline_controls.set_shown("")
            self.setWindowTitle("flushscope")
        else:
            target = header.target if header is not None else None
            self.timeline_controls.set_shown(f"Capture {viewing.name} · {target or 'unknown target'}")
            self.setWindowTitle(f"{viewing.name} — flushscope")
            self.timeline.fit_all()
        self._show_where()
        self._say_why_empty()
        self._update_actions()

    def _capture_opened(self) -> None:
        """The capture shown is indexed to its end: fit it in view, bring the counts and actions up to date."""
        self.timeline.fit_all()
        self.table_tabs.refresh()
        self._update_actions()

    def _connection_changed(self) -> None:
        self._show_where()
        self._say_why_empty()
        self._update_actions()

    def _say_why_empty(self) -> None:
        """What the timeline says while it has no lane: why, and what would start one."""
        status = self.live.status
        if self.captures.viewing is not None:
            text = "This capture has no contexts."
        elif status.state is ConnectionState.LISTENING and status.url:
            text = waiting_for_app(status.url)
        else:
            text = {
                ConnectionState.CONNECTED: "No contexts yet: send a transcript to start one.",
                ConnectionState.STALLED: "No contexts yet: the server does not answer.",
                ConnectionState.CONNECTING: "Connecting…",
                ConnectionState.FAILED: "Not connected: the connection failed (see the reason at the top).",
            }.get(status.state, "Not connected: connect to a target, then send a transcript.")
        self.timeline.set_empty_text(text)

    def _show_recording_problem(self) -> None:
        """Why the live session is not recorded, said while it is shown."""
        live = self.captures.viewing is None
        self.status.set_recording_problem(self.live_control.recording_problem if live else "")

    def _show_where(self) -> None:
        viewing = self.captures.viewing
        if viewing is None:
            self.status.set_connection(f"Live · {self.live.status.state.value}")
        else:
            self.status.set_connection(f"Capture · {viewing.name} (read-only)")

    def _availability_changed(self) -> None:
        """Grey what plays, with the reason beside it, or bring it back."""
        why = self.playback.why_not()
        self.transcripts.model.set_play_available(not why, why)
        self.waveform.set_message(why)
        if why:
            self.show_message(why)
        self._update_actions()

    def _list_devices(self) -> None:
        """The output devices, asked again as their menu opens (devices come and go), and whether playback
        can work on the one chosen."""
        playback = self.playback
        playback.check_availability()
        self.action_set.set_devices(playback.devices(), playback.device, playback.why_not())

    def _device_chosen(self, action: QAction) -> None:
        index, name = action.data()
        self.playback.choose_device(index, name)

    def _opening_progress(self, progress: float) -> None:
        # While a big capture is indexed every tick changes every lane: the views follow a few times a
        # second, so that the loop keeps answering.
        self.bridge.set_rate(OPENING_HZ if progress >= 0 else LIVE_HZ)

    def _narrow(self, connection: int | None) -> None:
        """Show one connection's contexts and frames only (None: every connection's)."""
        for panel in (self.transcripts, self.frames, self.anomalies, self.lints, self.boundaries):
            panel.proxy.set_connection(connection)
        self.timeline.set_connection_filter(connection)
        if connection is not None:
            self.show_message(f"Showing connection {connection} only")

    def _show_analysis(self) -> None:
        self.timeline.set_analysis(self.analysis.lints, self.analysis.boundaries)

    def _shown_name(self) -> str:
        viewing = self.captures.viewing
        return viewing.name if viewing is not None else "the live session"

    def _script_settled(self) -> None:
        self.bridge.flush()
        self.live_control.refresh_contexts()
        self.timeline.fit_all()
        self.analysis.refresh_now()

    # --- segment menus -----------------------------------------------------------------------------

    def _timeline_menu(self, segment: Segment, pos: QPoint) -> None:
        """With "Play from here": the audio position under the pointer."""
        here = self.timeline.audio_position_at(self.timeline.mapFromGlobal(pos))
        self._segment_menu(segment, pos, here[1] if here and here[0] is segment.context else None, True)

    def _table_menu(self, segment: Segment, pos: QPoint) -> None:
        self._segment_menu(segment, pos, None, False)

    def _segment_menu(self, segment: Segment, pos: QPoint, here: float | None, from_timeline: bool) -> None:
        self.selection.select_segment(segment)
        self.playback.check_availability()  # a device may have come or gone: the menu says so now
        self.action_set.aim_play_from_here(here)
        self._update_actions()
        self.action_set.segment_menu(self, from_timeline=from_timeline).popup(pos)

    # --- running and closing -----------------------------------------------------------------------

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        """Run ``coro`` as a task of the window: closing the window cancels it."""
        return self.tasks.spawn(coro, name)

    def show_whole_run(self) -> None:
        """Everything received shown (the status bar's and the tabs' counts included), the whole session in
        view, and a transcript selected (the first, unless one is): what a picture of a finished run should
        show."""
        self.bridge.flush()
        self.analysis.refresh_now()
        self.timeline.fit_all()
        if self.selection.segment is None and self.selection.context is None:
            self.select_first_segment()
        self.status.refresh()
        self.table_tabs.refresh()

    async def painted(self) -> None:
        """Return once the timeline has painted what the views hold now (its first paint after this call):
        what a picture of the window waits for. A window that is not on screen never paints: after
        :data:`PAINT_WAIT_S` this returns anyway."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

        def on_paint() -> None:
            if not done.done():
                done.set_result(None)

        self.timeline.painted.connect(on_paint)
        self.timeline.update()
        try:
            await asyncio.wait_for(done, PAINT_WAIT_S)
        except TimeoutError:
            log.info("the timeline did not paint within %g s", PAINT_WAIT_S)
        finally:
            self.timeline.painted.disconnect(on_paint)

    def select_first_segment(self) -> Segment | None:
        """Select the first transcript row (the segment that appeared first), if there is one."""
        model = self.transcripts.model
        if not model.rowCount():
            return None
        segment = model.segment(0)
        self.selection.select_segment(segment)
        return segment

    def screenshot(self, path: str | Path) -> bool:
        """The whole window as a PNG."""
        return bool(self.grab().save(str(path), "PNG"))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._cleaned_up:
            event.accept()
            return
        # Sockets, the emulator and the capture close on the loop first; the window closes after.
        event.ignore()
        if self._closing is None:
            self.analysis_views.remember()
            self.remembering.save()
            self._closing = asyncio.get_running_loop().create_task(self._close_async(), name="close window")

    async def _close_async(self) -> None:
        try:
            await self.aclose()
        finally:
            self._cleaned_up = True
            self.close()
            self.closed.emit()

    async def aclose(self) -> None:
        """Stop playback and release the audio device, stop scripts and exports, then close the live
        session (connection, emulator, capture)."""
        self.playback.close()
        await self.tasks.aclose()
        await self.scripts.aclose()
        await self.exports.aclose()
        await self.analysis_views.aclose()
        await self.datasets.aclose()
        await self.live_control.aclose()

    @property
    def is_closed(self) -> bool:
        """True once the cleanup ran and the window closed."""
        return self._cleaned_up


def app_icon() -> QIcon:
    """flushscope's icon (an empty icon, logged, where the resource is missing)."""
    try:
        return QIcon(str(resource_path("flushscope.svg")))
    except FileNotFoundError as exc:
        log.warning("%s", exc)
        return QIcon()


def _column(parent: QWidget, *parts: QWidget | tuple[QWidget, int]) -> QWidget:
    """``parts`` one under the other, edge to edge; a part given with a number stretches by it."""
    column = QWidget(parent)
    layout = QVBoxLayout(column)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    for part in parts:
        widget, stretch = part if isinstance(part, tuple) else (part, 0)
        layout.addWidget(widget, stretch)
    return column


def _hline(parent: QWidget) -> QFrame:
    line = QFrame(parent)
    line.setFrameShape(QFrame.Shape.HLine)
    line.setFrameShadow(QFrame.Shadow.Sunken)
    return line
