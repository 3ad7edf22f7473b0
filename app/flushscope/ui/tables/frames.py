"""The frames table: one row per frame of the session, in arrival order.

The frames table can hold hundreds of thousands of rows, so what its columns and filters need is derived
once per frame, in batches, and kept in numpy columns. Time, direction and connection come from the session's
frame store without reading anything; a frame's text is read back from the capture only for the rows shown.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QModelIndex, QObject, Signal

from flushscope.core.frames import Direction, Frame
from flushscope.core.model.records import Context
from flushscope.core.store.line_storage import StoreError
from flushscope.ui.bridge import SessionBridge
from flushscope.ui.look.wording import context_words
from flushscope.ui.tables.base import (
    _FOREGROUND,
    _NO_INDEX,
    _RIGHT,
    FRAME_INDEX_ROLE,
    AnyIndex,
    _muted,
    _TableModel,
    context_label,
)
from flushscope.ui.tables.frame_descriptions import _DESCRIBE, _NO_ID

_DIRECTIONS: tuple[Direction, ...] = (Direction.SEND, Direction.RECV, Direction.META)
_DIR_CODE = {d: i for i, d in enumerate(_DIRECTIONS)}
_DIR_LABEL = {Direction.SEND: "→ send", Direction.RECV: "← recv", Direction.META: "• meta"}
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
    #: The connection number the views are narrowed to.
    conn: int | None = None

    @property
    def empty(self) -> bool:
        return (
            self.context is None
            and self.flush_id is None
            and not self.types
            and self.direction is None
            and self.conn is None
        )


class _Columns:
    """Growable numpy columns, one entry per frame (the frames table's compact per-row record)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.ctx = np.zeros(capacity, np.int32)  # context number, 0 when none
        self.conn = np.zeros(capacity, np.int32)  # connection number
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
            ("conn", 0),
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
        if self.session.frames:
            self._ingest(len(self.session.frames) - 1)

    # --- the per-row record -------------------------------------------------------------------------

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
                cols.conn[frames[seen[i] : end]] = ctx.conn
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
            try:
                frame = frames_list[i]
            except StoreError as exc:
                direction = frames_list.direction(i)
                cols.dir[i] = _DIR_CODE[direction]
                cols.kind[i] = self._code("raw")
                summaries[i - start] = f"(cannot be read back: {exc})"
                continue
            described = _DESCRIBE[frame.dir](frame.text)
            cols.conn[i] = frame.conn
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

    def size_of(self, row: int) -> int | None:
        """Characters of the frame as sent, base64 included (read back from the capture; None if it
        cannot be)."""
        try:
            return len(self.session.frames[row].text)
        except StoreError:
            return None

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
        if f.conn is not None and int(cols.conn[row]) != f.conn:
            return False
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
        if f.conn is not None:
            mask &= cols.conn[:n] == f.conn
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
        frames = self.session.frames
        if column == self.TIME:
            return f"{frames.time(row):.3f}"
        if column == self.DIRECTION:
            return _DIR_LABEL[frames.direction(row)]
        if column == self.CONNECTION:
            conn = frames.conn(row)
            client = self._client(conn)
            return f"{conn} · {client}" if client else str(conn)
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
            size = self.size_of(row)
            return "?" if size is None else str(size)
        if column == self.SUMMARY:
            return self.summary_of(row)
        return None

    def _client(self, conn: int) -> str | None:
        info = self.session.connections.get(conn)
        return info.label if info is not None else None

    def _tooltip(self, row: int, column: int) -> Any:
        if column == self.CONNECTION:
            conn = self.session.frames.conn(row)
            client = self._client(conn)
            return f"connection {conn}" + (f", opened by {client}" if client else "")
        if column == self.CONTEXT:
            ctx = self.context_of(row)
            if ctx is not None:
                return context_words(ctx)
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
