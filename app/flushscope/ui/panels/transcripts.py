"""The transcripts table: one row per segment, sortable, following the shared selection."""

from __future__ import annotations

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QVBoxLayout,
    QWidget,
)

from flushscope.core.model.records import Segment
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.panels.table_view import SELECT_ROWS, AnyIndex, sorted_table
from flushscope.ui.tables import (
    SEGMENT_ROLE,
    TranscriptsModel,
)


class TranscriptsPanel(QWidget):
    """The transcripts table: one row per segment, sortable, following the shared selection."""

    playRequested = Signal(object)
    """Play (or stop, when it is the one playing) this :class:`Segment`'s audio: its Play cell was clicked,
    or Enter pressed on its row. Only emitted for segments with audio."""
    segmentContextMenuRequested = Signal(object, QPoint)
    """Right click on a row: its :class:`Segment` and the global position for a menu."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._selection = selection
        self._syncing = False
        self.model = TranscriptsModel(bridge, self)
        m = TranscriptsModel
        self.proxy, self.view = sorted_table(
            self,
            self.model,
            {
                m.CONTEXT: ("00 · abcdefgh…", "00 · abc…"),
                m.FLUSH_ID: "~00",
                m.TEXT: "a transcript",
                m.SENT: "000.000 s",
                m.FIRST_AUDIO: "0000 ms",
                m.FLUSH_DONE: ("unrequested", "0000 ms"),
                m.CHUNKS: "0000",
                m.SECONDS: "00.00",
                m.STATE: "flushing",
                m.PLAY: "■ 100%",
            },
            stretch=m.TEXT,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self.view.selectionModel().selectionChanged.connect(self._on_rows_selected)
        self.view.clicked.connect(self._on_clicked)
        self.view.installEventFilter(self)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        selection.selectionChanged.connect(self._show_selection)
        self.model.rowsInserted.connect(self._show_selection)
        self.model.modelReset.connect(self._show_selection)
        self._show_selection()

    def selected_segment(self) -> Segment | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        segment: Segment | None = rows[0].data(SEGMENT_ROLE)
        return segment

    def _on_rows_selected(self) -> None:
        if self._syncing:
            return
        segment = self.selected_segment()
        if segment is not None:
            self._selection.select_segment(segment)

    def _show_selection(self) -> None:
        segment = self._selection.segment
        if segment is self.selected_segment():
            return
        row = self.model.row_for_segment(segment)
        self._syncing = True
        try:
            if row is None:
                self.view.clearSelection()
                return
            index = self.proxy.mapFromSource(self.model.index(row, 0))
            self.view.selectionModel().setCurrentIndex(index, SELECT_ROWS)
            self.view.scrollTo(index)
        finally:
            self._syncing = False

    def _request_play(self, index: AnyIndex) -> None:
        segment: Segment | None = index.data(SEGMENT_ROLE) if index.isValid() else None
        if segment is not None and segment.nbytes:
            self.playRequested.emit(segment)

    def _on_clicked(self, index: QModelIndex) -> None:
        if index.column() == TranscriptsModel.PLAY:
            self._request_play(index)

    def _on_context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        segment: Segment | None = index.data(SEGMENT_ROLE) if index.isValid() else None
        if segment is not None:
            self._selection.select_segment(segment)
            self.segmentContextMenuRequested.emit(segment, self.view.viewport().mapToGlobal(pos))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.view
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._request_play(self.view.currentIndex())
            return True
        return super().eventFilter(watched, event)
