"""The timeline's lanes kept in step with a session, free of Qt: new lanes, chunk rows and anomalies are
taken in incrementally, and each lane's markers and the flat overlay of all of them are rebuilt only when
something they show changed: when only chunks came, from the walk over the lane's events kept
(:mod:`.mark_layout`). The analysis (lints, flush boundaries) is handed in from outside
(:meth:`LaneCache.set_analysis`) and rebuilds only the lanes whose findings changed."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from flushscope.core.analysis.boundaries import Boundary
from flushscope.core.analysis.lints import Lint
from flushscope.core.growable import GrowableArray
from flushscope.core.model.anomalies import AnomalyKind, Severity
from flushscope.core.model.records import Segment
from flushscope.core.model.session import Session
from flushscope.core.store.frame_store import FrameStore
from flushscope.ui.timeline.model.lanes import AxisMode, Lane, MarkerKind, Markers, Overlay
from flushscope.ui.timeline.model.mark_layout import MarkLayout, Marks, walk


class LaneCache:
    """One :class:`Lane` per context of ``session``, with the maps from chunk rows to lanes."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.lanes: list[Lane] = []
        self.lane_of = GrowableArray(np.int32)  # chunk row -> lane index
        self.pos = GrowableArray(np.int64)  # chunk row -> position in its lane
        self._rows_seen = 0
        self._anomalies_seen = 0
        self._overlay_cache: Overlay | None = None
        # The analysis's findings by context number (lints and boundaries name their context so).
        self._lints: dict[int, list[Lint]] = {}
        self._boundaries: dict[int, list[Boundary]] = {}
        # Their markers by context number: whether every finding was shown, the frames then, the markers.
        self._marks: dict[int, tuple[bool, int, dict[MarkerKind, Marks]]] = {}
        # By lane index: the walk over its context's events, kept while only chunks arrive.
        self._layouts: dict[int, MarkLayout] = {}

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
                self.lanes.append(Lane(ctx))
            added = True
            self._overlay_cache = None
        size = session.chunks.size
        if size > self._rows_seen:
            self._ingest(self._rows_seen, size)
        if len(session.anomalies) > self._anomalies_seen:
            for anomaly in session.anomalies[self._anomalies_seen :]:
                number = anomaly.context_number
                shown = anomaly.severity is not Severity.INFO or anomaly.kind is AnomalyKind.RECORDING_ENDS
                if number is not None and shown and number <= len(self.lanes):
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
            before = len(lane.t)
            lane.rows.extend(group + first)
            lane.t.extend(t_col[group])
            lane.start.extend(start_col[group])
            lane.duration.extend(dur_col[group])
            lane.a_end.resize(len(lane.t))
            lane.seg.extend(seg_col[group])
            lane.t_end.resize(len(lane.t))
            # The block of the previous last chunk now ends at the earlier of its duration and the next
            # chunk: where the audio runs on, exactly where the next one starts (the summaries and the level
            # of detail rely on blocks never overlapping). In the audio, the next chunk starts where this one
            # ends but for rounding.
            lo = max(0, before - 1)
            t = lane.t.values[lo:]
            d = lane.duration.values[lo:]
            a = lane.start.values[lo:]
            after_t = np.append(t[1:], np.inf)
            after_a = np.append(a[1:], np.inf)
            lane.t_end.values[lo:] = np.minimum(t + d, after_t)
            lane.a_end.values[lo:] = np.minimum(a + d, after_a)
            lane.changed(lo)
            self.lane_of.values[group + first] = index
            self.pos.values[group + first] = np.arange(before, len(lane.t))
            self._chunks_came(index, lane, np.unique(seg_col[group]).tolist())
        self._rows_seen = last

    def invalidate(self, lane: Lane) -> None:
        """Something the lane's markers show changed other than its chunks: walk its context again."""
        self._layouts.pop(lane.context.number - 1, None)
        lane.markers = None
        self._overlay_cache = None

    def segments_changed(self, segments: Iterable[Segment]) -> None:
        """These segments were added or changed: their lanes' markers are walked again where what they show
        changed (not where a chunk came alone, which :meth:`sync` follows)."""
        lanes = self.lanes
        for segment in segments:
            index = segment.context.number - 1
            if index < len(lanes):
                layout = self._layouts.get(index)
                if layout is not None and not layout.unchanged(segment):
                    self.invalidate(lanes[index])

    def markers(self, lane: Lane) -> Markers:
        if lane.markers is None:
            ctx = lane.context
            index = ctx.number - 1
            findings = self._finding_marks(ctx.number, ctx.context_id)
            layout = self._layouts.get(index)
            if layout is None or layout.findings is not findings:
                layout = self._layouts[index] = walk(lane, self.session.frames, findings)
            lane.markers = layout.assemble(lane, self.pos.values)
        return lane.markers

    def _chunks_came(self, index: int, lane: Lane, ordinals: list[int]) -> None:
        """Chunks of the segments ``ordinals`` came into lane ``index``: its markers follow them, and are
        walked again if one of those segments changed otherwise (its first audio, say)."""
        lane.markers = None
        self._overlay_cache = None
        layout = self._layouts.get(index)
        if layout is None:
            return
        segments = lane.context.segments
        if all(o < len(segments) and layout.unchanged(segments[o]) for o in ordinals):
            layout.chunks_came(ordinals)
        else:
            self.invalidate(lane)

    def overlay(self) -> Overlay:
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
            self._overlay_cache = Overlay(
                origin=np.asarray([lane.origin for lane in self.lanes], dtype=np.float64),
                lane=np.repeat(lane_ids, n_marks),
                kind=cat("all_kinds").astype(np.int64),
                t=cat("all_times"),
                audio=cat("all_audio"),
                b_lane=b_lane,
                b_fid=cat("ordinal").astype(np.int64) + bases[b_lane],
                ready=cat("ready"),
                first=cat("first"),
                end=cat("end"),
                ongoing=cat("ongoing").astype(bool),
                ready_audio=cat("ready_audio"),
                first_audio=cat("first_audio"),
                end_audio=cat("end_audio"),
            )
        return self._overlay_cache

    def _finding_marks(self, number: int, context_id: str) -> dict[MarkerKind, Marks]:
        """The markers of the findings filed under context ``number`` (when they are about this session's
        context), by kind. Kept until :meth:`set_analysis` changes them: a lane's other markers are walked
        again with each of its events, and a long context has thousands of boundaries."""
        count = len(self.session.frames)
        kept = self._marks.get(number)
        if kept is not None and (kept[0] or kept[1] == count):
            return kept[2]
        kinds = (MarkerKind.ADVICE, MarkerKind.BOUNDARY, MarkerKind.OUTLIER)
        marks: dict[MarkerKind, Marks] = {kind: ([], [], []) for kind in kinds}
        lints = self._lints.get(number, [])
        boundaries = self._boundaries.get(number, [])
        if not self._matches(number, context_id):
            lints, boundaries = [], []
        frames = self.session.frames
        shown_lints = [lint for lint in lints if lint.frames[0] < count]
        marks[MarkerKind.ADVICE][0].extend(_times(frames, [lint.frames[0] for lint in shown_lints]))
        marks[MarkerKind.ADVICE][2].extend(shown_lints)
        # Where the segment after a boundary starts: its first chunk's arrival, its first sample.
        shown = [b for b in boundaries if b.frames[1] < count]
        for boundary, at in zip(shown, _times(frames, [b.frames[1] for b in shown]), strict=True):
            at_times, places, found = marks[MarkerKind.OUTLIER if boundary.outlier else MarkerKind.BOUNDARY]
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

    def data_bounds(self, mode: AxisMode, shown: Sequence[Lane] | None = None) -> tuple[float, float] | None:
        """Where the data starts and ends on the axis of ``mode``: of every lane, or of the lanes ``shown``
        (then from their contexts alone, not the session's other frames)."""
        if shown is not None:
            return self._bounds_of(mode, shown)
        lanes = [lane for lane in self.lanes if lane.t]
        if mode is AxisMode.AUDIO:
            if not lanes:
                return None
            return 0.0, max(float(lane.a_end.values[-1]) for lane in lanes)
        session = self.session
        if not session.contexts:
            return None
        if mode is AxisMode.SINCE_SEND:
            return self._bounds_of(mode, self.lanes)
        lo = min(ctx.first_t for ctx in session.contexts)
        hi = max([session.duration, *(float(lane.t_end.values[-1]) for lane in lanes)])
        return lo, hi

    def _bounds_of(self, mode: AxisMode, shown: Sequence[Lane]) -> tuple[float, float] | None:
        if not shown:
            return None
        heard = [lane for lane in shown if lane.t]
        if mode is AxisMode.AUDIO:
            return (0.0, max(float(lane.a_end.values[-1]) for lane in heard)) if heard else None
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
            reach += [float(lane.t_end.values[-1]) - lane.origin for lane in heard]
            return 0.0, max([0.0, *reach])
        lo = min(lane.context.first_t for lane in shown)
        hi = max([lo, *(end for _, end in ends), *(float(lane.t_end.values[-1]) for lane in heard)])
        return lo, hi

    def activity_bounds(self, mode: AxisMode, shown: Sequence[Lane]) -> tuple[float, float] | None:
        """Where the contexts of the lanes ``shown`` were active on the axis of ``mode``: from the first
        send to the last frame of any of them (or the end of its last block), leaving out the time a
        connection or a window stayed open after them. What Fit shows."""
        heard = [lane for lane in shown if lane.t]
        if mode is AxisMode.AUDIO:
            return (0.0, max(float(lane.a_end.values[-1]) for lane in heard)) if heard else None
        active = [lane for lane in shown if lane.context.frames]
        if not active:
            return None
        frames = self.session.frames
        ends = [
            max(frames.time(lane.context.frames[-1]), float(lane.t_end.values[-1]) if lane.t else -math.inf)
            for lane in active
        ]
        if mode is AxisMode.SINCE_SEND:
            return 0.0, max(0.0, *(end - lane.origin for lane, end in zip(active, ends, strict=True)))
        return min(lane.origin for lane in active), max(ends)

    def segment_extent(self, segment: Segment, mode: AxisMode) -> tuple[float, float] | None:
        index = segment.context.number - 1
        lane = self.lanes[index] if index < len(self.lanes) else None
        if lane is None or lane.context is not segment.context:
            return None
        if segment.chunk_rows:
            pos = self.pos.values
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
