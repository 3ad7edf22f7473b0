"""The timeline's lanes kept in step with a session, free of Qt: new lanes, chunk rows and anomalies are
taken in incrementally, and each lane's markers and the flat overlay of all of them are rebuilt only when
something they show changed. The analysis (lints, flush boundaries) is handed in from outside
(:meth:`_LaneCache.set_analysis`) and rebuilds only the lanes whose findings changed."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from flushscope.core.analysis.boundaries import Boundary
from flushscope.core.analysis.lints import Lint
from flushscope.core.model.anomalies import Severity
from flushscope.core.model.records import Segment, SegmentState
from flushscope.core.model.session import Session
from flushscope.core.store.frame_store import FrameStore
from flushscope.ui.timeline.model.lanes import (
    _ADVICE,
    _BOUNDARY,
    _CANCEL,
    _DONE,
    _ERROR,
    _FLUSH,
    _FLUSH_DONE,
    _MARKER_KINDS,
    _OUTLIER,
    _TRANSCRIPT,
    _WARNING,
    AxisMode,
    FloatArray,
    _Grow,
    _Lane,
    _Markers,
    _Overlay,
)

#: A kind of marker's times, places in the audio (nan: where the audio received by then ends) and findings.
_Marks = tuple[list[float], list[float], list[Any]]


class _LaneCache:
    """One :class:`_Lane` per context of ``session``, with the maps from chunk rows to lanes."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.lanes: list[_Lane] = []
        self.lane_of = _Grow(np.int32)  # chunk row -> lane index
        self.pos = _Grow(np.int64)  # chunk row -> position in its lane
        self._rows_seen = 0
        self._anomalies_seen = 0
        self._overlay_cache: _Overlay | None = None
        # The analysis's findings by context number (lints and boundaries name their context so).
        self._lints: dict[int, list[Lint]] = {}
        self._boundaries: dict[int, list[Boundary]] = {}
        # Their markers by context number: whether every finding was shown, the frames then, the markers.
        self._marks: dict[int, tuple[bool, int, dict[str, _Marks]]] = {}

    def set_analysis(self, lints: Sequence[Lint], boundaries: Sequence[Boundary]) -> None:
        """Mark these lints (at their first frame) and boundaries on their lanes; lanes whose findings are
        the same as before are not rebuilt."""
        by_lint: dict[int, list[Lint]] = {}
        for lint in lints:
            if lint.context_number is not None and lint.frames:
                by_lint.setdefault(lint.context_number, []).append(lint)
        by_boundary: dict[int, list[Boundary]] = {}
        for boundary in boundaries:
            by_boundary.setdefault(boundary.context_number, []).append(boundary)
        numbers = by_lint.keys() | by_boundary.keys() | self._lints.keys() | self._boundaries.keys()
        for number in numbers:
            same = by_lint.get(number) == self._lints.get(number) and by_boundary.get(
                number
            ) == self._boundaries.get(number)
            if not same:
                self._marks.pop(number, None)
                if 0 < number <= len(self.lanes):
                    self.invalidate(self.lanes[number - 1])
        self._lints, self._boundaries = by_lint, by_boundary

    def sync(self) -> bool:
        """Bring the lanes up to date with the session: new lanes, new chunk rows, new anomalies. Returns
        whether lanes were added (the layout depends on how many there are)."""
        session = self.session
        added = False
        if len(self.lanes) < len(session.contexts):
            for ctx in session.contexts[len(self.lanes) :]:
                self.lanes.append(_Lane(ctx))
            added = True
        size = session.chunks.size
        if size > self._rows_seen:
            self._ingest(self._rows_seen, size)
        if len(session.anomalies) > self._anomalies_seen:
            for anomaly in session.anomalies[self._anomalies_seen :]:
                number = anomaly.context_number
                if number is not None and anomaly.severity is not Severity.INFO and number <= len(self.lanes):
                    lane = self.lanes[number - 1]
                    lane.anomalies.append(anomaly)
                    self.invalidate(lane)
            self._anomalies_seen = len(session.anomalies)
        return added

    def _ingest(self, first: int, last: int) -> None:
        chunks = self.session.chunks
        ctx_col = chunks.column("context")[first:last]
        t_col = chunks.column("t")[first:last]
        start_col = chunks.column("start")[first:last]
        dur_col = chunks.column("duration")[first:last]
        seg_col = chunks.column("segment")[first:last]
        order = np.argsort(ctx_col, kind="stable")
        sorted_ctx = ctx_col[order]
        bounds = np.flatnonzero(sorted_ctx[1:] != sorted_ctx[:-1]) + 1
        self.lane_of.resize(last)
        self.pos.resize(last)
        for group in np.split(order, bounds):
            index = int(ctx_col[group[0]])
            lane = self.lanes[index]
            before = lane.t.size
            lane.rows.extend(group + first)
            lane.t.extend(t_col[group])
            lane.start.extend(start_col[group])
            lane.duration.extend(dur_col[group])
            lane.a_end.resize(lane.t.size)
            lane.seg.extend(seg_col[group])
            lane.t_end.resize(lane.t.size)
            # The block of the previous last chunk now ends at the earlier of its duration and the next
            # chunk: where the audio runs on, exactly where the next one starts (the summaries and the level
            # of detail rely on blocks never overlapping). In the audio, the next chunk starts where this one
            # ends but for rounding.
            lo = max(0, before - 1)
            t = lane.t.view[lo:]
            d = lane.duration.view[lo:]
            a = lane.start.view[lo:]
            after_t = np.append(t[1:], np.inf)
            after_a = np.append(a[1:], np.inf)
            lane.t_end.view[lo:] = np.minimum(t + d, after_t)
            lane.a_end.view[lo:] = np.minimum(a + d, after_a)
            lane.changed(lo)
            self.lane_of.data[group + first] = index
            self.pos.data[group + first] = np.arange(before, lane.t.size)
            self.invalidate(lane)
        self._rows_seen = last

    def invalidate(self, lane: _Lane) -> None:
        lane.markers = None
        self._overlay_cache = None

    def markers(self, lane: _Lane) -> _Markers:
        if lane.markers is None:
            lane.markers = self._build_markers(lane)
        return lane.markers

    def _build_markers(self, lane: _Lane) -> _Markers:
        ctx = lane.context
        times: dict[str, list[float]] = {k: [] for k in _MARKER_KINDS}
        # Where a marker sits in audio mode when it knows (a boundary); nan: the audio received by then.
        placed: dict[str, list[float]] = {k: [] for k in _MARKER_KINDS}
        refs: dict[str, list[Any]] = {k: [] for k in _MARKER_KINDS}
        ready: list[float] = []
        first: list[float] = []
        end: list[float] = []
        ongoing: list[bool] = []
        ordinal: list[int] = []
        segments: list[Segment] = []
        pos, t_end = self.pos.view, lane.t_end.view
        for seg in ctx.segments:
            for transcript in seg.transcripts:
                times[_TRANSCRIPT].append(transcript.t)
                refs[_TRANSCRIPT].append((seg, transcript))
            if seg.flush_t is not None:
                times[_FLUSH].append(seg.flush_t)
                refs[_FLUSH].append(seg)
            if seg.flush_done_t is not None:
                times[_FLUSH_DONE].append(seg.flush_done_t)
                refs[_FLUSH_DONE].append(seg)
            r = seg.text_ready_t
            if r is None:
                r = seg.first_audio_t
            if r is None:
                continue
            waiting = seg.state in (SegmentState.OPEN, SegmentState.FLUSHING)
            if seg.flush_done_t is not None:
                e = seg.flush_done_t
            elif seg.chunk_rows and not waiting:
                e = float(t_end[pos[seg.chunk_rows[-1]]])
            elif waiting and (seg.flush_t is not None or seg.first_audio_t is not None):
                e = math.nan
            else:
                continue
            ready.append(r)
            first.append(math.nan if seg.first_audio_t is None else seg.first_audio_t)
            end.append(e)
            ongoing.append(math.isnan(e))
            ordinal.append(seg.ordinal)
            segments.append(seg)
        if ctx.done_t is not None:
            times[_DONE].append(ctx.done_t)
            refs[_DONE].append(ctx)
        if ctx.cancel_t is not None:
            times[_CANCEL].append(ctx.cancel_t)
            refs[_CANCEL].append(ctx)
        frames = self.session.frames
        for anomaly in lane.anomalies:
            at = frames.time(anomaly.frames[0]) if len(anomaly.frames) else ctx.end_t
            if at is None:
                continue
            kind = _ERROR if anomaly.severity is Severity.ERROR else _WARNING
            times[kind].append(at)
            refs[kind].append(anomaly)
        for kind, (marked, where, found) in self._finding_marks(ctx.number, ctx.context_id).items():
            times[kind].extend(marked)
            placed[kind].extend(where)
            refs[kind].extend(found)
        for kind in _MARKER_KINDS:
            placed[kind].extend([math.nan] * (len(times[kind]) - len(placed[kind])))
        sorted_times: dict[str, FloatArray] = {}
        sorted_audio: dict[str, FloatArray] = {}
        sorted_refs: dict[str, list[Any]] = {}
        ready_t = np.asarray(ready, dtype=np.float64)
        first_t = np.asarray(first, dtype=np.float64)
        end_t = np.asarray(end, dtype=np.float64)
        # Every time that needs an audio position, looked up in one call: a lane has a dozen kinds.
        everything = np.concatenate([np.asarray(times[k], dtype=np.float64) for k in _MARKER_KINDS])
        audio = lane.audio_at(np.concatenate((everything, ready_t, first_t, end_t)))
        at = 0
        for kind in _MARKER_KINDS:
            n = len(times[kind])
            values = everything[at : at + n]
            order = np.argsort(values, kind="stable")
            sorted_times[kind] = values[order]
            fixed = np.asarray(placed[kind], dtype=np.float64)[order]
            sorted_audio[kind] = np.where(np.isnan(fixed), audio[at : at + n][order], fixed)
            sorted_refs[kind] = [refs[kind][i] for i in order]
            at += n
        ready_audio, first_audio, end_audio = np.split(audio[at:], [len(ready), 2 * len(ready)])
        every = np.concatenate([sorted_times[k] for k in _MARKER_KINDS])
        every_audio = np.concatenate([sorted_audio[k] for k in _MARKER_KINDS])
        kinds = np.concatenate(
            [np.full(len(sorted_times[k]), n, dtype=np.int64) for n, k in enumerate(_MARKER_KINDS)]
        )
        order = np.argsort(every, kind="stable")
        still = np.asarray(ongoing, dtype=bool)
        received = float(lane.a_end.view[-1]) if lane.a_end.size else 0.0
        return _Markers(
            sorted_times,
            sorted_audio,
            sorted_refs,
            every[order],
            kinds[order],
            every_audio[order],
            ready_t,
            first_t,
            end_t,
            still,
            np.asarray(ordinal, dtype=np.int64),
            segments,
            ready_audio,
            first_audio,
            np.where(still, received, end_audio),
        )

    def overlay(self) -> _Overlay:
        """Every lane's markers and brackets as flat arrays (rebuilt when any lane changes)."""
        if self._overlay_cache is None:
            marks = [self.markers(lane) for lane in self.lanes]
            n_marks = [len(m.all_times) for m in marks]
            n_brackets = [len(m.ready) for m in marks]
            lane_ids = np.arange(len(marks), dtype=np.int64)
            bases = np.asarray([lane.base() for lane in self.lanes], dtype=np.int64)

            def cat(name: str) -> npt.NDArray[Any]:
                return np.concatenate([getattr(m, name) for m in marks]) if marks else np.zeros(0)

            b_lane = np.repeat(lane_ids, n_brackets)
            self._overlay_cache = _Overlay(
                np.asarray([lane.origin for lane in self.lanes], dtype=np.float64),
                np.repeat(lane_ids, n_marks),
                cat("all_kinds").astype(np.int64),
                cat("all_times"),
                cat("all_audio"),
                b_lane,
                cat("ordinal").astype(np.int64) + bases[b_lane],
                cat("ready"),
                cat("first"),
                cat("end"),
                cat("ongoing").astype(bool),
                cat("ready_audio"),
                cat("first_audio"),
                cat("end_audio"),
            )
        return self._overlay_cache

    def _finding_marks(self, number: int, context_id: str) -> dict[str, _Marks]:
        """The markers of the findings filed under context ``number`` (when they are about this session's
        context), by kind. Kept until :meth:`set_analysis` changes them: a lane's other markers are built
        again with every chunk it gets, and a long context has thousands of boundaries."""
        count = len(self.session.frames)
        kept = self._marks.get(number)
        if kept is not None and (kept[0] or kept[1] == count):
            return kept[2]
        marks: dict[str, _Marks] = {kind: ([], [], []) for kind in (_ADVICE, _BOUNDARY, _OUTLIER)}
        lints = self._lints.get(number, [])
        boundaries = self._boundaries.get(number, [])
        if not self._matches(number, context_id):
            lints, boundaries = [], []
        frames = self.session.frames
        shown_lints = [lint for lint in lints if lint.frames[0] < count]
        marks[_ADVICE][0].extend(_times(frames, [lint.frames[0] for lint in shown_lints]))
        marks[_ADVICE][2].extend(shown_lints)
        # Where the segment after a boundary starts: its first chunk's arrival, its first sample.
        shown = [b for b in boundaries if b.frames[1] < count]
        for boundary, at in zip(shown, _times(frames, [b.frames[1] for b in shown]), strict=True):
            at_times, places, found = marks[_OUTLIER if boundary.outlier else _BOUNDARY]
            at_times.append(at)
            places.append(boundary.at_s)
            found.append(boundary)
        # Findings of frames not here yet are looked at again once there are more frames.
        self._marks[number] = (len(shown_lints) == len(lints) and len(shown) == len(boundaries), count, marks)
        return marks

    def _matches(self, number: int, context_id: str) -> bool:
        """Whether the findings filed under context ``number`` are about this session's context of that
        number (findings of a session shown before are not)."""
        found: list[Lint] | list[Boundary] = self._lints.get(number) or self._boundaries.get(number) or []
        return all(item.context_id == context_id for item in found)

    def data_bounds(self, mode: AxisMode, shown: Sequence[_Lane] | None = None) -> tuple[float, float] | None:
        """Where the data starts and ends on the axis of ``mode``: of every lane, or of the lanes ``shown``
        (then from their contexts alone, not the session's other frames)."""
        if shown is not None:
            return self._bounds_of(mode, shown)
        lanes = [lane for lane in self.lanes if lane.t.size]
        if mode is AxisMode.AUDIO:
            if not lanes:
                return None
            return 0.0, max(float(lane.a_end.view[-1]) for lane in lanes)
        session = self.session
        if not session.contexts:
            return None
        if mode is AxisMode.SINCE_SEND:
            return self._bounds_of(mode, self.lanes)
        lo = min(ctx.first_t for ctx in session.contexts)
        hi = max([session.duration, *(float(lane.t_end.view[-1]) for lane in lanes)])
        return lo, hi

    def _bounds_of(self, mode: AxisMode, shown: Sequence[_Lane]) -> tuple[float, float] | None:
        if not shown:
            return None
        heard = [lane for lane in shown if lane.t.size]
        if mode is AxisMode.AUDIO:
            return (0.0, max(float(lane.a_end.view[-1]) for lane in heard)) if heard else None
        # A context reaches its last frame, or now while it goes on; its lane, its last block's end.
        session = self.session
        frames = session.frames
        ends = [
            (
                lane.context,
                session.duration if not lane.context.finished else frames.time(lane.context.frames[-1]),
            )
            for lane in shown
            if lane.context.frames
        ]
        if mode is AxisMode.SINCE_SEND:
            # Every lane starts at 0; the longest reaches its last frame (or now, while it goes on).
            reach = [end - ctx.first_t for ctx, end in ends]
            reach += [float(lane.t_end.view[-1]) - lane.origin for lane in heard]
            return 0.0, max([0.0, *reach])
        lo = min(lane.context.first_t for lane in shown)
        hi = max([lo, *(end for _, end in ends), *(float(lane.t_end.view[-1]) for lane in heard)])
        return lo, hi

    def segment_extent(self, segment: Segment, mode: AxisMode) -> tuple[float, float] | None:
        index = segment.context.number - 1
        lane = self.lanes[index] if index < len(self.lanes) else None
        if lane is None or lane.context is not segment.context:
            return None
        if segment.chunk_rows:
            pos = self.pos.view
            first = lane.span(mode, int(pos[segment.chunk_rows[0]]))
            last = lane.span(mode, int(pos[segment.chunk_rows[-1]]))
            return first[0], last[1]
        times = [t for t in (segment.text_ready_t, segment.flush_t, segment.flush_done_t) if t is not None]
        if not times:
            return None
        mapped = lane.to_axis(mode, np.asarray([min(times), max(times)], dtype=np.float64))
        return float(mapped[0]), float(mapped[1])


def _times(frames: FrameStore, indices: list[int]) -> list[float]:
    """The times of frames ``indices``, read from the time column at once."""
    found: list[float] = frames.column("t")[np.asarray(indices, dtype=np.int64)].tolist()
    return found
