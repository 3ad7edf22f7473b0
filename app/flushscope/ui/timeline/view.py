"""The timeline widget: painting its parts in order, finding what is under the pointer, and mouse, wheel,
gesture and key input. What it shows and where comes from :class:`TimelineViewport`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPoint, QRect, QRectF, Qt, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QFocusEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QWheelEvent,
)
from PySide6.QtWidgets import QWidget

from flushscope.core.model.records import Context, Segment
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.focus import paint_focus_ring
from flushscope.ui.look.palette import FLUSH_COLOUR_COUNT
from flushscope.ui.timeline.blocks import draw_blocks
from flushscope.ui.timeline.gutter import paint_gutter
from flushscope.ui.timeline.keys import TimelineCommand, timeline_command
from flushscope.ui.timeline.layout import Geometry
from flushscope.ui.timeline.legend import paint_legend
from flushscope.ui.timeline.markers import Sprite, paint_brackets, paint_markers, render_sprite
from flushscope.ui.timeline.model.lanes import AxisMode, FloatArray, IntArray, Lane, MarkerKind
from flushscope.ui.timeline.model.lod import block_runs
from flushscope.ui.timeline.model.playhead import audio_at_value, playhead_value
from flushscope.ui.timeline.model.tooltips import (
    describe_chunk,
    describe_lane,
    describe_marker,
    describe_segment,
)
from flushscope.ui.timeline.ruler import grid_columns, paint_grid, paint_ruler, ruler_ticks
from flushscope.ui.timeline.theme import Theme, theme_for
from flushscope.ui.timeline.viewport import MIN_SPAN, TimelineViewport
from flushscope.ui.widgets.tooltip import show_tooltip

_HIT = 5  # hover/click tolerance around thin things, px
_NO_IDS: IntArray = np.zeros(0, dtype=np.int64)
_DRAG = 4  # a press that moves less than this is a click


class TimelineView(TimelineViewport):
    """One lane per context with its audio chunks as blocks coloured by flush_id, what was sent and
    received as markers, and each segment's wait for audio as a bracket under its blocks. The analysis's
    flush boundaries and lints are markers too, once handed in (:meth:`set_analysis`).

    Mouse: wheel or pinch zooms around the pointer, horizontal wheel or shift+wheel pans, drag pans, click
    selects a segment (or the lane's context), double click zooms to a segment, right click asks for the
    segment's menu. Keys: :data:`~flushscope.ui.timeline.keys.TIMELINE_KEYS` (zoom, pan, scroll lanes, fit,
    follow, next axis); a focus ring shows when they go here.

    A playhead (:meth:`set_playhead`) marks what is heard in its context's lane.
    """

    segmentContextMenuRequested = Signal(object, QPoint)
    """Right click over a segment (its chunk, marker or bracket): the segment and the global position."""
    painted = Signal()
    """A paint finished: what the timeline holds is on screen."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(bridge, selection, parent)
        self._theme_cache: Theme | None = None
        self._sprite_cache: dict[MarkerKind, Sprite] | None = None
        self._label_cache: dict[int, tuple[tuple[Any, ...], QImage]] = {}
        self._tick_cache: dict[str, QImage] = {}
        self._plate_cache: dict[tuple[int, bool, int], QImage] = {}
        self._legend_cache: tuple[tuple[Any, ...], QImage] | None = None
        self._press: QPoint | None = None
        self._press_range: tuple[float, float] = (0.0, 1.0)
        self._press_scroll = 0
        self._dragging = False
        self._playhead: tuple[Context, float] | None = None
        self._empty = "No contexts yet."

    def segment_at(self, point: QPoint) -> Segment | None:
        """The segment under a widget point: its chunk, one of its markers or its bracket."""
        hit = self._hit(point)
        return hit[1] if hit is not None else None

    def describe_at(self, point: QPoint) -> str | None:
        """The hover text at a widget point (a chunk, a marker, a bracket or a lane's label), or None."""
        hit = self._hit(point)
        if hit is not None:
            return hit[0]
        geo = self._geometry()
        index = geo.lane_at(point.y()) if 0 <= point.x() < geo.gutter else None
        return describe_lane(self.session, self._lanes[index].context) if index is not None else None

    def playhead(self) -> tuple[Context, float] | None:
        """The context and the position in its audio (seconds) the playhead marks, if shown."""
        return self._playhead

    def set_playhead(self, context: Context | None, seconds: float | None = None) -> None:
        """Mark ``seconds`` into ``context``'s audio in its lane (None hides the playhead). Repaints only
        the strips the line leaves and enters, and only when it moved."""
        new = None if context is None or seconds is None else (context, seconds)
        old = self._playhead
        if new == old:
            return
        before = self._playhead_line() if old is not None else None
        self._playhead = new
        after = self._playhead_line() if new is not None else None
        if (
            before is not None
            and after is not None
            and round(before.x1()) == round(after.x1())
            and before.y1() == after.y1()
        ):
            return
        for line in (before, after):
            if line is not None:
                x = math.floor(line.x1())
                self.update(QRect(x - 2, math.floor(line.y1()), 5, math.ceil(line.y2() - line.y1()) + 1))

    def audio_position_at(self, point: QPoint) -> tuple[Context, float] | None:
        """The context of the lane under a widget point and the position in its audio (seconds) that the
        point stands for, within the audio received; None outside the lanes or on a lane with no audio."""
        self._sync()
        geo = self._geometry()
        if not geo.plot.contains(point):
            return None
        index = geo.lane_at(point.y())
        if index is None:
            return None
        lane = self._lanes[index]
        seconds = audio_at_value(lane, self._mode, self.value_at(point.x() + 0.5))
        return None if seconds is None else (lane.context, seconds)

    def _playhead_line(self) -> QLineF | None:
        """Where the playhead is drawn, or None when it is out of view."""
        if self._playhead is None:
            return None
        context, seconds = self._playhead
        self._sync()
        index = self._shown.row(context)
        if index is None:
            return None
        geo = self._geometry()
        if index not in geo.visible_lanes():
            return None
        value = playhead_value(self._lanes[index], self._mode, seconds)
        if value is None:
            return None
        x = self.x_for(value)
        if not geo.plot.left() <= x <= geo.plot.right() + 1:
            return None
        top = geo.lane_top(index)
        return QLineF(x, top + 1, x, top + geo.lane_h - 1)

    # --- theme --------------------------------------------------------------------------------------

    def _theme(self) -> Theme:
        if self._theme_cache is None:
            self._theme_cache = theme_for(self.palette())
        return self._theme_cache

    def _sprites(self) -> dict[MarkerKind, Sprite]:
        if self._sprite_cache is None:
            theme = self._theme()
            self._sprite_cache = {kind: render_sprite(kind, theme) for kind in MarkerKind}
        return self._sprite_cache

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._theme_cache = None
            self._sprite_cache = None
            self._label_cache.clear()
            self._tick_cache.clear()
            self._plate_cache.clear()
            self._legend_cache = None
            self.update()
        elif event.type() == QEvent.Type.FontChange:
            self._label_cache.clear()
            self._tick_cache.clear()
            self._plate_cache.clear()
            self._legend_cache = None
            self.update()
        super().changeEvent(event)

    # --- painting -----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        self._sync()
        geo = self._geometry()
        theme = self._theme()
        painter = QPainter(self)
        try:
            # The ruler, the gutter and the legend fill their own parts; the plot is filled here. Only what
            # the layout leaves below the legend (a widget too short for it) needs the window colour.
            below = geo.legend.bottom() + 1
            if below < self.height():
                painter.fillRect(0, below, self.width(), self.height() - below, theme.window)
            painter.fillRect(geo.plot, theme.base)
            lanes = geo.visible_lanes()
            v0, v1 = self.visible_range()
            ticks, minor, step = ruler_ticks(self.font(), geo, v0, v1)
            painter.setClipRect(geo.plot)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.stripe)
            painter.drawRects(
                [
                    QRect(geo.plot.left(), geo.lane_top(i), geo.plot.width(), geo.lane_h)
                    for i in lanes
                    if i % 2
                ]
            )
            paint_grid(painter, geo, theme, ticks, v0, v1)
            ids = self._paint_blocks(painter, geo, theme, lanes, grid_columns(geo, ticks, v0, v1))
            self._paint_selection(painter, geo, theme)
            overlay = self._cache.overlay()
            rows = self._shown.row_of
            paint_brackets(
                painter, geo, theme, overlay, lanes, rows, self._mode, v0, v1, self.session.duration
            )
            paint_markers(painter, geo, self._sprites(), overlay, lanes, rows, self._mode, v0, v1)
            playhead = self._playhead_line()
            if playhead is not None:
                painter.setPen(QPen(theme.text, 2))
                painter.drawLine(playhead)
            painter.setClipping(False)
            selected = self._selection.context
            paint_gutter(painter, geo, theme, self.font(), lanes, self._lanes, selected, self._label_cache)
            paint_ruler(
                painter,
                geo,
                theme,
                self.font(),
                self.width(),
                self._mode,
                v0,
                v1,
                ticks,
                minor,
                step,
                self._tick_cache,
            )
            self._legend_cache = paint_legend(
                painter, geo, theme, self.font(), ids, self._sprites(), self._legend_cache
            )
            if not self._lanes:
                painter.setPen(theme.faint)
                hint = geo.plot.adjusted(12, 0, -12, 0)
                flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
                painter.drawText(hint, flags, self.empty_text())
            if self.hasFocus():
                paint_focus_ring(painter, self.rect(), self.palette())
        finally:
            painter.end()
        self.painted.emit()

    def set_empty_text(self, text: str) -> None:
        """What the timeline says while it has no lane (why, and what would start one)."""
        if text != self._empty:
            self._empty = text
            if not self._lanes:
                self.update()

    def empty_text(self) -> str:
        """What an empty timeline says: why there is no lane."""
        conn = self.connection_filter()
        if conn is None:
            return self._empty
        info = self.session.connections.get(conn)
        label = info.label if info is not None else None
        who = f"connection {conn}" if label is None else f"connection {conn} ({label})"
        return f"No context on {who} yet."

    def _paint_blocks(
        self, painter: QPainter, geo: Geometry, theme: Theme, lanes: range, grid: IntArray
    ) -> IntArray:
        """Fill the visible chunks of every visible lane, with level of detail (over the grid lines at x
        ``grid``); returns the flush_ids in view (as ``blocks._legend_ids`` codes them)."""
        v0, v1 = self.visible_range()
        visible = [self._lanes[i] for i in lanes]
        runs = block_runs(visible, self._mode, v0, v1, geo.plot.left(), geo.plot.width(), FLUSH_COLOUR_COUNT)
        if runs is None:
            return _NO_IDS
        return draw_blocks(painter, geo, theme, lanes, visible, runs, self._plate_cache, self.font(), grid)

    def _paint_selection(self, painter: QPainter, geo: Geometry, theme: Theme) -> None:
        segment = self._selection.segment
        if segment is None:
            return
        extent = self._segment_extent(segment)
        if extent is None:
            return
        index = self._shown.row(segment.context)
        if index is None:
            return
        top, bottom = geo.band(index)
        x0, x1 = self.x_for(extent[0]), self.x_for(extent[1])
        left, right = geo.plot.left() - 4, geo.plot.right() + 4
        x0, x1 = max(x0, left), min(max(x1, x0 + 1), right)
        rect = QRectF(math.floor(x0) - 2, top - 2, math.ceil(x1 - x0) + 4, bottom - top + 4)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.text, 2))
        painter.drawRect(rect)

    # --- hit testing ----------------------------------------------------------------------------------

    def _hit(self, point: QPoint) -> tuple[str, Segment | None] | None:
        self._sync()
        geo = self._geometry()
        if not geo.plot.contains(point):
            return None
        index = geo.lane_at(point.y())
        if index is None:
            return None
        lane = self._lanes[index]
        band_top, band_bottom = geo.band(index)
        y = point.y()
        if y < band_top - 1:
            return self._hit_marker(lane, geo, point.x())
        if y <= band_bottom:
            return self._hit_chunk(lane, point.x())
        return self._hit_bracket(lane, geo, point.x())

    def _hit_chunk(self, lane: Lane, x: int) -> tuple[str, Segment | None] | None:
        starts, ends, shift = lane.axis(self._mode)
        if not len(starts):
            return None
        v = self.value_at(x + 0.5) + shift  # on the lane's stored axis: no copy of its columns
        per_px = abs(self.value_at(x + 1) - self.value_at(x))
        i = int(np.searchsorted(starts, v + per_px / 2, "right")) - 1
        best: int | None = None
        best_d = math.inf
        for j in (i - 1, i, i + 1):
            if 0 <= j < len(starts):
                a, b = float(starts[j]), max(float(ends[j]), float(starts[j]) + per_px)
                d = 0.0 if a - per_px / 2 <= v <= b + per_px / 2 else min(abs(v - a), abs(v - b))
                if d < best_d or (d == best_d and best is not None and j > best):
                    best, best_d = j, d
        if best is None or best_d > per_px * 2:
            return None
        row = int(lane.rows.values[best])
        segment = lane.context.segments[int(lane.seg.values[best])]
        return describe_chunk(self.session, row, segment), segment

    def _marker_positions(self, lane: Lane, kind: MarkerKind, v0: float, v1: float) -> tuple[FloatArray, int]:
        """Visible positions (current axis) of one kind of marker in a lane, and the index of the first."""
        m = self._cache.markers(lane)
        values = m.times[kind]
        if not len(values):
            return values, 0
        if self._mode is AxisMode.AUDIO:
            values = m.audio[kind]
        elif self._mode is AxisMode.SINCE_SEND:
            values = lane.to_axis(self._mode, values)
        pad = (v1 - v0) * 0.01
        a = int(np.searchsorted(values, v0 - pad, "left"))
        b = int(np.searchsorted(values, v1 + pad, "right"))
        return values[a:b], a

    def _hit_marker(self, lane: Lane, geo: Geometry, x: int) -> tuple[str, Segment | None] | None:
        v0, v1 = self.visible_range()
        found: tuple[float, MarkerKind, int] | None = None
        for kind in reversed(MarkerKind):
            values, offset = self._marker_positions(lane, kind, v0, v1)
            if not len(values):
                continue
            xs = self._xs(values, geo)
            j = int(np.argmin(np.abs(xs - x)))
            d = abs(float(xs[j]) - x)
            if d <= _HIT and (found is None or d < found[0]):
                found = (d, kind, offset + j)
        if found is None:
            return None
        _, kind, j = found
        ref = self._cache.markers(lane).refs[kind][j]
        return describe_marker(self.session, kind, ref)

    def _hit_bracket(self, lane: Lane, geo: Geometry, x: int) -> tuple[str, Segment | None] | None:
        m = self._cache.markers(lane)
        if not len(m.ready):
            return None
        end = np.where(m.ongoing, self.session.duration, m.end)
        ready, end = lane.to_axis(self._mode, m.ready), lane.to_axis(self._mode, end)
        rx, ex = self._xs(ready, geo), self._xs(end, geo)
        inside = np.flatnonzero((rx - _HIT <= x) & (x <= ex + _HIT))
        if not len(inside):
            return None
        segment = m.segments[int(inside[-1])]
        return describe_segment(segment), segment

    # --- interaction --------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if show_tooltip(self, event, self.describe_at):
            return True
        if event.type() == QEvent.Type.NativeGesture:
            gesture: QNativeGestureEvent = event  # type: ignore[assignment]
            if gesture.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.zoom(1.0 + gesture.value(), gesture.position().x())
                return True
        return super().event(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        delta = event.angleDelta()
        mods = event.modifiers()
        if delta.x() and not delta.y():
            self.pan(-delta.x() / 120 * self._geometry().plot.width() * 0.1)
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            self.pan(-delta.y() / 120 * self._geometry().plot.width() * 0.1)
        elif mods & Qt.KeyboardModifier.AltModifier:
            self._set_scroll(self._scroll - int(delta.y() / 120 * self._geometry().lane_h))
        elif delta.y():
            self.zoom(2.0 ** (delta.y() / 120 * 0.25), event.position().x())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.position().toPoint()
            self._press_range = self.visible_range()
            self._press_scroll = self._scroll
            self._dragging = False
            if self._press.x() < self._geometry().gutter and self._press.y() < self._geometry().ruler:
                self.set_axis_mode(self._mode.next())
                self._press = None
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        pos = event.position().toPoint()
        d = pos - self._press
        if not self._dragging and abs(d.x()) + abs(d.y()) < _DRAG:
            return
        self._dragging = True
        self.setCursor(Qt.CursorShape.ClosedHandCursor)
        v0, v1 = self._press_range
        dv = -d.x() * (v1 - v0) / max(1, self._geometry().plot.width())
        if d.x():
            self.set_follow(False)
        self.set_visible_range(v0 + dv, v1 + dv)
        self._set_scroll(self._press_scroll - d.y())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self._press is None:
            return
        press, self._press = self._press, None
        if self._dragging:
            self._dragging = False
            self.unsetCursor()
            return
        segment = self.segment_at(press)
        if segment is not None:
            self._selection.select_segment(segment)
            return
        geo = self._geometry()
        index = geo.lane_at(press.y())
        if index is not None:
            self._selection.select_context(self._lanes[index].context)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        segment = self.segment_at(event.position().toPoint())
        extent = self._segment_extent(segment) if segment is not None else None
        if extent is None:
            return
        lo, hi = extent
        pad = max(hi - lo, MIN_SPAN) * 0.1
        self.set_follow(False)
        self.set_visible_range(lo - pad, hi + pad)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        segment = self.segment_at(event.pos())
        if segment is not None:
            self.segmentContextMenuRequested.emit(segment, event.globalPos())
            event.accept()
        else:
            event.ignore()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        command = timeline_command(event.key())
        if command is None or event.modifiers() & ~(
            Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier
        ):
            super().keyPressEvent(event)
            return
        geo = self._geometry()
        step = geo.plot.width() * (0.5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.1)
        match command:
            case TimelineCommand.ZOOM_IN:
                self.zoom(1.5)
            case TimelineCommand.ZOOM_OUT:
                self.zoom(1 / 1.5)
            case TimelineCommand.PAN_LEFT:
                self.pan(-step)
            case TimelineCommand.PAN_RIGHT:
                self.pan(step)
            case TimelineCommand.LANE_UP:
                self._set_scroll(self._scroll - geo.lane_h)
            case TimelineCommand.LANE_DOWN:
                self._set_scroll(self._scroll + geo.lane_h)
            case TimelineCommand.PAGE_UP:
                self._set_scroll(self._scroll - geo.plot.height())
            case TimelineCommand.PAGE_DOWN:
                self._set_scroll(self._scroll + geo.plot.height())
            case TimelineCommand.FIT:
                self.fit_all()
            case TimelineCommand.FOLLOW:
                self.set_follow(True)
            case TimelineCommand.NEXT_AXIS:
                self.set_axis_mode(self._mode.next())
        event.accept()

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.update()
