"""Timeline paint time on a large session: the level of detail from per-lane summaries against the one
before them (a binary search of every pixel column in the chunks, one rectangle per run), in the same run.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/timeline.py [--chunks N] [--paints P]

Builds a session of ``--chunks`` chunks (100,000 by default) over 20 contexts in segments of 100 chunks (more
chunks: more segments per context, as a longer session has; all fed as frames through ``Session.add_text``, a
million in about half a minute), renders the timeline offscreen at 1600x900 at six zooms from everything to
about 50 chunks, ``--paints`` paints each (every other one panned by a pixel, so that nothing drawn can be
reused from the paint before), and prints p50/p95 paint times of both views. Markers, brackets, ruler and
legend are the same code in both. Then the summaries' size, and what keeping them up to date costs (every
level of every lane's arrival summary) when rows arrive 1,000 at a time (per chunk) or 20 at a time (per
batch, a tick of the window at a live pace). The last line gives the before/after ratios of p95.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from flushscope.core.frames import Direction
from flushscope.core.model.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.palette import FLUSH_COLOUR_COUNT
from flushscope.ui.timeline import TimelineView
from flushscope.ui.timeline.blocks import draw_blocks
from flushscope.ui.timeline.layout import Geometry, int_rects
from flushscope.ui.timeline.model.lanes import AxisMode, IntArray, Lane
from flushscope.ui.timeline.model.lod import EXACT_PX, Blocks, rounded_columns
from flushscope.ui.timeline.model.summary import Pyramid
from flushscope.ui.timeline.theme import Theme

CONTEXTS = 20
CHUNKS_PER_SEGMENT = 100
SIZE = (1600, 900)

FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}
CHUNK_AUDIO = base64.b64encode(bytes(640)).decode()  # 320 samples: 40 ms at 8 kHz


def build_session(chunks: int) -> Session:
    """Frames of 20 overlapping contexts: per segment a transcript, a flush, 100 chunks 10 ms apart (4x
    faster than real time, like the service) and a flush_done; then the end and done. As many segments
    per context as make about ``chunks`` chunks."""
    segments_per_context = max(1, round(chunks / (CONTEXTS * CHUNKS_PER_SEGMENT)))
    events: list[tuple[float, Direction, str]] = []
    for c in range(CONTEXTS):
        ctx = f"ctx-{c:02d}"
        t = 0.5 + c * 3.0
        request = {
            "context_id": ctx,
            "model_id": "sonic-3",
            "voice": {"mode": "id", "id": "v"},
            "output_format": FORMAT,
            "continue": True,
            "max_buffer_delay_ms": 0,
        }
        for k in range(segments_per_context):
            fid = k + 1
            events.append(
                (t, Direction.SEND, json.dumps({**request, "transcript": f"Sentence {fid} of {ctx}. "}))
            )
            events.append(
                (t + 0.001, Direction.SEND, json.dumps({**request, "transcript": "", "flush": True}))
            )
            first = t + 0.2
            head = f'{{"type":"chunk","context_id":"{ctx}","status_code":206,"done":false,"step_time":11.5,'
            for j in range(CHUNKS_PER_SEGMENT):
                events.append(
                    (first + j * 0.01, Direction.RECV, f'{head}"flush_id":{fid},"data":"{CHUNK_AUDIO}"}}')
                )
            closed = first + CHUNKS_PER_SEGMENT * 0.01
            done = {
                "type": "flush_done",
                "context_id": ctx,
                "status_code": 206,
                "done": False,
                "flush_id": fid,
            }
            events.append((closed, Direction.RECV, json.dumps({**done, "flush_done": True})))
            t = closed + 0.1
        events.append((t, Direction.SEND, json.dumps({**request, "transcript": "", "continue": False})))
        events.append(
            (
                t + 0.05,
                Direction.RECV,
                json.dumps({"type": "done", "context_id": ctx, "status_code": 206, "done": True}),
            )
        )
    events.sort(key=lambda e: e[0])
    session = Session()
    for t, direction, text in events:
        session.add_text(t, 1, direction, text)
    return session


def _chunk_runs(
    lanes: Sequence[Lane], mode: AxisMode, v0: float, v1: float, left: int, width: int
) -> tuple[IntArray, IntArray, IntArray, IntArray] | None:
    """The level of detail before the summaries: per lane, one binary search of the pixel column edges in
    the chunk starts finds the last chunk starting in each column, which gives the column its colour and its
    reach; neighbouring columns of one segment merge into a run. A lane with fewer chunks in view than one per
    ``EXACT_PX`` pixels draws each chunk, as now."""
    right = left + width
    scale = width / (v1 - v0)
    offset = left + 0.5 - v0 * scale
    edges = v0 + (np.arange(left - 2, right + 3) + 0.5 - left) / scale
    lod: list[tuple[int, IntArray, np.ndarray, IntArray]] = []
    exact: list[tuple[int, np.ndarray, np.ndarray, IntArray]] = []
    for slot, lane in enumerate(lanes):
        starts, ends = lane.spans(mode)
        if not len(starts) or starts[0] >= v1 or ends[-1] < v0:
            continue
        c_lo = int(np.searchsorted(edges, starts[0], "right"))
        c_hi = int(np.searchsorted(edges, starts[-1], "right")) + 1
        below = np.searchsorted(starts, edges[c_lo:c_hi], "left")
        lo, hi = (0 if c_lo > 0 else max(0, int(below[0]) - 1)), int(below[-1])
        if hi <= lo or (hi == lo + 1 and ends[lo] < v0):
            continue
        if (hi - lo) * EXACT_PX <= width:
            exact.append((slot, starts[lo:hi], ends[lo:hi], lane.seg.values[lo:hi] + lane.base()))
        else:
            filled = np.flatnonzero(np.diff(below, prepend=0))
            last = below[filled] - 1
            lod.append((slot, filled + c_lo, ends[last], lane.seg.values[last] + lane.base()))
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
    if lod:
        slot_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in lod])
        col0 = np.concatenate([p[1] for p in lod]) + (left - 2)
        col1 = np.maximum(
            rounded_columns(np.concatenate([p[2] for p in lod]), scale, offset, left, right), col0 + 1
        )
        key = np.concatenate([p[3] for p in lod])
        # Merge touching spans of one key into runs, lanes kept apart by a large shift.
        a, b = col0 + slot_of * (1 << 24), col1 + slot_of * (1 << 24)
        reach = np.maximum.accumulate(b)
        new = np.ones(len(a), dtype=bool)
        new[1:] = (key[1:] != key[:-1]) | (a[1:] > reach[:-1])
        firsts = np.flatnonzero(new)
        r0, r1 = a[firsts], np.maximum.reduceat(b, firsts)
        r1[:-1] = np.minimum(r1[:-1], r0[1:])
        lane_of = slot_of[firsts]
        shift = lane_of * (1 << 24)
        parts.append((lane_of, r0 - shift, r1 - shift, key[firsts]))
    if exact:
        slot_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in exact])
        c0 = rounded_columns(np.concatenate([p[1] for p in exact]), scale, offset, left, right)
        c1 = np.maximum(
            rounded_columns(np.concatenate([p[2] for p in exact]), scale, offset, left, right), c0 + 1
        )
        parts.append((slot_of, c0, np.where(c1 - c0 >= 5, c1 - 1, c1), np.concatenate([p[3] for p in exact])))
    if not parts:
        return None
    slot_of, x0, x1, fid = (np.concatenate([p[k] for p in parts]) for k in range(4))
    return slot_of, x0, x1, fid


class ChunkLodTimeline(TimelineView):
    """The baseline: the timeline with the level of detail it had before the summaries, every run filled as
    its own rectangle, one ``drawRects`` call per colour."""

    def _paint_blocks(
        self, painter: QPainter, geo: Geometry, theme: Theme, lanes: range, grid: IntArray
    ) -> IntArray:
        v0, v1 = self.visible_range()
        visible = [self._lanes[i] for i in lanes]
        runs = _chunk_runs(visible, self.axis_mode(), v0, v1, geo.plot.left(), geo.plot.width())
        if runs is None:
            return np.zeros(0, dtype=np.int64)
        slot_of, x0, x1, fid = runs
        band_top, band_bottom = geo.band(lanes.start)
        top = band_top + slot_of * geo.lane_h
        colour = fid % FLUSH_COLOUR_COUNT
        h = np.full(len(x0), band_bottom - band_top, dtype=np.int64)
        painter.setPen(Qt.PenStyle.NoPen)
        for ci in np.unique(colour).tolist():
            sel = colour == ci
            painter.setBrush(theme.blocks[ci])
            painter.drawRects(int_rects(x0[sel], top[sel], x1[sel] - x0[sel], h[sel]))
        # Labels and the legend's ids as the timeline does them (no rows of pixels to draw).
        none = np.zeros(0, dtype=np.int64)
        blocks = Blocks(none, none.reshape(0, 1), runs, runs)
        return draw_blocks(painter, geo, theme, lanes, visible, blocks, self._plate_cache, self.font(), grid)


def time_paints(
    view: TimelineView, image: QImage, window: tuple[float, float], paints: int
) -> tuple[float, float]:
    """p50 and p95 of ``paints`` paints of ``window``, every other one panned by a pixel."""
    v0, v1 = window
    nudge = (v1 - v0) / view.lane_rect(0).width()
    view.set_visible_range(v0, v1)
    view.render(image)  # warm-up: caches, fonts
    samples = []
    for k in range(paints):
        view.set_visible_range(v0 + nudge * (k % 2), v1 + nudge * (k % 2))
        start = time.perf_counter()
        view.render(image)
        samples.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def summary_upkeep(view: TimelineView, batch: int, rows: int) -> tuple[float, float]:
    """Keeping every lane's arrival summary (all its levels) up to date as the first ``rows`` chunk rows of
    the session arrive ``batch`` at a time, each lane's last block cut short by the next chunk as in the lane
    cache: microseconds per chunk, and per batch (a tick of the window)."""
    lanes = view._cache.lanes
    order = view.session.chunks.column("context")[:rows]
    fresh = [Pyramid() for _ in lanes]
    seen = np.zeros(len(lanes), dtype=np.int64)
    started = time.perf_counter()
    for first in range(0, len(order), batch):
        counts = seen + np.bincount(order[first : first + batch], minlength=len(lanes))
        for i in np.flatnonzero(counts != seen).tolist():
            lane, n = lanes[i], int(counts[i])
            fresh[i].changed(max(0, int(seen[i]) - 1))
            fresh[i].sync(lane.t.values[:n], lane.t_end.values[:n], lane.seg.values[:n])
        seen = counts
    spent = (time.perf_counter() - started) * 1e6
    return spent / max(1, len(order)), spent / max(1, -(-len(order) // batch))


def summary_bytes(view: TimelineView) -> float:
    """Bytes of summary rows per chunk, both axes built in full."""
    lanes = view._cache.lanes
    for lane in lanes:
        lane.summary(AxisMode.ARRIVAL)
        lane.summary(AxisMode.AUDIO)
    chunks = sum(len(lane.t) for lane in lanes)
    count = sum(len(level) for lane in lanes for p in (lane.arrival, lane.audio) for level in p.levels)
    return count * 8 / max(1, chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the session (default 100000)")
    parser.add_argument("--paints", type=int, default=40, help="paints per zoom and view (default 40)")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    started = time.perf_counter()
    session = build_session(args.chunks)
    built = time.perf_counter() - started
    print(
        f"session: {session.chunks.size} chunks, {sum(len(c.segments) for c in session.contexts)} segments, "
        f"{len(session.contexts)} contexts, {len(session.frames)} frames, built in {built:.1f} s"
    )
    bridge = SessionBridge(session)
    selection = Selection()
    views = {"summary": TimelineView(bridge, selection), "before": ChunkLodTimeline(bridge, selection)}
    image = QImage(*SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    t = session.chunks.column("t")
    for view in views.values():
        view.resize(*SIZE)
        view.set_follow(False)
        view.fit_all()
    fit = views["summary"].visible_range()
    lo, hi = float(t[0]), float(t[-1])
    centre = lo + (hi - lo) * 0.5
    # Deep zoom: a window around the middle holding about 50 chunks (all lanes together).
    rate = np.searchsorted(t, centre + 1.0) - np.searchsorted(t, centre - 1.0)
    deep = 50 / (rate / 2.0)
    zooms: dict[str, tuple[float, float]] = {"fit-all": fit}
    for part in (4, 20, 100, 500):
        span = (hi - lo) / part
        zooms["mid (1/20)" if part == 20 else f"1/{part}"] = (centre - span / 2, centre + span / 2)
    zooms["deep (~50 chunks)"] = (centre - deep / 2, centre + deep / 2)
    results: dict[tuple[str, str], tuple[float, float]] = {}
    for zoom, window in zooms.items():
        visible = int(np.count_nonzero((t >= window[0]) & (t <= window[1])))
        for name, view in views.items():
            results[(zoom, name)] = time_paints(view, image, window, args.paints)
        now, before = results[(zoom, "summary")], results[(zoom, "before")]
        print(
            f"{zoom:>18}: {visible:>7} chunks visible | summary p50 {now[0]:6.2f} ms p95 {now[1]:6.2f} ms"
            f" | before p50 {before[0]:7.2f} ms p95 {before[1]:7.2f} ms"
        )
    rows = session.chunks.size
    burst = summary_upkeep(views["summary"], 1000, rows)
    pace = summary_upkeep(views["summary"], 20, min(rows, 100_000))
    print(
        f"summaries: {summary_bytes(views['summary']):.1f} bytes per chunk (both axes); kept up to date "
        f"(all levels, all lanes): {burst[0]:.2f} us per chunk arriving 1000 rows at a time, "
        f"{pace[1] / 1000:.2f} ms per 20 rows (about one per lane)"
    )
    ratios = ", ".join(
        f"{zoom} {results[(zoom, 'before')][1] / results[(zoom, 'summary')][1]:.1f}x" for zoom in zooms
    )
    print(f"before/summary p95: {ratios}")
    del app


if __name__ == "__main__":
    main()
