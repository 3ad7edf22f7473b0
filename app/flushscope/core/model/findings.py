"""The session's anomalies: each finding placed where it happened, repeats folded, and what must come in time.

:mod:`~flushscope.core.model.anomalies` says what a finding is called and how bad it is; attribution says
when something is wrong and which frames show it; this module places it. A repeat of the same kind in the
same place (every chunk of a segment without a flush_id, say) folds into the first anomaly, whose frames
grow, so that a noisy stream stays readable.

Time: a flush awaits its flush_done and an end its done, each until a deadline
(:class:`~flushscope.core.model.deadlines.Deadlines`), checked as frame times pass it and by a live view's
timer, so that silence is noticed too. A gap between a segment's chunks is a stall only when the server
had all it needed to go on.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flushscope.core.growable import GrowableArray
from flushscope.core.model import anomalies
from flushscope.core.model.anomalies import Anomaly, AnomalyKind, Finding, Severity
from flushscope.core.model.deadlines import Deadlines
from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.records import Context, ContextState, Segment, SegmentState

__all__ = ["Findings", "Thresholds"]

# Where repeats fold: kind, connection, context number (or else the context id), flush_id or fold key. A
# context that reuses a finished one's id is another place.
_Place = tuple[AnomalyKind, int, int | None, str | None, int | None]


@dataclass(frozen=True)
class Thresholds:
    """Times after which silence is an anomaly."""

    stall_s: float = 1.0
    flush_done_s: float = 10.0
    done_s: float = 15.0


def _named(finding: Finding, ctx: Context | None) -> str:
    """The finding's sentence, with a named context called by its name: builders say ``context <context_id>``
    (the id stays in the anomaly's ``context_id``). A server's error is quoted as it came."""
    if ctx is None or ctx.name is None or finding.kind is AnomalyKind.SERVER_ERROR:
        return finding.message
    return finding.message.replace(f"context {ctx.context_id}", f"context {ctx.title}", 1)


class Findings:
    """The anomalies of one session (``session.anomalies``), as they are found, and the deadlines of what it
    awaits. Observers hear of each new anomaly and of each repeat folded into one."""

    def __init__(self, thresholds: Thresholds, observers: list[SessionObserver]) -> None:
        self.thresholds = thresholds
        self.anomalies: list[Anomaly] = []
        #: Flushes awaiting flush_done and ends awaiting done.
        self.deadlines: Deadlines[Segment | Context] = Deadlines()
        self._observers = observers
        self._folded: dict[_Place, Anomaly] = {}
        # Connections whose recording goes on in another part: what they await is not awaited here.
        self._handed_over: set[int] = set()

    def flag(
        self,
        finding: Finding,
        ctx: Context | None,
        *,
        flush_id: int | None = None,
        frame: int | None = None,
        conn: int | None = None,
        context_id: str | None = None,
        fold: bool = True,
        fold_key: int | None = None,
        extra_frame: int | None = None,
    ) -> Anomaly:
        """Place a finding: in ``ctx`` (or on ``conn``, for ``context_id`` when no context has it), naming
        ``frame`` (and ``extra_frame``). A repeat of a finding of the same kind in the same place (the same
        ``flush_id``, or ``fold_key`` when given) is folded into the first one, unless ``fold`` is false."""
        kind = finding.kind
        context_id = ctx.context_id if ctx is not None else context_id
        conn = ctx.conn if ctx is not None else (conn or 0)
        number = ctx.number if ctx is not None else None
        place = (kind, conn, number, context_id, flush_id if fold_key is None else fold_key)
        if fold and place in self._folded:
            anomaly = self._folded[place]
            if frame is not None:
                anomaly.frames.append(frame)
            for observer in self._observers:
                observer.anomaly_changed(anomaly)
            return anomaly
        anomaly = Anomaly(
            kind=kind,
            severity=finding.severity,
            message=_named(finding, ctx),
            conn=conn,
            context_id=context_id,
            flush_id=flush_id,
            frames=GrowableArray(np.int64, (f for f in (frame, extra_frame) if f is not None)),
            context_number=number,
        )
        self.anomalies.append(anomaly)
        if fold:
            self._folded[place] = anomaly
        for observer in self._observers:
            observer.anomaly_added(anomaly)
        return anomaly

    def counted(self) -> list[Anomaly]:
        """Anomalies that are failures (warnings and errors), not information."""
        return [a for a in self.anomalies if a.severity is not Severity.INFO]

    # --- what must come in time ---------------------------------------------------------------------

    def await_flush_done(self, segment: Segment, t: float) -> None:
        """``segment`` was flushed at ``t``: its flush_done is due within the threshold."""
        self.deadlines.add(t + self.thresholds.flush_done_s, segment)

    def await_done(self, ctx: Context, t: float) -> None:
        """``ctx`` was ended at ``t``: its done is due within the threshold."""
        self.deadlines.add(t + self.thresholds.done_s, ctx)

    def hand_over(self, conn: int) -> None:
        """Connection ``conn`` is recorded on in another part (:mod:`~flushscope.core.model.continuation`):
        what it awaits is awaited there, not flagged here."""
        self._handed_over.add(conn)

    def check_timeouts(self, now: float) -> None:
        """Flag flushes and ends whose deadline passed by ``now`` and that are still waiting."""
        for item in self.deadlines.due(now):
            if (item.context.conn if isinstance(item, Segment) else item.conn) in self._handed_over:
                continue
            if isinstance(item, Segment):
                if item.state is SegmentState.FLUSHING:
                    ctx = item.context
                    self.flag(
                        anomalies.flush_done_timeout(
                            context_id=ctx.context_id,
                            segment=item.label,
                            seconds=self.thresholds.flush_done_s,
                        ),
                        ctx,
                        flush_id=item.flush_id,
                        frame=item.flush_frame,
                    )
            elif item.state is ContextState.ENDING:
                self.flag(
                    anomalies.done_timeout(context_id=item.context_id, seconds=self.thresholds.done_s), item
                )

    def stalled(self, ctx: Context, segment: Segment, t: float) -> bool:
        """Whether a chunk at ``t`` comes after a stall of ``segment``: a gap inside a segment with text the
        server already had, not the wait for the next transcript, nor the buffering delay the client asked
        for. Asked only once the segment has a chunk."""
        since = segment.last_chunk_t
        assert since is not None
        if segment.transcripts:
            since = max(since, segment.transcripts[-1].t)
        if segment.flush_t is not None:
            since = max(since, segment.flush_t)
        allowed = self.thresholds.stall_s
        if ctx.buffers_text and ctx.request is not None:
            delay = ctx.request.max_buffer_delay_ms
            allowed += (3000 if delay is None else delay) / 1000.0
        return t - since > allowed
