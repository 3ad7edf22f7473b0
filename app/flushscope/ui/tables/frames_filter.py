"""Filtering the frames table by context, flush_id, type and direction, within one connection or all."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from PySide6.QtCore import QObject, QSortFilterProxyModel

from flushscope.core.frames import Direction
from flushscope.ui.tables.base import AnyIndex
from flushscope.ui.tables.frames import FrameFilter, FramesModel


class FramesFilterProxy(QSortFilterProxyModel):
    """Filters a :class:`FramesModel` by context, flush_id, type and direction.

    Filtering reads the model's derived columns only: a new filter is computed for every row at once with
    numpy, and rows appended later are checked one by one as they arrive.
    """

    def __init__(self, model: FramesModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._filter = FrameFilter()
        self._mask: list[bool] = []
        self.setSourceModel(model)
        model.modelAboutToBeReset.connect(self._forget)

    @property
    def filter(self) -> FrameFilter:
        return self._filter

    def set_filter(
        self,
        context: int | None = None,
        flush_id: int | None = None,
        types: Iterable[str] | None = None,
        direction: Direction | None = None,
    ) -> None:
        """Show only frames of context number ``context`` (1-based), carrying (or sent into) ``flush_id``,
        of one of ``types`` and going in ``direction``; ``None`` means any. The connection set by
        :meth:`set_connection` still applies."""
        types = frozenset(types) if types else None
        self._apply(FrameFilter(context, flush_id, types, direction, self._filter.conn))

    def set_connection(self, conn: int | None) -> None:
        """Show only frames of connection ``conn`` (None: of every connection), on top of the other filters."""
        self._apply(dataclasses.replace(self._filter, conn=conn))

    def _apply(self, wanted: FrameFilter) -> None:
        if wanted == self._filter:
            return
        self.beginFilterChange()
        self._filter = wanted
        self._mask = [] if wanted.empty else self._model.filter_mask(wanted).tolist()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def _forget(self) -> None:
        # A different session: its contexts and flush ids mean nothing for the old filter.
        self._filter = FrameFilter()
        self._mask = []

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        f = self._filter
        if f.empty:
            return True
        if source_row < len(self._mask):
            return self._mask[source_row]
        return self._model.accepts(source_row, f)

    def source_row(self, row: int) -> int:
        return self.mapToSource(self.index(row, 0)).row()

    def proxy_row(self, source_row: int) -> int | None:
        """The row showing frame ``source_row``, or None when it is filtered out."""
        index = self.mapFromSource(self._model.index(source_row, 0))
        return index.row() if index.isValid() else None
