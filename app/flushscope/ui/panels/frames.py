"""The frames table: every frame, filterable, with the selected frame's text (audio elided) below."""

from __future__ import annotations

import json
from collections.abc import Iterable

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    Qt,
)
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from flushscope.core.frames import Direction
from flushscope.core.store.line_storage import StoreError
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.panels.table_view import SELECT_ROWS, make_table
from flushscope.ui.tables import (
    FRAME_INDEX_ROLE,
    FramesFilterProxy,
    FramesModel,
    context_label,
    row_ranges,
)


def pretty_frame_text(text: str) -> str:
    """A frame's text indented for reading (as is when it is not JSON)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    return json.dumps(value, indent=2, ensure_ascii=False)


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
        self.view = make_table(
            self,
            self.proxy,
            {
                m.TIME: "0000.000",
                m.DIRECTION: "→ send",
                m.CONNECTION: "00",
                m.CONTEXT: "00 · abcdefgh…",
                m.TYPE: "phoneme_timestamps",
                m.FLUSH_ID: "~00",
                m.SIZE: "000000",
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

        # The frame's text beside the table: a pretty-printed frame is tall and narrow, and a short window
        # keeps rows of the table in view.
        self.splitter = splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("frames")
        splitter.addWidget(self.view)
        splitter.addWidget(detail_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        detail_box.setMinimumWidth(160)
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
        selection.selectionChanged.connect(self._show_segment)
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
            segment.first_chunk_frame
            if segment.first_chunk_frame is not None
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
        model.select(chosen, SELECT_ROWS)
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
        frames = session.frames
        self.detail_label.setText(
            f"frame {index} · {frames.direction(index).value} · {frames.time(index):.3f} s · "
            f"connection {frames.conn(index)}"
        )
        try:
            # Read back from the capture: the session keeps where each frame is, not its text.
            self.detail.setPlainText(pretty_frame_text(session.frame_text(index)))
        except StoreError as exc:
            self.detail.setPlainText(f"This frame cannot be read back from the capture: {exc}")
            self.copy_button.setEnabled(False)
            return
        self.copy_button.setEnabled(True)

    def copy_detail(self) -> None:
        """Put the shown frame text on the clipboard."""
        QGuiApplication.clipboard().setText(self.detail.toPlainText())
