"""The anomalies table: picking a row selects the anomaly's segment and highlights its frames."""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QVBoxLayout,
    QWidget,
)

from flushscope.core.anomalies import Anomaly
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.panels.table_view import make_table
from flushscope.ui.tables import (
    ANOMALY_ROLE,
    AnomaliesModel,
    SortProxy,
)


class AnomaliesPanel(QWidget):
    """The anomalies table; picking a row selects the anomaly's segment and highlights its frames."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._selection = selection
        self._pressing = False
        self.model = AnomaliesModel(bridge, self)
        self.proxy = SortProxy(self)
        self.proxy.setSourceModel(self.model)
        m = AnomaliesModel
        self.view = make_table(
            self,
            self.proxy,
            {
                m.SEVERITY: "WW warning",
                m.KIND: "chunk after flush done",
                m.CONTEXT: "000 · abcdefgh…",
                m.FLUSH_ID: "flush_id",
                m.COUNT: "count",
            },
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.view.horizontalHeader()
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorClearable(True)
        self.view.setSortingEnabled(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self.view.viewport().installEventFilter(self)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.view.clicked.connect(self._on_clicked)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A mouse click both moves the current row (on press) and clicks (on release): act once, on the
        # click, so that clicking the current row again also goes to it.
        if watched is self.view.viewport():
            if event.type() == QEvent.Type.MouseButtonPress:
                self._pressing = True
            elif event.type() == QEvent.Type.MouseButtonRelease:
                self._pressing = False
        return super().eventFilter(watched, event)

    def _on_current_row(self, current: QModelIndex) -> None:
        if current.isValid() and not self._pressing:
            self.go_to(current.data(ANOMALY_ROLE))

    def _on_clicked(self, index: QModelIndex) -> None:
        self.go_to(index.data(ANOMALY_ROLE))

    def go_to(self, anomaly: Anomaly) -> None:
        """Select the anomaly's segment (or its context) and highlight the frames involved."""
        contexts = self._bridge.session.contexts
        number = anomaly.context_number
        ctx = contexts[number - 1] if number is not None and 0 < number <= len(contexts) else None
        if ctx is not None:
            segment = None
            if anomaly.flush_id is not None:
                segment = ctx.segment_for_flush_id(anomaly.flush_id)
            if segment is None and anomaly.frames:
                segment = ctx.segment_of_frame(anomaly.frames[0])
            if segment is not None:
                self._selection.select_segment(segment)
            else:
                self._selection.select_context(ctx)
        self._selection.highlight_frames(list(anomaly.frames))
