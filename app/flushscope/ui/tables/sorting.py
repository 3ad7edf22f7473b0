"""Sorting the inspector's tables on their sort keys, with rows that have no value yet kept last; and
narrowing them to one connection."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt

from flushscope.ui.tables.base import SORT_ROLE, AnyIndex, _TableModel


class SortProxy(QSortFilterProxyModel):
    """Sorts on :data:`SORT_ROLE` with Python comparison: numbers as numbers, and ``None`` (no value yet)
    last in either order. Sorting column -1 shows the source order. :meth:`set_connection` shows only the
    rows of one connection."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self._keys: list[Any] | None = None
        self._connection: int | None = None

    @property
    def connection(self) -> int | None:
        return self._connection

    def set_connection(self, connection: int | None) -> None:
        """Show only the rows of connection number ``connection`` (None: every row)."""
        if connection == self._connection:
            return
        self.beginFilterChange()
        self._connection = connection
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        wanted = self._connection
        if wanted is None:
            return True
        source = self.sourceModel()
        return isinstance(source, _TableModel) and source.connection_of(source_row) == wanted

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
