"""The timeline: one lane per context, audio chunks as blocks coloured by flush_id, and what was sent.

Drawing is built for sessions of 100,000 chunks and more; no Python loop runs per chunk or per marker in a
paint:

* Per lane, chunk positions are cached as sorted numpy arrays (arrival time and audio position are both
  non-decreasing within a context), grown as the bridge reports new rows.
* Blocks, level of detail: per lane, one ``searchsorted`` of the pixel column edges finds the last chunk
  starting in each column; that chunk gives the column its colour and its reach. Neighbouring columns of
  the same segment merge into one run, so a lane costs at most one rectangle per pixel column and usually
  one per visible segment, however many chunks it holds. A lane showing fewer chunks than one per
  ``_EXACT_PX`` pixels draws every chunk, with a seam between neighbours. Rectangles are integer
  (``QRect``: Qt's fast fill path), filled with one ``drawRects`` call per colour for all lanes.
* Markers and brackets of every lane live in flat arrays (:class:`_Overlay`), culled with one mask; markers
  are stamped with numpy into one image row per lane from small pre-drawn sprites, brackets rasterised the
  same way, and each row goes out in one ``drawImage``.
* Translucent fills of thin shapes are slow in Qt's raster engine, so every tint is mixed opaque up front.
* Data arrives through :class:`SessionBridge`'s coalesced signals; the view ingests new rows and repaints
  once per bridge tick, never per frame.

Axis semantics. ``ARRIVAL``: x is session time (the ``t`` column); a block spans from its arrival to the
earlier of its audio duration and the next chunk of the same context (at least one pixel), so blocks never
overlap (every chunk can be hovered) and a gap means audio stopped arriving for longer than it lasts.
``AUDIO``: x is the position in the context's audio (``start``), width the chunk's ``duration``; lanes all
start at 0. Markers and brackets have no audio position of their own: in audio mode they sit at the amount
of the context's audio received before they happened, so a flush_done lands at the end of its segment's
audio.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6 import QtGui
from PySide6.QtCore import QEvent, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QPolygonF,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QToolTip, QWidget

from flushscope.core.anomalies import Anomaly, Severity
from flushscope.core.session import Context, ContextState, Segment, SegmentState, Session, Transcript
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.palette import (
    FLUSH_COLOUR_COUNT,
    error_colour,
    flush_colours,
    is_dark,
    text_on,
    warning_colour,
)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class AxisMode(Enum):
    """What the timeline's x-axis measures."""

    ARRIVAL = "arrival"  # session seconds, when each frame arrived
    AUDIO = "audio"  # seconds into the context's audio


# Marker kinds, in drawing order (later ones on top).
_TRANSCRIPT, _FLUSH, _FLUSH_DONE, _DONE, _CANCEL, _WARNING, _ERROR = (
    "transcript",
    "flush",
    "flush_done",
    "done",
    "cancel",
    "warning",
    "error",
)
_MARKER_KINDS = (_TRANSCRIPT, _FLUSH, _FLUSH_DONE, _DONE, _CANCEL, _WARNING, _ERROR)

_MIN_SPAN = 1e-4  # seconds visible at the deepest zoom
_MAX_SPAN = 1e7
_LANE_MIN, _LANE_MAX = 30, 56
_SPRITE_W, _SPRITE_H, _SPRITE_C = 11, 12, 5  # marker image size and the column of its time
_BRACKET_H = 7  # height of the bracket row under the blocks
_LANE_SHIFT = 1 << 24  # keeps lanes apart when pixel runs of all lanes are merged in one pass
_EXACT_PX = 8  # below this many pixels per visible chunk, a lane is drawn with level of detail
_HIT = 5  # hover/click tolerance around thin things, px
_DRAG = 4  # a press that moves less than this is a click
_LABEL_CAP = 200  # at most this many flush_id labels inside blocks per paint


# --- numpy helpers ------------------------------------------------------------------------------------


class _Grow:
    """An append-only numpy array that grows by doubling."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: Any) -> None:
        self.data: npt.NDArray[Any] = np.zeros(64, dtype=dtype)
        self.size = 0

    def extend(self, values: npt.NDArray[Any]) -> None:
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.zeros(max(end, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end

    def resize(self, size: int) -> None:
        if size > len(self.data):
            grown = np.zeros(max(size, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.size = size

    @property
    def view(self) -> npt.NDArray[Any]:
        return self.data[: self.size]


def _rects(x: IntArray, y: IntArray, w: IntArray, h: IntArray) -> list[QRect]:
    """QRects from integer columns. Integer rectangles take Qt's fast fill path: filling them is an order of
    magnitude cheaper than QRectF, and building them is the only per-item Python work left in a paint."""
    return list(map(QRect, x.tolist(), y.tolist(), w.tolist(), h.tolist()))


@dataclass(frozen=True)
class _Sprite:
    """A marker drawn once (antialiased) into a small image, kept as its non-empty pixels for stamping."""

    image: QImage
    dy: IntArray
    dx: IntArray  # relative to the marker's pixel column
    argb: npt.NDArray[np.uint32]


def _render_sprite(kind: str, ink: QColor, warning: QColor, error: QColor) -> _Sprite:
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


def _merge_runs(
    slot: IntArray, col0: IntArray, col1: IntArray, key: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Pixel spans [col0, col1) of several lanes (sorted by lane ``slot``, then by distinct col0), each with
    a colour key, merged into runs of the same key that touch or overlap. A run never covers the start of
    the next one. Lanes are kept apart by shifting each far to the right of the one before."""
    if len(col0) == 0:
        return slot, col0, col1, key
    shift = slot * _LANE_SHIFT
    a, b = col0 + shift, col1 + shift
    reach = np.maximum.accumulate(b)
    new = np.ones(len(a), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (a[1:] > reach[:-1])
    starts = np.flatnonzero(new)
    r0 = a[starts]
    r1 = np.maximum.reduceat(b, starts)
    r1[:-1] = np.minimum(r1[:-1], r0[1:])
    lane = slot[starts]
    return lane, r0 - lane * _LANE_SHIFT, r1 - lane * _LANE_SHIFT, key[starts]


def _mix(a: QColor, b: QColor, weight: float) -> QColor:
    """``weight`` of ``a`` over ``b``, opaque."""
    return QColor.fromRgbF(
        a.redF() * weight + b.redF() * (1 - weight),
        a.greenF() * weight + b.greenF() * (1 - weight),
        a.blueF() * weight + b.blueF() * (1 - weight),
    )


# --- cached per-lane data -----------------------------------------------------------------------------


@dataclass
class _Markers:
    """One lane's markers and segment brackets, sorted by time (rebuilt when its context changes)."""

    times: dict[str, FloatArray]
    refs: dict[str, list[Any]]
    all_times: FloatArray  # every marker of the lane, sorted, with its kind (index in _MARKER_KINDS)
    all_kinds: IntArray
    all_audio: FloatArray  # and where each falls in the context's audio
    ready: FloatArray  # per segment with something to show: text ready, first audio, end (nan: none)
    first: FloatArray
    end: FloatArray
    ongoing: npt.NDArray[np.bool_]  # still waiting: the bar grows to "now"
    ordinal: IntArray
    segments: list[Segment]
    ready_audio: FloatArray
    first_audio: FloatArray
    end_audio: FloatArray  # ongoing: all the audio received so far


@dataclass(frozen=True)
class _Overlay:
    """The markers and brackets of every lane in flat arrays: a paint culls and places them all at once."""

    lane: IntArray  # per marker
    kind: IntArray
    t: FloatArray
    audio: FloatArray
    b_lane: IntArray  # per bracket (segment)
    b_fid: IntArray
    ready: FloatArray
    first: FloatArray
    end: FloatArray
    ongoing: npt.NDArray[np.bool_]
    ready_audio: FloatArray
    first_audio: FloatArray
    end_audio: FloatArray


@dataclass(eq=False)
class _Lane:
    """One context's chunks as sorted columns, plus its markers."""

    context: Context
    rows: _Grow = field(default_factory=lambda: _Grow(np.int64))
    t: _Grow = field(default_factory=lambda: _Grow(np.float64))
    t_end: _Grow = field(default_factory=lambda: _Grow(np.float64))
    start: _Grow = field(default_factory=lambda: _Grow(np.float64))
    a_end: _Grow = field(default_factory=lambda: _Grow(np.float64))
    duration: _Grow = field(default_factory=lambda: _Grow(np.float64))
    seg: _Grow = field(default_factory=lambda: _Grow(np.int64))
    anomalies: list[Anomaly] = field(default_factory=list)
    markers: _Markers | None = None

    def spans(self, mode: AxisMode) -> tuple[FloatArray, FloatArray]:
        if mode is AxisMode.ARRIVAL:
            return self.t.view, self.t_end.view
        return self.start.view, self.a_end.view

    def base(self) -> int:
        """The numbering base for colours: the context's own, or the documented 1 while unknown (which is
        the same as colouring by ordinal + 1)."""
        base = self.context.base
        return 1 if base is None else base

    def audio_at(self, times: FloatArray) -> FloatArray:
        """Seconds of the context's audio received before each time (nan stays nan): a chunk arriving at
        the very time of an event (the first audio itself) starts there rather than ends there."""
        t = self.t.view
        k = np.searchsorted(t, np.nan_to_num(times, nan=-np.inf), side="left")
        ends = np.concatenate(([0.0], self.a_end.view))
        out: FloatArray = ends[k]
        out[np.isnan(times)] = np.nan
        return out


@dataclass(frozen=True)
class _Theme:
    dark: bool
    base: QColor
    stripe: QColor
    window: QColor
    text: QColor
    faint: QColor
    grid: QColor
    highlight: QColor
    blocks: list[QColor]
    error: QColor
    warning: QColor


@dataclass(frozen=True)
class _Geometry:
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


class TimelineView(QWidget):
    """One lane per context with its audio chunks as blocks coloured by flush_id, what was sent and
    received as markers, and each segment's wait for audio as a bracket under its blocks.

    Mouse: wheel or pinch zooms around the pointer, horizontal wheel or shift+wheel pans, drag pans, click
    selects a segment (or the lane's context), double click zooms to a segment, right click asks for the
    segment's menu. Keys: + and - zoom, arrows pan and scroll lanes, F or Home fits everything, End follows
    live data, A switches the axis between arrival time and audio position.
    """

    segmentContextMenuRequested = Signal(object, QPoint)
    """Right click over a segment (its chunk, marker or bracket): the segment and the global position."""
    followChanged = Signal(bool)
    """Follow-live was switched on or off (off when the user pans away from the newest data)."""
    axisModeChanged = Signal(object)
    """The x-axis switched to the given :class:`AxisMode`."""
    rangeChanged = Signal(float, float)
    """The visible x range changed (seconds in the current axis mode)."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._selection = selection
        self._mode = AxisMode.ARRIVAL
        self._ranges: dict[AxisMode, tuple[float, float] | None] = {m: None for m in AxisMode}
        self._follow = True
        self._scroll = 0
        self._geometry_cache: _Geometry | None = None
        self._theme_cache: _Theme | None = None
        self._sprite_cache: dict[str, _Sprite] | None = None
        self._label_cache: dict[int, tuple[tuple[Any, ...], QImage]] = {}
        self._plate_cache: dict[tuple[str, int, int], QImage] = {}
        self._legend_cache: tuple[tuple[Any, ...], QImage] | None = None
        self._press: QPoint | None = None
        self._press_range: tuple[float, float] = (0.0, 1.0)
        self._press_scroll = 0
        self._dragging = False
        self._pending = False
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
        selection.changed.connect(self._on_selection)

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
        span = min(max(v1 - v0, _MIN_SPAN), _MAX_SPAN)
        centre = (v0 + v1) / 2
        new = (centre - span / 2, centre + span / 2) if v1 - v0 != span else (v0, v1)
        if new == self._ranges[self._mode]:
            return
        self._ranges[self._mode] = new
        self.rangeChanged.emit(*new)
        self.update()

    def fit_all(self) -> None:
        """Show every chunk and marker of the session in the current axis mode, and every lane."""
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
        span = min(max((v1 - v0) / factor, _MIN_SPAN), _MAX_SPAN)
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
        self._sync()
        return len(self._lanes)

    def lane_rect(self, index: int) -> QRect:
        """The whole lane of the context at ``index`` (``context.number - 1``), over the plot's width."""
        geo = self._geometry()
        return QRect(geo.plot.left(), geo.lane_top(index), geo.plot.width(), geo.lane_h)

    def block_rect(self, index: int) -> QRect:
        """The band of lane ``index`` where chunk blocks are drawn."""
        geo = self._geometry()
        top, bottom = geo.band(index)
        return QRect(geo.plot.left(), top, geo.plot.width(), bottom - top)

    def chunk_rect(self, row: int) -> QRectF | None:
        """Where the chunk at ``row`` of the session's chunk columns is drawn (at least one pixel wide)."""
        self._sync()
        if not 0 <= row < self._lane_of.size:
            return None
        index = int(self._lane_of.view[row])
        lane = self._lanes[index]
        pos = int(self._pos.view[row])
        starts, ends = lane.spans(self._mode)
        x0, x1 = self.x_for(float(starts[pos])), self.x_for(float(ends[pos]))
        top, bottom = self._geometry().band(index)
        return QRectF(x0, top, max(1.0, x1 - x0), bottom - top)

    def segment_at(self, point: QPoint) -> Segment | None:
        """The segment under a widget point: its chunk, one of its markers or its bracket."""
        hit = self._hit(point)
        return hit[1] if hit is not None else None

    def describe_at(self, point: QPoint) -> str | None:
        """The hover text at a widget point (a chunk, a marker or a bracket), or None."""
        hit = self._hit(point)
        return hit[0] if hit is not None else None

    def export_png(self, path: str) -> bool:
        """Save the view as it is drawn now to a PNG file."""
        return bool(self.grab().save(path, "PNG"))

    def sizeHint(self) -> QSize:
        return QSize(960, 420)

    def minimumSizeHint(self) -> QSize:
        return QSize(400, 200)

    # --- data ---------------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._lanes: list[_Lane] = []
        self._lane_of = _Grow(np.int32)  # chunk row -> lane index
        self._pos = _Grow(np.int64)  # chunk row -> position in its lane
        self._rows_seen = 0
        self._anomalies_seen = 0
        self._geometry_cache = None
        self._overlay_cache: _Overlay | None = None

    def _sync(self) -> None:
        """Bring the lane caches up to date with the session: new lanes, new chunk rows, new anomalies."""
        session = self.session
        if len(self._lanes) < len(session.contexts):
            for ctx in session.contexts[len(self._lanes) :]:
                self._lanes.append(_Lane(ctx))
            self._geometry_cache = None
        size = session.chunks.size
        if size > self._rows_seen:
            self._ingest(self._rows_seen, size)
        if len(session.anomalies) > self._anomalies_seen:
            for anomaly in session.anomalies[self._anomalies_seen :]:
                number = anomaly.context_number
                if (
                    number is not None
                    and anomaly.severity is not Severity.INFO
                    and number <= len(self._lanes)
                ):
                    lane = self._lanes[number - 1]
                    lane.anomalies.append(anomaly)
                    self._invalidate(lane)
            self._anomalies_seen = len(session.anomalies)

    def _ingest(self, first: int, last: int) -> None:
        chunks = self.session.chunks
        ctx_col = chunks.column("context")[first:last]
        t_col = chunks.column("t")[first:last]
        start_col = chunks.column("start")[first:last]
        dur_col = chunks.column("duration")[first:last]
        seg_col = chunks.column("segment")[first:last]
        order = np.argsort(ctx_col, kind="stable")
        sorted_ctx = ctx_col[order]
        bounds = np.flatnonzero(sorted_ctx[1:] != sorted_ctx[:-1]) + 1
        self._lane_of.resize(last)
        self._pos.resize(last)
        for group in np.split(order, bounds):
            index = int(ctx_col[group[0]])
            lane = self._lanes[index]
            before = lane.t.size
            lane.rows.extend(group + first)
            lane.t.extend(t_col[group])
            lane.start.extend(start_col[group])
            lane.duration.extend(dur_col[group])
            lane.a_end.extend(start_col[group] + dur_col[group])
            lane.seg.extend(seg_col[group])
            lane.t_end.resize(lane.t.size)
            # The block of the previous last chunk now ends at the earlier of its duration and this gap.
            lo = max(0, before - 1)
            t = lane.t.view[lo:]
            d = lane.duration.view[lo:]
            gap = np.empty_like(t)
            gap[:-1] = np.diff(t)
            gap[-1] = np.inf
            lane.t_end.view[lo:] = t + np.minimum(d, gap)
            self._lane_of.data[group + first] = index
            self._pos.data[group + first] = np.arange(before, lane.t.size)
            self._invalidate(lane)
        self._rows_seen = last

    def _invalidate(self, lane: _Lane) -> None:
        lane.markers = None
        self._overlay_cache = None

    def _markers(self, lane: _Lane) -> _Markers:
        if lane.markers is None:
            lane.markers = self._build_markers(lane)
        return lane.markers

    def _build_markers(self, lane: _Lane) -> _Markers:
        ctx = lane.context
        times: dict[str, list[float]] = {k: [] for k in _MARKER_KINDS}
        refs: dict[str, list[Any]] = {k: [] for k in _MARKER_KINDS}
        ready: list[float] = []
        first: list[float] = []
        end: list[float] = []
        ongoing: list[bool] = []
        ordinal: list[int] = []
        segments: list[Segment] = []
        pos, t_end = self._pos.view, lane.t_end.view
        for seg in ctx.segments:
            for transcript in seg.transcripts:
                times[_TRANSCRIPT].append(transcript.t)
                refs[_TRANSCRIPT].append((seg, transcript))
            if seg.flush_t is not None:
                times[_FLUSH].append(seg.flush_t)
                refs[_FLUSH].append(seg)
            if seg.flush_done_t is not None:
                times[_FLUSH_DONE].append(seg.flush_done_t)
                refs[_FLUSH_DONE].append(seg)
            r = seg.text_ready_t
            if r is None:
                r = seg.first_audio_t
            if r is None:
                continue
            waiting = seg.state in (SegmentState.OPEN, SegmentState.FLUSHING)
            if seg.flush_done_t is not None:
                e = seg.flush_done_t
            elif seg.chunk_rows and not waiting:
                e = float(t_end[pos[seg.chunk_rows[-1]]])
            elif waiting and (seg.flush_t is not None or seg.first_audio_t is not None):
                e = math.nan
            else:
                continue
            ready.append(r)
            first.append(math.nan if seg.first_audio_t is None else seg.first_audio_t)
            end.append(e)
            ongoing.append(math.isnan(e))
            ordinal.append(seg.ordinal)
            segments.append(seg)
        if ctx.done_t is not None:
            times[_DONE].append(ctx.done_t)
            refs[_DONE].append(ctx)
        if ctx.cancel_t is not None:
            times[_CANCEL].append(ctx.cancel_t)
            refs[_CANCEL].append(ctx)
        frames = self.session.frames
        for anomaly in lane.anomalies:
            at = frames[anomaly.frames[0]].t if anomaly.frames else ctx.end_t
            if at is None:
                continue
            kind = _ERROR if anomaly.severity is Severity.ERROR else _WARNING
            times[kind].append(at)
            refs[kind].append(anomaly)
        sorted_times: dict[str, FloatArray] = {}
        sorted_refs: dict[str, list[Any]] = {}
        for kind in _MARKER_KINDS:
            values = np.asarray(times[kind], dtype=np.float64)
            order = np.argsort(values, kind="stable")
            sorted_times[kind] = values[order]
            sorted_refs[kind] = [refs[kind][i] for i in order]
        every = np.concatenate([sorted_times[k] for k in _MARKER_KINDS])
        kinds = np.concatenate(
            [np.full(len(sorted_times[k]), n, dtype=np.int64) for n, k in enumerate(_MARKER_KINDS)]
        )
        order = np.argsort(every, kind="stable")
        ready_t = np.asarray(ready, dtype=np.float64)
        first_t = np.asarray(first, dtype=np.float64)
        end_t = np.asarray(end, dtype=np.float64)
        still = np.asarray(ongoing, dtype=bool)
        received = float(lane.a_end.view[-1]) if lane.a_end.size else 0.0
        return _Markers(
            sorted_times,
            sorted_refs,
            every[order],
            kinds[order],
            lane.audio_at(every[order]),
            ready_t,
            first_t,
            end_t,
            still,
            np.asarray(ordinal, dtype=np.int64),
            segments,
            lane.audio_at(ready_t),
            lane.audio_at(first_t),
            np.where(still, received, lane.audio_at(end_t)),
        )

    def _overlay(self) -> _Overlay:
        """Every lane's markers and brackets as flat arrays (rebuilt when any lane changes)."""
        if self._overlay_cache is None:
            marks = [self._markers(lane) for lane in self._lanes]
            n_marks = [len(m.all_times) for m in marks]
            n_brackets = [len(m.ready) for m in marks]
            lane_ids = np.arange(len(marks), dtype=np.int64)
            bases = np.asarray([lane.base() for lane in self._lanes], dtype=np.int64)

            def cat(name: str) -> npt.NDArray[Any]:
                return np.concatenate([getattr(m, name) for m in marks]) if marks else np.zeros(0)

            b_lane = np.repeat(lane_ids, n_brackets)
            self._overlay_cache = _Overlay(
                np.repeat(lane_ids, n_marks),
                cat("all_kinds").astype(np.int64),
                cat("all_times"),
                cat("all_audio"),
                b_lane,
                cat("ordinal").astype(np.int64) + bases[b_lane],
                cat("ready"),
                cat("first"),
                cat("end"),
                cat("ongoing").astype(bool),
                cat("ready_audio"),
                cat("first_audio"),
                cat("end_audio"),
            )
        return self._overlay_cache

    def _on_data(self) -> None:
        self._pending = True

    def _on_segments(self, segments: list[Segment]) -> None:
        lanes = self._lanes
        for segment in segments:
            index = segment.context.number - 1
            if index < len(lanes):
                self._invalidate(lanes[index])
        self._pending = True

    def _on_contexts(self, contexts: list[Context]) -> None:
        lanes = self._lanes
        for ctx in contexts:
            if ctx.number - 1 < len(lanes):
                self._invalidate(lanes[ctx.number - 1])
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

    def _data_bounds(self, mode: AxisMode) -> tuple[float, float] | None:
        lanes = [lane for lane in self._lanes if lane.t.size]
        if mode is AxisMode.AUDIO:
            if not lanes:
                return None
            return 0.0, max(float(lane.a_end.view[-1]) for lane in lanes)
        session = self.session
        if not session.contexts:
            return None
        lo = min(ctx.first_t for ctx in session.contexts)
        hi = max([session.duration, *(float(lane.t_end.view[-1]) for lane in lanes)])
        return lo, hi

    def _fit_range(self) -> tuple[float, float]:
        self._sync()
        bounds = self._data_bounds(self._mode)
        if bounds is None:
            return 0.0, 10.0
        lo, hi = bounds
        span = max(hi - lo, 0.05)
        pad = span * 0.02
        return lo - pad, lo + span + pad

    def _apply_follow(self) -> None:
        bounds = self._data_bounds(self._mode)
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
        index = segment.context.number - 1
        lane = self._lanes[index] if index < len(self._lanes) else None
        if lane is None or lane.context is not segment.context:
            return None
        if segment.chunk_rows:
            starts, ends = lane.spans(self._mode)
            pos = self._pos.view
            return float(starts[pos[segment.chunk_rows[0]]]), float(ends[pos[segment.chunk_rows[-1]]])
        times = [t for t in (segment.text_ready_t, segment.flush_t, segment.flush_done_t) if t is not None]
        if not times:
            return None
        lo, hi = min(times), max(times)
        if self._mode is AxisMode.AUDIO:
            mapped = lane.audio_at(np.asarray([lo, hi]))
            return float(mapped[0]), float(mapped[1])
        return lo, hi

    def _reveal_selection(self) -> None:
        segment = self._selection.segment
        context = segment.context if segment is not None else self._selection.context
        if context is None:
            return
        geo = self._geometry()
        index = context.number - 1
        top = index * geo.lane_h
        if top < geo.scroll or top + geo.lane_h > geo.scroll + geo.plot.height():
            self._set_scroll(top - max(0, (geo.plot.height() - geo.lane_h) // 2))
        if segment is None:
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

    # --- geometry and theme -------------------------------------------------------------------------

    def _geometry(self) -> _Geometry:
        if self._geometry_cache is None:
            fm = QFontMetrics(self.font())
            gutter = max(130, fm.horizontalAdvance("M") * 13)
            ruler = fm.height() + 10
            row = fm.height() + 6
            legend_h = 2 * row + 6
            w, h = self.width(), self.height()
            plot_h = max(1, h - ruler - legend_h)
            lanes = len(self._lanes)
            lane_h = _LANE_MAX if lanes == 0 else max(_LANE_MIN, min(_LANE_MAX, plot_h // lanes))
            plot = QRect(gutter, ruler, max(1, w - gutter), plot_h)
            legend = QRect(0, ruler + plot_h, w, legend_h)
            max_scroll = max(0, lanes * lane_h - plot_h)
            self._scroll = min(max(0, self._scroll), max_scroll)
            self._geometry_cache = _Geometry(plot, gutter, ruler, legend, lane_h, self._scroll, lanes)
        return self._geometry_cache

    def _set_scroll(self, scroll: int) -> None:
        if scroll != self._scroll:
            self._scroll = scroll
            self._geometry_cache = None
            self.update()

    def _theme(self) -> _Theme:
        if self._theme_cache is None:
            pal = self.palette()
            dark = is_dark(pal)
            text = pal.color(QPalette.ColorRole.Text)
            base = pal.color(QPalette.ColorRole.Base)
            # Tints are mixed here rather than drawn with alpha: translucent fills of thin shapes (grid
            # lines, ticks) are many times slower for Qt's raster engine than opaque ones.
            faint = _mix(text, base, 0.55)
            grid = _mix(text, base, 0.13)
            stripe = _mix(text, base, 0.035)
            self._theme_cache = _Theme(
                dark,
                base,
                stripe,
                pal.color(QPalette.ColorRole.Window),
                text,
                faint,
                grid,
                pal.color(QPalette.ColorRole.Highlight),
                flush_colours(dark),
                error_colour(dark),
                warning_colour(dark),
            )
        return self._theme_cache

    def _sprites(self) -> dict[str, _Sprite]:
        if self._sprite_cache is None:
            theme = self._theme()
            self._sprite_cache = {
                kind: _render_sprite(kind, theme.text, theme.warning, theme.error) for kind in _MARKER_KINDS
            }
        return self._sprite_cache

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._theme_cache = None
            self._sprite_cache = None
            self._label_cache.clear()
            self._plate_cache.clear()
            self._legend_cache = None
            self.update()
        elif event.type() == QEvent.Type.FontChange:
            self._geometry_cache = None
            self._label_cache.clear()
            self._plate_cache.clear()
            self._legend_cache = None
            self.update()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._geometry_cache = None
        super().resizeEvent(event)

    # --- painting -----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        self._sync()
        geo = self._geometry()
        theme = self._theme()
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), theme.window)
            painter.fillRect(geo.plot, theme.base)
            lanes = geo.visible_lanes()
            ticks, minor, step = self._ticks(geo)
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
            self._paint_grid(painter, geo, theme, ticks)
            fids = self._paint_blocks(painter, geo, theme, lanes)
            self._paint_selection(painter, geo, theme)
            self._paint_brackets(painter, geo, theme, lanes)
            self._paint_markers(painter, geo, theme, lanes)
            painter.setClipping(False)
            self._paint_gutter(painter, geo, theme, lanes)
            self._paint_ruler(painter, geo, theme, ticks, minor, step)
            self._paint_legend(painter, geo, theme, fids)
            if not self._lanes:
                painter.setPen(theme.faint)
                painter.drawText(
                    geo.plot, Qt.AlignmentFlag.AlignCenter, "No contexts yet: send a transcript to start one."
                )
        finally:
            painter.end()

    def _visible_slice(self, lane: _Lane, v0: float, v1: float) -> tuple[int, int]:
        """The index range of a lane's chunks that overlap [v0, v1] in the current axis."""
        starts, ends = lane.spans(self._mode)
        return int(np.searchsorted(ends, v0, "left")), int(np.searchsorted(starts, v1, "right"))

    def _paint_grid(self, painter: QPainter, geo: _Geometry, theme: _Theme, ticks: FloatArray) -> None:
        if not len(ticks):
            return
        xs = np.floor(self._xs(ticks, geo)).astype(np.int64)
        n = len(xs)
        top = np.full(n, geo.plot.top(), dtype=np.int64)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.grid)
        painter.drawRects(
            _rects(xs, top, np.ones(n, dtype=np.int64), np.full(n, geo.plot.height(), dtype=np.int64))
        )

    def _xs(self, values: FloatArray, geo: _Geometry) -> FloatArray:
        v0, v1 = self.visible_range()
        scale = geo.plot.width() / (v1 - v0)
        out: FloatArray = (values - v0) * scale + geo.plot.left()
        return out

    def _paint_blocks(self, painter: QPainter, geo: _Geometry, theme: _Theme, lanes: range) -> set[str]:
        """Fill the visible chunks of every visible lane; returns the flush_id labels in view.

        Per lane one binary search of the pixel column edges finds, for every column, the last chunk
        starting in it; the rest is vectorised over all lanes at once. A lane showing fewer chunks than
        one per ``_EXACT_PX`` pixels draws each chunk (with a seam between neighbours) instead."""
        v0, v1 = self.visible_range()
        left, right = geo.plot.left(), geo.plot.right() + 1
        width = geo.plot.width()
        scale = width / (v1 - v0)
        offset = left + 0.5 - v0 * scale
        # Upper edge (in axis values) of each pixel column from left - 2 to right + 2.
        edges = v0 + (np.arange(left - 2, right + 3) + 0.5 - left) / scale
        lod: list[tuple[int, IntArray, FloatArray, IntArray]] = []
        exact: list[tuple[int, FloatArray, FloatArray, IntArray]] = []
        for slot, i in enumerate(lanes):
            lane = self._lanes[i]
            starts, ends = lane.spans(self._mode)
            if not len(starts):
                continue
            if starts[0] >= v1 or ends[-1] < v0:
                continue
            # Search only the columns the lane's data spans (a context often covers part of the view).
            c_lo = int(np.searchsorted(edges, starts[0], "right"))
            c_hi = int(np.searchsorted(edges, starts[-1], "right")) + 1
            below = np.searchsorted(starts, edges[c_lo:c_hi], "left")
            # Only the last chunk starting left of the view can reach into it (blocks do not overlap).
            lo, hi = (0 if c_lo > 0 else max(0, int(below[0]) - 1)), int(below[-1])
            if hi <= lo or (hi == lo + 1 and ends[lo] < v0):
                continue
            if (hi - lo) * _EXACT_PX <= width:
                exact.append((slot, starts[lo:hi], ends[lo:hi], lane.seg.view[lo:hi] + lane.base()))
            else:
                filled = np.flatnonzero(np.diff(below, prepend=0))
                last = below[filled] - 1
                lod.append((slot, filled + c_lo, ends[last], lane.seg.view[last] + lane.base()))
        parts: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
        if lod:
            slot_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in lod])
            col0 = np.concatenate([p[1] for p in lod]) + (left - 2)
            col1 = np.maximum(
                self._columns(np.concatenate([p[2] for p in lod]), scale, offset, left, right), col0 + 1
            )
            parts.append(_merge_runs(slot_of, col0, col1, np.concatenate([p[3] for p in lod])))
        if exact:
            slot_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in exact])
            c0 = self._columns(np.concatenate([p[1] for p in exact]), scale, offset, left, right)
            c1 = np.maximum(
                self._columns(np.concatenate([p[2] for p in exact]), scale, offset, left, right), c0 + 1
            )
            # Wide enough to tell chunks apart: leave a one-pixel seam between neighbours.
            parts.append(
                (slot_of, c0, np.where(c1 - c0 >= 5, c1 - 1, c1), np.concatenate([p[3] for p in exact]))
            )
        if not parts:
            return set()
        slot_of, x0, x1, fid = (np.concatenate([p[k] for p in parts]) for k in range(4))
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
        known = np.asarray([self._lanes[i].context.base is not None for i in lanes], dtype=bool)[
            slot_of[firsts]
        ]
        names = {(int(f), bool(k)) for f, k in zip(fid[firsts].tolist(), known.tolist(), strict=True)}
        if band_bottom - band_top >= 12:
            span0 = np.maximum(x0[firsts], left)
            wide = np.flatnonzero(x1[lasts] - span0 >= 30)[:_LABEL_CAP]
            for j in wide.tolist():
                f, k = int(fid[firsts[j]]), bool(known[j])
                plate = self._plate(
                    str(f) if k else f"~{f}", f % FLUSH_COLOUR_COUNT, band_bottom - band_top - 2, theme
                )
                a = int(span0[j])
                if int(x1[lasts[j]]) - a >= plate.width() + 2:
                    painter.drawImage(QPoint(a + 1, int(top[firsts[j]]) + 1), plate)
        return {str(f) if k else f"~{f}" for f, k in names}

    @staticmethod
    def _columns(values: FloatArray, scale: float, offset: float, left: int, right: int) -> IntArray:
        """Rounded pixel columns of axis values, clipped just outside the plot."""
        x = values * scale
        x += offset
        np.clip(x, left - 2, right + 2, out=x)
        out: IntArray = x.astype(np.int64)
        return out

    def _plate(self, text: str, colour: int, height: int, theme: _Theme) -> QImage:
        """A flush_id label on a solid plate of its block colour (so the seams between chunks do not cut
        through the digits), drawn once per id, colour and height."""
        key = (text, colour, height)
        plate = self._plate_cache.get(key)
        if plate is None:
            font = QFont(self.font())
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
            self._plate_cache[key] = plate
        return plate

    def _paint_selection(self, painter: QPainter, geo: _Geometry, theme: _Theme) -> None:
        segment = self._selection.segment
        if segment is None:
            return
        extent = self._segment_extent(segment)
        if extent is None:
            return
        index = segment.context.number - 1
        top, bottom = geo.band(index)
        x0, x1 = self.x_for(extent[0]), self.x_for(extent[1])
        left, right = geo.plot.left() - 4, geo.plot.right() + 4
        x0, x1 = max(x0, left), min(max(x1, x0 + 1), right)
        rect = QRectF(math.floor(x0) - 2, top - 2, math.ceil(x1 - x0) + 4, bottom - top + 4)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.text, 2))
        painter.drawRect(rect)

    def _paint_brackets(self, painter: QPainter, geo: _Geometry, theme: _Theme, lanes: range) -> None:
        """Under each segment's blocks: a dotted line while waiting for audio (from the text being ready to
        the first chunk), then a bar in the segment's colour until flush_done, with ticks at both ends.
        Rasterised with numpy into one strip image per lane (a segment costs no Python call)."""
        ov = self._overlay()
        if not len(ov.b_lane):
            return
        v0, v1 = self.visible_range()
        if self._mode is AxisMode.ARRIVAL:
            ready, first = ov.ready, ov.first
            end = np.where(ov.ongoing, self.session.duration, ov.end)
        else:
            ready, first, end = ov.ready_audio, ov.first_audio, ov.end_audio
        sel = np.flatnonzero(
            (ov.b_lane >= lanes.start) & (ov.b_lane < lanes.stop) & (end >= v0) & (ready <= v1)
        )
        if not len(sel):
            return
        width = geo.plot.width()
        scale = width / (v1 - v0)
        slot = ov.b_lane[sel] - lanes.start
        r = np.clip((ready[sel] - v0) * scale, -2, width + 2).astype(np.int64)
        e = np.clip((end[sel] - v0) * scale, -2, width + 2).astype(np.int64)
        f_x = (first[sel] - v0) * scale
        f = np.where(np.isnan(f_x), e, np.clip(np.nan_to_num(f_x), -2, width + 2)).astype(np.int64)
        argb = np.asarray([c.rgba() for c in theme.blocks], dtype=np.uint32)[
            ov.b_fid[sel] % FLUSH_COLOUR_COUNT
        ]
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
            image = QImage(
                buf[s].data, width, _BRACKET_H, width * 4, QImage.Format.Format_ARGB32_Premultiplied
            )
            painter.drawImage(QPoint(left, geo.bracket_y(lanes.start + s) - mid), image)

    def _marker_positions(self, lane: _Lane, kind: str, v0: float, v1: float) -> tuple[FloatArray, int]:
        """Visible positions (current axis) of one kind of marker in a lane, and the index of the first."""
        m = self._markers(lane)
        values = m.times[kind]
        if not len(values):
            return values, 0
        if self._mode is AxisMode.AUDIO:
            values = lane.audio_at(values)
        pad = (v1 - v0) * 0.01
        a = int(np.searchsorted(values, v0 - pad, "left"))
        b = int(np.searchsorted(values, v1 + pad, "right"))
        return values[a:b], a

    def _paint_markers(self, painter: QPainter, geo: _Geometry, theme: _Theme, lanes: range) -> None:
        """Stamp every lane's markers into one image row per lane with numpy, then draw each row once."""
        ov = self._overlay()
        if not len(ov.lane):
            return
        v0, v1 = self.visible_range()
        width = geo.plot.width()
        x = ((ov.t if self._mode is AxisMode.ARRIVAL else ov.audio) - v0) * (width / (v1 - v0))
        sel = np.flatnonzero(
            (ov.lane >= lanes.start) & (ov.lane < lanes.stop) & (x > -_SPRITE_W) & (x < width + _SPRITE_W)
        )
        if not len(sel):
            return
        col = np.floor(x[sel]).astype(np.int64)
        slot = ov.lane[sel] - lanes.start
        kind_of = ov.kind[sel]
        buf = np.zeros((len(lanes), _SPRITE_H, width), dtype=np.uint32)
        sprites = self._sprites()
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
            image = QImage(
                buf[s].data, width, _SPRITE_H, width * 4, QImage.Format.Format_ARGB32_Premultiplied
            )
            painter.drawImage(QPoint(left, geo.marker_y(lanes.start + s)), image)

    def _paint_gutter(self, painter: QPainter, geo: _Geometry, theme: _Theme, lanes: range) -> None:
        gutter = QRect(0, geo.plot.top(), geo.gutter, geo.plot.height())
        painter.fillRect(gutter, theme.window)
        painter.setClipRect(gutter)
        selected = self._selection.context
        for i in lanes:
            ctx = self._lanes[i].context
            key = (ctx.number, ctx.context_id, ctx.state, ctx.error, ctx is selected, geo.lane_h, geo.gutter)
            cached = self._label_cache.get(i)
            if cached is None or cached[0] != key:
                cached = self._label_cache[i] = (
                    key,
                    self._render_label(ctx, ctx is selected, i % 2 == 1, geo, theme),
                )
            painter.drawImage(QPoint(0, geo.lane_top(i)), cached[1])
        painter.setClipping(False)
        painter.fillRect(QRect(geo.gutter - 1, geo.plot.top(), 1, geo.plot.height()), theme.grid)

    def _render_label(self, ctx: Context, selected: bool, odd: bool, geo: _Geometry, theme: _Theme) -> QImage:
        """A lane's label (number, id, state), drawn once and reused until one of them changes."""
        image = QImage(geo.gutter - 1, geo.lane_h, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(_mix(theme.text, theme.window, 0.035) if odd else theme.window)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        font = self.font()
        fm = QFontMetrics(font)
        bold = QFont(font)
        bold.setBold(True)
        h = geo.lane_h
        rect = QRect(8, 0, geo.gutter - 14, h)
        if selected:
            painter.fillRect(QRect(0, 2, 4, h - 4), theme.highlight)
        state = ctx.state.value
        state_colour = theme.faint
        if ctx.state is ContextState.FAILED:
            state_colour = theme.error
        elif ctx.state is ContextState.CANCELLED:
            state_colour = theme.warning
        head = f"#{ctx.number}"
        head_w = QFontMetrics(bold).horizontalAdvance(head + " ")
        painter.setFont(bold)
        painter.setPen(theme.text)
        if h >= 2 * fm.height() + 6:
            line_h = fm.height()
            y0 = (h - 2 * line_h) // 2
            painter.drawText(QRect(rect.left(), y0, head_w, line_h), Qt.AlignmentFlag.AlignLeft, head)
            painter.setFont(font)
            ident = fm.elidedText(ctx.context_id, Qt.TextElideMode.ElideMiddle, rect.width() - head_w)
            painter.drawText(
                QRect(rect.left() + head_w, y0, rect.width() - head_w, line_h),
                Qt.AlignmentFlag.AlignLeft,
                ident,
            )
            painter.setPen(state_colour)
            detail = state if ctx.error is None else f"{state}: {ctx.error}"
            painter.drawText(
                QRect(rect.left(), y0 + line_h, rect.width(), line_h),
                Qt.AlignmentFlag.AlignLeft,
                fm.elidedText(detail, Qt.TextElideMode.ElideRight, rect.width()),
            )
        else:
            align = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
            painter.drawText(QRect(rect.left(), 0, head_w, h), align, head)
            painter.setFont(font)
            state_w = fm.horizontalAdvance(state) + 6
            ident = fm.elidedText(
                ctx.context_id, Qt.TextElideMode.ElideMiddle, rect.width() - head_w - state_w
            )
            painter.drawText(QRect(rect.left() + head_w, 0, rect.width(), h), align, ident)
            painter.setPen(state_colour)
            painter.drawText(rect, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, state)
        painter.end()
        return image

    def _ticks(self, geo: _Geometry) -> tuple[FloatArray, FloatArray, float]:
        v0, v1 = self.visible_range()
        fm = QFontMetrics(self.font())
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

    def _paint_ruler(
        self,
        painter: QPainter,
        geo: _Geometry,
        theme: _Theme,
        ticks: FloatArray,
        minor: FloatArray,
        step: float,
    ) -> None:
        ruler = QRect(0, 0, self.width(), geo.ruler)
        painter.fillRect(ruler, theme.window)
        painter.setPen(QPen(theme.grid, 1))
        painter.drawLine(0, geo.ruler - 1, self.width(), geo.ruler - 1)
        fm = QFontMetrics(self.font())
        axis = "arrival time" if self._mode is AxisMode.ARRIVAL else "audio position"
        painter.setPen(theme.faint)
        painter.drawText(
            QRect(8, 0, geo.gutter - 12, geo.ruler),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            axis,
        )
        plot_l, plot_r = geo.plot.left(), geo.plot.right()
        if len(minor):
            mx = np.floor(self._xs(minor, geo)).astype(np.int64)
            mx = mx[(mx >= plot_l) & (mx <= plot_r)]
            n = len(mx)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.faint)
            y = np.full(n, geo.ruler - 4, dtype=np.int64)
            painter.drawRects(_rects(mx, y, np.ones(n, dtype=np.int64), np.full(n, 4, dtype=np.int64)))
        v0, v1 = self.visible_range()
        painter.setPen(theme.text)
        painter.setClipRect(QRect(plot_l, 0, geo.plot.width(), geo.ruler))
        for value, x in zip(ticks.tolist(), self._xs(ticks, geo).tolist(), strict=True):
            xi = math.floor(x)
            painter.drawLine(xi, geo.ruler - 8, xi, geo.ruler)
            label = _tick_label(value, step, max(abs(v0), abs(v1)))
            w = fm.horizontalAdvance(label)
            lx = min(max(xi - w // 2, plot_l + 2), plot_r - w - 2)
            painter.drawText(QRect(lx, 0, w + 2, geo.ruler - 8), Qt.AlignmentFlag.AlignBottom, label)
        painter.setClipping(False)

    def _paint_legend(self, painter: QPainter, geo: _Geometry, theme: _Theme, fids: set[str]) -> None:
        key = (tuple(sorted(fids)), geo.legend.width(), geo.legend.height())
        if self._legend_cache is None or self._legend_cache[0] != key:
            image = QImage(geo.legend.size(), QImage.Format.Format_ARGB32_Premultiplied)
            p = QPainter(image)
            p.setFont(self.font())
            self._render_legend(p, QRect(QPoint(0, 0), geo.legend.size()), theme, fids)
            p.end()
            self._legend_cache = (key, image)
        painter.drawImage(geo.legend.topLeft(), self._legend_cache[1])

    def _render_legend(self, painter: QPainter, rect: QRect, theme: _Theme, fids: set[str]) -> None:
        painter.fillRect(rect, theme.window)
        painter.setPen(QPen(theme.grid, 1))
        painter.drawLine(rect.left(), rect.top(), rect.right(), rect.top())
        fm = QFontMetrics(self.font())
        row_h = fm.height() + 6
        sw = fm.height() - 4
        y0 = rect.top() + 4
        x = rect.left() + 8
        limit = rect.right() - 8
        painter.setPen(theme.faint)
        caption = "flush_id"
        painter.drawText(
            QRect(x, y0, fm.horizontalAdvance(caption), row_h), Qt.AlignmentFlag.AlignVCenter, caption
        )
        x += fm.horizontalAdvance(caption) + 10
        ids = sorted(fids, key=lambda s: (int(s.lstrip("~")), s))
        entries: list[tuple[int, str]] = [(int(s.lstrip("~")) % FLUSH_COLOUR_COUNT, s) for s in ids]
        needed = sum(sw + 6 + fm.horizontalAdvance(s) + 12 for _, s in entries)
        if needed > limit - x:
            # Too many segments in view to name each: one swatch per colour with the ids that share it.
            grouped: dict[int, list[str]] = {}
            for ci, s in entries:
                grouped.setdefault(ci, []).append(s)
            entries = []
            for ci in sorted(grouped, key=lambda c: int(grouped[c][0].lstrip("~"))):
                names = grouped[ci]
                entries.append((ci, ",".join(names[:3]) + ("…" if len(names) > 3 else "")))
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
        # Second row: what each marker shape means.
        y1 = y0 + row_h
        x = rect.left() + 8
        key = [
            (_TRANSCRIPT, "transcript sent"),
            (_FLUSH, "flush sent"),
            (_FLUSH_DONE, "flush_done"),
            (_DONE, "done"),
            (_CANCEL, "cancel"),
            (_ERROR, "error"),
            (_WARNING, "warning"),
        ]
        sprites = self._sprites()
        for kind, label in key:
            w = _SPRITE_W + 4 + fm.horizontalAdvance(label)
            if x + w > limit:
                break
            painter.drawImage(QPoint(x, y1 + (row_h - _SPRITE_H) // 2), sprites[kind].image)
            painter.setPen(theme.text)
            painter.drawText(QRect(x + _SPRITE_W + 4, y1, w, row_h), Qt.AlignmentFlag.AlignVCenter, label)
            x += w + 14
        label = "text ready → first audio → flush_done"
        w = 36 + fm.horizontalAdvance(label)
        if x + w <= limit:
            by = y1 + row_h // 2
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(theme.faint, Qt.BrushStyle.Dense4Pattern))
            painter.drawRect(QRect(x, by, 12, 1))
            painter.setBrush(theme.blocks[1])
            painter.drawRect(QRect(x + 12, by - 1, 17, 3))
            painter.setBrush(theme.faint)
            painter.drawRects([QRect(x, by - 3, 1, 7), QRect(x + 28, by - 3, 1, 7)])
            painter.setPen(theme.text)
            painter.drawText(QRect(x + 36, y1, w, row_h), Qt.AlignmentFlag.AlignVCenter, label)

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

    def _hit_chunk(self, lane: _Lane, x: int) -> tuple[str, Segment | None] | None:
        starts, ends = lane.spans(self._mode)
        if not len(starts):
            return None
        v = self.value_at(x + 0.5)
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
        row = int(lane.rows.view[best])
        segment = lane.context.segments[int(lane.seg.view[best])]
        return self._describe_chunk(row, segment), segment

    def _hit_marker(self, lane: _Lane, geo: _Geometry, x: int) -> tuple[str, Segment | None] | None:
        v0, v1 = self.visible_range()
        found: tuple[float, str, int] | None = None
        for kind in reversed(_MARKER_KINDS):
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
        ref = self._markers(lane).refs[kind][j]
        return self._describe_marker(kind, ref)

    def _hit_bracket(self, lane: _Lane, geo: _Geometry, x: int) -> tuple[str, Segment | None] | None:
        m = self._markers(lane)
        if not len(m.ready):
            return None
        end = np.where(m.ongoing, self.session.duration, m.end)
        ready = m.ready
        if self._mode is AxisMode.AUDIO:
            ready, end = lane.audio_at(ready), lane.audio_at(end)
        rx, ex = self._xs(ready, geo), self._xs(end, geo)
        inside = np.flatnonzero((rx - _HIT <= x) & (x <= ex + _HIT))
        if not len(inside):
            return None
        segment = m.segments[int(inside[-1])]
        return self._describe_segment(segment), segment

    # --- descriptions ---------------------------------------------------------------------------------

    def _describe_chunk(self, row: int, segment: Segment) -> str:
        chunks = self.session.chunks
        ctx = segment.context
        nbytes = int(chunks.column("nbytes")[row])
        frame = int(chunks.column("frame")[row])
        carried = int(chunks.column("flush_id")[row])
        lines = [
            f"context #{ctx.number} {ctx.context_id} · flush_id {segment.label}",
            f"arrived {float(chunks.column('t')[row]):.3f} s · frame {frame}",
        ]
        start = float(chunks.column("start")[row])
        duration = float(chunks.column("duration")[row])
        samples = ctx.format.samples_in(nbytes) if ctx.format is not None else None
        size = f"{nbytes} bytes" + (f" · {samples} samples" if samples is not None else "")
        lines.append(f"{size} · {duration * 1000:.1f} ms of audio at {start:.3f} s")
        step = _step_time(self.session, frame)
        if step is not None:
            lines.append(f"step_time {step:g}")
        if carried < 0:
            lines.append("the frame carried no flush_id: attributed by order")
        text = segment.text
        if text:
            lines.append(f"“{_clip(text)}”")
        return "\n".join(lines)

    def _describe_segment(self, segment: Segment) -> str:
        ctx = segment.context
        lines = [f"segment {segment.label} of context #{ctx.number} {ctx.context_id} · {segment.state.value}"]
        ready = segment.text_ready_t
        if ready is not None:
            lines.append(f"text ready at {ready:.3f} s")
        if segment.first_audio_ms is not None:
            lines.append(f"first audio after {segment.first_audio_ms:.0f} ms")
        if segment.flush_done_ms is not None:
            lines.append(f"flush_done {segment.flush_done_ms:.0f} ms after the flush")
        lines.append(f"{segment.chunk_count} chunks · {segment.audio_seconds:.2f} s of audio")
        if segment.text:
            lines.append(f"“{_clip(segment.text)}”")
        return "\n".join(lines)

    def _describe_marker(self, kind: str, ref: Any) -> tuple[str, Segment | None]:
        if kind == _TRANSCRIPT:
            segment, transcript = ref
            assert isinstance(transcript, Transcript)
            return (
                f"transcript sent at {transcript.t:.3f} s (segment {segment.label})\n“{_clip(transcript.text)}”",
                segment,
            )
        if kind == _FLUSH:
            return f"flush sent at {ref.flush_t:.3f} s\n{self._describe_segment(ref)}", ref
        if kind == _FLUSH_DONE:
            return f"flush_done {ref.label} at {ref.flush_done_t:.3f} s\n{self._describe_segment(ref)}", ref
        if kind == _DONE:
            return f"done for context #{ref.number} at {ref.done_t:.3f} s", None
        if kind == _CANCEL:
            return f"cancel sent for context #{ref.number} at {ref.cancel_t:.3f} s", None
        anomaly: Anomaly = ref
        segment = None
        if anomaly.flush_id is not None and anomaly.context_number is not None:
            ctx = self.session.contexts[anomaly.context_number - 1]
            segment = ctx.segment_for_flush_id(anomaly.flush_id)
        return f"{anomaly.severity.value}: {anomaly.message}", segment

    # --- interaction --------------------------------------------------------------------------------

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            text = self.describe_at(help_event.pos())
            if text:
                QToolTip.showText(help_event.globalPos(), QtGui.Qt.convertFromPlainText(text), self)
            else:
                QToolTip.hideText()
                event.ignore()
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
                self.set_axis_mode(AxisMode.AUDIO if self._mode is AxisMode.ARRIVAL else AxisMode.ARRIVAL)
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
        pad = max(hi - lo, _MIN_SPAN) * 0.1
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
        key = event.key()
        geo = self._geometry()
        step = geo.plot.width() * (0.5 if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0.1)
        if key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.zoom(1.5)
        elif key in (Qt.Key.Key_Minus, Qt.Key.Key_Underscore):
            self.zoom(1 / 1.5)
        elif key == Qt.Key.Key_Left:
            self.pan(-step)
        elif key == Qt.Key.Key_Right:
            self.pan(step)
        elif key == Qt.Key.Key_Up:
            self._set_scroll(self._scroll - geo.lane_h)
        elif key == Qt.Key.Key_Down:
            self._set_scroll(self._scroll + geo.lane_h)
        elif key == Qt.Key.Key_PageUp:
            self._set_scroll(self._scroll - geo.plot.height())
        elif key == Qt.Key.Key_PageDown:
            self._set_scroll(self._scroll + geo.plot.height())
        elif key in (Qt.Key.Key_F, Qt.Key.Key_Home):
            self.fit_all()
        elif key == Qt.Key.Key_End:
            self.set_follow(True)
        elif key == Qt.Key.Key_A:
            self.set_axis_mode(AxisMode.AUDIO if self._mode is AxisMode.ARRIVAL else AxisMode.ARRIVAL)
        else:
            super().keyPressEvent(event)
            return
        event.accept()


def _tick_label(value: float, step: float, magnitude: float) -> str:
    if abs(value) < step * 1e-6:
        value = 0.0
    if step < 1 and magnitude < 1:
        step_ms = step * 1000
        decimals = max(0, -math.floor(math.log10(step_ms) + 1e-9))
        return f"{value * 1000:.{decimals}f} ms"
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return f"{value:.{decimals}f} s"


def _step_time(session: Session, frame: int) -> float | None:
    """The chunk's step_time from its frame text, read only when asked (hover)."""
    try:
        obj = json.loads(session.frame_text(frame))
    except (ValueError, IndexError):
        return None
    value = obj.get("step_time") if isinstance(obj, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _clip(text: str, limit: int = 280) -> str:
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


__all__ = ["AxisMode", "TimelineView"]
