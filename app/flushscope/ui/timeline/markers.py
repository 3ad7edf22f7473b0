"""The timeline's markers (what was sent and received, and what the analysis found) and segment brackets,
rasterised with numpy.

Markers are stamped with numpy into one image row per lane from small pre-drawn sprites, brackets are
rasterised the same way, and each row goes out in one ``drawImage``: a marker or a segment costs no Python
call in a paint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QPoint, QPointF, QRect, Qt
from PySide6.QtGui import QImage, QPainter, QPen, QPolygonF

from flushscope.ui.palette import FLUSH_COLOUR_COUNT
from flushscope.ui.timeline.lanes import (
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
    IntArray,
    _Overlay,
)
from flushscope.ui.timeline.layout import _Geometry
from flushscope.ui.timeline.theme import _Theme

_SPRITE_W, _SPRITE_H, _SPRITE_C = 11, 12, 5  # marker image size and the column of its time
_BRACKET_H = 7  # height of the bracket row under the blocks


@dataclass(frozen=True)
class _Sprite:
    """A marker drawn once (antialiased) into a small image, kept as its non-empty pixels for stamping."""

    image: QImage
    dy: IntArray
    dx: IntArray  # relative to the marker's pixel column
    argb: npt.NDArray[np.uint32]


def _render_sprite(kind: str, theme: _Theme) -> _Sprite:
    ink, warning, error = theme.text, theme.warning, theme.error
    image = QImage(_SPRITE_W, _SPRITE_H, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(0)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    p.setPen(Qt.PenStyle.NoPen)
    c = _SPRITE_C + 0.5
    if kind == _TRANSCRIPT:  # triangle pointing down at the send time
        p.setBrush(ink)
        p.drawPolygon(QPolygonF([QPointF(c - 4.5, 2), QPointF(c + 4.5, 2), QPointF(c, 10)]))
    elif kind == _FLUSH:  # a bar the height of the row: a flush boundary
        p.fillRect(QRect(_SPRITE_C, 0, 2, _SPRITE_H), ink)
    elif kind == _FLUSH_DONE:  # ring
        p.setPen(QPen(ink, 1.7))
        p.drawEllipse(QPointF(c, 6.5), 3.4, 3.4)
    elif kind == _DONE:  # square
        p.fillRect(QRect(_SPRITE_C - 3, 3, 7, 7), ink)
    elif kind == _CANCEL:  # cross
        p.setPen(QPen(ink, 2))
        p.drawLine(QPointF(c - 3.5, 3), QPointF(c + 3.5, 10))
        p.drawLine(QPointF(c - 3.5, 10), QPointF(c + 3.5, 3))
    elif kind == _WARNING:  # triangle pointing up
        p.setBrush(warning)
        p.drawPolygon(QPolygonF([QPointF(c - 5, 11), QPointF(c + 5, 11), QPointF(c, 1.5)]))
    elif kind == _ERROR:  # diamond
        p.setBrush(error)
        p.drawPolygon(QPolygonF([QPointF(c, 0.5), QPointF(c + 5, 6), QPointF(c, 11.5), QPointF(c - 5, 6)]))
    elif kind == _BOUNDARY:  # an I-beam at the seam between two segments' audio
        p.setPen(QPen(theme.faint, 1.5))
        p.drawLine(QPointF(c, 1), QPointF(c, 11))
        p.drawLine(QPointF(c - 3, 1.5), QPointF(c + 3, 1.5))
        p.drawLine(QPointF(c - 3, 10.5), QPointF(c + 3, 10.5))
    elif kind == _OUTLIER:  # an hourglass pinched at the seam: a boundary that stands out
        p.setBrush(warning)
        p.drawPolygon(QPolygonF([QPointF(c - 4.5, 0.5), QPointF(c + 4.5, 0.5), QPointF(c, 6)]))
        p.drawPolygon(QPolygonF([QPointF(c - 4.5, 11.5), QPointF(c + 4.5, 11.5), QPointF(c, 6)]))
    elif kind == _ADVICE:  # a disc: advice on what was sent (the selection colour, lifted on dark)
        p.setBrush(theme.highlight.lighter(150) if theme.dark else theme.highlight)
        p.drawEllipse(QPointF(c, 6), 4, 4)
    p.end()
    pixels = np.frombuffer(image.constBits(), dtype=np.uint32).reshape(_SPRITE_H, _SPRITE_W)
    dy, dx = np.nonzero(pixels)
    return _Sprite(image, dy.astype(np.int64), dx.astype(np.int64) - _SPRITE_C, pixels[dy, dx].copy())


def _stamp(buf: npt.NDArray[np.uint32], slots: IntArray, cols: IntArray, sprite: _Sprite) -> None:
    """Copy a sprite into marker rows ``buf[slot]`` at each (slot, column) pair (later stamps win)."""
    _, height, width = buf.shape
    inner = (cols + int(sprite.dx.min()) >= 0) & (cols + int(sprite.dx.max()) < width)
    if inner.any():
        # Sprites wholly inside the row: one flat index per pixel, no bounds test.
        anchor = slots[inner] * (height * width) + cols[inner]
        buf.reshape(-1)[anchor[:, None] + (sprite.dy * width + sprite.dx)[None, :]] = sprite.argb[None, :]
    if not inner.all():
        edge = ~inner
        x = cols[edge][:, None] + sprite.dx[None, :]
        inside = (x >= 0) & (x < width)
        lane = np.broadcast_to(slots[edge][:, None], x.shape)[inside]
        y = np.broadcast_to(sprite.dy[None, :], x.shape)[inside]
        buf[lane, y, x[inside]] = np.broadcast_to(sprite.argb[None, :], x.shape)[inside]


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


def _paint_brackets(
    painter: QPainter,
    geo: _Geometry,
    theme: _Theme,
    ov: _Overlay,
    lanes: range,
    mode: AxisMode,
    v0: float,
    v1: float,
    now: float,
) -> None:
    """Under each segment's blocks: a dotted line while waiting for audio (from the text being ready to
    the first chunk), then a bar in the segment's colour until flush_done, with ticks at both ends; a bar
    still waiting reaches ``now``. Rasterised with numpy into one strip image per lane (a segment costs no
    Python call)."""
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
    sel = np.flatnonzero((ov.b_lane >= lanes.start) & (ov.b_lane < lanes.stop) & (end >= v0) & (ready <= v1))
    if not len(sel):
        return
    width = geo.plot.width()
    scale = width / (v1 - v0)
    slot = ov.b_lane[sel] - lanes.start
    r = np.clip((ready[sel] - v0) * scale, -2, width + 2).astype(np.int64)
    e = np.clip((end[sel] - v0) * scale, -2, width + 2).astype(np.int64)
    f_x = (first[sel] - v0) * scale
    f = np.where(np.isnan(f_x), e, np.clip(np.nan_to_num(f_x), -2, width + 2)).astype(np.int64)
    argb = np.asarray([c.rgba() for c in theme.blocks], dtype=np.uint32)[ov.b_fid[sel] % FLUSH_COLOUR_COUNT]
    faint = np.uint32(theme.faint.rgba())
    buf = np.zeros((len(lanes), _BRACKET_H, width), dtype=np.uint32)
    mid = _BRACKET_H // 2
    _fill_runs(buf, slot, slice(mid, mid + 1), r, f, np.full(len(r), faint), dotted=True)
    _fill_runs(buf, slot, slice(mid - 1, mid + 2), f, np.maximum(e, f + 1), argb)
    closed = ~ov.ongoing[sel]
    ticks = np.concatenate([r, e[closed]])
    tick_slot = np.concatenate([slot, slot[closed]])
    inside = (ticks >= 0) & (ticks < width)
    buf[tick_slot[inside], :, ticks[inside]] = faint
    left = geo.plot.left()
    for s in np.unique(slot).tolist():
        image = QImage(buf[s].data, width, _BRACKET_H, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        painter.drawImage(QPoint(left, geo.bracket_y(lanes.start + s) - mid), image)


def _paint_markers(
    painter: QPainter,
    geo: _Geometry,
    sprites: dict[str, _Sprite],
    ov: _Overlay,
    lanes: range,
    mode: AxisMode,
    v0: float,
    v1: float,
) -> None:
    """Stamp every lane's markers into one image row per lane with numpy, then draw each row once."""
    if not len(ov.lane):
        return
    width = geo.plot.width()
    if mode is AxisMode.ARRIVAL:
        values = ov.t
    elif mode is AxisMode.SINCE_SEND:
        values = ov.t - ov.origin[ov.lane]
    else:
        values = ov.audio
    x = (values - v0) * (width / (v1 - v0))
    sel = np.flatnonzero(
        (ov.lane >= lanes.start) & (ov.lane < lanes.stop) & (x > -_SPRITE_W) & (x < width + _SPRITE_W)
    )
    if not len(sel):
        return
    col = np.floor(x[sel]).astype(np.int64)
    slot = ov.lane[sel] - lanes.start
    kind_of = ov.kind[sel]
    buf = np.zeros((len(lanes), _SPRITE_H, width), dtype=np.uint32)
    for n, kind in enumerate(_MARKER_KINDS):
        pick = kind_of == n
        if not pick.any():
            continue
        c, s = col[pick], slot[pick]
        if len(c) > 4 * width:
            # Level of detail: one stamp per pixel column is all that can show.
            key = np.unique(s * (width + 2 * _SPRITE_W) + c + _SPRITE_W)
            s, c = np.divmod(key, width + 2 * _SPRITE_W)
            c = c - _SPRITE_W
        _stamp(buf, s, c, sprites[kind])
    left = geo.plot.left()
    for s in np.unique(slot).tolist():
        image = QImage(buf[s].data, width, _SPRITE_H, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        painter.drawImage(QPoint(left, geo.marker_y(lanes.start + s)), image)
