"""Many requests, one run: text that follows fast-changing figures (counts in a status bar, in tab titles)
is set a few times a second, and only when something it shows changed."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer, Signal


class Paced(QObject):
    """Merges requests into one :attr:`due` at most every ``interval_ms``: the first request after a quiet
    spell is due on the next turn of the loop, later ones when the interval since the last is over. Without
    requests, nothing runs."""

    due = Signal()
    """Requests were made since the last time: run what they asked for."""

    def __init__(self, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._interval = interval_ms
        self._since = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._fire)

    @property
    def pending(self) -> bool:
        """Whether a run was requested and is not due yet."""
        return self._timer.isActive()

    def request(self) -> None:
        """Ask for a run (merged with the other requests until it is due)."""
        if self._timer.isActive():
            return
        waited = self._since.elapsed() if self._since.isValid() else self._interval
        self._timer.start(max(0, self._interval - waited))

    def _fire(self) -> None:
        self._since.start()
        self.due.emit()
