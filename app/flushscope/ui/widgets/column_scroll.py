"""A column of panes that fills its place, and scrolls up and down only when the place is shorter than the
column can be (a short screen), never sideways."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget


class ColumnScroll(QScrollArea):
    """Shows ``column`` as tall as the area, or as tall as its minimum with a scroll bar when that is more.

    A resizable scroll area would make a column with wrapped labels as tall as its preferred height for its
    width, and show a scroll bar whenever the area is shorter than that: this one sizes the column itself.
    """

    def __init__(self, column: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._column = column
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(column)
        column.installEventFilter(self)
        #: The width of the scroll bar, when it shows.
        self.bar_width = self.verticalScrollBar().sizeHint().width()
        self.setMinimumWidth(column.minimumSizeHint().width() + self.bar_width)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A pane shown or hidden in the column changes the height it needs.
        if watched is self._column and event.type() == QEvent.Type.LayoutRequest:
            self._fit()
        return super().eventFilter(watched, event)

    def _fit(self) -> None:
        column = self._column
        needed = column.minimumSizeHint().height()
        height = self.height()
        width = self.width() - (self.bar_width if needed > height else 0)
        column.resize(width, max(needed, height))
