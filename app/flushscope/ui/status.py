"""The status bar: connection, frames, chunks per second and anomalies, refreshed a few times a second."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QElapsedTimer, Qt, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from flushscope.core.session import Session
from flushscope.ui.bridge import SessionBridge

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
