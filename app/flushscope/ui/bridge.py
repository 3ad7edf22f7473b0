"""The Qt side of the session model: changes coalesced onto a timer, and the selection shared by every view.

The model fires observer calls at frame rate (thousands a second). :class:`SessionBridge` only notes what
changed and emits one batch of signals per tick (about 30 Hz), so views repaint at paint rate, not data rate.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.model.session_watch import SessionWatch


class _Dirty(SessionWatch):
    """What changed since the last tick: the contexts and segments, and whether chunks came or anomalies
    grew. Every method is a few attribute writes."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks = False
        self.anomalies_changed = False

    def chunk_added(self, segment: Segment, row: int) -> None:
        self.chunks = True
        super().chunk_added(segment, row)

    def anomaly_changed(self, anomaly: Anomaly) -> None:
        self.anomalies_changed = True


class SessionBridge(QObject):
    """Turns a session's changes into coalesced Qt signals. Replace the session with :meth:`set_session`
    (a capture opened); views then rebuild from :attr:`session`."""

    sessionReplaced = Signal()
    """A different session is shown: views drop everything and read it anew."""
    framesAdded = Signal(int, int)
    """Frames [first, last] (inclusive) were appended."""
    chunksAdded = Signal()
    """Chunks were appended to :attr:`Session.chunks` since the last tick."""
    contextsChanged = Signal(list)
    """These contexts were added or changed state."""
    segmentsChanged = Signal(list)
    """These segments were added or changed (transcripts, chunks, flush, close)."""
    anomaliesAdded = Signal(int, int)
    """Anomalies [first, last] (inclusive) were appended."""
    anomaliesChanged = Signal()
    """Existing anomalies grew (repeats folded in)."""
    ticked = Signal()
    """One coalescing tick passed (after the signals above): for status bars and live follow."""

    def __init__(self, session: Session, parent: QObject | None = None, hz: float = 30.0) -> None:
        super().__init__(parent)
        self.session = session
        self._dirty = _Dirty()
        self._dirty.watch(session)
        self._frames_seen = len(session.frames)
        self._anomalies_seen = len(session.anomalies)
        self._timer = QTimer(self)
        self._timer.setInterval(max(1, round(1000 / hz)))
        self._timer.timeout.connect(self.flush)
        self._timer.start()

    def set_rate(self, hz: float) -> None:
        """Tick ``hz`` times a second from now on (the views then redraw at that rate)."""
        interval = max(1, round(1000 / hz))
        # Setting the interval restarts the timer: asked on every step of a long job, it would never fire.
        if interval != self._timer.interval():
            self._timer.setInterval(interval)

    def set_session(self, session: Session) -> None:
        self.session = session
        self._dirty.stop()
        self._dirty.watch(session)
        self._dirty.chunks = self._dirty.anomalies_changed = False
        self._frames_seen = len(session.frames)
        self._anomalies_seen = len(session.anomalies)
        self.sessionReplaced.emit()

    def flush(self) -> None:
        """Emit what changed since the last call (the timer calls this; tests may call it directly)."""
        dirty, session = self._dirty, self.session
        frames = len(session.frames)
        if frames > self._frames_seen:
            first, self._frames_seen = self._frames_seen, frames
            self.framesAdded.emit(first, frames - 1)
        contexts, segments = dirty.take()
        if contexts:
            self.contextsChanged.emit(sorted(contexts, key=lambda c: c.number))
        if segments:
            self.segmentsChanged.emit(list(segments))
        if dirty.chunks:
            self.chunksAdded.emit()
        anomalies = len(session.anomalies)
        if anomalies > self._anomalies_seen:
            first, self._anomalies_seen = self._anomalies_seen, anomalies
            self.anomaliesAdded.emit(first, anomalies - 1)
        if dirty.anomalies_changed:
            self.anomaliesChanged.emit()
        dirty.chunks = dirty.anomalies_changed = False
        self.ticked.emit()


class Selection(QObject):
    """The one selection every view follows: a segment (and its context), or a context alone."""

    selectionChanged = Signal()
    """The selected segment or context changed."""
    framesHighlighted = Signal(list)
    """Frames to highlight (from an anomaly), by index."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.segment: Segment | None = None
        self.context: Context | None = None

    def select_segment(self, segment: Segment | None) -> None:
        context = segment.context if segment is not None else self.context
        if segment is self.segment and context is self.context:
            return
        self.segment, self.context = segment, context
        self.selectionChanged.emit()

    def select_context(self, context: Context | None) -> None:
        if context is self.context and self.segment is None:
            return
        self.segment, self.context = None, context
        self.selectionChanged.emit()

    def highlight_frames(self, frames: list[int]) -> None:
        self.framesHighlighted.emit(frames)

    def clear(self) -> None:
        self.select_context(None)
