"""The timeline's time axis: tick spacing and labels, the ruler above the plot and the grid lines in it."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter, QPen

from flushscope.ui.timeline.layout import Geometry, int_rects, plot_xs
from flushscope.ui.timeline.model.lanes import AxisMode, FloatArray, IntArray
from flushscope.ui.timeline.theme import Theme

_LABELS_KEPT = 256  # tick label images kept between paints

_AXIS_NAMES = {
    AxisMode.ARRIVAL: "arrival time",
    AxisMode.AUDIO: "audio position",
    AxisMode.SINCE_SEND: "since first send",
}


def ruler_ticks(font: QFont, geo: Geometry, v0: float, v1: float) -> tuple[FloatArray, FloatArray, float]:
    """Major ticks, minor ticks and the major step for the range [v0, v1] across the plot."""
    fm = QFontMetrics(font)
    min_px = max(70, fm.horizontalAdvance("000.000 s") + 16)
    raw = (v1 - v0) * min_px / max(1, geo.plot.width())
    exp = math.floor(math.log10(raw))
    step = 10.0**exp
    for m in (1, 2, 5, 10):
        if m * 10.0**exp >= raw:
            step = m * 10.0**exp
            break
    first = math.ceil(v0 / step)
    count = math.floor(v1 / step) - first + 1
    ticks: FloatArray = (first + np.arange(max(0, count), dtype=np.float64)) * step
    minor_step = step / 5
    mfirst = math.ceil(v0 / minor_step)
    mcount = math.floor(v1 / minor_step) - mfirst + 1
    minor: FloatArray = (mfirst + np.arange(max(0, min(mcount, 2000)), dtype=np.float64)) * minor_step
    return ticks, minor, step


def _tick_label(value: float, step: float, magnitude: float) -> str:
    if abs(value) < step * 1e-6:
        value = 0.0
    if step < 1 and magnitude < 1:
        step_ms = step * 1000
        decimals = max(0, -math.floor(math.log10(step_ms) + 1e-9))
        return f"{value * 1000:.{decimals}f} ms"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f} s"


def grid_columns(geo: Geometry, ticks: FloatArray, v0: float, v1: float) -> IntArray:
    """The x of each grid line (one per major tick)."""
    out: IntArray = np.floor(plot_xs(ticks, geo, v0, v1)).astype(np.int64)
    return out


def paint_grid(
    painter: QPainter, geo: Geometry, theme: Theme, ticks: FloatArray, v0: float, v1: float
) -> None:
    if not len(ticks):
        return
    xs = grid_columns(geo, ticks, v0, v1)
    n = len(xs)
    top = np.full(n, geo.plot.top(), dtype=np.int64)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(theme.grid)
    painter.drawRects(
        int_rects(xs, top, np.ones(n, dtype=np.int64), np.full(n, geo.plot.height(), dtype=np.int64))
    )


def paint_ruler(
    painter: QPainter,
    geo: Geometry,
    theme: Theme,
    font: QFont,
    width: int,
    mode: AxisMode,
    v0: float,
    v1: float,
    ticks: FloatArray,
    minor: FloatArray,
    step: float,
    labels: dict[str, QImage],
) -> None:
    """The ruler across a widget ``width`` pixels wide: what the axis measures over the gutter, ticks and
    their labels over the plot. Labels are drawn once into images kept in ``labels`` (by text; emptied when
    it grows past ``_LABELS_KEPT``): drawing text costs many times more than copying it."""
    ruler = QRect(0, 0, width, geo.ruler)
    painter.fillRect(ruler, theme.window)
    painter.setPen(QPen(theme.grid, 1))
    painter.drawLine(0, geo.ruler - 1, width, geo.ruler - 1)
    fm = QFontMetrics(font)
    axis = _AXIS_NAMES[mode]
    painter.setPen(theme.faint)
    painter.drawText(
        QRect(8, 0, geo.gutter - 12, geo.ruler),
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
        axis,
    )
    plot_l, plot_r = geo.plot.left(), geo.plot.right()
    if len(minor):
        mx = np.floor(plot_xs(minor, geo, v0, v1)).astype(np.int64)
        mx = mx[(mx >= plot_l) & (mx <= plot_r)]
        n = len(mx)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.faint)
        y = np.full(n, geo.ruler - 4, dtype=np.int64)
        painter.drawRects(int_rects(mx, y, np.ones(n, dtype=np.int64), np.full(n, 4, dtype=np.int64)))
    painter.setPen(theme.text)
    painter.setClipRect(QRect(plot_l, 0, geo.plot.width(), geo.ruler))
    if len(labels) > _LABELS_KEPT:
        labels.clear()
    for value, x in zip(ticks.tolist(), plot_xs(ticks, geo, v0, v1).tolist(), strict=True):
        xi = math.floor(x)
        painter.drawLine(xi, geo.ruler - 8, xi, geo.ruler)
        text = _tick_label(value, step, max(abs(v0), abs(v1)))
        image = labels.get(text)
        if image is None:
            image = labels[text] = _render_tick_label(text, fm, geo.ruler - 8, theme, font)
        w = image.width() - 2
        lx = min(max(xi - w // 2, plot_l + 2), plot_r - w - 2)
        painter.drawImage(QPoint(lx, 0), image)
    painter.setClipping(False)


def _render_tick_label(text: str, fm: QFontMetrics, height: int, theme: Theme, font: QFont) -> QImage:
    """A tick's label on the ruler's background, as ``drawText`` would put it at the bottom of a box of
    ``height``."""
    image = QImage(fm.horizontalAdvance(text) + 2, height, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(theme.window)
    painter = QPainter(image)
    painter.setFont(font)
    painter.setPen(theme.text)
    painter.drawText(image.rect(), Qt.AlignmentFlag.AlignBottom, text)
    painter.end()
    return image
