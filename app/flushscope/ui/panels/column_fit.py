"""Column widths that follow the table's width: the text column takes the room, the others keep what their
figures need.

Each column but the text has a natural width (its sample or its header, whichever is wider) and a compact
one (its sample, or the longest word of its header: the header then breaks onto two lines). While the
natural widths leave the text column :data:`TEXT_SHARE` of the viewport, they are used; below that the
compact ones are; and the text column, stretched, always takes what is left.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QTableView

from flushscope.ui.tables.base import HeadedModel

#: The share of the viewport the text column should keep before the others go compact.
TEXT_SHARE: Final = 0.4
#: Room beside a column's widest text: the cell's margins and the header's sort arrow.
PADDING: Final = 10
#: Per column, its widest typical text, or that and the text a compact column must still show whole.
Samples = dict[int, str | tuple[str, str]]


class ColumnFitter(QObject):
    """Sizes ``view``'s columns (``samples``: column -> its widest typical text, or that and a shorter one
    for compact widths, the cell eliding what is longer) around the ``text`` column as the viewport's width
    changes; ``headers`` (the model that names the columns) breaks its labels when the columns go compact."""

    def __init__(self, view: QTableView, headers: HeadedModel, samples: Samples, text: int) -> None:
        super().__init__(view)
        self._view = view
        self._headers = headers
        self._text = text
        metrics, header_metrics = view.fontMetrics(), view.horizontalHeader().fontMetrics()
        self.natural: dict[int, int] = {}
        self.compact: dict[int, int] = {}
        for column, sample in samples.items():
            if column == text:
                continue
            wide, narrow = (sample, sample) if isinstance(sample, str) else sample
            label = headers.HEADERS[column]
            content = metrics.horizontalAdvance(wide)
            self.natural[column] = max(content, header_metrics.horizontalAdvance(label)) + PADDING
            word = max((header_metrics.horizontalAdvance(w) for w in label.split()), default=0)
            self.compact[column] = max(metrics.horizontalAdvance(narrow), word) + PADDING
        self._compact: bool | None = None
        view.horizontalHeader().setSectionResizeMode(text, view.horizontalHeader().ResizeMode.Stretch)
        self._viewport = view.viewport()
        self._viewport.installEventFilter(self)
        self.fit()

    def fit(self) -> None:
        """Choose natural or compact widths for the viewport's width now."""
        room = self._viewport.width()
        compact = sum(self.natural.values()) > room * (1 - TEXT_SHARE)
        if compact == self._compact:
            return
        self._compact = compact
        self._headers.set_compact_headers(compact)
        header = self._view.horizontalHeader()
        for column, width in (self.compact if compact else self.natural).items():
            header.resizeSection(column, width)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._viewport and event.type() == QEvent.Type.Resize:
            self.fit()
        return super().eventFilter(watched, event)
