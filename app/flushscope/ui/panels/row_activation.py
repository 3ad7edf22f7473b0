"""Going to what a table row stands for: once per click (the same row clicked again goes there again), and
when the current row moves with the keyboard."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QModelIndex, QObject
from PySide6.QtWidgets import QTableView

from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session


class RowActivation(QObject):
    """Calls ``go`` with the index of the row a user picked in ``view``.

    A mouse click both moves the current row (on press) and clicks (on release): it counts once, on the
    click, so that clicking the current row again also goes to it. A current row moved otherwise (keys)
    counts at once."""

    def __init__(self, view: QTableView, go: Callable[[QModelIndex], None]) -> None:
        super().__init__(view)
        # Kept as Python references: the filter must not call into a view that is being destroyed.
        self._viewport = view.viewport()
        self._go = go
        self._pressing = False
        self._viewport.installEventFilter(self)
        view.selectionModel().currentRowChanged.connect(self._on_current_row)
        view.clicked.connect(self._go)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._viewport:
            if event.type() == QEvent.Type.MouseButtonPress:
                self._pressing = True
            elif event.type() == QEvent.Type.MouseButtonRelease:
                self._pressing = False
        return super().eventFilter(watched, event)

    def _on_current_row(self, current: QModelIndex) -> None:
        if current.isValid() and not self._pressing:
            self._go(current)


def context_numbered(session: Session, number: int | None, context_id: str) -> Context | None:
    """The context at position ``number`` of ``session``, if it is the one named ``context_id`` (an item
    of an analysis made before the session shown changed names nothing in it)."""
    contexts = session.contexts
    if number is None or not 0 < number <= len(contexts):
        return None
    ctx = contexts[number - 1]
    return ctx if ctx.context_id == context_id else None


def segment_numbered(ctx: Context, ordinal: int) -> Segment | None:
    return ctx.segments[ordinal] if 0 <= ordinal < len(ctx.segments) else None
