"""Help > How flushing works: contexts, ``continue``, manual flushes, flush_id numbering and ``flush_done``,
in the app's own words, with a diagram drawn in the palette's colours (so it reads in light and dark)."""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from flushscope.ui.look.palette import flush_colour, is_dark, text_on

EXPLANATION: Final = """
<p><b>A context</b> is one <code>context_id</code> on the connection: one voice and one set of settings,
and its inputs joined in the order they were sent. Several contexts can share one connection; their
frames interleave, and each carries its <code>context_id</code>.</p>
<p><b>continue</b>: every input but the last says <code>"continue": true</code> (more text will follow).
The last one says <code>"continue": false</code>, often with an empty transcript: the service speaks what
is left, then sends <code>done</code> and forgets the context.</p>
<p><b>flush</b>: an input with <code>"flush": true</code> (and an empty transcript) asks the service to
speak everything sent since the previous flush now, as one <b>segment</b>. The audio of a segment comes
in <b>chunks</b>, each marked with the segment's <b>flush_id</b>: 1 for the first segment, 2 for the next,
and so on, as the documentation says. Older servers and SDKs count from 0; flushscope learns the base from
the first flush_id a context sees.</p>
<p><b>flush_done</b>: once a segment's last chunk is sent, the service sends <code>flush_done</code> with
its flush_id: the segment is complete. That is where one transcript's audio ends, and what flushscope's
Play cell plays on its own.</p>
<p>In the timeline each chunk is a block coloured by its flush_id; the markers above show what was sent
(transcripts, flushes, the end) and what closed it (<code>flush_done</code>, <code>done</code>); the bar
under a segment runs from its text being ready to its first audio, then to its flush_done.</p>
"""

# The diagram: what the client sends (label, x as a fraction of the width, kind) and the segments of
# audio the server sends back (flush_id, start, end) and their flush_done.
_SENT: Final = (
    ("“Hello ”", 0.02, "text"),
    ("“there.”", 0.12, "text"),
    ("flush", 0.22, "flush"),
    ("“How are ”", 0.30, "text"),
    ("“you?”", 0.40, "text"),
    ("flush", 0.50, "flush"),
    ("continue: false", 0.60, "end"),
)
_AUDIO: Final = ((1, 0.26, 0.52), (2, 0.55, 0.86))
_DONE_AT: Final = 0.92


class FlushingDiagram(QWidget):
    """One context over time: the inputs the client sends above, the chunks the service sends below,
    coloured by flush_id, with flush_done after each segment and done at the end."""

    def sizeHint(self) -> QSize:
        return QSize(560, 170)

    def minimumSizeHint(self) -> QSize:
        return QSize(380, 170)

    def paintEvent(self, event: QPaintEvent) -> None:
        palette = self.palette()
        dark = is_dark(palette)
        text = palette.color(QPalette.ColorRole.WindowText)
        faint = palette.color(QPalette.ColorRole.PlaceholderText)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        fm = painter.fontMetrics()
        names = ("client sends", "service sends")
        left, right = max(fm.horizontalAdvance(name) for name in names) + 20, self.width() - 12
        span = right - left

        def x(fraction: float) -> float:
            return left + fraction * span

        sent_y, audio_y, band = 52, 118, 24
        painter.setPen(faint)
        painter.drawText(QRect(8, sent_y - 30, left - 8, 20), Qt.AlignmentFlag.AlignLeft, names[0])
        painter.drawText(QRect(8, audio_y - 10, left - 8, 20), Qt.AlignmentFlag.AlignLeft, names[1])
        painter.drawLine(left, sent_y, right, sent_y)
        painter.drawLine(left, audio_y + band + 6, right, audio_y + band + 6)
        painter.drawText(QRect(right - 60, audio_y + band + 8, 60, 18), Qt.AlignmentFlag.AlignRight, "time →")
        last_right, raised = -1.0, False
        for label, at, kind in _SENT:
            px = x(at)
            painter.setPen(QPen(text, 2 if kind != "text" else 1))
            if kind == "text":
                painter.setBrush(text)
                painter.drawPolygon(
                    QPolygonF([QPointF(px - 4, sent_y - 8), QPointF(px + 4, sent_y - 8), QPointF(px, sent_y)])
                )
            else:
                painter.drawLine(QPointF(px, sent_y - 12), QPointF(px, sent_y + 2))
            painter.setPen(text if kind == "text" else faint)
            top = sent_y + 4
            if kind == "text":
                # A transcript that would run into the one before it goes a line higher.
                raised = px - 4 < last_right and not raised
                top = sent_y - (44 if raised else 28)
                last_right = px - 4 + fm.horizontalAdvance(label)
            painter.drawText(QRectF(px - 4, top, fm.horizontalAdvance(label) + 8, 18), label)
        for flush_id, start, end in _AUDIO:
            colour = flush_colour(flush_id, dark)
            chunks = 5
            width = (x(end) - x(start)) / chunks
            for i in range(chunks):
                cell = QRectF(x(start) + i * width, audio_y, width - 2, band)
                painter.fillRect(cell, colour)
            painter.setPen(text_on(colour))
            painter.drawText(
                QRectF(x(start) + 4, audio_y, 70, band), Qt.AlignmentFlag.AlignVCenter, f"flush_id {flush_id}"
            )
            painter.setPen(QPen(text, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            done_x = x(end) + 6
            painter.drawEllipse(QPointF(done_x, audio_y - 6), 4, 4)
            painter.setPen(text)
            painter.drawText(QRectF(done_x - 30, audio_y - 30, 90, 16), f"flush_done {flush_id}")
        painter.setPen(text)
        painter.setBrush(text)
        painter.drawRect(QRectF(x(_DONE_AT) - 4, audio_y + band / 2 - 4, 8, 8))
        painter.drawText(QRectF(x(_DONE_AT) + 8, audio_y, 50, band), Qt.AlignmentFlag.AlignVCenter, "done")
        painter.end()


class FlushingHelp(QDialog):
    """How flushing works: the diagram over the explanation."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("How flushing works — flushscope")
        self.diagram = FlushingDiagram(self)
        self.text = QLabel(EXPLANATION, self)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        body = QWidget(self)
        body_layout = QVBoxLayout(body)
        body_layout.addWidget(self.diagram)
        body_layout.addWidget(self.text)
        body_layout.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroll)
        layout.addWidget(buttons)
        available = self.screen().availableGeometry()
        self.resize(min(640, available.width() - 40), min(660, available.height() - 60))
