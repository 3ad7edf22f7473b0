"""The timeline's markers (what was sent and received, and what the analysis found) and segment brackets,
rasterised with numpy.

Markers are stamped with numpy into one image row per lane from small pre-drawn sprites, brackets are
rasterised the same way, and each row goes out in one ``drawImage``: a marker or a segment costs no Python
call in a paint. Level of detail: one stamp per kind and pixel column; and where a lane's markers of one kind
are packed closer than ``_DENSE_PX`` pixels on average, each is a tick (the sprite's most opaque pixel of
each row, in one column) rather than the whole sprite, which would only pile up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QImage, QPainter, QPen, QPolygonF

from flushscope.ui.look.palette import FLUSH_COLOUR_COUNT
from flushscope.ui.timeline.layout import Geometry
from flushscope.ui.timeline.model.lanes import (
    AxisMode,
    IntArray,
    MarkerKind,
    Overlay,
)
from flushscope.ui.timeline.theme import Theme

SPRITE_W, SPRITE_H, _SPRITE_C = 11, 12, 5  # marker image size and the column of its time
_BRACKET_H = 7  # height of the bracket row under the blocks
_DENSE_PX = 4  # marks packed closer than this on average (in a lane) are drawn in less detail


@dataclass(frozen=True)
class Sprite:
    """A marker drawn once (antialiased) into a small image, kept as its non-empty pixels for stamping."""

    image: QImage
    dy: IntArray
    dx: IntArray  # relative to the marker's pixel column
    argb: npt.NDArray[np.uint32]
    tick_dy: IntArray  # the tick drawn instead where markers are packed: rows, in the marker's column
    tick_argb: npt.NDArray[np.uint32]


def render_sprite(kind: MarkerKind, theme: Theme) -> Sprite:
    ink, warning, error = theme.text, theme.warning, theme.error
    image = QImage(SPRITE_W, SPRITE_H, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(Qt.PenStyle.NoPen)
    c = _SPRITE_C + 0.5
    if kind is MarkerKind.TRANSCRIPT:  # triangle pointing down at the send time
        p.setBrush(ink)
        p.drawPolygon(QPolygonF([QPointF(c - 4.5, 2), QPointF(c + 4.5, 2), QPointF(c, 10)]))
    elif kind is MarkerKind.FLUSH:  # a bar the height of the row: a flush boundary
        p.fillRect(QRect(_SPRITE_C, 0, 2, SPRITE_H), ink)
    elif kind is MarkerKind.FLUSH_DONE:  # ring
        p.setPen(QPen(ink, 1.7))
        p.drawEllipse(QPointF(c, 6.5), 3.4, 3.4)
    elif kind is MarkerKind.DONE:  # square
        p.fillRect(QRect(_SPRITE_C - 3, 3, 7, 7), ink)
    elif kind is MarkerKind.CANCEL:  # cross
        p.setPen(QPen(ink, 2))
        p.drawLine(QPointF(c - 3.5, 3), QPointF(c + 3.5, 10))
        p.drawLine(QPointF(c - 3.5, 10), QPointF(c + 3.5, 3))
    elif kind is MarkerKind.WARNING:  # triangle pointing up
        p.setBrush(warning)
        p.drawPolygon(QPolygonF([QPointF(c - 5, 11), QPointF(c + 5, 11), QPointF(c, 1.5)]))
    elif kind is MarkerKind.ERROR:  # diamond
        p.setBrush(error)
        p.drawPolygon(QPolygonF([QPointF(c, 0.5), QPointF(c + 5, 6), QPointF(c, 11.5), QPointF(c - 5, 6)]))
    elif kind is MarkerKind.BOUNDARY:  # an I-beam at the seam between two segments' audio
        p.setPen(QPen(theme.faint, 1.5))
        p.drawLine(QPointF(c, 1), QPointF(c, 11))
        p.drawLine(QPointF(c - 3, 1.5), QPointF(c + 3, 1.5))
        p.drawLine(QPointF(c - 3, 10.5), QPointF(c + 3, 10.5))
    elif kind is MarkerKind.OUTLIER:  # an hourglass pinched at the seam: a boundary that stands out
        p.setBrush(warning)
        p.drawPolygon(QPolygonF([QPointF(c - 4.5, 0.5), QPointF(c + 4.5, 0.5), QPointF(c, 6)]))
        p.drawPolygon(QPolygonF([QPointF(c - 4.5, 11.5), QPointF(c + 4.5, 11.5), QPointF(c, 6)]))
    elif kind is MarkerKind.END:  # two bars: the recording stops here
        p.fillRect(QRect(_SPRITE_C - 3, 1, 2, 10), theme.faint)
        p.fillRect(QRect(_SPRITE_C + 2, 1, 2, 10), theme.faint)
    elif kind is MarkerKind.ADVICE:  # a disc: advice on what was sent (the selection colour, lifted on dark)
        p.setBrush(theme.highlight.lighter(150) if theme.dark else theme.highlight)
        p.drawEllipse(QPointF(c, 6), 4, 4)
    p.end()
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32).reshape(SPRITE_H, SPRITE_W)
    dy, dx = np.nonzero(pixels)
    # The tick: per row with any pixel, the most opaque one.
    alpha = pixels >> np.uint32(24)
    rows = np.flatnonzero(alpha.any(axis=1))
    tick = pixels[rows, np.argmax(alpha[rows], axis=1)]
    return Sprite(
        image,
        dy.astype(np.int64),
        dx.astype(np.int64) - _SPRITE_C,
        pixels[dy, dx].copy(),
        rows.astype(np.int64),
        tick.copy(),
    )


def _stamp(
    buf: npt.NDArray[np.uint32],
    slots: IntArray,
    cols: IntArray,
    dy: IntArray,
    dx: IntArray,
    argb: npt.NDArray[np.uint32],
) -> None:
    """Copy a sprite (its pixels at rows ``dy``, columns ``dx`` from the marker's, colours ``argb``) into
    marker rows ``buf[slot]`` at each (slot, column) pair (later stamps win)."""
    _, height, width = buf.shape
    inner = (cols + int(dx.min()) >= 0) & (cols + int(dx.max()) < width)
    if inner.any():
        # Sprites wholly inside the row: no bounds test, one scatter per sprite pixel (cheaper than one index
        # per stamped pixel at once: the index arrays stay small).
        anchor = slots[inner] * (height * width) + cols[inner]
        flat = buf.reshape(-1)
        for offset, colour in zip((dy * width + dx).tolist(), argb.tolist(), strict=True):
            flat[anchor + offset] = colour
    if not inner.all():
        edge = ~inner
        x = cols[edge][:, None] + dx[None, :]
        inside = (x >= 0) & (x < width)
        lane = np.broadcast_to(slots[edge][:, None], x.shape)[inside]
        y = np.broadcast_to(dy[None, :], x.shape)[inside]
        buf[lane, y, x[inside]] = np.broadcast_to(argb[None, :], x.shape)[inside]


def _fill_runs(
    buf: npt.NDArray[np.uint32],
    slots: IntArray,
    rows: slice,
    start: IntArray,
    stop: IntArray,
    argb: npt.NDArray[np.uint32],
    dotted: bool = False,
) -> None:
    """Fill columns [start, stop) of ``buf[slot, rows]`` for every run (dotted: every other column)."""
    width = buf.shape[2]
    a = np.clip(start, 0, width)
    lengths = np.clip(stop, 0, width) - a
    keep = np.flatnonzero(lengths > 0)
    if len(keep) <= 64:
        # Few runs (a deep zoom: long bars): slices beat building an index per pixel.
        step = 2 if dotted else 1
        for j in keep.tolist():
            first = int(a[j])
            first += (first % 2) if dotted else 0
            buf[int(slots[j]), rows, first : int(a[j] + lengths[j]) : step] = argb[j]
        return
    a, lengths, slots, argb = a[keep], lengths[keep], slots[keep], argb[keep]
    owner = np.repeat(np.arange(len(a)), lengths)
    x = a[owner] + np.arange(len(owner)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    if dotted:
        on = x % 2 == 0
        owner, x = owner[on], x[on]
    for row in range(*rows.indices(buf.shape[1])):
        buf[slots[owner], row, x] = argb[owner]


def paint_brackets(
    painter: QPainter,
    geo: Geometry,
    theme: Theme,
    ov: Overlay,
    rows: range,
    lane_rows: IntArray,
    mode: AxisMode,
    v0: float,
    v1: float,
    now: float,
) -> None:
    """Under each segment's blocks: a dotted line while waiting for audio (from the text being ready to
    the first chunk), then a bar in the segment's colour until flush_done, with ticks at both ends; a bar
    still waiting reaches ``now``. None in a lane whose segments are packed closer than ``_DENSE_PX``
    pixels on average. Rasterised with numpy into one strip image per lane (a segment costs no
    Python call), for the lanes shown at rows ``rows``; ``lane_rows`` gives the row each lane of the overlay
    is shown at (-1: hidden)."""
    if not len(ov.b_lane):
        return
    if mode is AxisMode.AUDIO:
        ready, first, end = ov.ready_audio, ov.first_audio, ov.end_audio
    else:
        ready, first = ov.ready, ov.first
        end = np.where(ov.ongoing, now, ov.end)
        if mode is AxisMode.SINCE_SEND:
            shift = ov.origin[ov.b_lane]
            ready, first, end = ready - shift, first - shift, end - shift
    row = lane_rows[ov.b_lane]
    sel = np.flatnonzero((row >= rows.start) & (row < rows.stop) & (end >= v0) & (ready <= v1))
    if not len(sel) or not len(rows):
        return
    width = geo.plot.width()
    slot = row[sel] - rows.start
    # Where a lane's segments are packed closer than a few pixels, a bracket could show no wait and no end
    # of its own, only its colour, which the blocks above already show: such lanes have none.
    sparse = (np.bincount(slot, minlength=len(rows)) * _DENSE_PX <= width)[slot]
    sel, slot = sel[sparse], slot[sparse]
    if not len(sel):
        return
    scale = width / (v1 - v0)
    r = np.clip((ready[sel] - v0) * scale, -2, width + 2).astype(np.int64)
    e = np.clip((end[sel] - v0) * scale, -2, width + 2).astype(np.int64)
    f_x = (first[sel] - v0) * scale
    f = np.where(np.isnan(f_x), e, np.clip(np.nan_to_num(f_x), -2, width + 2)).astype(np.int64)
    argb = np.asarray([c.rgba() for c in theme.blocks], dtype=np.uint32)[ov.b_fid[sel] % FLUSH_COLOUR_COUNT]
    faint = np.uint32(theme.faint.rgba())
    buf = np.zeros((len(rows), _BRACKET_H, width), dtype=np.uint32)
    mid = _BRACKET_H // 2
    _fill_runs(buf, slot, slice(mid, mid + 1), r, f, np.full(len(r), faint), dotted=True)
    # The bar, three rows high: one row filled, copied to the others.
    bars = np.zeros((len(rows), 1, width), dtype=np.uint32)
    _fill_runs(bars, slot, slice(0, 1), f, np.maximum(e, f + 1), argb)
    bar = bars[:, 0, :]
    buf[:, mid - 1, :] = bar
    buf[:, mid + 1, :] = bar
    np.copyto(buf[:, mid, :], bar, where=bar != 0)
    closed = ~ov.ongoing[sel]
    ticks = np.concatenate([r, e[closed]])
    tick_slot = np.concatenate([slot, slot[closed]])
    inside = (ticks >= 0) & (ticks < width)
    buf[tick_slot[inside], :, ticks[inside]] = faint
    left = geo.plot.left()
    for s in np.flatnonzero(np.bincount(slot, minlength=len(rows))).tolist():
        image = QImage(buf[s].data, width, _BRACKET_H, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        painter.drawImage(QPoint(left, geo.bracket_y(rows.start + s) - mid), image)


def paint_markers(
    painter: QPainter,
    geo: Geometry,
    sprites: dict[MarkerKind, Sprite],
    ov: Overlay,
    rows: range,
    lane_rows: IntArray,
    mode: AxisMode,
    v0: float,
    v1: float,
) -> None:
    """Stamp the markers of the lanes shown at rows ``rows`` into one image row per lane with numpy, then
    draw each row once. ``lane_rows`` gives the row each lane of the overlay is shown at (-1: hidden)."""
    if not len(ov.lane) or not len(rows):
        return
    width = geo.plot.width()
    if mode is AxisMode.ARRIVAL:
        values = ov.t
    elif mode is AxisMode.SINCE_SEND:
        values = ov.t - ov.origin[ov.lane]
    else:
        values = ov.audio
    x = (values - v0) * (width / (v1 - v0))
    row = lane_rows[ov.lane]
    slot = row - rows.start
    sel = np.flatnonzero(
        (row >= 0) & (slot >= 0) & (slot < len(rows)) & (x > -SPRITE_W) & (x < width + SPRITE_W)
    )
    if not len(sel):
        return
    col = np.floor(x[sel]).astype(np.int64)
    slot = slot[sel]
    kind_of = ov.kind[sel].astype(np.uint8)
    # Grouped by kind, each group keeping the overlay's order (lane by lane, in time): later stamps win.
    order = np.argsort(kind_of, kind="stable")
    bounds = np.searchsorted(kind_of[order], np.arange(len(MarkerKind) + 1))
    buf = np.zeros((len(rows), SPRITE_H, width), dtype=np.uint32)
    stride = width + 2 * SPRITE_W
    # Per kind present: where its ticks go (a grid of every column of every lane) and its sprites' stamps.
    ticks: dict[int, npt.NDArray[np.bool_]] = {}
    stamps: dict[int, tuple[IntArray, IntArray]] = {}
    for n in range(len(MarkerKind)):
        pick = order[bounds[n] : bounds[n + 1]]
        if not len(pick):
            continue
        c, s = col[pick], slot[pick]
        if len(c) * _DENSE_PX <= len(rows) * width:
            # Few: each a sprite, unless its lane has many (then packed and drawn as ticks).
            dense = (np.bincount(s, minlength=len(rows)) * _DENSE_PX > width)[s]
            if dense.any():
                grid = ticks[n] = np.zeros(len(rows) * stride, dtype=bool)
                grid[s[dense] * stride + c[dense] + SPRITE_W] = True
            stamps[n] = (s[~dense], c[~dense])
            continue
        # Packed: one stamp per pixel column is all that can show (the marks of a column, set in a grid of
        # every column of every lane); ticks in the lanes where they are packed, sprites in the others.
        taken = np.zeros((len(rows), stride), dtype=bool)
        taken[s, c + SPRITE_W] = True
        packed = taken.sum(axis=1) * _DENSE_PX > width
        ticks[n] = (taken & packed[:, None]).reshape(-1)
        s, c = np.nonzero(taken & ~packed[:, None])
        stamps[n] = (s, c - SPRITE_W)
    # A tick that a later kind's tick covers wholly (in every row it has a pixel) would not show.
    kinds = sorted(ticks)
    for k, n in enumerate(kinds):
        rows_n = set(sprites[MarkerKind(n)].tick_dy.tolist())
        for later in kinds[k + 1 :]:
            if rows_n <= set(sprites[MarkerKind(later)].tick_dy.tolist()):
                ticks[n] &= ~ticks[later]
    for n, (s, c) in stamps.items():
        sprite = sprites[MarkerKind(n)]
        if n in ticks:
            ts, tc = np.divmod(np.flatnonzero(ticks[n]), stride)
            _stamp(
                buf,
                ts,
                tc - SPRITE_W,
                sprite.tick_dy,
                np.zeros(len(sprite.tick_dy), dtype=np.int64),
                sprite.tick_argb,
            )
        if len(s):
            _stamp(buf, s, c, sprite.dy, sprite.dx, sprite.argb)
    left = geo.plot.left()
    for k in np.flatnonzero(np.bincount(slot, minlength=len(rows))).tolist():
        image = QImage(buf[k].data, width, SPRITE_H, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        painter.drawImage(QPoint(left, geo.marker_y(rows.start + k)), image)
