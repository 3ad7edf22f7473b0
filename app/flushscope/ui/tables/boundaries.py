"""The boundaries table: one row per flush boundary, its figures, and whether it is an outlier."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import QObject
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QStyle

from flushscope.core.analysis.boundaries import Boundary
from flushscope.ui.look.analysis_words import boundary_words, flush_ids, last_word, level_step
from flushscope.ui.tables.analysis_rows import _ListedModel
from flushscope.ui.tables.base import _DECORATION, _RIGHT, SORT_ROLE, context_label
from flushscope.ui.tables.result_rows import ITEM_ROLE

if TYPE_CHECKING:
    from flushscope.ui.controllers.analysis import AnalysisModel


class BoundariesModel(_ListedModel):
    """One row per flush boundary of the session shown, context by context. Outliers carry a warning
    icon and their reasons; sorting the first column puts the most flagged first (descending)."""

    OUTLIER, CONTEXT, FLUSH_IDS, TRAILING, LEADING, GAP, STEP, LAST_WORD, FLAGS = range(9)
    HEADERS = (
        "outlier",
        "context",
        "flush_id",
        "trailing",
        "leading",
        "gap",
        "step",
        "last word",
        "flags",
    )
    HEADER_TIPS: ClassVar[dict[int, str]] = {
        FLUSH_IDS: "The segment before the boundary and the one after it",
        TRAILING: "Trailing silence: silence at the end of the segment before",
        LEADING: "Leading silence: silence at the start of the segment after",
        GAP: "Arrival gap: from the last chunk before the boundary to the first after it, as they arrived",
        STEP: "Level step: how much louder (+) or quieter (-) the voice is after the boundary",
        LAST_WORD: "Whether the last word before the boundary ends inside its segment's audio",
    }

    def __init__(self, analysis: AnalysisModel, parent: QObject | None = None) -> None:
        super().__init__(analysis, parent)
        self._roles[ITEM_ROLE] = self._row_item
        self._roles[SORT_ROLE] = self.sort_key
        self._roles[_DECORATION] = self._decoration
        self._icon: QIcon | None = None

    def _source(self) -> Sequence[Boundary]:
        return self._analysis.boundaries

    def boundary(self, row: int) -> Boundary:
        boundary: Boundary = self._rows[row]
        return boundary

    def _where(self, b: Boundary) -> str:
        contexts = self.session.contexts
        if 0 < b.context_number <= len(contexts):
            return context_label(contexts[b.context_number - 1])
        return b.context_id

    def _display(self, row: int, column: int) -> Any:
        b = self.boundary(row)
        if column == self.OUTLIER:
            return "outlier" if b.outlier else ""
        if column == self.CONTEXT:
            return self._where(b)
        if column == self.FLUSH_IDS:
            return flush_ids(b)
        if column == self.TRAILING:
            return f"{b.trailing_silence_ms:.0f} ms"
        if column == self.LEADING:
            return f"{b.leading_silence_ms:.0f} ms"
        if column == self.GAP:
            return f"{b.arrival_gap_ms:.0f} ms"
        if column == self.STEP:
            return f"{level_step(b):+.1f} dB"
        if column == self.LAST_WORD:
            return last_word(b)
        if column == self.FLAGS:
            return ", ".join(flag.kind.value.replace("_", " ") for flag in b.flags)
        return None

    def _tooltip(self, row: int, column: int) -> Any:
        return boundary_words(self.boundary(row))

    def _alignment(self, row: int, column: int) -> Any:
        return _RIGHT if self.TRAILING <= column <= self.STEP else None

    def _decoration(self, row: int, column: int) -> Any:
        if column != self.OUTLIER or not self.boundary(row).outlier:
            return None
        if self._icon is None:
            self._icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
        return self._icon

    def connection_of(self, row: int) -> int | None:
        return int(self.item(row).conn)

    def sort_key(self, row: int, column: int) -> Any:
        b = self.boundary(row)
        if column == self.OUTLIER:
            return len(b.flags)
        if column == self.CONTEXT:
            return b.context_number
        if column == self.FLUSH_IDS:
            return (b.context_number, b.from_ordinal)
        if column == self.TRAILING:
            return b.trailing_silence_ms
        if column == self.LEADING:
            return b.leading_silence_ms
        if column == self.GAP:
            return b.arrival_gap_ms
        if column == self.STEP:
            return level_step(b)
        if column == self.LAST_WORD:
            return None if b.last_word_inside is None else int(not b.last_word_inside)
        return self._display(row, column)
