"""The inspector's table panels: transcripts, frames (with filters and a raw-frame pane) and anomalies.

Each panel builds its model on the :class:`~flushscope.ui.bridge.SessionBridge` and follows the shared
:class:`~flushscope.ui.bridge.Selection`: picking a row updates the selection, and a selection made
elsewhere (timeline, another table) is shown here, without either side echoing the other back.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QFontDatabase, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from flushscope.core.anomalies import Anomaly
from flushscope.core.frames import Direction
from flushscope.core.session import Context, Segment
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.tables import (
    ANOMALY_ROLE,
    FRAME_INDEX_ROLE,
    SEGMENT_ROLE,
    AnomaliesModel,
    FramesFilterProxy,
    FramesModel,
    SortProxy,
    TranscriptsModel,
    context_label,
    row_ranges,
)

AnyIndex = QModelIndex | QPersistentModelIndex
_ROWS = QItemSelectionModel.SelectionFlag.Rows
_SELECT_ROWS = QItemSelectionModel.SelectionFlag.ClearAndSelect | _ROWS


def _table(
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


def pretty_frame_text(text: str) -> str:
    """A frame's text indented for reading (as is when it is not JSON)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return json.dumps(value, indent=2, ensure_ascii=False)


def segment_of_frame(ctx: Context, frame: int) -> Segment | None:
    """The segment of ``ctx`` a frame belongs to (a chunk, a transcript, its flush or flush_done)."""
    for segment in ctx.segments:
        chunks = segment.chunk_frames
        at = bisect.bisect_left(chunks, frame)
        if at < len(chunks) and chunks[at] == frame:
            return segment
        if frame in (segment.flush_frame, segment.flush_done_frame):
            return segment
        if any(t.frame == frame for t in segment.transcripts):
            return segment
    return None


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
        self.proxy = SortProxy(self)
        self.proxy.setSourceModel(self.model)
        m = TranscriptsModel
        self.view = _table(
            self,
            self.proxy,
            {
                m.CONTEXT: "000 · abcdefgh…",
                m.FLUSH_ID: "flush_id",
                m.TEXT: "a transcript of a few words",
                m.SENT: "0000.000 s",
                m.FIRST_AUDIO: "1st audio",
                m.FLUSH_DONE: "unrequested",
                m.CHUNKS: "chunks",
                m.SECONDS: "audio s",
                m.STATE: "flushing",
                m.PLAY: "■ 100%",
            },
            stretch=m.TEXT,
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.view.horizontalHeader()
        # Unsorted (the order segments appeared) until a header is clicked; a third click returns to it.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorClearable(True)
        self.view.setSortingEnabled(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)

        self.view.selectionModel().selectionChanged.connect(self._on_rows_selected)
        self.view.clicked.connect(self._on_clicked)
        self.view.installEventFilter(self)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._on_context_menu)
        selection.changed.connect(self._show_selection)
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
            self.view.selectionModel().setCurrentIndex(index, _SELECT_ROWS)
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


class FramesPanel(QWidget):
    """Every frame of the session, filterable, with the selected frame's text (audio elided) below."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._selection = selection
        self.model = FramesModel(bridge, self)
        self.proxy = FramesFilterProxy(self.model, self)

        self.context_combo = QComboBox(self)
        self.context_combo.setToolTip("Show the frames of one context")
        self.context_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.flush_spin = QSpinBox(self)
        self.flush_spin.setRange(-1, 2**31 - 1)
        self.flush_spin.setSpecialValueText("all flush_ids")
        self.flush_spin.setPrefix("flush_id ")
        self.flush_spin.setToolTip("Show the frames of one flush_id (sent frames count for their segment)")
        self.type_combo = QComboBox(self)
        self.type_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.direction_combo = QComboBox(self)
        self.direction_combo.addItem("all directions", None)
        for direction, label in (
            (Direction.SEND, "→ send"),
            (Direction.RECV, "← recv"),
            (Direction.META, "• meta"),
        ):
            self.direction_combo.addItem(label, direction.value)
        self.follow_check = QCheckBox("follow", self)
        self.follow_check.setToolTip("Keep the newest frame in view (scrolling up turns this off)")
        self.follow_check.setChecked(True)
        self._reset_filter_widgets()

        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for widget in (self.context_combo, self.flush_spin, self.type_combo, self.direction_combo):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.follow_check)

        m = FramesModel
        self.view = _table(
            self,
            self.proxy,
            {
                m.TIME: "00000.000",
                m.DIRECTION: "direction",
                m.CONNECTION: "conn",
                m.CONTEXT: "000 · abcdefgh…",
                m.TYPE: "phoneme_timestamps",
                m.FLUSH_ID: "flush_id",
                m.SIZE: "0000000",
            },
        )
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

        self.detail_label = QLabel(self)
        self.detail_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the frame's text as shown (audio elided)")
        self.copy_button.setEnabled(False)
        self.detail = QPlainTextEdit(self)
        self.detail.setReadOnly(True)
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail.setPlaceholderText("Select a frame to see its text")
        detail_box = QWidget(self)
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_head = QHBoxLayout()
        detail_head.addWidget(self.detail_label, 1)
        detail_head.addWidget(self.copy_button)
        detail_layout.addLayout(detail_head)
        detail_layout.addWidget(self.detail)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.view)
        splitter.addWidget(detail_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)

        for combo in (self.context_combo, self.type_combo, self.direction_combo):
            combo.currentIndexChanged.connect(self._apply_filter)
        self.flush_spin.valueChanged.connect(self._apply_filter)
        self.follow_check.toggled.connect(self._on_follow_toggled)
        self.copy_button.clicked.connect(self.copy_detail)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.proxy.rowsInserted.connect(self._on_rows_inserted)
        self.view.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.model.typesChanged.connect(self._refresh_types)
        bridge.contextsChanged.connect(self._add_contexts)
        bridge.sessionReplaced.connect(self._on_session_replaced)
        selection.changed.connect(self._show_segment)
        selection.framesHighlighted.connect(self.highlight_frames)

    # --- filters ------------------------------------------------------------------------------------

    def _reset_filter_widgets(self) -> None:
        widgets = (self.context_combo, self.flush_spin, self.type_combo, self.direction_combo)
        for widget in widgets:
            widget.blockSignals(True)
        try:
            self.context_combo.clear()
            self.context_combo.addItem("all contexts", None)
            self._add_contexts()
            self.flush_spin.setValue(-1)
            self.type_combo.clear()
            self.type_combo.addItem("all types", None)
            self._refresh_types()
            self.direction_combo.setCurrentIndex(0)
        finally:
            for widget in widgets:
                widget.blockSignals(False)

    def _add_contexts(self) -> None:
        contexts = self._bridge.session.contexts
        for ctx in contexts[self.context_combo.count() - 1 :]:
            self.context_combo.addItem(context_label(ctx), ctx.number)
            self.context_combo.setItemData(
                self.context_combo.count() - 1, ctx.context_id, Qt.ItemDataRole.ToolTipRole
            )

    def _refresh_types(self) -> None:
        combo = self.type_combo
        current = combo.currentData()
        blocked = combo.blockSignals(True)
        try:
            combo.clear()
            combo.addItem("all types", None)
            for kind in self.model.types():
                combo.addItem(kind, kind)
            combo.setCurrentIndex(max(0, combo.findData(current)) if current is not None else 0)
        finally:
            combo.blockSignals(blocked)
        if current is not None and combo.currentData() != current:
            self._apply_filter()

    def _apply_filter(self) -> None:
        flush_id = self.flush_spin.value()
        kind = self.type_combo.currentData()
        direction = self.direction_combo.currentData()
        self.proxy.set_filter(
            context=self.context_combo.currentData(),
            flush_id=None if flush_id < 0 else flush_id,
            types=None if kind is None else {kind},
            direction=None if direction is None else Direction(direction),
        )

    def clear_filters(self) -> None:
        """Show every frame."""
        self._reset_filter_widgets()
        self._apply_filter()

    def _on_session_replaced(self) -> None:
        self.clear_filters()
        self._show_frame(None)

    # --- following and selecting --------------------------------------------------------------------

    def _on_follow_toggled(self, on: bool) -> None:
        if on:
            self.view.scrollToBottom()

    def _on_scrolled(self, value: int) -> None:
        # Scrolling away from the live end (wheel, scroll bar, keys) means the user wants to stay there.
        if value < self.view.verticalScrollBar().maximum() and self.follow_check.isChecked():
            self.follow_check.setChecked(False)

    def _on_rows_inserted(self) -> None:
        if self.follow_check.isChecked():
            self.view.scrollToBottom()

    def _show_segment(self) -> None:
        segment = self._selection.segment
        if segment is None:
            return
        first = (
            segment.chunk_frames[0]
            if segment.chunk_frames
            else segment.transcripts[0].frame
            if segment.transcripts
            else segment.flush_frame
        )
        if first is not None:
            self._select_frames([first])

    def highlight_frames(self, frames: list[int]) -> None:
        """Select these frames' rows and scroll to the first one; filters that hide it are cleared."""
        count = self.model.rowCount()
        frames = [f for f in frames if 0 <= f < count]
        if not frames:
            return
        if self.proxy.proxy_row(frames[0]) is None:
            self.clear_filters()
        self._select_frames(frames)

    def _select_frames(self, frames: Iterable[int]) -> None:
        rows = [row for row in (self.proxy.proxy_row(f) for f in frames) if row is not None]
        if not rows:
            return
        # Going to a frame is a request to look there: stop following the live end so it stays in view.
        self.follow_check.setChecked(False)
        last_column = self.proxy.columnCount() - 1
        chosen = QItemSelection()
        for top, bottom in row_ranges(rows):
            chosen.select(self.proxy.index(top, 0), self.proxy.index(bottom, last_column))
        model = self.view.selectionModel()
        first = self.proxy.index(rows[0], 0)
        model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
        model.select(chosen, _SELECT_ROWS)
        self.view.scrollTo(first, QAbstractItemView.ScrollHint.PositionAtCenter)

    def selected_frames(self) -> list[int]:
        """Indices of the selected frames, in order."""
        rows = self.view.selectionModel().selectedRows()
        return sorted(int(index.data(FRAME_INDEX_ROLE)) for index in rows)

    # --- detail -------------------------------------------------------------------------------------

    def _on_current_row(self, current: QModelIndex) -> None:
        self._show_frame(int(current.data(FRAME_INDEX_ROLE)) if current.isValid() else None)

    def _show_frame(self, index: int | None) -> None:
        session = self._bridge.session
        if index is None or not 0 <= index < len(session.frames):
            self.detail.clear()
            self.detail_label.clear()
            self.copy_button.setEnabled(False)
            return
        frame = session.frames[index]
        self.detail.setPlainText(pretty_frame_text(session.frame_text(index)))
        self.detail_label.setText(
            f"frame {index} · {frame.dir.value} · {frame.t:.3f} s · connection {frame.conn}"
        )
        self.copy_button.setEnabled(True)

    def copy_detail(self) -> None:
        """Put the shown frame text on the clipboard."""
        QGuiApplication.clipboard().setText(self.detail.toPlainText())


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
        self.view = _table(
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
                segment = segment_of_frame(ctx, anomaly.frames[0])
            if segment is not None:
                self._selection.select_segment(segment)
            else:
                self._selection.select_context(ctx)
        self._selection.highlight_frames(list(anomaly.frames))
