"""The lints table: advice on what the client sent. Picking a row selects the segment (or context) the
advice is about and highlights its frames; what to do is written under the table."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from flushscope.core.analysis.lints import Lint
from flushscope.ui.bridge import Selection
from flushscope.ui.controllers.analysis import AnalysisModel
from flushscope.ui.look.frame_links import frame_links
from flushscope.ui.panels.detail import DetailLabel
from flushscope.ui.panels.row_activation import RowActivation, context_numbered
from flushscope.ui.panels.table_view import sorted_table
from flushscope.ui.tables import ITEM_ROLE, LintsModel


class LintsPanel(QWidget):
    """The lints of the session shown, with the current row's message and advice below (its frame numbers
    are links)."""

    frameLinkActivated = Signal(int)
    """A frame number in the advice was clicked: the frame's index."""

    def __init__(self, analysis: AnalysisModel, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._analysis = analysis
        self._selection = selection
        self.model = LintsModel(analysis, self)
        m = LintsModel
        self.proxy, self.view = sorted_table(
            self,
            self.model,
            {
                m.ID: "punctuation-only-first-input",
                m.CONTEXT: ("00 · abcdefgh…", "00 · abc…"),
                m.FLUSH_ID: "~00",
            },
            stretch=m.MESSAGE,
        )
        self.advice = DetailLabel(self)
        self.advice.frameLinkActivated.connect(self.frameLinkActivated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.advice)
        self._activation = RowActivation(self.view, self._on_activated)
        self.view.selectionModel().currentRowChanged.connect(self._show_advice)
        # Rows come and go with each run of the analysis: the text under the table follows.
        for changed in (self.model.modelReset, self.model.rowsInserted, self.model.rowsRemoved):
            changed.connect(self._show_advice)
        self._show_advice()

    def _on_activated(self, index: QModelIndex) -> None:
        self.go_to(index.data(ITEM_ROLE))

    def _show_advice(self) -> None:
        index = self.view.currentIndex()
        lint: Lint | None = index.data(ITEM_ROLE) if index.isValid() else None
        if lint is None:
            count = self.model.rowCount()
            self.advice.setText(
                "Pick a lint to see what to do about it." if count else "No advice on what was sent."
            )
        else:
            self.advice.setText(frame_links(f"{lint.message}\nWhat to do: {lint.advice}"))

    def go_to(self, lint: Lint) -> None:
        """Select the segment the lint is about (or its context) and highlight the frames involved."""
        ctx = context_numbered(self._analysis.session, lint.context_number, lint.context_id)
        if ctx is not None:
            segment = ctx.segment_for_flush_id(lint.flush_id) if lint.flush_id is not None else None
            if segment is None and lint.frames:
                segment = self._analysis.session.segment_of_frame(ctx, lint.frames[0])
            if segment is not None:
                self._selection.select_segment(segment)
            else:
                self._selection.select_context(ctx)
        self._selection.highlight_frames(list(lint.frames))
