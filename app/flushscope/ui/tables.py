"""The inspector's table models: transcripts (one row per segment), frames and anomalies.

Each model follows the :class:`~flushscope.ui.bridge.SessionBridge`'s coalesced signals: rows are appended
with targeted inserts, changed rows are reported with ``dataChanged``, and a model is reset only when the
bridge shows a different session. The frames table can hold hundreds of thousands of rows, so what its
columns and filters need is derived once per frame, in batches, and kept in numpy columns.
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QStyle

from flushscope.core.anomalies import Anomaly, Severity
from flushscope.core.frames import Direction, Frame
from flushscope.core.report import reported_segments
from flushscope.core.session import Context, Segment, Session
from flushscope.ui.bridge import SessionBridge

AnyIndex = QModelIndex | QPersistentModelIndex

_USER = int(Qt.ItemDataRole.UserRole)
#: Sort key of a cell: a number, a string or a tuple; ``None`` sorts last whichever the order.
SORT_ROLE = _USER
#: The :class:`Segment` of a transcripts row, for every column.
SEGMENT_ROLE = _USER + 1
SegmentRole = SEGMENT_ROLE
#: The index in ``session.frames`` of a frames row.
FRAME_INDEX_ROLE = _USER + 2
#: The :class:`Anomaly` of an anomalies row.
ANOMALY_ROLE = _USER + 3

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)

_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
_NO_INDEX = QModelIndex()
_DASH = "–"


def context_label(ctx: Context) -> str:
    """How tables name a context: its number in the session and the start of its id."""
    short = ctx.context_id if len(ctx.context_id) <= 10 else ctx.context_id[:8] + "…"
    return f"{ctx.number} · {short}"


def _ms(value: float | None) -> str:
    return _DASH if value is None else f"{value:.0f} ms"


def _muted() -> QColor:
    return QApplication.palette().color(QPalette.ColorRole.PlaceholderText)


def row_ranges(rows: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted rows as inclusive ranges of consecutive rows."""
    out: list[tuple[int, int]] = []
    for row in sorted(set(rows)):
        if out and out[-1][1] == row - 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


class _TableModel(QAbstractTableModel):
    """Shared plumbing: headers, flat-table guards and role dispatch to ``_role_<name>`` helpers."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    HEADER_TIPS: ClassVar[dict[int, str]] = {}

    def __init__(self, bridge: SessionBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._roles: dict[int, Callable[[int, int], Any]] = {
            _DISPLAY: self._display,
            _TOOLTIP: self._tooltip,
            _ALIGN: self._alignment,
        }
        bridge.sessionReplaced.connect(self._on_session_replaced)

    @property
    def session(self) -> Session:
        return self._bridge.session

    def columnCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == _DISPLAY:
            return self.HEADERS[section]
        if role == _TOOLTIP:
            return self.HEADER_TIPS.get(section)
        return None

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        # Called for every role of every visible cell on each repaint: keep the path short.
        handler = self._roles.get(role)
        if handler is None or not index.isValid():
            return None
        try:
            return handler(index.row(), index.column())
        except IndexError:  # a stale index kept across a reset
            return None

    def sort_key(self, row: int, column: int) -> Any:
        """What :data:`SORT_ROLE` returns, callable without going through Qt (sorting calls it a lot)."""
        return None

    def _display(self, row: int, column: int) -> Any:
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        return None

    def _alignment(self, row: int, column: int) -> Any:
        return None

    def _emit_rows_changed(self, rows: Iterable[int], first_column: int = 0, last_column: int = -1) -> None:
        last_column = len(self.HEADERS) - 1 if last_column < 0 else last_column
        for top, bottom in row_ranges(rows):
            self.dataChanged.emit(self.index(top, first_column), self.index(bottom, last_column))

    def _on_session_replaced(self) -> None:
        self.beginResetModel()
        self._load()
        self.endResetModel()

    def _load(self) -> None:
        raise NotImplementedError


# --- transcripts ------------------------------------------------------------------------------------------


def _appearance(segment: Segment) -> tuple[float, int, int]:
    """When a segment first showed up (its first transcript, flush or audio): the order rows appear live."""
    times = [
        t
        for t in (segment.first_send_t, segment.flush_t, segment.first_audio_t, segment.flush_done_t)
        if t is not None
    ]
    return (min(times) if times else math.inf, segment.context.number, segment.ordinal)


class TranscriptsModel(_TableModel):
    """One row per segment worth showing (see :func:`flushscope.core.report.reported_segments`), in the
    order segments first appeared; a segment that becomes worth showing later is appended then."""

    CONTEXT, FLUSH_ID, TEXT, SENT, FIRST_AUDIO, FLUSH_DONE, CHUNKS, SECONDS, STATE, PLAY = range(10)
    HEADERS = (
        "context",
        "flush_id",
        "transcript",
        "sent at",
        "1st audio",
        "flush_done",
        "chunks",
        "audio s",
        "state",
        "play",
    )
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        FLUSH_ID: "The server's id for the segment; ~n is the expected id before the server sent any",
        SENT: "When the segment's first transcript was sent (seconds since the session started)",
        FIRST_AUDIO: "From the text being ready (first send, or the flush when the server buffers) to the "
        "first audio chunk",
        FLUSH_DONE: "From the flush request to its flush_done",
    }
    _NUMERIC = frozenset({SENT, FIRST_AUDIO, FLUSH_DONE, CHUNKS, SECONDS})

    def __init__(self, bridge: SessionBridge, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        self._roles[SORT_ROLE] = self.sort_key
        self._roles[SEGMENT_ROLE] = self._segment
        self._roles[_FOREGROUND] = self._foreground
        self._rows: list[Segment] = []
        self._row_of: dict[Segment, int] = {}
        self._load()
        bridge.segmentsChanged.connect(self._on_segments_changed)

    def _load(self) -> None:
        rows = [s for ctx in self.session.contexts for s in reported_segments(ctx)]
        rows.sort(key=_appearance)
        self._rows = rows
        self._row_of = {s: i for i, s in enumerate(rows)}

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def segment(self, row: int) -> Segment:
        return self._rows[row]

    def row_for_segment(self, segment: Segment | None) -> int | None:
        """The row showing ``segment``, or None when it has none (yet)."""
        return None if segment is None else self._row_of.get(segment)

    def _on_segments_changed(self, segments: list[Segment]) -> None:
        changed: list[int] = []
        candidates: dict[Context, list[Segment]] = {}
        for segment in segments:
            row = self._row_of.get(segment)
            if row is not None:
                changed.append(row)
            else:
                candidates.setdefault(segment.context, []).append(segment)
        self._emit_rows_changed(changed)
        fresh: list[Segment] = []
        for ctx, waiting in candidates.items():
            shown = set(reported_segments(ctx))
            fresh.extend(s for s in waiting if s in shown)
        if not fresh:
            return
        fresh.sort(key=_appearance)
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(fresh) - 1)
        for offset, segment in enumerate(fresh):
            self._row_of[segment] = first + offset
        self._rows.extend(fresh)
        self.endInsertRows()

    def _display(self, row: int, column: int) -> Any:
        s = self._rows[row]
        if column == self.CONTEXT:
            return context_label(s.context)
        if column == self.FLUSH_ID:
            return s.label
        if column == self.TEXT:
            text = s.text.replace("\n", " ")
            if text:
                return text
            return "(server segment)" if s.server_only else "(no transcript)"
        if column == self.SENT:
            t = s.first_send_t
            return _DASH if t is None else f"{t:.3f} s"
        if column == self.FIRST_AUDIO:
            return _ms(s.first_audio_ms)
        if column == self.FLUSH_DONE:
            if s.flush_done_t is not None and s.flush_t is None:
                return "unrequested"
            return _ms(s.flush_done_ms)
        if column == self.CHUNKS:
            return str(s.chunk_count)
        if column == self.SECONDS:
            return f"{s.audio_seconds:.2f}"
        if column == self.STATE:
            return s.state.value
        if column == self.PLAY:
            return "▶" if s.nbytes else ""
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        s = self._rows[row]
        if column == self.CONTEXT:
            return f"context {s.context.number}: {s.context.context_id} (connection {s.context.conn})"
        if column == self.TEXT:
            if not s.transcripts:
                return (
                    "The server numbered this segment; the client sent nothing in it"
                    if s.server_only
                    else None
                )
            return "\n".join(t.text for t in s.transcripts)
        if column == self.STATE and s.unnumbered_chunks:
            return f"{s.unnumbered_chunks} chunk(s) carried no flush_id and were attributed by order"
        if column == self.PLAY and s.nbytes:
            return "Play this segment's audio (Enter)"
        return None

    def _alignment(self, row: int, column: int) -> Any:
        if column in self._NUMERIC:
            return _RIGHT
        if column == self.PLAY:
            return _CENTER
        return None

    def _foreground(self, row: int, column: int) -> Any:
        if column == self.TEXT and not self._rows[row].transcripts:
            return _muted()
        return None

    def _segment(self, row: int, column: int) -> Segment:
        return self._rows[row]

    def sort_key(self, row: int, column: int) -> Any:
        s = self._rows[row]
        if column == self.CONTEXT:
            return (s.context.number, s.ordinal)
        if column == self.FLUSH_ID:
            return s.flush_id
        if column == self.TEXT:
            return s.text.casefold() if s.transcripts else None
        if column == self.SENT:
            return s.first_send_t
        if column == self.FIRST_AUDIO:
            return s.first_audio_ms
        if column == self.FLUSH_DONE:
            return s.flush_done_ms
        if column == self.CHUNKS:
            return s.chunk_count
        if column == self.SECONDS:
            return s.audio_seconds
        if column == self.STATE:
            return s.state.value
        return row


class SortProxy(QSortFilterProxyModel):
    """Sorts on :data:`SORT_ROLE` with Python comparison: numbers as numbers, and ``None`` (no value yet)
    last in either order. Sorting column -1 shows the source order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._keys: list[Any] | None = None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, _TableModel) and column >= 0:
            # A full sort compares each row many times: fetch every key once.
            self._keys = [source.sort_key(row, column) for row in range(source.rowCount())]
        try:
            super().sort(column, order)
        finally:
            self._keys = None

    def lessThan(self, left: AnyIndex, right: AnyIndex) -> bool:
        source = self.sourceModel()
        keys = self._keys
        if keys is not None:
            a, b = keys[left.row()], keys[right.row()]
        elif isinstance(source, _TableModel):
            a = source.sort_key(left.row(), left.column())
            b = source.sort_key(right.row(), right.column())
        else:
            a = left.data(SORT_ROLE)
            b = right.data(SORT_ROLE)
        if a is None or b is None:
            if a is None and b is None:
                return left.row() < right.row()
            # Qt reverses comparisons for descending order; flip so that "no value" stays at the bottom.
            return (a is None) == (self.sortOrder() == Qt.SortOrder.DescendingOrder)
        try:
            if a == b:
                return left.row() < right.row()
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


TranscriptsSortProxy = SortProxy


# --- frames -----------------------------------------------------------------------------------------------

_DIRECTIONS: tuple[Direction, ...] = (Direction.SEND, Direction.RECV, Direction.META)
_DIR_CODE = {d: i for i, d in enumerate(_DIRECTIONS)}
_DIR_LABEL = {Direction.SEND: "→ send", Direction.RECV: "← recv", Direction.META: "• meta"}
_NO_ID = np.iinfo(np.int64).min
_I64_MAX = np.iinfo(np.int64).max
#: Types in the order the type filter lists them; others are added as they are seen.
KNOWN_TYPES: tuple[str, ...] = (
    "transcript",
    "flush",
    "end",
    "cancel",
    "chunk",
    "timestamps",
    "phoneme_timestamps",
    "flush_done",
    "done",
    "error",
    "connect",
    "close",
    "raw",
)
_SUMMARY_MAX = 200


def _clip(text: str, limit: int = _SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _int_id(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and _NO_ID < value <= _I64_MAX:
        return value
    return None


def _load(text: str) -> dict[str, Any] | None:
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return obj if isinstance(obj, dict) else None


@dataclass(frozen=True, slots=True)
class _Described:
    type: str
    flush_id: int | None
    summary: str
    context_id: str | None


def _describe_send(text: str) -> _Described:
    obj = _load(text)
    if obj is None:
        return _Described("raw", None, _clip(text), None)
    cid = obj.get("context_id")
    cid = cid if isinstance(cid, str) else None
    if obj.get("cancel") is True and "transcript" not in obj:
        return _Described("cancel", None, "cancel", cid)
    transcript = obj.get("transcript")
    if not isinstance(transcript, str):
        return _Described("raw", None, _clip(text), cid)
    kind = "flush" if obj.get("flush") is True else "end" if obj.get("continue") is not True else "transcript"
    quoted = _clip(json.dumps(transcript, ensure_ascii=False))
    if kind != "transcript":
        quoted = f"{quoted} + {kind}" if transcript else kind
    return _Described(kind, None, quoted, cid)


def _tokens(obj: dict[str, Any], outer: str, inner: str) -> str:
    timings = obj.get(outer)
    tokens = timings.get(inner) if isinstance(timings, dict) else None
    if not isinstance(tokens, list):
        return ""
    return _clip(" ".join(str(t) for t in tokens[:40]))


def _describe_recv(text: str) -> _Described:
    obj = _load(text)
    if obj is None:
        return _Described("raw", None, _clip(text), None)
    cid = obj.get("context_id")
    cid = cid if isinstance(cid, str) else None
    flush_id = _int_id(obj.get("flush_id"))
    kind = obj.get("type")
    if not isinstance(kind, str) or not kind:
        kind = "error" if "error" in obj else "raw"
    if kind == "chunk":
        data = obj.get("data")
        size = len(data) * 3 // 4 - len(data) + len(data.rstrip("=")) if isinstance(data, str) else 0
        summary = f"{size} bytes audio"
    elif kind == "timestamps":
        summary = "words: " + _tokens(obj, "word_timestamps", "words")
    elif kind == "phoneme_timestamps":
        summary = "phonemes: " + _tokens(obj, "phoneme_timestamps", "phonemes")
    elif kind == "flush_done":
        summary = f"flush_done {flush_id if flush_id is not None else '(no flush_id)'}"
    elif kind == "done":
        summary = "done"
    elif kind == "error":
        parts = [obj.get(k) for k in ("title", "message", "error")]
        words = [p for p in parts if isinstance(p, str) and p]
        status = obj.get("status_code")
        prefix = f"{status} " if isinstance(status, int) else ""
        summary = _clip(prefix + (": ".join(words[:2]) if words else "error with no description"))
    else:
        summary = _clip(text)
    return _Described(kind, flush_id, summary, cid)


def _describe_meta(text: str) -> _Described:
    obj = _load(text) or {}
    event = obj.get("event")
    kind = event if isinstance(event, str) and event else "meta"
    details = {k: v for k, v in obj.items() if k != "event"}
    if kind == "connect" and isinstance(details.get("url"), str):
        summary = f"connect {details['url']}"
    elif kind == "close":
        summary = f"close {details.get('code', '')} {details.get('reason') or ''}".strip()
    elif kind == "error" and "message" in details:
        summary = f"error: {details['message']}"
    else:
        summary = kind + (" " + json.dumps(details, ensure_ascii=False) if details else "")
    return _Described(kind, None, _clip(summary), None)


_DESCRIBE: dict[Direction, Callable[[str], _Described]] = {
    Direction.SEND: _describe_send,
    Direction.RECV: _describe_recv,
    Direction.META: _describe_meta,
}


def _send_segment(ctx: Context, index: int) -> int:
    """The ordinal of the segment a sent frame put a transcript in (or flushed), or -1."""
    for segment in reversed(ctx.segments):
        if segment.flush_frame == index:
            return segment.ordinal
        transcripts = segment.transcripts
        if transcripts and transcripts[0].frame <= index:
            for transcript in reversed(transcripts):
                if transcript.frame == index:
                    return segment.ordinal
                if transcript.frame < index:
                    break
            return -1
        if segment.flush_frame is not None and segment.flush_frame < index:
            return -1
    return -1


@dataclass(frozen=True, slots=True)
class FrameFilter:
    """Which frames to show: ``None`` (or an empty set of types) means any."""

    context: int | None = None
    flush_id: int | None = None
    types: frozenset[str] | None = None
    direction: Direction | None = None

    @property
    def empty(self) -> bool:
        return self.context is None and self.flush_id is None and not self.types and self.direction is None


class _Columns:
    """Growable numpy columns, one entry per frame (the frames table's compact per-row record)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.ctx = np.zeros(capacity, np.int32)  # context number, 0 when none
        self.dir = np.zeros(capacity, np.int8)
        self.kind = np.zeros(capacity, np.int16)  # index into FramesModel types
        self.flush = np.full(capacity, _NO_ID, np.int64)  # flush_id the frame carried
        self.seg = np.full(capacity, -1, np.int32)  # for sent frames: the ordinal of their segment
        self.chunk = np.full(capacity, -1, np.int64)  # row in session.chunks

    def reserve(self, size: int) -> None:
        capacity = len(self.ctx)
        if size <= capacity:
            return
        while capacity < size:
            capacity *= 2
        for name, fill in (
            ("ctx", 0),
            ("dir", 0),
            ("kind", 0),
            ("flush", _NO_ID),
            ("seg", -1),
            ("chunk", -1),
        ):
            old: npt.NDArray[Any] = getattr(self, name)
            grown = np.full(capacity, fill, old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)


class FramesModel(_TableModel):
    """One row per frame of the session, in arrival order, appended on ``framesAdded``.

    The fields the columns and filters need (context, type, flush_id) are derived once per frame when its
    rows are appended: chunk frames from the session's chunk columns without touching their JSON, other
    frames (small: transcripts, flush_done, meta) by parsing them once. Summaries of chunk frames and sizes
    are formatted only for rows a view asks for.
    """

    TIME, DIRECTION, CONNECTION, CONTEXT, TYPE, FLUSH_ID, SIZE, SUMMARY = range(8)
    HEADERS = ("time", "direction", "conn", "context", "type", "flush_id", "size", "summary")
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        TIME: "Seconds since the session started",
        FLUSH_ID: "The flush_id a server frame carried; for a sent frame, the segment it went into",
        SIZE: "Length of the frame's text as it went over the wire",
    }

    typesChanged = Signal()
    """A frame type not seen before appeared (for filter lists)."""

    def __init__(self, bridge: SessionBridge, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        self._roles[FRAME_INDEX_ROLE] = self._frame_index
        self._roles[_FOREGROUND] = self._foreground
        self._types: list[str] = list(KNOWN_TYPES)
        self._type_code: dict[str, int] = {t: i for i, t in enumerate(self._types)}
        self._chunk_code = self._type_code["chunk"]
        self._load()
        bridge.framesAdded.connect(self._on_frames_added)

    def _load(self) -> None:
        self._size = 0
        self._cols = _Columns()
        self._summary: list[str | None] = []
        self._orphan_ids: dict[int, str] = {}
        self._ctx_seen: list[int] = []
        self._seen_types: set[int] = set()
        self._types_grew = False
        self._parses = 0
        if self.session.frames:
            self._ingest(len(self.session.frames) - 1)

    # --- the per-row record -------------------------------------------------------------------------

    @property
    def parse_count(self) -> int:
        """How many frames' JSON was parsed so far (each at most once)."""
        return self._parses

    def _code(self, kind: str) -> int:
        code = self._type_code.get(kind)
        if code is None:
            code = self._type_code[kind] = len(self._types)
            self._types.append(kind)
        return code

    def _ingest(self, last: int) -> None:
        """Derive the record of frames [self._size, last]."""
        session, start = self.session, self._size
        stop = last + 1
        cols = self._cols
        cols.reserve(stop)
        # Contexts list the frames that belong to them; take each one's new tail.
        seen = self._ctx_seen
        seen.extend([0] * (len(session.contexts) - len(seen)))
        for i, ctx in enumerate(session.contexts):
            frames = ctx.frames
            if len(frames) > seen[i]:
                end = bisect.bisect_right(frames, last, seen[i])
                cols.ctx[frames[seen[i] : end]] = ctx.number
                seen[i] = end
        # Chunk frames: everything needed is in the chunk columns (ordered by frame).
        frame_col = session.chunks.column("frame")
        r0 = int(np.searchsorted(frame_col, start, "left"))
        r1 = int(np.searchsorted(frame_col, last, "right"))
        chunk_frames = frame_col[r0:r1]
        cols.chunk[chunk_frames] = np.arange(r0, r1)
        cols.kind[chunk_frames] = self._chunk_code
        cols.dir[chunk_frames] = _DIR_CODE[Direction.RECV]
        carried = session.chunks.column("flush_id")[r0:r1]
        cols.flush[chunk_frames] = np.where(carried < 0, _NO_ID, carried.astype(np.int64))
        summaries: list[str | None] = [None] * (stop - start)
        rest = np.flatnonzero(cols.chunk[start:stop] < 0) + start
        frames_list = session.frames
        contexts = session.contexts
        for i in rest.tolist():
            frame = frames_list[i]
            described = _DESCRIBE[frame.dir](frame.text)
            self._parses += 1
            cols.dir[i] = _DIR_CODE[frame.dir]
            cols.kind[i] = self._code(described.type)
            if described.flush_id is not None:
                cols.flush[i] = described.flush_id
            number = int(cols.ctx[i])
            if number and frame.dir is Direction.SEND and described.type in ("transcript", "flush", "end"):
                cols.seg[i] = _send_segment(contexts[number - 1], i)
            elif not number and described.context_id is not None:
                self._orphan_ids[i] = described.context_id
            summaries[i - start] = described.summary
        self._summary.extend(summaries)
        self._size = stop
        fresh = set(np.unique(cols.kind[start:stop]).tolist()) - self._seen_types
        if fresh:
            self._seen_types |= fresh
            self._types_grew = True

    def _on_frames_added(self, first: int, last: int) -> None:
        first = max(first, self._size)
        if last < first:
            return
        self.beginInsertRows(QModelIndex(), first, last)
        self._ingest(last)
        self.endInsertRows()
        self._announce_types()

    def _on_session_replaced(self) -> None:
        super()._on_session_replaced()
        self._announce_types()

    def _announce_types(self) -> None:
        # Only once the rows are in: a listener may change a filter, which reads them.
        if self._types_grew:
            self._types_grew = False
            self.typesChanged.emit()

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else self._size

    def types(self) -> list[str]:
        """The frame types present, known ones in protocol order first."""
        return [t for code, t in enumerate(self._types) if code in self._seen_types]

    def frame(self, row: int) -> Frame:
        return self.session.frames[row]

    def context_of(self, row: int) -> Context | None:
        number = int(self._cols.ctx[row])
        return self.session.contexts[number - 1] if number else None

    def type_of(self, row: int) -> str:
        return self._types[int(self._cols.kind[row])]

    def flush_id_of(self, row: int) -> int | None:
        """The flush_id a server frame carried, or for a sent frame its segment's (expected) flush_id."""
        cols = self._cols
        carried = int(cols.flush[row])
        if carried != _NO_ID:
            return carried
        ordinal = int(cols.seg[row])
        if ordinal < 0:
            return None
        ctx = self.session.contexts[int(cols.ctx[row]) - 1]
        return (1 if ctx.base is None else ctx.base) + ordinal

    def size_of(self, row: int) -> int:
        """Characters of the frame as sent: chunk frames are stored without their base64, so add it back."""
        text = self.session.frames[row].text
        size = len(text)
        chunk = int(self._cols.chunk[row])
        if chunk >= 0 and len(self.session.frame_text(row)) != size:
            nbytes = int(self.session.chunks.column("nbytes")[chunk])
            size += 4 * math.ceil(nbytes / 3)
        return size

    def summary_of(self, row: int) -> str:
        summary = self._summary[row]
        if summary is not None:
            return summary
        chunks = self.session.chunks
        chunk = int(self._cols.chunk[row])
        nbytes = int(chunks.column("nbytes")[chunk])
        duration = float(chunks.column("duration")[chunk])
        return f"{nbytes} bytes audio ({duration * 1000:.0f} ms)"

    # --- filters ------------------------------------------------------------------------------------

    def accepts(self, row: int, f: FrameFilter) -> bool:
        """Whether ``row`` passes ``f`` (one row; see :meth:`filter_mask` for all at once)."""
        cols = self._cols
        if f.context is not None and int(cols.ctx[row]) != f.context:
            return False
        if f.direction is not None and int(cols.dir[row]) != _DIR_CODE[f.direction]:
            return False
        if f.types and self._types[int(cols.kind[row])] not in f.types:
            return False
        return f.flush_id is None or self.flush_id_of(row) == f.flush_id

    def filter_mask(self, f: FrameFilter) -> npt.NDArray[np.bool_]:
        """:meth:`accepts` for every row, computed on the columns at once."""
        n, cols = self._size, self._cols
        mask = np.ones(n, dtype=bool)
        ctx = cols.ctx[:n]
        if f.context is not None:
            mask &= ctx == f.context
        if f.direction is not None:
            mask &= cols.dir[:n] == _DIR_CODE[f.direction]
        if f.types:
            codes = [self._type_code[t] for t in f.types if t in self._type_code]
            mask &= np.isin(cols.kind[:n], codes)
        if f.flush_id is not None:
            carried = cols.flush[:n]
            seg = cols.seg[:n]
            bases = np.array([1] + [1 if c.base is None else c.base for c in self.session.contexts], np.int64)
            derived = np.where(seg >= 0, bases[ctx] + seg, _NO_ID)
            mask &= np.where(carried != _NO_ID, carried, derived) == f.flush_id
        return mask

    # --- roles --------------------------------------------------------------------------------------

    def _display(self, row: int, column: int) -> Any:
        frame = self.session.frames[row]
        if column == self.TIME:
            return f"{frame.t:.3f}"
        if column == self.DIRECTION:
            return _DIR_LABEL[frame.dir]
        if column == self.CONNECTION:
            return str(frame.conn)
        if column == self.CONTEXT:
            ctx = self.context_of(row)
            return context_label(ctx) if ctx is not None else self._orphan_ids.get(row, "")
        if column == self.TYPE:
            return self.type_of(row)
        if column == self.FLUSH_ID:
            if int(self._cols.flush[row]) != _NO_ID:
                return str(int(self._cols.flush[row]))
            ordinal = int(self._cols.seg[row])
            ctx = self.context_of(row)
            return ctx.segments[ordinal].label if ctx is not None and ordinal >= 0 else ""
        if column == self.SIZE:
            return str(self.size_of(row))
        if column == self.SUMMARY:
            return self.summary_of(row)
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        if column == self.CONTEXT:
            ctx = self.context_of(row)
            if ctx is not None:
                return f"context {ctx.number}: {ctx.context_id}"
            orphan = self._orphan_ids.get(row)
            return f"{orphan} (not a context this connection opened)" if orphan else None
        if column == self.FLUSH_ID and int(self._cols.seg[row]) >= 0:
            return "The segment this input went into"
        if column == self.SUMMARY:
            return self.summary_of(row)
        return None

    def _alignment(self, row: int, column: int) -> Any:
        if column in (self.TIME, self.CONNECTION, self.FLUSH_ID, self.SIZE):
            return _RIGHT
        return None

    def _foreground(self, row: int, column: int) -> Any:
        if column == self.FLUSH_ID and int(self._cols.seg[row]) >= 0:
            return _muted()
        if int(self._cols.dir[row]) == _DIR_CODE[Direction.META]:
            return _muted()
        return None

    def _frame_index(self, row: int, column: int) -> int:
        return row


class FramesFilterProxy(QSortFilterProxyModel):
    """Filters a :class:`FramesModel` by context, flush_id, type and direction.

    Filtering reads the model's derived columns only: a new filter is computed for every row at once with
    numpy, and rows appended later are checked one by one as they arrive.
    """

    def __init__(self, model: FramesModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._filter = FrameFilter()
        self._mask: list[bool] = []
        self.setSourceModel(model)
        model.modelAboutToBeReset.connect(self._forget)

    @property
    def filter(self) -> FrameFilter:
        return self._filter

    def set_filter(
        self,
        context: int | None = None,
        flush_id: int | None = None,
        types: Iterable[str] | None = None,
        direction: Direction | None = None,
    ) -> None:
        """Show only frames of context number ``context`` (1-based), carrying (or sent into) ``flush_id``,
        of one of ``types`` and going in ``direction``; ``None`` means any."""
        wanted = FrameFilter(context, flush_id, frozenset(types) if types else None, direction)
        if wanted == self._filter:
            return
        self.beginFilterChange()
        self._filter = wanted
        self._mask = [] if wanted.empty else self._model.filter_mask(wanted).tolist()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def _forget(self) -> None:
        # A different session: its contexts and flush ids mean nothing for the old filter.
        self._filter = FrameFilter()
        self._mask = []

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        f = self._filter
        if f.empty:
            return True
        if source_row < len(self._mask):
            return self._mask[source_row]
        return self._model.accepts(source_row, f)

    def source_row(self, row: int) -> int:
        return self.mapToSource(self.index(row, 0)).row()

    def proxy_row(self, source_row: int) -> int | None:
        """The row showing frame ``source_row``, or None when it is filtered out."""
        index = self.mapFromSource(self._model.index(source_row, 0))
        return index.row() if index.isValid() else None


# --- anomalies --------------------------------------------------------------------------------------------

_SEVERITY_ICON = {
    Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation,
    Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
    Severity.ERROR: QStyle.StandardPixmap.SP_MessageBoxCritical,
}


#: Sorting by severity puts errors first.
_SEVERITY_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


class AnomaliesModel(_TableModel):
    """One row per anomaly, appended on ``anomaliesAdded``; counts refresh on ``anomaliesChanged``."""

    SEVERITY, KIND, CONTEXT, FLUSH_ID, COUNT, MESSAGE = range(6)
    HEADERS = ("severity", "kind", "context", "flush_id", "count", "message")
    HEADER_TIPS: ClassVar[dict[int, str]] = {COUNT: "Frames involved (repeats are folded into one row)"}

    def __init__(self, bridge: SessionBridge, parent: QObject | None = None) -> None:
        super().__init__(bridge, parent)
        self._roles[ANOMALY_ROLE] = self._anomaly
        self._roles[_DECORATION] = self._decoration
        self._roles[SORT_ROLE] = self.sort_key
        self._icons: dict[Severity, QIcon] = {}
        self._load()
        bridge.anomaliesAdded.connect(self._on_added)
        bridge.anomaliesChanged.connect(self._on_changed)

    def _load(self) -> None:
        self._rows: list[Anomaly] = list(self.session.anomalies)

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def anomaly(self, row: int) -> Anomaly:
        return self._rows[row]

    def _on_added(self, first: int, last: int) -> None:
        anomalies = self.session.anomalies
        first = max(first, len(self._rows))
        last = min(last, len(anomalies) - 1)
        if last < first:
            return
        self.beginInsertRows(QModelIndex(), first, last)
        self._rows.extend(anomalies[first : last + 1])
        self.endInsertRows()

    def _on_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(
                self.index(0, self.COUNT), self.index(len(self._rows) - 1, self.COUNT), [_DISPLAY, SORT_ROLE]
            )

    def _where(self, a: Anomaly) -> str:
        if a.context_number is not None and 0 < a.context_number <= len(self.session.contexts):
            return context_label(self.session.contexts[a.context_number - 1])
        if a.context_id is not None:
            return a.context_id
        return f"connection {a.conn}"

    def _display(self, row: int, column: int) -> Any:
        a = self._rows[row]
        if column == self.SEVERITY:
            return a.severity.value
        if column == self.KIND:
            return a.kind.value.replace("_", " ")
        if column == self.CONTEXT:
            return self._where(a)
        if column == self.FLUSH_ID:
            return "" if a.flush_id is None else str(a.flush_id)
        if column == self.COUNT:
            return str(len(a.frames))
        if column == self.MESSAGE:
            return a.message
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        a = self._rows[row]
        if column == self.MESSAGE:
            return a.message
        if column == self.COUNT and a.frames:
            shown = ", ".join(str(f) for f in a.frames[:20])
            return f"frames {shown}" + (" …" if len(a.frames) > 20 else "")
        return None

    def _alignment(self, row: int, column: int) -> Any:
        return _RIGHT if column in (self.FLUSH_ID, self.COUNT) else None

    def _decoration(self, row: int, column: int) -> Any:
        if column != self.SEVERITY:
            return None
        severity = self._rows[row].severity
        icon = self._icons.get(severity)
        if icon is None:
            icon = self._icons[severity] = QApplication.style().standardIcon(_SEVERITY_ICON[severity])
        return icon

    def sort_key(self, row: int, column: int) -> Any:
        a = self._rows[row]
        if column == self.SEVERITY:
            return _SEVERITY_RANK[a.severity]
        if column == self.COUNT:
            return len(a.frames)
        if column == self.FLUSH_ID:
            return a.flush_id
        if column == self.CONTEXT:
            return a.context_number
        return self._display(row, column)

    def _anomaly(self, row: int, column: int) -> Anomaly:
        return self._rows[row]
