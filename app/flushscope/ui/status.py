"""The status bar: connection, frames, chunks per second and anomalies, refreshed a few times a second; and
the field that says what plays."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QElapsedTimer, Qt, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from flushscope.audio.player import PlayerState
from flushscope.core.session import Session
from flushscope.ui.bridge import SessionBridge
from flushscope.ui.palette import is_dark, warning_colour
from flushscope.ui.playback import PlaybackController

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


class StatusBar(QStatusBar):
    """Connection state, frame count, chunks per second over the last second, anomaly counts.

    ``clock`` gives the session time that "now" is (the live session's clock); None means the session is
    finished (a capture), and its rate is taken at its last frame.
    """

    refreshed = Signal()
    """The fields were updated (at most every REFRESH_MS)."""

    def __init__(self, bridge: SessionBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.clock: Callable[[], float] | None = None
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
        self._elapsed = QElapsedTimer()
        bridge.ticked.connect(self._ticked)
        bridge.sessionReplaced.connect(self.refresh)
        self.refresh()

    def set_connection(self, text: str) -> None:
        self.connection_label.setText(text)

    def _ticked(self) -> None:
        if self._elapsed.isValid() and self._elapsed.elapsed() < REFRESH_MS:
            return
        self.refresh()

    def refresh(self) -> None:
        """Update every field now."""
        self._elapsed.start()
        session = self.bridge.session
        now = self.clock() if self.clock is not None else session.duration
        counted, info = anomaly_counts(session)
        self.frames_label.setText(f"Frames: {len(session.frames):,}")
        self.rate_label.setText(f"Chunks/s: {chunk_rate(session, now):.0f}")
        info_text = f" (+{info} info)" if info else ""
        self.anomalies_label.setText(f"Anomalies: {counted}{info_text}")
        self.refreshed.emit()


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
