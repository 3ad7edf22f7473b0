"""Datasets in the window: File > Open dataset… (or ``flushscope --dataset DIR``) shows the Calls window
(:class:`~flushscope.ui.windows.dataset.DatasetWindow`); a call picked there opens its capture in the main
window, read-only as every capture opens, with its problems selected.

Opening a call goes through the capture controller's public API (``open``, then ``wait_opened``). Once the
capture is shown, the views are narrowed to the call's connection when the capture holds several, and the
Anomalies tab is brought up with the call's first problem selected (a warning or error before an
information); a call without anomalies gets its first lint instead.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFileDialog, QTableView, QTabWidget, QWidget

from flushscope.core.model.anomalies import Severity
from flushscope.tasks import OwnedTasks
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.controllers.captures import CaptureController
from flushscope.ui.panels.anomalies import AnomaliesPanel
from flushscope.ui.panels.lints import LintsPanel
from flushscope.ui.panels.table_view import SELECT_ROWS
from flushscope.ui.tables.sorting import SortProxy
from flushscope.ui.widgets.connection_chooser import ConnectionChooser
from flushscope.ui.windows.dataset import DatasetWindow

if TYPE_CHECKING:
    from flushscope.dataset.calls import CallRow

log = logging.getLogger("flushscope.window")


@dataclass(frozen=True)
class FindingsViews:
    """The main window's parts that show a call's findings: its tabs, the anomalies and lints panels in
    them, the analysis the lints come from, and the connection chooser that narrows the views."""

    tabs: QTabWidget
    anomalies: AnomaliesPanel
    lints: LintsPanel
    analysis: AnalysisModel
    connections: ConnectionChooser


def to_front(window: QWidget) -> None:
    """Show ``window``, or raise it over the others if it is shown already, and make it the active one."""
    if window.isVisible():
        window.raise_()
    else:
        window.show()
    window.activateWindow()


def _count(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _select_first(view: QTableView, proxy: SortProxy, rank: Callable[[int], int | None]) -> None:
    """Make current, in ``view``, its first row (in the order shown) of the lowest ``rank`` of its source
    row; rows ranked None are passed over."""
    ranked = [(rank(proxy.mapToSource(proxy.index(row, 0)).row()), row) for row in range(proxy.rowCount())]
    found = min(((r, row) for r, row in ranked if r is not None), default=None)
    if found is not None:
        index = proxy.index(found[1], 0)
        view.selectionModel().setCurrentIndex(index, SELECT_ROWS)
        view.scrollTo(index)


def select_findings(views: FindingsViews, conn: int) -> str:
    """Narrow the views to connection ``conn`` if the session shown has several, bring up its anomalies
    (the first warning or error, or else the first) or, if it has none, its lints (the first) with one
    selected; what was done, in words."""
    session = views.analysis.session
    views.connections.choose(conn if len(session.connections) > 1 else None)
    found = sum(1 for a in session.anomalies if a.conn == conn)
    if found:
        anomalies = views.anomalies
        views.tabs.setCurrentWidget(anomalies)

        def severity(row: int) -> int | None:
            anomaly = anomalies.model.anomaly(row)
            return None if anomaly.conn != conn else int(anomaly.severity is Severity.INFO)

        _select_first(anomalies.view, anomalies.proxy, severity)
        return f"{_count(found, 'anomaly', 'anomalies')}, the first selected"
    views.analysis.refresh_now()
    found = sum(1 for lint in views.analysis.lints if lint.conn == conn)
    if found:
        lints = views.lints
        views.tabs.setCurrentWidget(lints)
        _select_first(lints.view, lints.proxy, lambda row: 0 if lints.model.lint(row).conn == conn else None)
        return f"no anomaly; {_count(found, 'lint', 'lints')}, the first selected"
    return "no anomaly and no lint"


class DatasetController(QObject):
    """Opens datasets in the Calls window (one, kept and shown again) and the calls picked there in the
    main window ``window`` (through ``captures``, with ``findings`` to select their problems)."""

    status = Signal(str)
    """A message for the main window's status bar."""
    error = Signal(str)
    """What went wrong, in words (also said in the Calls window)."""

    def __init__(self, captures: CaptureController, findings: FindingsViews, window: QWidget) -> None:
        super().__init__(window)
        self._captures = captures
        self._findings = findings
        self._window = window
        self.tasks = OwnedTasks()
        self._showing: asyncio.Task[bool] | None = None
        #: The Calls window, once a dataset was opened.
        self.view: DatasetWindow | None = None

    def choose_and_open(self) -> None:
        """Ask for a dataset folder, then show its calls."""
        start = str(self.view.path.parent) if self.view is not None and self.view.path else str(Path.home())
        path = QFileDialog.getExistingDirectory(self._window, "Open dataset", start)
        if path:
            self.open(path)

    def open(self, path: str | Path) -> asyncio.Task[bool]:
        """Show the Calls window on the dataset at ``path``: the task says whether it could be read."""
        if self.view is None:
            self.view = DatasetWindow(self._window)
            self.view.status.connect(self.status)
            self.view.error.connect(self.error)
            self.view.callRequested.connect(self.open_call)
        to_front(self.view)
        return self.view.open(path)

    def open_call(self, call: CallRow) -> asyncio.Task[bool]:
        """Open ``call``'s capture in the main window with its problems selected (a call still opening is
        given up): the task says whether it could be shown."""
        if self._showing is not None:
            self._showing.cancel()
        self._showing = self.tasks.spawn(self._show_call(call), "open a call")
        return self._showing

    async def _show_call(self, call: CallRow) -> bool:
        """Show ``call``'s capture (opened unless it is shown already), narrowed to its connection, with its
        problems selected; False, said in words, when the capture is gone or cannot be opened."""
        path = Path(call.capture_path)
        captures = self._captures
        if not path.is_file():
            self._fail(
                f"The capture of this call is not at {path} any more: it was moved or deleted since the "
                "dataset was built. Build the dataset again from where the captures are now."
            )
            return False
        if captures.viewing != path:
            self._say(f"Opening {path.name} in the main window…")
            if not captures.open(path):
                self._fail(f"Cannot open {path}: it is not a capture flushscope can read any more")
                return False
        await captures.wait_opened()
        if captures.viewing != path:
            return False  # something else was opened meanwhile
        if call.conn not in self._findings.analysis.session.connections:
            self._fail(
                f"{path.name} has no connection {call.conn}: the file changed since the dataset was built"
            )
            return False
        done = select_findings(self._findings, call.conn)
        to_front(self._window)
        self._say(f"Showing {path.name}, connection {call.conn}: {done}")
        return True

    def _say(self, text: str) -> None:
        if self.view is not None:
            self.view.say(text)
        else:
            self.status.emit(text)

    def _fail(self, text: str) -> None:
        log.info("%s", text)
        if self.view is not None:
            self.view.report_error(text)
        else:
            self.error.emit(text)

    async def aclose(self) -> None:
        """Stop opening a call and reading a dataset."""
        await self.tasks.aclose()
        if self.view is not None:
            await self.view.aclose()
