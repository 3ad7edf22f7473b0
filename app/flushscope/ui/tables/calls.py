"""The calls of a dataset: one row per capture and connection, worst first as the dataset ranks them,
sortable on any column (numbers as numbers, missing values last in either order), and filtered by a text
(client and capture path) and by whether a call had problems.

A dataset can hold tens of thousands of calls: the model sorts itself with Python's ``sorted`` on keys taken
once per row (a proxy would call back into Python for every comparison), and the proxy only filters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import PurePath
from typing import TYPE_CHECKING, Any, ClassVar, Final

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from flushscope.ui.look.palette import ERROR_COLOUR, is_dark
from flushscope.ui.tables.base import (
    _ALIGN,
    _DISPLAY,
    _FOREGROUND,
    _NO_INDEX,
    _RIGHT,
    _TOOLTIP,
    SORT_ROLE,
    AnyIndex,
    HeadedModel,
    _muted,
)
from flushscope.ui.tables.result_rows import ITEM_ROLE

if TYPE_CHECKING:
    from flushscope.dataset.calls import CallRow

#: How the table names a connection that flushscope opened itself (the dataset's client is NULL).
OWN_CLIENT: Final = "flushscope's own"
#: A value the dataset does not know (no start time, no segment with audio).
MISSING: Final = "—"


def _alarm() -> QColor:
    palette = QApplication.palette()
    return QColor(ERROR_COLOUR["dark" if is_dark(palette) else "light"])


def duration_text(seconds: float) -> str:
    """``12.3 s``, ``5 min 12 s``, ``2 h 05 min``."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"


def started_text(started: datetime | None) -> str:
    return MISSING if started is None else f"{started:%Y-%m-%d %H:%M:%S}"


def client_text(call: CallRow) -> str:
    return OWN_CLIENT if call.client is None else call.client


def had_problems(call: CallRow) -> bool:
    """What "problems only" keeps: a warning or error anomaly, or a cut word."""
    return call.problems > 0 or call.word_cuts > 0


class CallsModel(HeadedModel):
    """The calls of one dataset (:meth:`set_calls`), in the dataset's ranking until :meth:`sort` orders them
    by a column; column -1 returns to the ranking. :data:`ITEM_ROLE` gives a row's ``CallRow``."""

    (
        CLIENT,
        STARTED,
        DURATION,
        CONTEXTS,
        SEGMENTS,
        PROBLEMS,
        ANOMALIES,
        LINTS,
        WORD_CUTS,
        FIRST_AUDIO,
        CAPTURE,
    ) = range(11)
    HEADERS = (
        "client",
        "started (UTC)",
        "duration",
        "contexts",
        "segments",
        "problems",
        "anomalies",
        "lints",
        "word\ncuts",
        "first audio\np95",
        "capture",
    )
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        CLIENT: "The app's User-Agent, as the recording proxy saw it",
        STARTED: "When the connection opened",
        DURATION: "How long the connection was open",
        PROBLEMS: "Anomalies of severity warning or error: what makes flushscope report exit 1",
        ANOMALIES: "Every anomaly, information included",
        LINTS: "Advice on what the app sent",
        WORD_CUTS: "Flush boundaries whose last word ends after its segment's audio",
        FIRST_AUDIO: "95th percentile of the time to first audio of the call's segments",
        CAPTURE: "The capture file (double-click a row to open it in the main window)",
    }
    #: Counts muted at zero; problems and cut words in the error colour above it.
    _COUNTS: ClassVar[tuple[int, ...]] = (PROBLEMS, ANOMALIES, LINTS, WORD_CUTS)
    _NUMBERS: ClassVar[frozenset[int]] = frozenset(
        (DURATION, CONTEXTS, SEGMENTS, PROBLEMS, ANOMALIES, LINTS, WORD_CUTS, FIRST_AUDIO)
    )

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        #: Every call, ranked worst first; :attr:`_order` is the rows shown, as indices into it.
        self._calls: list[CallRow] = []
        self._order: list[int] = []
        self._haystacks: list[str] = []
        self._shared: Counter[str] = Counter()
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._roles: dict[int, Callable[[CallRow, int], Any]] = {
            _DISPLAY: self._display,
            _TOOLTIP: self._tooltip,
            _ALIGN: self._alignment,
            _FOREGROUND: self._foreground,
            SORT_ROLE: self.sort_key,
            ITEM_ROLE: lambda call, _column: call,
        }

    # --- contents -----------------------------------------------------------------------------------

    def set_calls(self, calls: Sequence[CallRow]) -> None:
        """Show these calls (ranked worst first), sorted as the current sort asks."""
        self.beginResetModel()
        self._calls = list(calls)
        self._haystacks = [f"{client_text(c)}\n{c.capture_path}".casefold() for c in self._calls]
        # A capture with several calls names the connection of each.
        self._shared = Counter(c.capture_id for c in self._calls)
        self._order = self._ordered(self._sort_column, self._sort_order)
        self.endResetModel()

    def call(self, row: int) -> CallRow:
        """The call shown at ``row``."""
        return self._calls[self._order[row]]

    def matches(self, row: int, needle: str, problems_only: bool) -> bool:
        """Whether the call at ``row`` passes the filter: ``needle`` (casefolded) in its client or capture
        path, and, with ``problems_only``, it had problems."""
        index = self._order[row]
        if problems_only and not had_problems(self._calls[index]):
            return False
        return not needle or needle in self._haystacks[index]

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._order)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        handler = self._roles.get(role)
        if handler is None or not index.isValid() or not 0 <= index.row() < len(self._order):
            return None
        return handler(self._calls[self._order[index.row()]], index.column())

    # --- sorting ------------------------------------------------------------------------------------

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Order the rows by ``column`` (-1: the dataset's ranking, worst first). Rows without a value come
        last in either order; rows with equal values keep their ranking."""
        if (column, order) == (self._sort_column, self._sort_order):
            return
        self.layoutAboutToBeChanged.emit()
        old_order = self._order
        self._sort_column, self._sort_order = column, order
        self._order = self._ordered(column, order)
        row_of = {index: row for row, index in enumerate(self._order)}
        kept = self.persistentIndexList()
        self.changePersistentIndexList(
            kept, [self.index(row_of[old_order[i.row()]], i.column()) for i in kept]
        )
        self.layoutChanged.emit()

    def _ordered(self, column: int, order: Qt.SortOrder) -> list[int]:
        ranked = range(len(self._calls))
        if column < 0:
            return list(ranked)
        keys = [self.sort_key(call, column) for call in self._calls]
        known = [i for i in ranked if keys[i] is not None]
        # sorted() is stable in both directions: equal values keep the ranking.
        known.sort(key=keys.__getitem__, reverse=order == Qt.SortOrder.DescendingOrder)
        return known + [i for i in ranked if keys[i] is None]

    def sort_key(self, call: CallRow, column: int) -> Any:
        """What a column sorts on (None: no value, sorted last)."""
        if column == self.CLIENT:
            return client_text(call).casefold()
        if column == self.STARTED:
            return call.started
        if column == self.CAPTURE:
            return (call.capture_path.casefold(), call.conn)
        return self._number(call, column)

    def _number(self, call: CallRow, column: int) -> float | int | None:
        numbers: dict[int, float | int | None] = {
            self.DURATION: call.duration_s,
            self.CONTEXTS: call.contexts,
            self.SEGMENTS: call.segments,
            self.PROBLEMS: call.problems,
            self.ANOMALIES: call.anomalies,
            self.LINTS: call.lints,
            self.WORD_CUTS: call.word_cuts,
            self.FIRST_AUDIO: call.first_audio_p95_ms,
        }
        return numbers.get(column)

    # --- roles --------------------------------------------------------------------------------------

    def _display(self, call: CallRow, column: int) -> Any:
        if column == self.CLIENT:
            return client_text(call)
        if column == self.STARTED:
            return started_text(call.started)
        if column == self.DURATION:
            return duration_text(call.duration_s)
        if column == self.FIRST_AUDIO:
            p95 = call.first_audio_p95_ms
            return MISSING if p95 is None else f"{p95:.0f} ms"
        if column == self.CAPTURE:
            name = PurePath(call.capture_path).name
            return f"{name} · connection {call.conn}" if self._shared[call.capture_id] > 1 else name
        number = self._number(call, column)
        return None if number is None else f"{number:,}"

    def _tooltip(self, call: CallRow, column: int) -> Any:
        if column == self.CAPTURE:
            return f"{call.capture_path}\nconnection {call.conn}"
        if column == self.CLIENT:
            return "A connection flushscope opened itself" if call.client is None else call.client
        if column == self.FIRST_AUDIO and call.first_audio_p95_ms is None:
            return "No segment of this call had audio"
        return self.HEADER_TIPS.get(column)

    def _alignment(self, call: CallRow, column: int) -> Any:
        return _RIGHT if column in self._NUMBERS else None

    def _foreground(self, call: CallRow, column: int) -> Any:
        if column in self._COUNTS:
            count = self._number(call, column)
            if not count:
                return _muted()
            return _alarm() if column in (self.PROBLEMS, self.WORD_CUTS) else None
        if column == self.CLIENT and call.client is None:
            return _muted()
        if column == self.FIRST_AUDIO and call.first_audio_p95_ms is None:
            return _muted()
        return None


class CallsFilter(QSortFilterProxyModel):
    """The calls that match a text (in their client or capture path, any case) and, when asked, only those
    with problems. Sorting is handed to the :class:`CallsModel` below, so this proxy keeps its order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self._problems_only = False

    def set_text(self, text: str) -> None:
        """Keep the calls whose client or capture path holds ``text`` (any case; empty: every call)."""
        needle = text.strip().casefold()
        if needle != self._needle:
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_problems_only(self, on: bool) -> None:
        """Keep only the calls with a warning or error anomaly, or a cut word."""
        if on != self._problems_only:
            self.beginFilterChange()
            self._problems_only = on
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        source = self.sourceModel()
        if not isinstance(source, CallsModel):
            return True
        return source.matches(source_row, self._needle, self._problems_only)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, CallsModel):
            source.sort(column, order)

    def call(self, row: int) -> CallRow:
        """The call shown at ``row`` of this proxy."""
        source = self.sourceModel()
        assert isinstance(source, CallsModel)
        return source.call(self.mapToSource(self.index(row, 0)).row())
