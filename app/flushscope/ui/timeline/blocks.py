"""Drawing the timeline's chunk blocks (see :mod:`.lod`), with flush_id labels.

Each lane is one row of pixel columns (see :mod:`.lod`), coloured with numpy and drawn as a one pixel high
opaque image stretched over the lane's band: one ``drawImage`` per lane, whether its chunks are drawn one by
one or with level of detail. Labels are pre-drawn plates, at most ``_LABEL_CAP`` of them per paint.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QImage, QPainter

from flushscope.ui.look.palette import FLUSH_COLOUR_COUNT, text_on
from flushscope.ui.timeline.layout import Geometry
from flushscope.ui.timeline.model.lanes import IntArray, Lane
from flushscope.ui.timeline.model.lod import MARGIN, NO_AUDIO, Blocks
from flushscope.ui.timeline.theme import Theme

_LABEL_CAP = 200  # at most this many flush_id labels inside blocks per paint


def draw_blocks(
    painter: QPainter,
    geo: Geometry,
    theme: Theme,
    rows: range,
    visible: Sequence[Lane],
    blocks: Blocks,
    plates: dict[tuple[int, bool, int], QImage],
    font: QFont,
    grid: IntArray,
) -> IntArray:
    """Fill the blocks of the ``visible`` lanes (shown at lane rows ``rows``) and label the wide stretches;
    returns the flush_ids in view (see :func:`_legend_ids`). Label plates are kept in ``plates`` by
    flush_id, whether its numbering is known, and band height. Where a band has no audio it shows what the
    plot has there (its lane's stripe or not, and the grid lines at x ``grid``), so that each band goes out
    opaque: Qt stretches an opaque image much faster than one it must blend."""
    left = geo.plot.left()
    band_top, band_bottom = geo.band(rows.start)
    height = band_bottom - band_top
    painter.setPen(Qt.PenStyle.NoPen)
    if len(blocks.row_slots):
        fid = blocks.rows
        count = fid.shape[1]
        origin = left - MARGIN
        # The plot under the bands: per row its lane's stripe or base, and the grid lines.
        back = np.where(
            (rows.start + blocks.row_slots) % 2 == 1,
            np.uint32(theme.stripe.rgba()),
            np.uint32(theme.base.rgba()),
        )
        under = np.repeat(back[:, None], count, axis=1)
        lines = grid[(grid >= origin) & (grid < origin + count)] - origin
        under[:, lines] = np.uint32(theme.grid.rgba())
        argb = np.asarray([c.rgba() for c in theme.blocks], dtype=np.uint32)
        pixels = np.where(fid != NO_AUDIO, argb[fid % FLUSH_COLOUR_COUNT], under)
        for k, slot in enumerate(blocks.row_slots.tolist()):
            row = QImage(pixels[k].data, count, 1, count * 4, QImage.Format.Format_RGB32)
            painter.drawImage(QRect(origin, band_top + slot * geo.lane_h, count, height), row)
    slot_of, x0, x1, fid = blocks.runs
    if not len(fid):
        return _legend_ids(fid, np.zeros(0, dtype=bool))
    top = band_top + slot_of * geo.lane_h
    # One entry per stretch of a segment: the legend's ids and, where there is room, a label.
    change = np.ones(len(fid), dtype=bool)
    change[1:] = (fid[1:] != fid[:-1]) | (slot_of[1:] != slot_of[:-1])
    firsts = np.flatnonzero(change)
    lasts = np.concatenate((firsts[1:], [len(fid)])) - 1
    known = np.asarray([lane.context.base is not None for lane in visible], dtype=bool)[slot_of[firsts]]
    if height >= 12:
        span0 = np.maximum(x0[firsts], left)
        room = x1[lasts] - span0
        wide = np.flatnonzero(room >= 30)[:_LABEL_CAP]
        for f, k, a, r, y in zip(
            fid[firsts][wide].tolist(),
            known[wide].tolist(),
            span0[wide].tolist(),
            room[wide].tolist(),
            top[firsts][wide].tolist(),
            strict=True,
        ):
            plate = plates.get((f, k, height))
            if plate is None:
                plate = plates[(f, k, height)] = _plate(
                    font, str(f) if k else f"~{f}", f % FLUSH_COLOUR_COUNT, height - 2, theme
                )
            if r >= plate.width() + 2:
                painter.drawImage(QPoint(a + 1, y + 1), plate)
    return _legend_ids(fid[firsts], known)


def _legend_ids(fid: IntArray, known: npt.NDArray[np.bool_]) -> IntArray:
    """The flush_ids ``fid`` (whose context's numbering is ``known`` or guessed) each once, in the legend's
    order: by id, a known one before a guessed one of the same number. Coded as ``2 * id`` (known) or
    ``2 * id + 1`` (guessed, shown as ``~id``)."""
    coded = fid * 2 + ~known
    if not len(coded):
        return coded
    low, high = int(coded.min()), int(coded.max())
    if high - low > 1 << 20:
        out: IntArray = np.unique(coded)
        return out
    # Ids of one session lie close together: marking them in a table is quicker than sorting.
    seen = np.zeros(high - low + 1, dtype=bool)
    seen[coded - low] = True
    return np.flatnonzero(seen) + low


def _plate(font: QFont, text: str, colour: int, height: int, theme: Theme) -> QImage:
    """A flush_id label on a solid plate of its block colour (so the seams between chunks do not cut
    through the digits), drawn once per id, numbering and height (the caller keeps it)."""
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
    return plate
