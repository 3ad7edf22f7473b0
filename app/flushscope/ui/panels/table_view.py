"""A table view as every panel uses it: rows of one height, columns sized from sample texts; sortable on a
:class:`~flushscope.ui.tables.SortProxy` where rows are picked one at a time."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QTableView,
    QWidget,
)

from flushscope.ui.tables.sorting import SortProxy

AnyIndex = QModelIndex | QPersistentModelIndex
#: Select whole rows, replacing what was selected.
SELECT_ROWS = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows


def make_table(
    parent: QWidget, model: QAbstractItemModel, widths: dict[int, str], stretch: int | None = None
) -> QTableView:
    """A table view on ``model`` with fixed, uniform row heights (cheap to lay out at any row count) and
    column widths fitted to sample texts rather than measured over every row."""
    view = QTableView(parent)
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    metrics = view.fontMetrics()
    rows = view.verticalHeader()
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(metrics.height() + 6)
    rows.hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setHighlightSections(False)
    header.setStretchLastSection(stretch is None)
    for column, sample in widths.items():
        header.resizeSection(column, metrics.horizontalAdvance(sample) + 18)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def sorted_table(
    parent: QWidget,
    model: QAbstractItemModel,
    widths: dict[int, str],
    stretch: int | None = None,
    selection: QAbstractItemView.SelectionMode = QAbstractItemView.SelectionMode.SingleSelection,
) -> tuple[SortProxy, QTableView]:
    """:func:`make_table` on a :class:`SortProxy` of ``model``: unsorted (the model's order) until a header
    is clicked, a third click returning to it."""
    proxy = SortProxy(parent)
    proxy.setSourceModel(model)
    view = make_table(parent, proxy, widths, stretch)
    view.setSelectionMode(selection)
    header = view.horizontalHeader()
    header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    header.setSortIndicatorClearable(True)
    view.setSortingEnabled(True)
    return proxy, view
