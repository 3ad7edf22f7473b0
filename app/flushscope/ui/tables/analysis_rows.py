"""What the analysis tables share: rows taken from a list that is replaced wholesale by each run of the
analysis, told to views as the smallest change (rows kept, changed in place, inserted or removed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject

from flushscope.ui.tables.base import _NO_INDEX, AnyIndex, _TableModel

if TYPE_CHECKING:
    from flushscope.ui.controllers.analysis import AnalysisModel


def common_ends(old: Sequence[Any], new: Sequence[Any]) -> tuple[int, int]:
    """How many items the two lists share at their start and, after that, at their end. An item kept from one
    run of the analysis to the next is the same object: that is checked first, as comparing two records
    field by field costs a thousand times more."""
    head = 0
    limit = min(len(old), len(new))
    while head < limit and (old[head] is new[head] or old[head] == new[head]):
        head += 1
    tail = 0
    while tail < limit - head and (old[-1 - tail] is new[-1 - tail] or old[-1 - tail] == new[-1 - tail]):
        tail += 1
    return head, tail


class _ListedModel(_TableModel):
    """Rows from one list of the analysis (:meth:`_source`), brought in line with it whenever its results
    change.

    The shared head and tail of the old and the new list stay as they are; of the rows between, as many as
    both have are changed in place (``dataChanged``) and the rest inserted or removed, so a run that found
    one more lint inserts one row."""

    def __init__(self, analysis: AnalysisModel, parent: QObject | None = None) -> None:
        super().__init__(analysis.bridge, parent)
        self._analysis = analysis
        self._rows: list[Any] = list(self._source())
        analysis.resultsChanged.connect(self._on_analysis_changed)

    def _source(self) -> Sequence[Any]:
        raise NotImplementedError

    def _load(self) -> None:
        self._rows = list(self._source())

    def rowCount(self, parent: AnyIndex = _NO_INDEX) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def item(self, row: int) -> Any:
        return self._rows[row]

    def _row_item(self, row: int, column: int) -> Any:
        return self._rows[row]

    def _on_analysis_changed(self) -> None:
        new = list(self._source())
        old = self._rows
        head, tail = common_ends(old, new)
        old_mid, new_mid = len(old) - head - tail, len(new) - head - tail
        if new_mid < old_mid:
            self.beginRemoveRows(QModelIndex(), head + new_mid, head + old_mid - 1)
            del self._rows[head + new_mid : head + old_mid]
            self.endRemoveRows()
        elif new_mid > old_mid:
            self.beginInsertRows(QModelIndex(), head + old_mid, head + new_mid - 1)
            self._rows[head + old_mid : head + old_mid] = new[head + old_mid : head + new_mid]
            self.endInsertRows()
        same = min(old_mid, new_mid)
        if same:
            self._rows[head : head + same] = new[head : head + same]
            self._emit_rows_changed(range(head, head + same))
