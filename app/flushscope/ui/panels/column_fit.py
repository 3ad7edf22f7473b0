"""Column widths that follow the table's width: the text column takes the room, the others keep what their
figures need.

Each column but the text has a natural width (its sample or its header, whichever is wider) and a compact
one (its sample, or the shorter sample it may narrow to, or its header broken onto two lines by
:func:`~flushscope.ui.tables.base.compact_label`). While the natural widths leave the text column
:data:`TEXT_SHARE` of the viewport, they are used; below that the compact ones are; and the text column,
stretched, always takes what is left.

Widths are measured as the style draws: a sample as wide as the view's items make its text (margins
included), a header as wide as its longest line and the section's margins. Nothing is measured while the
table is resized: the widths are worked out once, and a resize only picks one set or the other.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QEvent, QObject, QSize
from PySide6.QtWidgets import QStyle, QStyleOptionViewItem, QTableView

from flushscope.ui.tables.base import HeadedModel, compact_label

#: The share of the viewport the text column should keep before the others go compact.
TEXT_SHARE: Final = 0.4
#: Room beside a header's longest line: the section's margins, and a pixel to spare on each side.
HEADER_PADDING: Final = 6
#: Per column, its widest typical text, or that and the text a compact column must still show whole.
Samples = dict[int, str | tuple[str, str]]


def cell_width(view: QTableView, text: str) -> int:
    """How wide a column of ``view`` must be to show ``text`` whole in a cell, as the style lays out an
    item (and the grid line takes a pixel of the column)."""
    option = QStyleOptionViewItem()
    option.initFrom(view)
    option.font = view.font()
    option.text = text
    option.features |= QStyleOptionViewItem.ViewItemFeature.HasDisplay
    style = view.style()
    item = style.sizeFromContents(QStyle.ContentsType.CT_ItemViewItem, option, QSize(), view).width()
    return item + (1 if view.showGrid() else 0)


def header_width(view: QTableView, label: str) -> int:
    """How wide a header section of ``view`` must be to show ``label`` (its lines) whole."""
    metrics = view.horizontalHeader().fontMetrics()
    return max(metrics.horizontalAdvance(line) for line in label.split("\n")) + HEADER_PADDING


class ColumnFitter(QObject):
    """Sizes ``view``'s columns (``samples``: column -> its widest typical text, or that and a shorter one
    for compact widths, the cell eliding what is longer) around the ``text`` column as the viewport's width
    changes; ``headers`` (the model that names the columns) breaks its labels when the columns go compact."""

    def __init__(self, view: QTableView, headers: HeadedModel, samples: Samples, text: int) -> None:
        super().__init__(view)
        self._view = view
        self._headers = headers
        self._text = text
        self.natural: dict[int, int] = {}
        self.compact: dict[int, int] = {}
        for column, sample in samples.items():
            if column == text:
                continue
            wide, narrow = (sample, sample) if isinstance(sample, str) else sample
            label = headers.HEADERS[column]
            self.natural[column] = max(cell_width(view, wide), header_width(view, label))
            self.compact[column] = max(cell_width(view, narrow), header_width(view, compact_label(label)))
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
