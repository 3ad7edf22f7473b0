"""Drawing the timeline's chunk blocks from their pixel runs (see :mod:`.lod`), with flush_id labels.

Rectangles are integer (``QRect``: Qt's fast fill path), filled with one ``drawRects`` call per colour for
all lanes; labels are pre-drawn plates, at most ``_LABEL_CAP`` of them per paint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter

from flushscope.ui.palette import FLUSH_COLOUR_COUNT, text_on
from flushscope.ui.timeline.lanes import IntArray, _Lane
from flushscope.ui.timeline.layout import _Geometry, _rects
from flushscope.ui.timeline.theme import _Theme

_LABEL_CAP = 200  # at most this many flush_id labels inside blocks per paint


def _draw_blocks(
    painter: QPainter,
    geo: _Geometry,
    theme: _Theme,
    lanes: range,
    visible: Sequence[_Lane],
    runs: tuple[IntArray, IntArray, IntArray, IntArray],
    plates: dict[tuple[str, int, int], QImage],
    font: QFont,
) -> set[str]:
    """Fill the pixel runs of the ``visible`` lanes (lane indexes ``lanes``) and label the wide ones;
    returns the flush_id labels in view."""
    slot_of, x0, x1, fid = runs
    left = geo.plot.left()
    band_top, band_bottom = geo.band(lanes.start)
    top = band_top + slot_of * geo.lane_h
    colour = fid % FLUSH_COLOUR_COUNT
    h = np.full(len(x0), band_bottom - band_top, dtype=np.int64)
    painter.setPen(Qt.PenStyle.NoPen)
    for ci in np.unique(colour).tolist():
        sel = colour == ci
        painter.setBrush(theme.blocks[ci])
        painter.drawRects(_rects(x0[sel], top[sel], x1[sel] - x0[sel], h[sel]))
    # One entry per stretch of a segment: the legend's ids and, where there is room, a label.
    change = np.ones(len(fid), dtype=bool)
    change[1:] = (fid[1:] != fid[:-1]) | (slot_of[1:] != slot_of[:-1])
    firsts = np.flatnonzero(change)
    lasts = np.concatenate((firsts[1:], [len(fid)])) - 1
    known = np.asarray([lane.context.base is not None for lane in visible], dtype=bool)[slot_of[firsts]]
    names = {(int(f), bool(k)) for f, k in zip(fid[firsts].tolist(), known.tolist(), strict=True)}
    if band_bottom - band_top >= 12:
        span0 = np.maximum(x0[firsts], left)
        wide = np.flatnonzero(x1[lasts] - span0 >= 30)[:_LABEL_CAP]
        for j in wide.tolist():
            f, k = int(fid[firsts[j]]), bool(known[j])
            plate = _plate(
                plates,
                font,
                str(f) if k else f"~{f}",
                f % FLUSH_COLOUR_COUNT,
                band_bottom - band_top - 2,
                theme,
            )
            a = int(span0[j])
            if int(x1[lasts[j]]) - a >= plate.width() + 2:
                painter.drawImage(QPoint(a + 1, int(top[firsts[j]]) + 1), plate)
    return {str(f) if k else f"~{f}" for f, k in names}


def _plate(
    plates: dict[tuple[str, int, int], QImage],
    font: QFont,
    text: str,
    colour: int,
    height: int,
    theme: _Theme,
) -> QImage:
    """A flush_id label on a solid plate of its block colour (so the seams between chunks do not cut
    through the digits), drawn once per id, colour and height and kept in ``plates``."""
    key = (text, colour, height)
    plate = plates.get(key)
    if plate is None:
        font = QFont(font)
        font.setPointSizeF(max(6.0, font.pointSizeF() * 0.85))
        fm = QFontMetrics(font)
        fill = theme.blocks[colour]
        plate = QImage(fm.horizontalAdvance(text) + 6, height, QImage.Format.Format_ARGB32_Premultiplied)
        plate.fill(fill)
        p = QPainter(plate)
        p.setFont(font)
        p.setPen(text_on(fill))
        p.drawText(plate.rect(), Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        plates[key] = plate
    return plate
