"""The transcripts table: one row per segment worth showing, in the order segments first appeared."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QObject

from flushscope.core.analysis.report import reported_segments
from flushscope.core.model.records import Context, Segment
from flushscope.ui.bridge import SessionBridge
from flushscope.ui.look.wording import context_words
from flushscope.ui.tables.base import (
    _CENTER,
    _FOREGROUND,
    _NO_INDEX,
    _RIGHT,
    SEGMENT_ROLE,
    SORT_ROLE,
    AnyIndex,
    _muted,
    _TableModel,
    context_label,
)

_DASH = "–"


def _ms(value: float | None) -> str:
    return _DASH if value is None else f"{value:.0f} ms"


def _appearance(segment: Segment) -> tuple[float, int, int]:
    """When a segment first showed up (its first transcript, flush or audio): the order rows appear live."""
    times = [
        t
        for t in (segment.first_send_t, segment.flush_t, segment.first_audio_t, segment.flush_done_t)
        if t is not None
    ]
    return (min(times) if times else math.inf, segment.context.number, segment.ordinal)


class TranscriptsModel(_TableModel):
    """One row per segment worth showing (see :func:`flushscope.core.analysis.report.reported_segments`), in the
    order segments first appeared; a segment that becomes worth showing later is appended then.

    The play column shows ▶ on rows with audio, and ■ with the progress on the row being heard
    (:meth:`set_playing`); while playback cannot work it is greyed, with the reason as its tooltip
    (:meth:`set_play_available`)."""

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
        self._playing: Segment | None = None
        self._percent = 0
        self._play_reason = ""
        self._load()
        bridge.segmentsChanged.connect(self._on_segments_changed)

    def _load(self) -> None:
        rows = [s for ctx in self.session.contexts for s in reported_segments(ctx)]
        rows.sort(key=_appearance)
        self._rows = rows
        self._row_of = {s: i for i, s in enumerate(rows)}

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def connection_of(self, row: int) -> int | None:
        return self.segment(row).context.conn

    def segment(self, row: int) -> Segment:
        return self._rows[row]

    def row_for_segment(self, segment: Segment | None) -> int | None:
        """The row showing ``segment``, or None when it has none (yet)."""
        return None if segment is None else self._row_of.get(segment)

    # --- playback -----------------------------------------------------------------------------------

    @property
    def playing(self) -> Segment | None:
        """The segment whose row shows ■ (None: nothing plays)."""
        return self._playing

    def set_playing(self, segment: Segment | None, fraction: float = 0.0) -> None:
        """Show ``segment``'s row as playing, ``fraction`` of its audio heard (None: nothing plays). Only
        the rows whose play cell changed are refreshed."""
        percent = 0 if segment is None else round(min(max(fraction, 0.0), 1.0) * 100)
        if segment is self._playing and percent == self._percent:
            return
        rows = [self._row_of.get(s) for s in (self._playing, segment) if s is not None]
        self._playing, self._percent = segment, percent
        self._emit_rows_changed([r for r in rows if r is not None], self.PLAY, self.PLAY)

    def set_play_available(self, available: bool, reason: str = "") -> None:
        """Enable the play cells, or grey them with ``reason`` as their tooltip."""
        reason = "" if available else reason or "audio playback is unavailable"
        if reason == self._play_reason:
            return
        self._play_reason = reason
        if self._rows:
            self._emit_rows_changed(range(len(self._rows)), self.PLAY, self.PLAY)

    def _play_text(self, s: Segment) -> str:
        if s is self._playing:
            return f"■ {self._percent}%"
        return "▶" if s.nbytes else ""

    def _play_tooltip(self, s: Segment) -> str | None:
        if not s.nbytes:
            return None
        if self._play_reason:
            return self._play_reason[:1].upper() + self._play_reason[1:]
        if s is self._playing:
            return f"Stop ({self._percent}% heard) (Enter or Space)"
        return "Play this segment's audio (Enter or Space)"

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
            return self._play_text(s)
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        s = self._rows[row]
        if column == self.CONTEXT:
            return f"{context_words(s.context)} (connection {s.context.conn})"
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
        if column == self.PLAY:
            return self._play_tooltip(s)
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
        if column == self.PLAY and self._play_reason:
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
