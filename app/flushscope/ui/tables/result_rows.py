"""What the tables of a finished result share (a comparison's strategies, a diff's changes): a list of items
shown as rows, replaced wholesale when a new result comes, and role dispatch to small helpers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

from PySide6.QtCore import QObject, Qt

from flushscope.ui.tables.base import _ALIGN, _DISPLAY, _NO_INDEX, _TOOLTIP, SORT_ROLE, AnyIndex, HeadedModel

#: The row's item (a lint, a boundary, a strategy's result, a change), for every column of the tables of
#: the analysis.
ITEM_ROLE: Final = int(Qt.ItemDataRole.UserRole) + 21


class _ItemsModel(HeadedModel):
    """Rows of items from one result; subclasses answer ``_display``, ``_tooltip``, ``_alignment`` and
    ``sort_key`` for an item and a column."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []
        self._roles: dict[int, Callable[[Any, int], Any]] = {
            _DISPLAY: self._display,
            _TOOLTIP: self._tooltip,
            _ALIGN: self._alignment,
            SORT_ROLE: self.sort_key,
            ITEM_ROLE: lambda item, _column: item,
        }

    def set_items(self, items: Sequence[Any]) -> None:
        """Show these items (a new result: the rows are replaced)."""
        self.beginResetModel()
        self._rows = list(items)
        self.endResetModel()

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def data(self, index: AnyIndex, role: int = _DISPLAY) -> Any:
        handler = self._roles.get(role)
        if handler is None or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        return handler(self._rows[index.row()], index.column())

    def _display(self, item: Any, column: int) -> Any:
        return None

    def _tooltip(self, item: Any, column: int) -> Any:
        return None

    def _alignment(self, item: Any, column: int) -> Any:
        return None

    def sort_key(self, item: Any, column: int) -> Any:
        return self._display(item, column)
