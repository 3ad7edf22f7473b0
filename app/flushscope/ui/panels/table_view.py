"""A table view as every panel uses it: rows of one height, columns sized from sample texts; sortable on a
:class:`~flushscope.ui.tables.SortProxy` where rows are picked one at a time."""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractProxyModel,
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

from flushscope.ui.panels.column_fit import ColumnFitter, Samples, cell_width, header_width
from flushscope.ui.tables.base import HeadedModel
from flushscope.ui.tables.sorting import SortProxy

AnyIndex = QModelIndex | QPersistentModelIndex
#: Select whole rows, replacing what was selected.
SELECT_ROWS = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows


def make_table(
    parent: QWidget, model: QAbstractItemModel, widths: Samples, stretch: int | None = None
) -> QTableView:
    """A table view on ``model`` with fixed, uniform row heights (cheap to lay out at any row count) and
    column widths fitted to sample texts rather than measured over every row: each column as wide as its
    sample or its header, whichever is wider, or, with a ``stretch`` column (the text), as a
    :class:`~flushscope.ui.panels.column_fit.ColumnFitter` sizes them around it. Tab leaves the table for the
    next pane; the arrows move inside it."""
    view = QTableView(parent)
    view.setTabKeyNavigation(False)
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
    headed = _headed(model)
    if stretch is not None and headed is not None:
        ColumnFitter(view, headed, widths, stretch)
        return view
    for column, samples in widths.items():
        sample = samples if isinstance(samples, str) else samples[0]
        label = str(model.headerData(column, Qt.Orientation.Horizontal) or "")
        header.resizeSection(column, max(cell_width(view, sample), header_width(view, label)))
    return view


def _headed(model: QAbstractItemModel) -> HeadedModel | None:
    """The model under ``model``'s proxies that names the columns."""
    while isinstance(model, QAbstractProxyModel):
        model = model.sourceModel()
    return model if isinstance(model, HeadedModel) else None


def sorted_table(
    parent: QWidget,
    model: QAbstractItemModel,
    widths: Samples,
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
