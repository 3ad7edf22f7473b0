"""The timeline widget's state, without painting or input: the session's lanes and which of them are shown
(all, or one connection's), the visible range of each axis mode, following live data, the vertical scroll,
the layout, and the mapping from axis values to x.

Data arrives through :class:`SessionBridge`'s coalesced signals: the lanes take in new rows and the widget
repaints once per bridge tick, never per frame.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QWidget

from flushscope.core.analysis.boundaries import Boundary
from flushscope.core.analysis.lints import Lint
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.timeline.layout import Geometry, lay_out, plot_xs
from flushscope.ui.timeline.legend import key_places, legend_rows
from flushscope.ui.timeline.model.lane_cache import LaneCache
from flushscope.ui.timeline.model.lanes import AxisMode, FloatArray, Lane, MarkerKind
from flushscope.ui.timeline.model.shown_lanes import ShownLanes

MIN_SPAN = 1e-4  # seconds visible at the deepest zoom
_MAX_SPAN = 1e7


class TimelineViewport(QWidget):
    """What :class:`~flushscope.ui.timeline.view.TimelineView` shows and where: its lanes kept in step with
    the bridge, the x range per axis mode, follow-live, scrolling, and widget coordinates."""

    followChanged = Signal(bool)
    """Follow-live was switched on or off (off when the user pans away from the newest data)."""
    axisModeChanged = Signal(object)
    """The x-axis switched to the given :class:`AxisMode`."""
    rangeChanged = Signal(float, float)
    """The visible x range changed (seconds in the current axis mode)."""
    connectionFilterChanged = Signal(object)
    """The lanes shown changed to those of this connection number (None: every connection's)."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._selection = selection
        self._mode = AxisMode.ARRIVAL
        self._ranges: dict[AxisMode, tuple[float, float] | None] = {m: None for m in AxisMode}
        self._follow = True
        self._scroll = 0
        self._geometry_cache: Geometry | None = None
        self._pending = False
        self._conn: int | None = None
        self._reset()
        self.setMinimumSize(400, 200)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(False)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        bridge.chunksAdded.connect(self._on_data)
        bridge.segmentsChanged.connect(self._on_segments)
        bridge.contextsChanged.connect(self._on_contexts)
        bridge.anomaliesAdded.connect(self._on_anomalies)
        bridge.ticked.connect(self._on_tick)
        bridge.sessionReplaced.connect(self._on_session_replaced)
        selection.selectionChanged.connect(self._on_selection)

    # --- public API ---------------------------------------------------------------------------------

    @property
    def session(self) -> Session:
        return self._bridge.session

    def axis_mode(self) -> AxisMode:
        return self._mode

    def set_axis_mode(self, mode: AxisMode) -> None:
        if mode is self._mode:
            return
        self._mode = mode
        self.axisModeChanged.emit(mode)
        v0, v1 = self.visible_range()
        self.rangeChanged.emit(v0, v1)
        self.update()

    def set_analysis(self, lints: Sequence[Lint], boundaries: Sequence[Boundary]) -> None:
        """Mark these lints (at their first frame) and flush boundaries on their lanes, replacing the
        ones marked before; lanes whose findings did not change are not rebuilt."""
        self._cache.set_analysis(lints, boundaries)
        self.update()

    def connection_filter(self) -> int | None:
        """The connection whose contexts' lanes are shown, or None when every lane is."""
        return self._conn

    def set_connection_filter(self, conn: int | None) -> None:
        """Show only the lanes of contexts on connection ``conn`` (its number, as in ``Context.conn``),
        stacked without gaps; None shows every lane. Everything shown follows: rows, hit testing, hover
        texts, the playhead, the selection's outline, scrolling, fitting, markers and the gutter. The x
        range is kept; while following live data, it moves to the newest data shown."""
        if conn is not None and (not isinstance(conn, int) or isinstance(conn, bool)):
            raise TypeError(f"the connection filter is a connection number or None, not {conn!r}")
        if conn == self._conn:
            return
        self._conn = conn
        self._sync()
        self._scroll = 0
        selected = self._selection.segment.context if self._selection.segment else self._selection.context
        if selected is not None:
            self._reveal_lane(selected)
        if self._follow:
            self._apply_follow()
        self.connectionFilterChanged.emit(conn)
        self.update()

    def is_following(self) -> bool:
        return self._follow

    def set_follow(self, follow: bool) -> None:
        """Keep the newest data in view as it arrives."""
        if follow == self._follow:
            return
        self._follow = follow
        self.followChanged.emit(follow)
        if follow:
            self._apply_follow()
        self.update()

    def visible_range(self) -> tuple[float, float]:
        """The x range shown (seconds in the current axis mode)."""
        current = self._ranges[self._mode]
        if current is None:
            current = self._ranges[self._mode] = self._fit_range()
        return current

    def set_visible_range(self, v0: float, v1: float) -> None:
        span = min(max(v1 - v0, MIN_SPAN), _MAX_SPAN)
        centre = (v0 + v1) / 2
        new = (centre - span / 2, centre + span / 2) if v1 - v0 != span else (v0, v1)
        if new == self._ranges[self._mode]:
            return
        self._ranges[self._mode] = new
        self.rangeChanged.emit(*new)
        self.update()

    def fit_all(self) -> None:
        """Show the activity of the contexts shown (from the first send to the last frame of any of them) in
        the current axis mode, and every such lane."""
        self._sync()
        self.set_visible_range(*self._fit_range())
        self._set_scroll(0)

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom by ``factor`` (> 1 zooms in) keeping the value under ``anchor_x`` (widget x) in place;
        without an anchor, the centre (or the right edge while following)."""
        v0, v1 = self.visible_range()
        plot = self._geometry().plot
        if anchor_x is None:
            anchor_x = plot.right() + 1 if self._follow else plot.center().x()
        anchor = self.value_at(anchor_x)
        span = min(max((v1 - v0) / factor, MIN_SPAN), _MAX_SPAN)
        frac = (anchor - v0) / (v1 - v0) if v1 > v0 else 0.5
        self.set_visible_range(anchor - frac * span, anchor - frac * span + span)

    def pan(self, dx: float) -> None:
        """Move the view by ``dx`` pixels (positive shows later data); stops following."""
        v0, v1 = self.visible_range()
        dv = dx * (v1 - v0) / max(1, self._geometry().plot.width())
        self.set_follow(False)
        self.set_visible_range(v0 + dv, v1 + dv)

    def x_for(self, value: float) -> float:
        """Widget x of a value on the current axis (seconds)."""
        v0, v1 = self.visible_range()
        plot = self._geometry().plot
        return plot.left() + (value - v0) * plot.width() / (v1 - v0)

    def value_at(self, x: float) -> float:
        """The value on the current axis at widget x."""
        v0, v1 = self.visible_range()
        plot = self._geometry().plot
        return v0 + (x - plot.left()) * (v1 - v0) / max(1, plot.width())

    def lane_count(self) -> int:
        """How many lanes are shown (every context's, or those the connection filter lets through)."""
        self._sync()
        return len(self._lanes)

    def lane_index(self, context: Context) -> int | None:
        """The row (from 0 at the top, before scrolling) where ``context``'s lane is shown, or None."""
        self._sync()
        return self._shown.row(context)

    def lane_context(self, index: int) -> Context:
        """The context whose lane is shown at row ``index``."""
        self._sync()
        if not 0 <= index < len(self._lanes):
            raise IndexError(f"no lane is shown at row {index}: rows go from 0 to {len(self._lanes) - 1}")
        return self._lanes[index].context

    def lane_rect(self, index: int) -> QRect:
        """The whole lane shown at row ``index`` (see :meth:`lane_index`), over the plot's width."""
        geo = self._geometry()
        return QRect(geo.plot.left(), geo.lane_top(index), geo.plot.width(), geo.lane_h)

    def block_rect(self, index: int) -> QRect:
        """The band of the lane at row ``index`` where chunk blocks are drawn."""
        geo = self._geometry()
        top, bottom = geo.band(index)
        return QRect(geo.plot.left(), top, geo.plot.width(), bottom - top)

    def chunk_rect(self, row: int) -> QRectF | None:
        """Where the chunk at ``row`` of the session's chunk columns is drawn (at least one pixel wide);
        None for a chunk whose lane is not shown."""
        self._sync()
        if not 0 <= row < len(self._cache.lane_of):
            return None
        index = int(self._shown.row_of[int(self._cache.lane_of.values[row])])
        if index < 0:
            return None
        lane = self._lanes[index]
        start, end = lane.span(self._mode, int(self._cache.pos.values[row]))
        x0, x1 = self.x_for(start), self.x_for(end)
        top, bottom = self._geometry().band(index)
        return QRectF(x0, top, max(1.0, x1 - x0), bottom - top)

    def legend_places(self) -> list[tuple[MarkerKind | None, str, QRect]]:
        """Where each entry of the legend's key is drawn (widget coordinates)."""
        return key_places(self.font(), self._geometry().legend)

    def export_png(self, path: str) -> bool:
        """Save the view as it is drawn now to a PNG file."""
        return bool(self.grab().save(path, "PNG"))

    def sizeHint(self) -> QSize:
        return QSize(960, 420)

    def minimumSizeHint(self) -> QSize:
        return QSize(400, 200)

    # --- data ---------------------------------------------------------------------------------------

    @property
    def _lanes(self) -> list[Lane]:
        """The lanes shown, by row."""
        return self._shown.lanes

    def _reset(self) -> None:
        self._cache = LaneCache(self.session)
        self._shown = ShownLanes()
        self._geometry_cache = None

    def _sync(self) -> None:
        """Bring the lane caches up to date with the session (new lanes, new chunk rows, new anomalies) and
        the lanes shown with them and the connection filter."""
        self._cache.sync()
        if self._shown.update(self._cache.lanes, self._conn):
            self._geometry_cache = None

    def _on_data(self) -> None:
        self._pending = True

    def _on_segments(self, segments: list[Segment]) -> None:
        self._cache.segments_changed(segments)
        self._pending = True

    def _on_contexts(self, contexts: list[Context]) -> None:
        lanes = self._cache.lanes
        for ctx in contexts:
            if ctx.number - 1 < len(lanes):
                self._cache.invalidate(lanes[ctx.number - 1])
        self._geometry_cache = None
        self._pending = True

    def _on_anomalies(self, first: int, last: int) -> None:
        self._pending = True

    def _on_tick(self) -> None:
        if not self._pending:
            return
        self._pending = False
        self._sync()
        if self._follow:
            self._apply_follow()
        self.update()

    def _on_session_replaced(self) -> None:
        self._reset()
        self._ranges = {m: None for m in AxisMode}
        self._scroll = 0
        self._sync()
        self.update()

    def _on_selection(self) -> None:
        self._reveal_selection()
        self.update()

    # --- ranges -------------------------------------------------------------------------------------

    def _data_bounds(self) -> tuple[float, float] | None:
        """Where the data shown starts and ends in the current axis mode (None: nothing shown)."""
        return self._cache.data_bounds(self._mode, None if self._conn is None else self._lanes)

    def _fit_range(self) -> tuple[float, float]:
        """The contexts' activity shown, with a small margin (not the time the session stayed open)."""
        self._sync()
        bounds = self._cache.activity_bounds(self._mode, self._lanes)
        if bounds is None:
            return 0.0, 10.0
        lo, hi = bounds
        span = max(hi - lo, 0.05)
        pad = span * 0.02
        return lo - pad, lo + span + pad

    def _apply_follow(self) -> None:
        bounds = self._data_bounds()
        if bounds is None:
            return
        v0, v1 = self.visible_range()
        span = v1 - v0
        newest = bounds[1]
        if newest > v1 - span * 0.03 or newest < v0:
            right = newest + span * 0.03
            self.set_visible_range(right - span, right)

    def _segment_extent(self, segment: Segment) -> tuple[float, float] | None:
        self._sync()
        return self._cache.segment_extent(segment, self._mode)

    def _reveal_selection(self) -> None:
        segment = self._selection.segment
        context = segment.context if segment is not None else self._selection.context
        if context is None:
            return
        if not self._reveal_lane(context) or segment is None:
            return
        extent = self._segment_extent(segment)
        if extent is None:
            return
        lo, hi = extent
        v0, v1 = self.visible_range()
        if hi >= v0 and lo <= v1:
            return
        span = v1 - v0
        self.set_follow(False)
        if hi - lo < span * 0.9:
            centre = (lo + hi) / 2
            self.set_visible_range(centre - span / 2, centre + span / 2)
        else:
            self.set_visible_range(lo - span * 0.05, lo + span * 0.95)

    def _reveal_lane(self, context: Context) -> bool:
        """Scroll ``context``'s lane into view; False if it is not shown."""
        index = self._shown.row(context)
        if index is None:
            return False
        geo = self._geometry()
        top = index * geo.lane_h
        if top < geo.scroll or top + geo.lane_h > geo.scroll + geo.plot.height():
            self._set_scroll(top - max(0, (geo.plot.height() - geo.lane_h) // 2))
        return True

    # --- geometry -----------------------------------------------------------------------------------

    def _geometry(self) -> Geometry:
        if self._geometry_cache is None:
            rows = legend_rows(self.font(), self.width())
            clients = any(lane.context.client is not None for lane in self._lanes)
            geo = lay_out(
                self.font(),
                self.width(),
                self.height(),
                len(self._lanes),
                self._scroll,
                rows,
                clients=clients,
            )
            self._scroll = geo.scroll
            self._geometry_cache = geo
        return self._geometry_cache

    def _set_scroll(self, scroll: int) -> None:
        if scroll != self._scroll:
            self._scroll = scroll
            self._geometry_cache = None
            self.update()

    def _xs(self, values: FloatArray, geo: Geometry) -> FloatArray:
        v0, v1 = self.visible_range()
        return plot_xs(values, geo, v0, v1)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._geometry_cache = None
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._geometry_cache = None
        super().resizeEvent(event)
