"""Where the timeline draws: the plot, the lane gutter, the ruler and the legend, the rows inside a lane,
and the mapping from axis values to pixel columns."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QRect
from PySide6.QtGui import QFont, QFontMetrics

from flushscope.ui.timeline.model.lanes import FloatArray, IntArray

_LANE_MIN, _LANE_MAX = 30, 56


@dataclass(frozen=True)
class Geometry:
    """Where the timeline's parts are in the widget (the plot, the gutter's width, the ruler's height, the
    legend), how tall a lane is, how far the lanes are scrolled and how many there are."""

    plot: QRect
    gutter: int
    ruler: int
    legend: QRect
    lane_h: int
    scroll: int
    lanes: int

    def lane_top(self, index: int) -> int:
        return self.plot.top() + index * self.lane_h - self.scroll

    def visible_lanes(self) -> range:
        if self.lanes == 0:
            return range(0)
        first = max(0, self.scroll // self.lane_h)
        last = min(self.lanes, (self.scroll + self.plot.height()) // self.lane_h + 1)
        return range(first, last)

    def lane_at(self, y: int) -> int | None:
        if not self.plot.top() <= y <= self.plot.bottom() or self.lanes == 0:
            return None
        index = (y - self.plot.top() + self.scroll) // self.lane_h
        return index if 0 <= index < self.lanes else None

    # Rows inside a lane: markers on top, blocks in the middle, the segment bracket at the bottom.
    def marker_y(self, index: int) -> int:
        return self.lane_top(index) + 1

    def band(self, index: int) -> tuple[int, int]:
        top = self.lane_top(index)
        return top + 13, top + self.lane_h - 9

    def bracket_y(self, index: int) -> int:
        return self.lane_top(index) + self.lane_h - 5


def lay_out(
    font: QFont, w: int, h: int, lanes: int, scroll: int, legend_rows: int = 2, *, clients: bool = False
) -> Geometry:
    """The geometry of a widget ``w`` by ``h`` pixels showing ``lanes`` lanes, scrolled down by ``scroll``
    pixels (clamped to what the lanes allow), with a legend of ``legend_rows`` rows of text. ``clients``:
    some lanes are labelled with the app that opened them (recorded by the proxy), which takes a wider
    gutter."""
    fm = QFontMetrics(font)
    gutter = max(130, fm.horizontalAdvance("M") * 13)
    if clients:
        # Room for "conn 2 · cartesia-python/4.2.0 :54321", but never more than a quarter of the timeline.
        gutter = max(gutter, min(fm.horizontalAdvance("M") * 25, w // 4))
    ruler = fm.height() + 10
    row = fm.height() + 6
    legend_h = legend_rows * row + 6
    plot_h = max(1, h - ruler - legend_h)
    lane_h = _LANE_MAX if lanes == 0 else max(_LANE_MIN, min(_LANE_MAX, plot_h // lanes))
    plot = QRect(gutter, ruler, max(1, w - gutter), plot_h)
    legend = QRect(0, ruler + plot_h, w, legend_h)
    max_scroll = max(0, lanes * lane_h - plot_h)
    scroll = min(max(0, scroll), max_scroll)
    return Geometry(plot, gutter, ruler, legend, lane_h, scroll, lanes)


def plot_xs(values: FloatArray, geo: Geometry, v0: float, v1: float) -> FloatArray:
    """Widget x of axis values when the plot shows [v0, v1]."""
    scale = geo.plot.width() / (v1 - v0)
    out: FloatArray = (values - v0) * scale + geo.plot.left()
    return out


def int_rects(x: IntArray, y: IntArray, w: IntArray, h: IntArray) -> list[QRect]:
    """QRects from integer columns. Integer rectangles take Qt's fast fill path: filling them is an order of
    magnitude cheaper than QRectF, and building them is the only per-item Python work left in a paint."""
    return list(map(QRect, x.tolist(), y.tolist(), w.tolist(), h.tolist()))
