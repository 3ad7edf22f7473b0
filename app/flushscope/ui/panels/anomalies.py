"""The anomalies table: picking a row selects the anomaly's segment and highlights its frames; the current
row's sentence is written under the table, its frame numbers as links."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QVBoxLayout,
    QWidget,
)

from flushscope.core.model.anomalies import Anomaly
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.frame_links import frame_links
from flushscope.ui.panels.detail import DetailLabel
from flushscope.ui.panels.row_activation import RowActivation
from flushscope.ui.panels.table_view import sorted_table
from flushscope.ui.tables import (
    ANOMALY_ROLE,
    AnomaliesModel,
)


class AnomaliesPanel(QWidget):
    """The anomalies table; picking a row selects the anomaly's segment and highlights its frames."""

    frameLinkActivated = Signal(int)
    """A frame number in the sentence under the table was clicked: the frame's index."""

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
                m.CONTEXT: ("00 · abcdefgh…", "00 · abc…"),
                m.FLUSH_ID: "~00",
                m.COUNT: "0000",
            },
            stretch=m.MESSAGE,
        )
        self.detail = DetailLabel(self)
        self.detail.frameLinkActivated.connect(self.frameLinkActivated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.detail)

        self._activation = RowActivation(self.view, lambda index: self.go_to(index.data(ANOMALY_ROLE)))
        self.view.selectionModel().currentRowChanged.connect(self._show_detail)
        for changed in (self.model.modelReset, self.model.rowsInserted, self.model.rowsRemoved):
            changed.connect(self._show_detail)
        self._show_detail()

    def _show_detail(self) -> None:
        index = self.view.currentIndex()
        anomaly: Anomaly | None = index.data(ANOMALY_ROLE) if index.isValid() else None
        if anomaly is None:
            count = self.model.rowCount()
            self.detail.setText("Pick an anomaly to read it in full." if count else "No anomalies.")
            return
        frames = list(anomaly.frames[:20])
        cited = f"\nframes {', '.join(map(str, frames))}{' …' if len(anomaly.frames) > 20 else ''}"
        self.detail.setText(frame_links(anomaly.message + (cited if frames else "")))

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
