"""One lane's markers in two parts, free of Qt: what the context's events place (a Python walk over its
segments, transcripts, anomalies and findings, kept while only chunks arrive) and what the chunks received
move (places in the audio, the ends of segments taken from their last chunk, how much audio came, the
wait of the segment after one still receiving): worked out again with numpy whenever the lane's audio grows.

A live lane gets chunks several times a second and its events a few times a minute: the walk would cost the
length of the context on every chunk."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from flushscope.core.model.anomalies import AnomalyKind, Severity
from flushscope.core.model.records import Segment, SegmentState
from flushscope.core.store.frame_store import FrameStore
from flushscope.ui.timeline.model.lanes import FloatArray, IntArray, Lane, MarkerKind, Markers

# Every kind, in drawing order (a kind's value is its place): a tuple iterates in a fraction of the time
# the enum takes.
KINDS: Final = tuple(MarkerKind)

#: A kind of marker's times, places in the audio (nan: where the audio received by then ends) and findings.
Marks = tuple[list[float], list[float], list[Any]]


def events_of(segment: Segment) -> tuple[Any, ...]:
    """What a segment's markers and bracket are made of, but for what its chunks move: the same value while
    only chunks arrive (its first chunk sets its first audio, and a segment with chunks can end at its
    last one: both are in here)."""
    return (
        len(segment.transcripts),
        segment.flush_t,
        segment.flush_done_t,
        segment.first_audio_t,
        segment.state,
        bool(segment.chunk_rows),
    )


@dataclass(eq=False, kw_only=True)
class MarkLayout:
    """A lane's markers as the walk over its events left them, sorted, waiting for the chunk-dependent parts
    (:meth:`assemble`)."""

    #: Per segment ordinal: :func:`events_of` it at the walk, its bracket (-1: none).
    events: list[tuple[Any, ...]]
    bracket: list[int]
    #: The findings' markers walked in (the same object while the findings have not changed).
    findings: dict[MarkerKind, Marks]
    times: dict[MarkerKind, FloatArray]
    refs: dict[MarkerKind, list[Any]]
    #: Every kind's sorted times one after the other, the places of those that have their own (else nan),
    #: and where each kind's run starts and ends.
    by_kind: FloatArray
    fixed: FloatArray
    runs: list[tuple[int, int]]
    #: The order of ``by_kind`` by time, and every marker sorted so with its kind.
    order: IntArray
    all_times: FloatArray
    all_kinds: IntArray
    #: Per bracket as in :class:`Markers`; ``end`` is nan where the end is the end of the block of chunk row
    #: ``end_row`` (-1: not so).
    ready: FloatArray
    first: FloatArray
    end: FloatArray
    end_row: IntArray
    ongoing: npt.NDArray[np.bool_]
    ordinal: IntArray
    segments: list[Segment]
    #: Ordinals whose chunks came since the last :meth:`assemble`.
    came: set[int] = field(default_factory=set)

    def unchanged(self, segment: Segment) -> bool:
        """Whether ``segment`` is as the walk saw it, but for what its chunks move."""
        ordinal = segment.ordinal
        return ordinal < len(self.events) and self.events[ordinal] == events_of(segment)

    def chunks_came(self, ordinals: Iterable[int]) -> None:
        """Chunks of the segments ``ordinals`` arrived."""
        self.came.update(ordinals)

    def assemble(self, lane: Lane, pos: IntArray) -> Markers:
        """The markers with the lane's chunks as they are now (``pos``: chunk row -> place in its lane)."""
        if self.came:
            self._follow_chunks(lane)
        end = self.end
        chunked = self.end_row >= 0
        if chunked.any():
            end = end.copy()
            end[chunked] = lane.t_end.values[pos[self.end_row[chunked]]]
        ready, first = self.ready, self.first
        # Every time that needs an audio position, looked up in one call.
        n = len(self.by_kind)
        audio = lane.audio_at(np.concatenate((self.by_kind, ready, first, end)))
        placed = np.where(np.isnan(self.fixed), audio[:n], self.fixed)
        m = len(ready)
        ready_audio, first_audio, end_audio = audio[n : n + m], audio[n + m : n + 2 * m], audio[n + 2 * m :]
        received = float(lane.a_end.values[-1]) if lane.a_end else 0.0
        return Markers(
            times=self.times,
            audio={kind: placed[a:b] for kind, (a, b) in zip(KINDS, self.runs, strict=True)},
            refs=self.refs,
            all_times=self.all_times,
            all_kinds=self.all_kinds,
            all_audio=placed[self.order],
            ready=ready,
            first=first,
            end=end,
            ongoing=self.ongoing,
            ordinal=self.ordinal,
            segments=self.segments,
            ready_audio=ready_audio,
            first_audio=first_audio,
            end_audio=np.where(self.ongoing, received, end_audio),
        )

    def _follow_chunks(self, lane: Lane) -> None:
        """A segment's chunks move its last row, and its successor's ready time while that has no audio (it
        waits for the audio before it: :attr:`Segment.text_ready_t`). New arrays: markers already handed
        out keep theirs."""
        segments = lane.context.segments
        self.ready, self.end_row = self.ready.copy(), self.end_row.copy()
        for ordinal in sorted({o for came in self.came for o in (came, came + 1)}):
            b = self.bracket[ordinal] if ordinal < len(self.bracket) else -1
            if b < 0:
                continue
            seg = segments[ordinal]
            r = seg.text_ready_t
            self.ready[b] = seg.first_audio_t if r is None else r
            if self.end_row[b] >= 0:
                self.end_row[b] = seg.chunk_rows[-1]
        self.came = set()


def walk(lane: Lane, frames: FrameStore, findings: dict[MarkerKind, Marks]) -> MarkLayout:
    """Walk the lane's context, its anomalies and ``findings`` into a :class:`MarkLayout`."""
    ctx = lane.context
    times: dict[MarkerKind, list[float]] = {k: [] for k in KINDS}
    # Where a marker sits in audio mode when it knows (a boundary); nan: the audio received by then.
    placed: dict[MarkerKind, list[float]] = {k: [] for k in KINDS}
    refs: dict[MarkerKind, list[Any]] = {k: [] for k in KINDS}
    ready: list[float] = []
    first: list[float] = []
    end: list[float] = []
    end_row: list[int] = []
    ordinal: list[int] = []
    segments: list[Segment] = []
    bracket: list[int] = []
    sent_t, sent_refs = times[MarkerKind.TRANSCRIPT], refs[MarkerKind.TRANSCRIPT]
    flush_t, flush_refs = times[MarkerKind.FLUSH], refs[MarkerKind.FLUSH]
    done_t, done_refs = times[MarkerKind.FLUSH_DONE], refs[MarkerKind.FLUSH_DONE]
    for seg in ctx.segments:
        bracket.append(-1)
        for transcript in seg.transcripts:
            sent_t.append(transcript.t)
            sent_refs.append((seg, transcript))
        if seg.flush_t is not None:
            flush_t.append(seg.flush_t)
            flush_refs.append(seg)
        if seg.flush_done_t is not None:
            done_t.append(seg.flush_done_t)
            done_refs.append(seg)
        r = seg.text_ready_t
        if r is None:
            r = seg.first_audio_t
        if r is None:
            continue
        waiting = seg.state in (SegmentState.OPEN, SegmentState.FLUSHING)
        row = -1
        if seg.flush_done_t is not None:
            e = seg.flush_done_t
        elif seg.chunk_rows and not waiting:
            e, row = math.nan, int(seg.chunk_rows[-1])
        elif waiting and (seg.flush_t is not None or seg.first_audio_t is not None):
            e = math.nan
        else:
            continue
        bracket[-1] = len(ready)
        ready.append(r)
        first.append(math.nan if seg.first_audio_t is None else seg.first_audio_t)
        end.append(e)
        end_row.append(row)
        ordinal.append(seg.ordinal)
        segments.append(seg)
    if ctx.done_t is not None:
        times[MarkerKind.DONE].append(ctx.done_t)
        refs[MarkerKind.DONE].append(ctx)
    if ctx.cancel_t is not None:
        times[MarkerKind.CANCEL].append(ctx.cancel_t)
        refs[MarkerKind.CANCEL].append(ctx)
    for anomaly in lane.anomalies:
        at = frames.time(anomaly.frames[0]) if len(anomaly.frames) else ctx.end_t
        if at is None:
            continue
        if anomaly.kind is AnomalyKind.RECORDING_ENDS:
            kind = MarkerKind.END
        else:
            kind = MarkerKind.ERROR if anomaly.severity is Severity.ERROR else MarkerKind.WARNING
        times[kind].append(at)
        refs[kind].append(anomaly)
    for kind, (marked, where, found) in findings.items():
        times[kind].extend(marked)
        placed[kind].extend(where)
        refs[kind].extend(found)
    sorted_times: dict[MarkerKind, FloatArray] = {}
    sorted_refs: dict[MarkerKind, list[Any]] = {}
    fixed: list[FloatArray] = []
    for kind in KINDS:
        values = np.asarray(times[kind], dtype=np.float64)
        order = np.argsort(values, kind="stable")
        sorted_times[kind] = values[order]
        where = placed[kind] + [math.nan] * (len(values) - len(placed[kind]))
        fixed.append(np.asarray(where, dtype=np.float64)[order])
        sorted_refs[kind] = [refs[kind][i] for i in order]
    counts = [len(times[k]) for k in KINDS]
    by_kind = np.concatenate([sorted_times[k] for k in KINDS])
    kinds = np.repeat(np.arange(len(KINDS), dtype=np.int64), counts)
    order = np.argsort(by_kind, kind="stable")
    end_t = np.asarray(end, dtype=np.float64)
    rows = np.asarray(end_row, dtype=np.int64)
    return MarkLayout(
        events=[events_of(seg) for seg in ctx.segments],
        bracket=bracket,
        findings=findings,
        times=sorted_times,
        refs=sorted_refs,
        by_kind=by_kind,
        fixed=np.concatenate(fixed),
        runs=list(itertools.pairwise([0, *itertools.accumulate(counts)])),
        order=order,
        all_times=by_kind[order],
        all_kinds=kinds[order],
        ready=np.asarray(ready, dtype=np.float64),
        first=np.asarray(first, dtype=np.float64),
        end=end_t,
        end_row=rows,
        ongoing=np.isnan(end_t) & (rows < 0),
        ordinal=np.asarray(ordinal, dtype=np.int64),
        segments=segments,
    )
