"""The session's anomalies: each finding placed where it happened, repeats folded, and what must come in time.

:mod:`~flushscope.core.model.anomalies` says what a finding is called and how bad it is; attribution says
when something is wrong and which frames show it; this module places it. A repeat of the same kind in the
same place (every chunk of a segment without a flush_id, say) folds into the first anomaly, whose frames
grow, so that a noisy stream stays readable.

Time: a flush awaits its flush_done and an end its done, each until a deadline
(:class:`~flushscope.core.model.deadlines.Deadlines`), checked as frame times pass it and by a live view's
timer, so that silence is noticed too. A wait is a timeout only when the recording went on for all of it: a
frame at or after the deadline (or the live timer) says it did. A recording that stops before (a killed
proxy, a file still being written) was cut short: :meth:`Findings.recording_ends` says so, as information,
for every connection still open at its end, instead of flagging waits that were never over. A context whose
connection closed first failed, and that close is its finding: its flushes do not time out on top of it.

A gap between a segment's chunks is a stall only when the server had all it needed to go on: after the
segment's flush (a flush asks for generation now), or, before it, past the buffering delay the client asked
for. A segment's first audio is slow when it comes later than a threshold after the server could start on
it: its flush, or its first transcript when the context does not buffer text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from flushscope.core.growable import GrowableArray
from flushscope.core.inputs.text_buffer import DEFAULT_BUFFER_DELAY_MS
from flushscope.core.model import anomalies
from flushscope.core.model.anomalies import Anomaly, AnomalyKind, Finding, Severity
from flushscope.core.model.connection_anomalies import recording_ends
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
    #: A segment's first audio later than this after its text was ready is slow. The service's median time
    #: to first audio is about 190 ms with the network (PROTOCOL.md section 11): 2 s is ten times that, above
    #: any cold start or jitter, and below the 2.7 s that a client's aggregation stacked on the service's
    #: 3000 ms buffering was measured at, and the 3 s of silence after which Pipecat drops a turn.
    slow_first_audio_s: float = 2.0


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
        # Connections already said to end with the recording.
        self._ended: set[int] = set()

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
                # A context that failed (its connection closed, an error) has its own finding.
                if item.state is SegmentState.FLUSHING and item.context.state is not ContextState.FAILED:
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

    def recording_ends(self, at: float, contexts: Sequence[Context], still_open: Mapping[int, int]) -> None:
        """The recording ends at ``at`` (its last frame) with the connections of ``still_open`` (number: its
        last frame) open: each context still going on there, or else the connection itself, is said to end
        here, with what it still awaited. A wait over by ``at`` was flagged as a timeout when a frame passed
        it; one not over is cut short, not a timeout. Each connection is said to end once."""
        ending = {
            conn: last for conn, last in still_open.items() if conn not in self._handed_over | self._ended
        }
        self._ended.update(ending)
        waits = self.thresholds
        said: set[int] = set()
        for ctx in contexts:
            if ctx.conn not in ending or ctx.state not in (ContextState.OPEN, ContextState.ENDING):
                continue
            flushes = [
                (s.label, at - s.flush_t)
                for s in ctx.segments
                if s.state is SegmentState.FLUSHING
                and s.flush_t is not None
                and at < s.flush_t + waits.flush_done_s
            ]
            end_t = ctx.end_t
            ending_wait = ctx.state is ContextState.ENDING and end_t is not None and at < end_t + waits.done_s
            finding = recording_ends(
                at=at,
                conn=ctx.conn,
                context_id=ctx.context_id,
                flushes=flushes,
                ended_s_ago=at - end_t if ending_wait and end_t is not None else None,
                flush_done_s=waits.flush_done_s,
                done_s=waits.done_s,
            )
            self.flag(finding, ctx, frame=ctx.frames[-1] if ctx.frames else None, fold=False)
            said.add(ctx.conn)
        for conn, last in sorted(ending.items()):
            if conn not in said:
                finding = recording_ends(
                    at=at, conn=conn, flush_done_s=waits.flush_done_s, done_s=waits.done_s
                )
                self.flag(finding, None, conn=conn, frame=last, fold=False)

    def slow_first_audio(self, ctx: Context, segment: Segment) -> None:
        """``segment`` just got its first chunk: flag it when that came too long after the server could start
        on it. Measured as the window's time to first audio is (:attr:`Segment.first_audio_ms`), from the
        segment's flush, or from its first transcript when the context does not buffer text; audio that the
        service's own buffering started before any flush is what the client asked for, and not measured."""
        ms = segment.first_audio_ms
        threshold_ms = self.thresholds.slow_first_audio_s * 1000.0
        if ms is None or ms <= threshold_ms:
            return
        flush_t, ready = segment.flush_t, segment.text_ready_t
        if ctx.buffers_text and (flush_t is None or ready is None or ready < flush_t):
            return
        if segment.ordinal > 0 and ready != flush_t and ready != segment.first_send_t:
            since = "the previous segment's last audio"
        else:
            since = "its flush" if ready == flush_t else "its first transcript"
        finding = anomalies.slow_first_audio(
            context_id=ctx.context_id, segment=segment.label, ms=ms, since=since, threshold_ms=threshold_ms
        )
        self.flag(finding, ctx, flush_id=segment.flush_id, frame=segment.first_chunk_frame)

    def stalled(self, ctx: Context, segment: Segment, t: float) -> bool:
        """Whether a chunk at ``t`` comes after a stall of ``segment``: a gap inside a segment with text the
        server already had, not the wait for the next transcript, nor, before the segment's flush, the
        buffering delay the client asked for (a flush asks for generation now). Asked only once the segment
        has a chunk."""
        since = segment.last_chunk_t
        assert since is not None
        if segment.transcripts:
            since = max(since, segment.transcripts[-1].t)
        allowed = self.thresholds.stall_s
        if segment.flush_t is not None:
            since = max(since, segment.flush_t)
        elif ctx.buffers_text and ctx.request is not None:
            delay = ctx.request.max_buffer_delay_ms
            allowed += (DEFAULT_BUFFER_DELAY_MS if delay is None else delay) / 1000.0
        return t - since > allowed
