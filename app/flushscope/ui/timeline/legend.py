"""The timeline's legend under the plot: the flush_ids in view with their colours, and what each marker
shape (the analysis's boundaries and advice included) and the bracket mean. Drawn into an image that is
reused until the ids in view or its size change; the ids come as a numpy array (thousands of them at a
coarse zoom), so that telling whether they changed and grouping them by colour cost no Python loop per id."""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QBrush, QFont, QFontMetrics, QImage, QPainter, QPen

from flushscope.ui.look.palette import FLUSH_COLOUR_COUNT
from flushscope.ui.timeline.layout import Geometry
from flushscope.ui.timeline.markers import SPRITE_H, SPRITE_W, Sprite
from flushscope.ui.timeline.model.lanes import IntArray, MarkerKind
from flushscope.ui.timeline.theme import Theme

_Legend = tuple[tuple[Any, ...], QImage]
_CAPTION = "flush_id"


def paint_legend(
    painter: QPainter,
    geo: Geometry,
    theme: Theme,
    font: QFont,
    ids: IntArray,
    sprites: dict[MarkerKind, Sprite],
    cached: _Legend | None,
) -> _Legend:
    """Draw the legend for the flush_ids ``ids`` (coded and ordered as ``blocks._legend_ids`` gives them),
    re-rendered only when ``cached`` (what the last call returned) does not fit; returns the image drawn
    for the next call."""
    fm = QFontMetrics(font)
    room = geo.legend.width() - 27 - fm.horizontalAdvance(_CAPTION)  # as _render_legend lays it out
    # Drawn again only when what it says changes (panning brings ids in and out of view all the time).
    entries = _entries(ids, fm, room, fm.height() - 4)
    key = (tuple(entries), geo.legend.width(), geo.legend.height())
    if cached is None or cached[0] != key:
        image = QImage(geo.legend.size(), QImage.Format.Format_ARGB32_Premultiplied)
        p = QPainter(image)
        p.setFont(font)
        _render_legend(p, QRect(QPoint(0, 0), geo.legend.size()), theme, font, entries, sprites)
        p.end()
        cached = (key, image)
    painter.drawImage(geo.legend.topLeft(), cached[1])
    return cached


def _names(ids: IntArray) -> list[str]:
    """How coded ids read: ``n`` for a known one, ``~n`` for a guessed one."""
    return [f"~{c >> 1}" if c & 1 else str(c >> 1) for c in ids.tolist()]


def _entries(ids: IntArray, fm: QFontMetrics, room: int, swatch: int) -> list[tuple[int, str]]:
    """The legend's entries (colour, text) for coded ``ids``: each id, if they all fit in ``room`` pixels,
    else one per colour with the ids that share it (the first three)."""
    colour = (ids >> 1) % FLUSH_COLOUR_COUNT
    # More ids than entries of one digit could fit: no need to measure each.
    if len(ids) * (swatch + 18 + fm.horizontalAdvance("0")) <= room:
        named = list(zip(colour.tolist(), _names(ids), strict=True))
        if sum(swatch + 6 + fm.horizontalAdvance(s) + 12 for _, s in named) <= room:
            return named
    # Too many segments in view to name each: one swatch per colour with the ids that share it, the colours
    # in the order of their first id.
    entries: list[tuple[int, int, str]] = []
    for ci in np.unique(colour).tolist():
        members = ids[colour == ci]
        text = ",".join(_names(members[:3])) + ("…" if len(members) > 3 else "")
        entries.append((int(members[0]), ci, text))
    return [(ci, text) for _, ci, text in sorted(entries)]


def _render_legend(
    painter: QPainter,
    rect: QRect,
    theme: Theme,
    font: QFont,
    entries: list[tuple[int, str]],
    sprites: dict[MarkerKind, Sprite],
) -> None:
    painter.fillRect(rect, theme.window)
    painter.setPen(QPen(theme.grid, 1))
    painter.drawLine(rect.left(), rect.top(), rect.right(), rect.top())
    fm = QFontMetrics(font)
    row_h = fm.height() + 6
    sw = fm.height() - 4
    y0 = rect.top() + 4
    x = rect.left() + 8
    limit = rect.right() - 8
    painter.setPen(theme.faint)
    painter.drawText(
        QRect(x, y0, fm.horizontalAdvance(_CAPTION), row_h), Qt.AlignmentFlag.AlignVCenter, _CAPTION
    )
    x += fm.horizontalAdvance(_CAPTION) + 10
    if not entries:
        painter.drawText(QRect(x, y0, limit - x, row_h), Qt.AlignmentFlag.AlignVCenter, "none in view")
    for ci, name in entries:
        w = sw + 6 + fm.horizontalAdvance(name)
        if x + w > limit:
            painter.setPen(theme.faint)
            painter.drawText(QRect(x, y0, limit - x + 8, row_h), Qt.AlignmentFlag.AlignVCenter, "…")
            break
        painter.fillRect(QRect(x, y0 + (row_h - sw) // 2, sw, sw), theme.blocks[ci])
        painter.setPen(theme.text)
        painter.drawText(QRect(x + sw + 6, y0, w, row_h), Qt.AlignmentFlag.AlignVCenter, name)
        x += w + 12
    # Then what each marker shape means, wrapped onto as many rows as the width needs.
    for kind, label, place in key_places(font, rect):
        if kind is None:
            _paint_bracket_key(painter, theme, place.left(), place.center().y())
            text_x = place.left() + _BRACKET_W
        else:
            painter.drawImage(QPoint(place.left(), place.center().y() - SPRITE_H // 2), sprites[kind].image)
            text_x = place.left() + SPRITE_W + 4
        painter.setPen(theme.text)
        text = QRect(text_x, place.top(), place.right() - text_x + 1, place.height())
        painter.drawText(text, Qt.AlignmentFlag.AlignVCenter, label)


def key_places(font: QFont, legend: QRect) -> list[tuple[MarkerKind | None, str, QRect]]:
    """Where each entry of the key (its sign and label) goes in a legend drawn in ``legend``."""
    fm = QFontMetrics(font)
    row_h = fm.height() + 6
    places: list[tuple[MarkerKind | None, str, QRect]] = []
    for row, items in enumerate(_wrap_key(fm, legend.width())):
        y = legend.top() + 4 + (row + 1) * row_h
        x = legend.left() + 8
        for kind, label, w in items:
            places.append((kind, label, QRect(x, y, w, row_h)))
            x += w + _GAP
    return places


#: What each marker shape means; None: the bracket under a segment's blocks.
_KEY: tuple[tuple[MarkerKind | None, str], ...] = (
    (MarkerKind.TRANSCRIPT, "transcript sent"),
    (MarkerKind.FLUSH, "flush sent"),
    (MarkerKind.FLUSH_DONE, "flush_done"),
    (MarkerKind.DONE, "done"),
    (MarkerKind.CANCEL, "cancel"),
    (MarkerKind.ERROR, "error"),
    (MarkerKind.WARNING, "warning"),
    (MarkerKind.ADVICE, "advice"),
    (MarkerKind.BOUNDARY, "boundary"),
    (MarkerKind.OUTLIER, "outlier"),
    (MarkerKind.END, "recording ends"),
    (None, "text ready → first audio → flush_done"),
)
_GAP = 14
_BRACKET_W = 36


def _wrap_key(fm: QFontMetrics, width: int) -> list[list[tuple[MarkerKind | None, str, int]]]:
    """The key's entries (kind, label, width with its sign) in rows no wider than ``width``."""
    limit = width - 16
    rows: list[list[tuple[MarkerKind | None, str, int]]] = [[]]
    x = 0
    for kind, label in _KEY:
        w = (_BRACKET_W if kind is None else SPRITE_W + 4) + fm.horizontalAdvance(label)
        if rows[-1] and x + w > limit:
            rows.append([])
            x = 0
        rows[-1].append((kind, label, w))
        x += w + _GAP
    return rows


def legend_rows(font: QFont, width: int) -> int:
    """How many rows of text the legend takes at ``width``: the flush_ids, then the key as it wraps."""
    return 1 + len(_wrap_key(QFontMetrics(font), width))


def _paint_bracket_key(painter: QPainter, theme: Theme, x: int, by: int) -> None:
    """The bracket of a segment, small: a dotted wait for audio, then the audio until flush_done."""
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QBrush(theme.faint, Qt.BrushStyle.Dense4Pattern))
    painter.drawRect(QRect(x, by, 12, 1))
    painter.setBrush(theme.blocks[1])
    painter.drawRect(QRect(x + 12, by - 1, 17, 3))
    painter.setBrush(theme.faint)
    painter.drawRects([QRect(x, by - 3, 1, 7), QRect(x + 28, by - 3, 1, 7)])
