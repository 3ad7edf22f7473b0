"""The Calls window: a dataset (a folder ``flushscope dataset build`` made) as a table of its calls, ranked
by their problems, under a summary of the whole.

DuckDB answers on a worker thread (:func:`read_dataset`; it lets go of the GIL while it scans), so the
window and the live session keep running while a big dataset is read; meanwhile the window says it is
reading. The table sorts on any column and filters on a text and on "problems only"; a double-click (or
Enter) on a call asks, through :attr:`DatasetWindow.callRequested`, for its capture to be opened.

The dataset's modules (DuckDB, pyarrow) are imported on the worker thread when a dataset is first read,
not when the window starts.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

from flushscope.tasks import OwnedTasks
from flushscope.ui.look.palette import ERROR_COLOUR, is_dark
from flushscope.ui.panels.table_view import make_table
from flushscope.ui.tables.calls import CallsFilter, CallsModel
from flushscope.ui.widgets.dataset_summary import DatasetSummary

if TYPE_CHECKING:
    from flushscope.dataset.calls import CallRow
    from flushscope.dataset.summary import PeriodSummary

#: Column widths, from sample texts.
_WIDTHS: Final = {
    CallsModel.CLIENT: "cartesia-python/4.2.0",
    CallsModel.STARTED: "2026-12-06 12:26:47",
    CallsModel.DURATION: "5 min 12 s",
    CallsModel.CONTEXTS: "contexts",
    CallsModel.SEGMENTS: "segments",
    CallsModel.PROBLEMS: "problems",
    CallsModel.ANOMALIES: "anomalies",
    CallsModel.LINTS: "lints",
    CallsModel.WORD_CUTS: "cuts",
    CallsModel.FIRST_AUDIO: "first audio",
}


def calls_text(count: int) -> str:
    return f"{count:,} call" if count == 1 else f"{count:,} calls"


class UnreadableDataset(Exception):
    """A folder that is not a dataset, or a dataset that cannot be read; one sentence."""


def read_dataset(root: Path) -> tuple[PeriodSummary, list[CallRow]]:
    """The summary and the calls (worst first) of the dataset at ``root``, from one DuckDB connection.
    Blocking: run it on a worker thread. Raises :class:`UnreadableDataset`."""
    import duckdb
    import pyarrow as pa

    from flushscope.dataset.calls import query_calls
    from flushscope.dataset.duck import connect
    from flushscope.dataset.store import DatasetError
    from flushscope.dataset.summary import period_summary

    try:
        with connect(root) as con:
            # The summary's own list of the worst calls is left out: the table is that list.
            return period_summary(con, None, None, worst=0), query_calls(con)
    except DatasetError as exc:
        raise UnreadableDataset(str(exc)) from None
    except (duckdb.Error, pa.ArrowException, OSError) as exc:
        # DuckDB's messages go on with the query and a caret: the first line says it.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableDataset(f"{root} cannot be read: {first}") from None


class DatasetWindow(QWidget):
    """The calls of one dataset at a time (:meth:`open`), under its summary."""

    status = Signal(str)
    """What the window did, in words."""
    error = Signal(str)
    """What went wrong, in words: a folder that is not a dataset, a dataset that cannot be read, a call whose
    capture cannot be opened."""
    busyChanged = Signal(bool)
    """A dataset started or stopped being read."""
    callRequested = Signal(object)
    """A call (a ``CallRow``) was double-clicked, or Enter pressed on it: open its capture."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Calls — flushscope")
        # As big as it is meant to be, or as the screen (a laptop's 1024x600 included).
        screen = self.screen().availableGeometry()
        self.resize(min(1400, screen.width()), min(860, screen.height()))
        self.tasks = OwnedTasks()
        #: The dataset shown (or being read).
        self.path: Path | None = None
        self._loading: asyncio.Task[bool] | None = None
        self._busy = False
        #: The last error said (empty: none since the window opened).
        self.last_error = ""

        self.where_label = QLabel(self)
        self.where_label.setTextFormat(Qt.TextFormat.PlainText)
        self.where_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy_bar = QProgressBar(self)
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.hide()
        self.message_label = QLabel(self)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.setWordWrap(True)
        self.message_label.hide()

        self.summary = DatasetSummary(self)
        self.model = CallsModel(self)
        self.proxy = CallsFilter(self)
        self.proxy.setSourceModel(self.model)
        self.view = make_table(self, self.proxy, dict(_WIDTHS), stretch=CallsModel.CAPTURE)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorClearable(True)
        self.view.setSortingEnabled(True)
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setPlaceholderText("Filter by client or capture path")
        self.filter_edit.setClearButtonEnabled(True)
        self.problems_check = QCheckBox("Problems only", self)
        self.problems_check.setToolTip("Only the calls with a warning or error anomaly, or a cut word")
        self.count_label = QLabel(self)
        self.count_label.setTextFormat(Qt.TextFormat.PlainText)
        self._lay_out()

        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.problems_check.toggled.connect(self.proxy.set_problems_only)
        for changed in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset):
            changed.connect(self._count)
        header.sortIndicatorChanged.connect(lambda _column, _order: self._count())
        self.view.activated.connect(self._activated)
        self._show_nothing("Open a dataset: File > Open dataset…")

    def _lay_out(self) -> None:
        top = QHBoxLayout()
        top.addWidget(self.where_label, 1)
        top.addWidget(self.busy_bar)

        filters = QHBoxLayout()
        filters.setContentsMargins(0, 0, 0, 0)
        filters.addWidget(self.filter_edit, 2)
        filters.addWidget(self.problems_check)
        filters.addSpacing(12)
        filters.addWidget(self.count_label, 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 8)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.message_label)
        # The summary takes the height it needs (its tables are a few rows each), the calls the rest.
        layout.addWidget(self.summary)
        layout.addSpacing(4)
        layout.addLayout(filters)
        layout.addWidget(self.view, 1)

    # --- reading a dataset --------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether a dataset is being read."""
        return self._busy

    def open(self, path: str | Path) -> asyncio.Task[bool]:
        """Read the dataset at ``path`` and show it (a dataset still being read is given up): the task says
        whether it could be read."""
        if self._loading is not None:
            self._loading.cancel()
        self._loading = self.tasks.spawn(self._load(Path(path).absolute()), "read a dataset")
        return self._loading

    async def _load(self, root: Path) -> bool:
        self.path = root
        self.where_label.setText(f"Dataset {root}")
        self.setWindowTitle(f"Calls in {root.name or root} — flushscope")
        self.message_label.hide()
        self._set_busy(True)
        started = time.perf_counter()
        try:
            period, calls = await asyncio.get_running_loop().run_in_executor(None, read_dataset, root)
        except UnreadableDataset as exc:
            self._show_nothing("Nothing to show.")
            self.report_error(f"Cannot open the dataset: {exc}")
            return False
        finally:
            if self._loading is asyncio.current_task():
                self._set_busy(False)
        self.summary.show_period(period)
        self.model.set_calls(calls)
        elapsed = time.perf_counter() - started
        self.status.emit(f"Read {calls_text(len(calls))} from {root} in {elapsed:.2f} s")
        return True

    def _set_busy(self, busy: bool) -> None:
        if busy == self._busy:
            return
        self._busy = busy
        self.busy_bar.setVisible(busy)
        self.view.setEnabled(not busy)
        if busy:
            self.count_label.setText("Reading the dataset…")
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
            self._count()
        self.busyChanged.emit(busy)

    def _show_nothing(self, text: str) -> None:
        self.summary.clear(text)
        self.model.set_calls([])

    # --- what the window says -----------------------------------------------------------------------

    def say(self, text: str) -> None:
        """A message above the summary (and to :attr:`status`)."""
        self.message_label.setStyleSheet("")
        self.message_label.setText(text)
        self.message_label.show()
        self.status.emit(text)

    def report_error(self, text: str) -> None:
        """An error above the summary, in the error colour (and to :attr:`error`)."""
        colour = ERROR_COLOUR["dark" if is_dark(self.palette()) else "light"]
        self.message_label.setStyleSheet(f"color: {colour};")
        self.message_label.setText(text)
        self.message_label.show()
        self.last_error = text
        self.error.emit(text)

    def _count(self) -> None:
        if self._busy:
            return
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if not total:
            self.count_label.setText("")
            return
        counted = calls_text(total) if shown == total else f"{shown:,} of {calls_text(total)}"
        ranked = self.view.horizontalHeader().sortIndicatorSection() < 0
        self.count_label.setText(
            f"{counted}{', worst first' if ranked else ''} · double-click one to open it"
        )

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.callRequested.emit(self.proxy.call(index.row()))

    def screenshot(self, path: str | Path) -> bool:
        """The window as a PNG."""
        return bool(self.grab().save(str(path), "PNG"))

    async def aclose(self) -> None:
        """Stop reading (the worker thread finishes its query on its own; its answer is dropped)."""
        await self.tasks.aclose()
