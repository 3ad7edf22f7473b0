"""Timeline paint time on a large session, with and without level of detail.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/timeline.py

Builds a session of 100,000 chunks in 1,000 segments over 20 contexts (all fed as frames through
``Session.add_text``), renders the timeline offscreen at 1600x900 at three zooms (everything, about a
twentieth of the time range, about 50 chunks), 50 paints each, and prints p50/p95 paint times. The same
paints with a naive block drawing (one ``fillRect`` per visible chunk) are the baseline; the last line
gives the naive/LOD ratios of p95.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

import numpy as np
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QApplication

from flushscope.core.frames import Direction
from flushscope.core.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.palette import FLUSH_COLOUR_COUNT
from flushscope.ui.timeline import TimelineView
from flushscope.ui.timeline.layout import _Geometry
from flushscope.ui.timeline.theme import _Theme

CONTEXTS = 20
SEGMENTS_PER_CONTEXT = 50
CHUNKS_PER_SEGMENT = 100
PAINTS = 50
SIZE = (1600, 900)

FORMAT = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}
CHUNK_AUDIO = base64.b64encode(bytes(640)).decode()  # 320 samples: 40 ms at 8 kHz


def build_session() -> Session:
    """Frames of 20 overlapping contexts: per segment a transcript, a flush, 100 chunks 10 ms apart (4x
    faster than real time, like the service) and a flush_done; then the end and done."""
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
        for k in range(SEGMENTS_PER_CONTEXT):
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


class NaiveTimeline(TimelineView):
    """The baseline: every visible chunk filled with its own ``fillRect`` call, no level of detail."""

    def _paint_blocks(self, painter: QPainter, geo: _Geometry, theme: _Theme, lanes: range) -> set[str]:
        v0, v1 = self.visible_range()
        left = geo.plot.left()
        scale = geo.plot.width() / (v1 - v0)
        for i in lanes:
            lane = self._lanes[i]
            i0, i1 = self._visible_slice(lane, v0, v1)
            starts, ends = lane.spans(self.axis_mode())
            top, bottom = geo.band(i)
            base = lane.base()
            colours: list[QColor] = theme.blocks
            for s, e, seg in zip(
                starts[i0:i1].tolist(), ends[i0:i1].tolist(), lane.seg.view[i0:i1].tolist(), strict=True
            ):
                x0 = (s - v0) * scale + left
                x1 = max(x0 + 1, (e - v0) * scale + left)
                painter.fillRect(
                    QRectF(x0, top, x1 - x0, bottom - top), colours[(base + seg) % FLUSH_COLOUR_COUNT]
                )
        return set()


def time_paints(view: TimelineView, image: QImage) -> tuple[float, float]:
    view.render(image)  # warm-up: caches, fonts
    samples = []
    for _ in range(PAINTS):
        start = time.perf_counter()
        view.render(image)
        samples.append((time.perf_counter() - start) * 1000)
    return float(np.percentile(samples, 50)), float(np.percentile(samples, 95))


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    started = time.perf_counter()
    session = build_session()
    built = time.perf_counter() - started
    print(
        f"session: {session.chunks.size} chunks, {sum(len(c.segments) for c in session.contexts)} segments, "
        f"{len(session.contexts)} contexts, {len(session.frames)} frames, built in {built:.1f} s"
    )
    bridge = SessionBridge(session)
    selection = Selection()
    views = {"LOD": TimelineView(bridge, selection), "naive": NaiveTimeline(bridge, selection)}
    image = QImage(*SIZE, QImage.Format.Format_ARGB32_Premultiplied)
    t = session.chunks.column("t")
    lo, hi = float(t[0]), float(t[-1])
    mid_centre = lo + (hi - lo) * 0.5
    mid_span = (hi - lo) / 20
    # Deep zoom: a window around the middle holding about 50 chunks (all lanes together).
    rate = np.searchsorted(t, mid_centre + 1.0) - np.searchsorted(t, mid_centre - 1.0)
    deep_span = 50 / (rate / 2.0)
    zooms = {
        "fit-all": None,
        "mid (1/20)": (mid_centre - mid_span / 2, mid_centre + mid_span / 2),
        "deep (~50 chunks)": (mid_centre - deep_span / 2, mid_centre + deep_span / 2),
    }
    results: dict[tuple[str, str], tuple[float, float]] = {}
    for view in views.values():
        view.resize(*SIZE)
        view.set_follow(False)
    for zoom, window in zooms.items():
        visible = 0
        for name, view in views.items():
            if window is None:
                view.fit_all()
            else:
                view.set_visible_range(*window)
            v0, v1 = view.visible_range()
            visible = int(np.count_nonzero((t >= v0) & (t <= v1)))
            results[(zoom, name)] = time_paints(view, image)
        lod, naive = results[(zoom, "LOD")], results[(zoom, "naive")]
        print(
            f"{zoom:>18}: {visible:>6} chunks visible | LOD p50 {lod[0]:6.2f} ms p95 {lod[1]:6.2f} ms"
            f" | naive p50 {naive[0]:7.2f} ms p95 {naive[1]:7.2f} ms"
        )
    ratios = ", ".join(
        f"{zoom} {results[(zoom, 'naive')][1] / results[(zoom, 'LOD')][1]:.1f}x" for zoom in zooms
    )
    print(f"naive/LOD p95: {ratios}")
    del app


if __name__ == "__main__":
    main()
