"""The boundaries table: the figures of every flush boundary. Picking a row selects the segment after the
boundary and highlights the two frames it lies between."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtWidgets import QVBoxLayout, QWidget

from flushscope.core.analysis.boundaries import Boundary
from flushscope.ui.bridge import Selection
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.panels.row_activation import RowActivation, context_numbered, segment_numbered
from flushscope.ui.panels.table_view import sorted_table
from flushscope.ui.tables import ITEM_ROLE, BoundariesModel


class BoundariesPanel(QWidget):
    """The flush boundaries of the session shown; each row's figures in words in its tooltip."""

    def __init__(self, analysis: AnalysisModel, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._analysis = analysis
        self._selection = selection
        self.model = BoundariesModel(analysis, self)
        m = BoundariesModel
        self.proxy, self.view = sorted_table(
            self,
            self.model,
            {
                m.OUTLIER: "WW outlier",
                m.CONTEXT: ("00 · abcdefgh…", "00 · abc…"),
                m.FLUSH_IDS: "~00 → ~00",
                m.TRAILING: "0000 ms",
                m.LEADING: "0000 ms",
                m.GAP: "0000 ms",
                m.STEP: "+00.0 dB",
                m.LAST_WORD: "inside · a word",
            },
            stretch=m.FLAGS,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self._activation = RowActivation(self.view, self._on_activated)

    def _on_activated(self, index: QModelIndex) -> None:
        self.go_to(index.data(ITEM_ROLE))

    def go_to(self, boundary: Boundary) -> None:
        """Select the segment after the boundary and highlight the last chunk before it and the first
        after it."""
        ctx = context_numbered(self._analysis.session, boundary.context_number, boundary.context_id)
        segment = segment_numbered(ctx, boundary.to_ordinal) if ctx is not None else None
        if segment is not None:
            self._selection.select_segment(segment)
        self._selection.highlight_frames(list(boundary.frames))
