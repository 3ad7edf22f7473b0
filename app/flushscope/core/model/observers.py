"""Who hears of the session model's changes as they happen: the bridge to the views, waits on the model."""

from __future__ import annotations

from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import Context, Segment


class SessionObserver:
    """Receives the session's changes as they happen. Override what you need; every call must be cheap
    (thousands per second): record and coalesce, do the work on a timer."""

    def frame_added(self, index: int) -> None:
        """Frame ``index`` was recorded (``session.frames[index]`` reads it back)."""

    def context_added(self, context: Context) -> None:
        """A new context appeared (sent or, for unknown ids, received)."""

    def context_changed(self, context: Context) -> None:
        """A context's state changed (ending, done, cancelled, failed)."""

    def segment_added(self, segment: Segment) -> None:
        """A context got a new segment (after a flush, or numbered by the server)."""

    def segment_changed(self, segment: Segment) -> None:
        """A transcript or timestamps were added to a segment, or it was flushed, closed or ended."""

    def chunk_added(self, segment: Segment, row: int) -> None:
        """A chunk was attributed to ``segment``; ``row`` indexes the session's chunk columns."""

    def anomaly_added(self, anomaly: Anomaly) -> None:
        """A new anomaly (not a repeat folded into an existing one)."""

    def anomaly_changed(self, anomaly: Anomaly) -> None:
        """A repeat was folded into ``anomaly`` (its frame list grew)."""
