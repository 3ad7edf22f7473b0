"""The diff window: what changed between the session shown and another capture, segment by segment.

:func:`flushscope.core.analysis.diff.diff_sessions` matches contexts by the order of their first send and segments
by their order in the context; the window lists its changes under a verdict ("Same structure" or "N
differences"), and a click on a change selects its segment (or its context) in the main window's views
when the session shown has it. The session shown is the "before" side: it is the one the views can select
in.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from flushscope.core.analysis.diff import Change, SessionDiff, diff_sessions
from flushscope.core.analysis.report import reported_segments
from flushscope.core.formats.recordings import open_recording
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.wording import plural
from flushscope.ui.panels.row_activation import RowActivation
from flushscope.ui.panels.table_view import sorted_table
from flushscope.ui.tables import ITEM_ROLE, DiffModel
from flushscope.ui.tables.diff import where


def load_finished(path: str | Path) -> Session:
    """A capture (or HAR) file as a finished session, indexed; CaptureError when it is not usable."""
    session = open_recording(path).session
    session.finish()
    return session


def verdict(diff: SessionDiff) -> str:
    """``Same structure``, or how many differences of structure there are."""
    counted = len(diff.counted)
    return "Same structure" if not counted else plural(counted, "difference")


def located(session: Session, change: Change) -> tuple[Context | None, Segment | None]:
    """The context and segment of ``session`` a change is about (contexts by the order of their first send,
    segments as a report lists them); None where the session has no such one."""
    if change.context is None:
        return None, None
    contexts = sorted(session.contexts, key=lambda ctx: (ctx.first_t, ctx.number))
    if not 0 < change.context <= len(contexts):
        return None, None
    ctx = contexts[change.context - 1]
    if change.segment is None:
        return ctx, None
    segments = reported_segments(ctx)
    return ctx, segments[change.segment - 1] if 0 < change.segment <= len(segments) else None


class DiffView(QWidget):
    """The changes from the session shown (``shown``, named ``shown_name``) to ``other``, with the verdict
    on top; picking a change selects what it is about in the main window (through ``selection``) while
    ``bridge`` still shows ``shown``."""

    status = Signal(str)
    """What a click did, or why it could not."""

    def __init__(
        self,
        shown: Session,
        shown_name: str,
        other: Session,
        other_name: str,
        bridge: SessionBridge,
        selection: Selection,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle(f"Differences with {other_name} — flushscope")
        self.shown = shown
        self._bridge = bridge
        self._selection = selection
        self.diff = diff_sessions(shown, other)
        self.verdict_label = QLabel(verdict(self.diff), self)
        font = QFont(self.verdict_label.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.verdict_label.setFont(font)
        uncounted = len(self.diff.changes) - len(self.diff.counted)
        detail = f"Shown: {shown_name}. Other: {other_name}."
        if uncounted:
            detail += f" {plural(uncounted, 'difference')} of timing or volume, listed, not counted."
        self.detail_label = QLabel(detail, self)
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)
        self.detail_label.setWordWrap(True)
        self.model = DiffModel(self)
        self.model.set_diff(self.diff)
        m = DiffModel
        self.proxy, self.view = sorted_table(
            self,
            self.model,
            {
                m.KIND: "anomaly disappeared",
                m.WHERE: "context 00 segment 00",
                m.BEFORE: "a short transcript",
                m.AFTER: "a short transcript",
                m.COUNTED: "timing only",
            },
        )
        self.message_label = QLabel(self)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        layout = QVBoxLayout(self)
        layout.addWidget(self.verdict_label)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message_label)
        self._activation = RowActivation(self.view, self._on_activated)

    def _on_activated(self, index: QModelIndex) -> None:
        self.go_to(index.data(ITEM_ROLE))

    def go_to(self, change: Change) -> None:
        """Select the segment (or context) the change is about, where the session shown has it."""
        if self._bridge.session is not self.shown:
            self._say("The main window shows another session now: compare again to go to this change")
            return
        ctx, segment = located(self.shown, change)
        if segment is not None:
            self._selection.select_segment(segment)
            self._say(f"Selected {where(change)}")
        elif ctx is not None:
            self._selection.select_context(ctx)
            missing = " (that segment is only in the other capture)" if change.segment is not None else ""
            self._say(f"Selected context {change.context}{missing}")
        else:
            self._say(f"{where(change).capitalize()} is only in the other capture")

    def _say(self, text: str) -> None:
        self.message_label.setText(text)
        self.status.emit(text)
