"""The status bar: connection, frames, chunks per second and anomalies, each set again when what it shows
changed (a few times a second at most); the field that says what plays; the progress of a capture being
opened (with a button that stops it); and a notice about where the session's frames are kept when that needs
saying (a capture moved or deleted while shown, a live capture that stopped recording and left the session in
memory)."""

from __future__ import annotations

import math
from collections.abc import Callable
from enum import Enum
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from flushscope.audio.player import PlayerState
from flushscope.core.model.session import Session
from flushscope.ui.bridge import SessionBridge
from flushscope.ui.controllers.playback import PlaybackController
from flushscope.ui.look.palette import is_dark, warning_colour
from flushscope.ui.pacing import Paced

#: The text fields change at most this often; the bridge ticks at about 30 Hz.
REFRESH_MS: Final = 250
#: Chunks per second are counted over this window.
RATE_WINDOW_S: Final = 1.0


def chunk_rate(session: Session, now: float, window: float = RATE_WINDOW_S) -> float:
    """Chunks per second that arrived in the ``window`` seconds before ``now``."""
    rows = session.chunks_between(now - window, math.nextafter(now, math.inf))
    return (int(rows.stop) - int(rows.start)) / window


def anomaly_counts(session: Session) -> tuple[int, int]:
    """(warnings and errors, information) among the session's anomalies."""
    counted = len(session.counted_anomalies())
    return counted, len(session.anomalies) - counted


#: Steps of the progress bar.
PROGRESS_STEPS: Final = 1000


class _Field(Enum):
    """What the status bar sets again when it changed."""

    FRAMES = "frames"
    RATE = "rate"
    ANOMALIES = "anomalies"
    NOTICE = "notice"
    PROGRESS = "progress"


class StatusBar(QStatusBar):
    """Connection state, frame count, chunks per second over the last second, anomaly counts; the progress
    of a capture being opened; a notice about where the frames are kept.

    ``clock`` gives the live session's time ("now"). While the live session is shown (see
    :meth:`set_live_shown`) chunks per second are counted up to now, and follow the clock until they fall to
    zero; a capture shown is finished, and its rate is taken at its last frame.
    """

    stopRequested = Signal()
    """The user asked to stop opening the capture (the button beside the progress bar)."""

    def __init__(
        self, bridge: SessionBridge, clock: Callable[[], float], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self._clock = clock
        self._live_shown = True
        self.connection_label = QLabel("Not connected", self)
        self.frames_label = QLabel(self)
        self.rate_label = QLabel(self)
        self.anomalies_label = QLabel(self)
        for label in (self.connection_label, self.frames_label, self.rate_label, self.anomalies_label):
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setContentsMargins(6, 0, 6, 0)
            self.addPermanentWidget(label)
        self.frames_label.setToolTip("Frames recorded, both directions")
        self.rate_label.setToolTip("Audio chunks received during the last second")
        self.anomalies_label.setToolTip("Warnings and errors found, with information findings apart")
        self.notice_label = QLabel(self)
        self.notice_label.setTextFormat(Qt.TextFormat.PlainText)
        self.notice_label.setContentsMargins(6, 0, 6, 0)
        self.notice_label.hide()
        self.insertPermanentWidget(0, self.notice_label)
        self.progress_bar = QProgressBar(self)
        self.progress_bar.setRange(0, PROGRESS_STEPS)
        self.progress_bar.setMaximumWidth(180)
        self.progress_bar.setFormat("Opening %p%")
        self.progress_bar.setToolTip("How much of the capture is read; what is read is shown already")
        self.stop_button = QToolButton(self)
        self.stop_button.setText("Stop")
        self.stop_button.setToolTip("Stop opening the capture: keep what is shown so far")
        self.stop_button.clicked.connect(self.stopRequested)
        for widget in (self.progress_bar, self.stop_button):
            widget.hide()
            self.addPermanentWidget(widget)
        self._notice = ""
        self._recording_problem = ""
        self._progress = -1.0
        self._rate = 0.0
        self._changed: set[_Field] = set()
        #: When the fields that changed are set again.
        self.paced = Paced(REFRESH_MS, self)
        self.paced.due.connect(self._refresh_changed)
        bridge.framesAdded.connect(lambda _first, _last: self._mark(_Field.FRAMES, _Field.NOTICE))
        bridge.chunksAdded.connect(lambda: self._mark(_Field.RATE))
        bridge.anomaliesAdded.connect(lambda _first, _last: self._mark(_Field.ANOMALIES))
        bridge.anomaliesChanged.connect(lambda: self._mark(_Field.ANOMALIES))
        bridge.sessionReplaced.connect(self.refresh)
        self.refresh()

    def set_connection(self, text: str) -> None:
        self.connection_label.setText(text)

    def set_live_shown(self, live: bool) -> None:
        """Whether the session shown is the live one (its rate follows the clock) or a finished capture."""
        if live != self._live_shown:
            self._live_shown = live
            self._mark(_Field.RATE)
        # Nothing arrives in a capture: a rate taken at its end would say something that is not happening.
        self.rate_label.setVisible(live)

    def show_progress(self, fraction: float) -> None:
        """How much of the capture being opened is read (0 to 1); a negative value hides the bar. The bar
        moves at the status bar's pace (:data:`REFRESH_MS`), not at every step of the pass: a progress bar
        repaints the window as soon as its value changes."""
        shown = fraction >= 0
        self._progress = min(fraction, 1.0)
        if shown != self.progress_bar.isVisible():
            self._set_progress(max(self._progress, 0.0))
            self.progress_bar.setVisible(shown)
            self.stop_button.setVisible(shown)
        elif shown:
            self._mark(_Field.PROGRESS)

    def _set_progress(self, fraction: float) -> None:
        # QProgressBar.setValue repaints at once, and with it everything else waiting to be painted (the
        # timeline): with updates off it only asks for a paint, which comes with the others.
        bar = self.progress_bar
        bar.setUpdatesEnabled(False)
        bar.setValue(round(fraction * PROGRESS_STEPS))
        bar.setUpdatesEnabled(True)

    def set_notice(self, text: str) -> None:
        """Something to keep saying about the session shown (empty: nothing); the session's own store
        problem, or why the live session is not recorded, is said when there is no other notice."""
        self._notice = text
        self._show_notice()

    def set_recording_problem(self, text: str) -> None:
        """Why the session shown is not recorded to a file (empty: it is, or it is a capture)."""
        self._recording_problem = text
        self._show_notice()

    def _show_notice(self) -> None:
        text = self._notice or self.bridge.session.frames.problem or ""
        if not text and (problem := self._recording_problem):
            text = problem if "memory" in problem else f"{problem}; the session is kept in memory"
        if text == self.notice_label.toolTip():
            return
        short = text if len(text) <= 90 else text[:89] + "…"
        self.notice_label.setText(short)
        self.notice_label.setToolTip(text)
        self.notice_label.setStyleSheet(
            f"color: {warning_colour(is_dark(self.palette())).name()}" if text else ""
        )
        self.notice_label.setVisible(bool(text))

    def _mark(self, *fields: _Field) -> None:
        self._changed.update(fields)
        self.paced.request()

    def refresh(self) -> None:
        """Update every field now."""
        self._changed.update(_Field)
        self._refresh_changed()

    def _refresh_changed(self) -> None:
        changed, self._changed = self._changed, set()
        session = self.bridge.session
        if _Field.FRAMES in changed:
            self.frames_label.setText(f"Frames: {len(session.frames):,}")
        if _Field.RATE in changed:
            now = self._clock() if self._live_shown else session.duration
            self._rate = chunk_rate(session, now)
            self.rate_label.setText(f"Chunks/s: {self._rate:.0f}")
        if _Field.ANOMALIES in changed:
            counted, info = anomaly_counts(session)
            info_text = f" (+{info} info)" if info else ""
            self.anomalies_label.setText(f"Anomalies: {counted}{info_text}")
        if _Field.NOTICE in changed:
            self._show_notice()
        if _Field.PROGRESS in changed and self._progress >= 0:
            self._set_progress(self._progress)
        if self._live_shown and self._rate > 0:
            # Chunks per second change with time alone: they are counted again until they fall to zero.
            self._mark(_Field.RATE)


class PlayStatusLabel(QLabel):
    """What plays and where (``Playing flush_id 2 of context 1: 0.4 / 1.8 s``), or that nothing can play
    (with the reason in the tooltip); hidden when there is nothing to say."""

    def __init__(self, playback: PlaybackController, bridge: SessionBridge, parent: QWidget | None = None):
        super().__init__(parent)
        self._playback = playback
        self._shown = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setContentsMargins(6, 0, 6, 0)
        self.hide()
        playback.positionChanged.connect(self.refresh)
        playback.stateChanged.connect(lambda _state: self.refresh())
        playback.targetChanged.connect(self.refresh)
        playback.availabilityChanged.connect(lambda _available, _reason: self.refresh())
        # A live segment waiting for its audio does not move: its "waiting" shows on the bridge's tick.
        bridge.ticked.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        playback = self._playback
        target = playback.target
        warning = False
        if target is not None and playback.playing:
            segment = target.segment
            what = f"context {target.context.number}"
            if segment is not None:
                what = f"flush_id {segment.label} of {what}"
            total = segment.audio_seconds if segment is not None else target.context.audio_seconds
            state = "Paused" if playback.state is PlayerState.PAUSED else "Playing"
            waiting = " (waiting for audio)" if playback.player.buffering else ""
            text = f"{state} {what}: {playback.position:.1f} / {total:.1f} s{waiting}"
        elif not playback.available:
            text, warning = "No audio output", True
        else:
            text = ""
        if text == self._shown:
            return
        self._shown = text
        self.setText(text)
        self.setToolTip(playback.why_not())
        self.setStyleSheet(f"color: {warning_colour(is_dark(self.palette())).name()}" if warning else "")
        self.setVisible(bool(text))
