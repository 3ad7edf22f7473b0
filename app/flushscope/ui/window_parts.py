"""What every part of the main window shares, declared once: the widgets and the session each part reaches,
so that the parts (live controller, scripts, captures, playback, export, menus) each type-check alone."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from PySide6.QtCore import Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QLabel, QMainWindow

from flushscope.core.capture import LoadedCapture
from flushscope.core.session import Segment
from flushscope.net.live import LiveSession
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.composer import Composer
from flushscope.ui.connection_bar import ConnectionBar
from flushscope.ui.panels import TranscriptsPanel
from flushscope.ui.playback import PlaybackController
from flushscope.ui.status import StatusBar
from flushscope.ui.timeline import TimelineView
from flushscope.ui.waveform import WaveformStrip


class SegmentPlayer(Protocol):
    """What plays a segment's audio when its Play cell or menu entry is used (a
    :class:`PlaybackController` does much more: contexts, a start point, stop, a playhead)."""

    def play(self, segment: Segment) -> object: ...


class WindowParts(QMainWindow):
    """The base of the main window's parts: the attributes :class:`~flushscope.ui.window.MainWindow` sets
    up and the parts use, and the two calls that cross between parts in both directions."""

    live: LiveSession
    player: SegmentPlayer | None
    #: The full player behind :attr:`player`, when it is one.
    playback: PlaybackController | None
    #: The capture file shown read-only, or None while the live session is shown.
    viewing: Path | None
    loaded: LoadedCapture | None
    bridge: SessionBridge
    selection: Selection
    connection_bar: ConnectionBar
    composer: Composer
    timeline: TimelineView
    transcripts: TranscriptsPanel
    waveform: WaveformStrip
    status: StatusBar
    play_label: QLabel
    view_label: QLabel
    follow_check: QCheckBox
    follow_action: QAction
    live_action: QAction
    # Defined on MainWindow, declared here for the parts that emit them: PySide builds a class's meta-object
    # along its first base only, so a signal defined on a later base would not be a Qt signal of the window.
    captureOpened: Signal
    liveShown: Signal

    def show_live(self) -> None:
        """Show the live session again after a capture."""
        raise NotImplementedError

    def _update_actions(self) -> None:
        raise NotImplementedError
