"""The anomalies table: picking a row selects the anomaly's segment and highlights its frames."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QVBoxLayout,
    QWidget,
)

from flushscope.core.model.anomalies import Anomaly
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.panels.row_activation import RowActivation
from flushscope.ui.panels.table_view import sorted_table
from flushscope.ui.tables import (
    ANOMALY_ROLE,
    AnomaliesModel,
)


class AnomaliesPanel(QWidget):
    """The anomalies table; picking a row selects the anomaly's segment and highlights its frames."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._selection = selection
        self.model = AnomaliesModel(bridge, self)
        m = AnomaliesModel
        self.proxy, self.view = sorted_table(
            self,
            self.model,
            {
                m.SEVERITY: "WW warning",
                m.KIND: "chunk after flush done",
                m.CONTEXT: "000 · abcdefgh…",
                m.FLUSH_ID: "flush_id",
                m.COUNT: "count",
            },
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self._activation = RowActivation(self.view, lambda index: self.go_to(index.data(ANOMALY_ROLE)))

    def go_to(self, anomaly: Anomaly) -> None:
        """Select the anomaly's segment (or its context) and highlight the frames involved."""
        session = self._bridge.session
        contexts = session.contexts
        number = anomaly.context_number
        ctx = contexts[number - 1] if number is not None and 0 < number <= len(contexts) else None
        if ctx is not None:
            segment = None
            if anomaly.flush_id is not None:
                segment = ctx.segment_for_flush_id(anomaly.flush_id)
            if segment is None and anomaly.frames:
                segment = session.segment_of_frame(ctx, anomaly.frames[0])
            if segment is not None:
                self._selection.select_segment(segment)
            else:
                self._selection.select_context(ctx)
        self._selection.highlight_frames(list(anomaly.frames))
