"""What the inspector's table models share: the item roles they answer, role dispatch to small helpers,
headers, and how a context and a set of changed rows are named."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from flushscope.core.model.records import Context
from flushscope.core.model.session import Session
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


def context_label(ctx: Context) -> str:
    """How tables name a context: its number in the session and its name (a script's), or else the start of
    its id."""
    if ctx.name is not None:
        return f"{ctx.number} · {ctx.title}"
    short = ctx.context_id if len(ctx.context_id) <= 10 else ctx.context_id[:8] + "…"
    return f"{ctx.number} · {short}"


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


def compact_label(label: str) -> str:
    """A header label on two lines, for a narrow column: broken at its first space, or a single word after
    its first underscore ("flush_done": "flush_" over "done"); a label that has its own lines keeps them."""
    if "\n" in label:
        return label
    if " " in label:
        return label.replace(" ", "\n", 1)
    head, underscore, tail = label.partition("_")
    return f"{head}_\n{tail}" if underscore and head and tail else label


class HeadedModel(QAbstractTableModel):
    """A flat table with named columns: :attr:`HEADERS` and their tooltips. Compact headers break their
    labels onto two lines (:func:`compact_label`): a narrow table's columns are then only as wide as their
    figures."""

    HEADERS: ClassVar[tuple[str, ...]] = ()
    HEADER_TIPS: ClassVar[dict[int, str]] = {}
    _compact_headers = False

    def set_compact_headers(self, compact: bool) -> None:
        if compact != self._compact_headers:
            self._compact_headers = compact
            if self.HEADERS:
                self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.HEADERS) - 1)

    def columnCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == _DISPLAY:
            label = self.HEADERS[section]
            return compact_label(label) if self._compact_headers else label
        if role == _TOOLTIP:
            return self.HEADER_TIPS.get(section)
        return None


class _TableModel(HeadedModel):
    """Shared plumbing of the session's tables: flat-table guards and role dispatch to small helpers."""

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

    def connection_of(self, row: int) -> int | None:
        """The connection a row belongs to, for a view narrowed to one (None: it belongs to none)."""
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
