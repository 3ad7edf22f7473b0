"""The waveform strip: the selected segment's audio (or the selected context's) under the timeline.

The audio is drawn as its minimum and maximum per pixel column
(:func:`~flushscope.core.analysis.envelope.measure_envelope`), rasterised into one image with numpy (no Python
loop per column), coloured by flush_id as on the timeline; audio that cannot be read back is said where it
would be drawn. Only the columns (the envelope) are kept, until the audio grew or the width changed; the
strip repaints on the bridge's tick when what it shows changed, never per frame. Word timestamps are ticks
with their words (labels that would overlap the previous one are left out), a playhead marks what is heard,
and a click plays from that point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
from PySide6.QtCore import QEvent, QLineF, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QLabel, QWidget

from flushscope.core.analysis.envelope import Envelope, Target, envelope_key, measure_envelope
from flushscope.core.model.records import Context, Segment, TimedToken
from flushscope.core.store.line_storage import StoreError
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.look.palette import flush_colour, is_dark, warning_colour
from flushscope.ui.tables import context_label
from flushscope.ui.widgets.tooltip import show_tooltip

__all__ = ["WAVE_HEIGHT", "WaveformStrip", "WordMark"]

#: Height of the waveform itself, between the title row and the word row (px).
WAVE_HEIGHT: Final = 60
_MARGIN = 8  # left and right, px
_LABEL_GAP = 6  # least space between two word labels, px
_TIME_SLACK = 0.002  # s


@dataclass(frozen=True)
class WordMark:
    """A word tick: where it is drawn, the word, its start (seconds into what is shown), and whether its
    label is drawn (left out when it would overlap the previous label)."""

    x: float
    text: str
    start: float
    end: float
    labelled: bool


class WaveformStrip(QWidget):
    """The waveform of the selected segment, or of the selected context's whole audio when no segment is
    selected; word ticks, a playhead, and a line of text (:meth:`set_message`) for what blocks playback."""

    playRequested = Signal(object, float)
    """Play the :class:`Segment` or :class:`Context` shown, from this many seconds into it (a click)."""

    def __init__(self, bridge: SessionBridge, selection: Selection, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._selection = selection
        self._dirty = False
        self._envelope: Envelope | None = None
        #: Why the audio shown cannot be drawn (read back from the capture), or "".
        self.audio_problem = ""
        self._image: tuple[tuple[Any, ...], QImage] | None = None
        self._playhead: tuple[Context, float] | None = None
        #: How many times the envelope was computed (it should be rare).
        self.computations = 0
        self.message_label = QLabel(self)
        self.message_label.setTextFormat(Qt.TextFormat.PlainText)
        self.message_label.hide()
        self._message = ""
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setMouseTracking(False)
        self._fit_height()
        selection.selectionChanged.connect(self._on_selection)
        bridge.segmentsChanged.connect(self._on_segments)
        bridge.ticked.connect(self._on_tick)
        bridge.sessionReplaced.connect(self._on_selection)

    # --- what is shown ------------------------------------------------------------------------------

    def target(self) -> Target | None:
        """The selected segment, else the selected context."""
        return self._selection.segment or self._selection.context

    def duration(self) -> float:
        """Seconds of audio shown."""
        target = self.target()
        fmt = target.format if isinstance(target, Context) else target.context.format if target else None
        if target is None or fmt is None:
            return 0.0
        nbytes = target.total_bytes if isinstance(target, Context) else target.nbytes
        return fmt.duration(nbytes)

    def message(self) -> str:
        return self._message

    def set_message(self, text: str) -> None:
        """Show ``text`` at the top right of the strip (a warning, such as why playback cannot work); ""
        hides it."""
        if text == self._message:
            return
        self._message = text
        self.message_label.setToolTip(text)
        self.message_label.setVisible(bool(text))
        self._place_message()

    def playhead(self) -> tuple[Context, float] | None:
        return self._playhead

    def set_playhead(self, context: Context | None, seconds: float | None = None) -> None:
        """Mark ``seconds`` into ``context``'s audio, when that is in the audio shown (None hides it).
        Repaints only when the line moves by a pixel or more."""
        new = None if context is None or seconds is None else (context, seconds)
        if new == self._playhead:
            return
        before = self.playhead_x()
        self._playhead = new
        after = self.playhead_x()
        if before is None and after is None:
            return
        if before is not None and after is not None and round(before) == round(after):
            return
        self.update()

    def playhead_x(self) -> float | None:
        """Where the playhead is drawn, or None when it is not on the audio shown."""
        if self._playhead is None:
            return None
        context, seconds = self._playhead
        target = self.target()
        if target is None:
            return None
        if isinstance(target, Segment):
            if target.context is not context:
                return None
            seconds -= target.start_seconds
        elif target is not context:
            return None
        duration = self.duration()
        if duration <= 0 or not -1e-9 <= seconds <= duration + 1e-9:
            return None
        return self.x_for(seconds)

    # --- geometry -----------------------------------------------------------------------------------

    def _metrics(self) -> tuple[int, int]:
        fm = QFontMetrics(self.font())
        return fm.height() + 6, fm.height() + 4

    def _fit_height(self) -> None:
        header, words = self._metrics()
        self.setFixedHeight(header + WAVE_HEIGHT + words + 4)

    def wave_rect(self) -> QRect:
        """Where the waveform is drawn."""
        header, _words = self._metrics()
        return QRect(_MARGIN, header, max(1, self.width() - 2 * _MARGIN), WAVE_HEIGHT)

    def x_for(self, seconds: float) -> float:
        """Widget x of a time (seconds into what is shown)."""
        rect = self.wave_rect()
        duration = self.duration()
        return rect.left() + (seconds / duration * rect.width() if duration > 0 else 0.0)

    def seconds_at(self, x: float) -> float:
        """The time (seconds into what is shown) at widget x, within the audio."""
        rect = self.wave_rect()
        duration = self.duration()
        return min(max((x - rect.left()) / rect.width(), 0.0), 1.0) * duration

    def sizeHint(self) -> QSize:
        return QSize(800, self.height())

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.height())

    # --- the envelope -------------------------------------------------------------------------------

    def envelope(self) -> Envelope | None:
        """Min/max per pixel column of what is shown, computed again only when the audio grew, the target
        or the width changed."""
        target = self.target()
        if target is None:
            return None
        columns = max(1, round(self.wave_rect().width() * self.devicePixelRatioF()))
        key = envelope_key(target, columns)
        if key is None:
            return None
        if self._envelope is not None and self._envelope.key == key:
            return self._envelope
        try:
            self._envelope = measure_envelope(self._bridge.session.audio, target, columns)
        except StoreError as exc:
            self.audio_problem = f"The audio cannot be read back: {exc}"
            return None
        self.audio_problem = ""
        self.computations += 1
        return self._envelope

    def _wave_image(self, envelope: Envelope) -> QImage:
        """The envelope rasterised with numpy: one column per pixel, coloured by its segment's flush_id."""
        dark = is_dark(self.palette())
        key = (envelope.key, dark)
        if self._image is not None and self._image[0] == key:
            return self._image[1]
        target = self.target()
        ctx = target if isinstance(target, Context) else target.context if target else None
        base = 1 if ctx is None or ctx.base is None else ctx.base
        ordinals = np.unique(envelope.segment)
        table = np.zeros(int(ordinals.max()) + 1 if len(ordinals) else 1, np.uint32)
        for ordinal in ordinals.tolist():
            table[ordinal] = flush_colour(base + ordinal, dark).rgba()
        dpr = self.devicePixelRatioF()
        height = max(1, round(WAVE_HEIGHT * dpr))
        width = len(envelope.mins)
        half = (height - 1) / 2
        tops = np.clip(np.rint(half - np.clip(envelope.maxs, -1, 1) * half), 0, height - 1).astype(np.int64)
        bottoms = np.clip(np.rint(half - np.clip(envelope.mins, -1, 1) * half), 0, height - 1).astype(
            np.int64
        )
        bottoms = np.maximum(bottoms, tops)
        rows = np.arange(height, dtype=np.int64)[:, None]
        inside = (rows >= tops[None, :]) & (rows <= bottoms[None, :])
        pixels = np.where(inside, table[envelope.segment][None, :], np.uint32(0)).astype(np.uint32)
        image = QImage(pixels.tobytes(), width, height, 4 * width, QImage.Format.Format_ARGB32).copy()
        image.setDevicePixelRatio(dpr)
        self._image = (key, image)
        return image

    # --- word ticks ---------------------------------------------------------------------------------

    def word_marks(self) -> list[WordMark]:
        """The word ticks of what is shown, left to right; a label is left out when it would overlap the
        previous label or run past the right edge."""
        target = self.target()
        duration = self.duration()
        if target is None or duration <= 0:
            return []
        words: list[TimedToken]
        if isinstance(target, Segment):
            words = target.words
            shift = target.start_seconds
        else:
            words = [w for s in target.segments for w in s.words]
            shift = 0.0
        fm = QFontMetrics(self.font())
        right_edge = self.wave_rect().right() + _MARGIN
        marks: list[WordMark] = []
        label_end = -1e9
        for word in sorted(words, key=lambda w: w.start):
            # Servers round times (to 0.1 ms or so): a first word may start a hair before its segment.
            start = word.start - shift
            if not -_TIME_SLACK <= start <= duration:
                continue
            start = max(start, 0.0)
            x = self.x_for(start)
            text = word.text.strip()
            width = fm.horizontalAdvance(text)
            labelled = bool(text) and x + 2 >= label_end + _LABEL_GAP and x + 2 + width <= right_edge
            if labelled:
                label_end = x + 2 + width
            marks.append(WordMark(x, text, start, word.end - shift, labelled))
        return marks

    # --- painting -----------------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        pal = self.palette()
        text_colour = pal.color(QPalette.ColorRole.Text)
        faint = pal.color(QPalette.ColorRole.PlaceholderText)
        header, words_h = self._metrics()
        rect = self.wave_rect()
        painter = QPainter(self)
        try:
            painter.fillRect(self.rect(), pal.color(QPalette.ColorRole.Window))
            band = QRect(0, rect.top() - 2, self.width(), rect.height() + words_h + 4)
            painter.fillRect(band, pal.color(QPalette.ColorRole.Base))
            target = self.target()
            painter.setPen(pal.color(QPalette.ColorRole.WindowText))
            title_width = self.width() - 2 * _MARGIN
            if self.message_label.isVisible():
                title_width = self.message_label.x() - _MARGIN - 12
            title = QRect(_MARGIN, 0, max(0, title_width), header)
            painter.drawText(
                title,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                self.fontMetrics().elidedText(
                    self._title(target), Qt.TextElideMode.ElideRight, title.width()
                ),
            )
            envelope = self.envelope() if target is not None else None
            if envelope is None or envelope.seconds <= 0:
                painter.setPen(faint)
                empty = (
                    "Select a transcript or a context to see its waveform"
                    if target is None
                    else self.audio_problem or "No audio yet"
                )
                painter.drawText(band, Qt.AlignmentFlag.AlignCenter, empty)
                return
            painter.setPen(QPen(faint, 1))
            centre = rect.top() + rect.height() // 2
            painter.drawLine(rect.left(), centre, rect.right(), centre)
            painter.drawImage(rect.topLeft(), self._wave_image(envelope))
            self._paint_words(painter, rect, words_h, faint, text_colour)
            x = self.playhead_x()
            if x is not None:
                painter.setPen(QPen(text_colour, 2))
                painter.drawLine(QLineF(x, rect.top() - 2, x, rect.bottom() + words_h + 2))
        finally:
            painter.end()

    def _paint_words(
        self, painter: QPainter, rect: QRect, words_h: int, faint: QColor, text_colour: QColor
    ) -> None:
        marks = self.word_marks()
        if not marks:
            return
        bottom = rect.bottom() + words_h
        base = self.palette().color(QPalette.ColorRole.Base)
        # Opaque and light: a tick crosses the waveform without hiding it.
        tick = QColor.fromRgbF(
            faint.redF() * 0.6 + base.redF() * 0.4,
            faint.greenF() * 0.6 + base.greenF() * 0.4,
            faint.blueF() * 0.6 + base.blueF() * 0.4,
        )
        painter.setPen(QPen(tick, 1))
        painter.drawLines([QLineF(m.x, rect.top(), m.x, bottom) for m in marks])
        painter.setPen(text_colour)
        fm = self.fontMetrics()
        baseline = rect.bottom() + 2 + fm.ascent()
        for mark in marks:
            if mark.labelled:
                painter.drawText(QPoint(round(mark.x) + 2, baseline), mark.text)

    def _title(self, target: Target | None) -> str:
        if target is None:
            return "Waveform"
        seconds = f"{self.duration():.2f} s"
        if isinstance(target, Context):
            return f"Context {context_label(target)} · all segments · {seconds}"
        text = target.text.replace("\n", " ").strip()
        quoted = f" · “{text}”" if text else ""
        return f"Context {context_label(target.context)} · flush_id {target.label} · {seconds}{quoted}"

    def _place_message(self) -> None:
        label = self.message_label
        if not self._message:
            return
        header, _words = self._metrics()
        available = max(40, int(self.width() * 0.6))
        shown = label.fontMetrics().elidedText(self._message, Qt.TextElideMode.ElideRight, available)
        label.setText(shown)
        width = label.fontMetrics().horizontalAdvance(shown) + 4
        label.setGeometry(self.width() - _MARGIN - width, 0, width, header)
        label.setStyleSheet(f"color: {warning_colour(is_dark(self.palette())).name()}")

    # --- updates ------------------------------------------------------------------------------------

    def _on_selection(self) -> None:
        self._dirty = False
        self.update()

    def _on_segments(self, segments: list[Segment]) -> None:
        target = self.target()
        if target is None or self._dirty:
            return
        if isinstance(target, Segment):
            self._dirty = any(s is target for s in segments)
        else:
            self._dirty = any(s.context is target for s in segments)

    def _on_tick(self) -> None:
        if self._dirty:
            self._dirty = False
            self.update()

    def changeEvent(self, event: QEvent) -> None:
        kind = event.type()
        if kind in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self._image = None
            self._place_message()
            self.update()
        elif kind == QEvent.Type.FontChange:
            self._fit_height()
            self._place_message()
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._place_message()
        super().resizeEvent(event)

    # --- input --------------------------------------------------------------------------------------

    def _over_audio(self, point: QPoint) -> bool:
        rect = self.wave_rect()
        _header, words_h = self._metrics()
        return self.duration() > 0 and rect.adjusted(-2, -2, 2, words_h + 2).contains(point)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        point = event.position().toPoint()
        target = self.target()
        if event.button() == Qt.MouseButton.LeftButton and target is not None and self._over_audio(point):
            self.playRequested.emit(target, self.seconds_at(point.x()))
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def event(self, event: QEvent) -> bool:
        if show_tooltip(self, event, self.describe_at):
            return True
        return super().event(event)

    def describe_at(self, point: QPoint) -> str | None:
        """The hover text at a widget point: the time there and the word spoken, if any."""
        if not self._over_audio(point):
            return None
        seconds = self.seconds_at(point.x())
        word = next((m.text for m in self.word_marks() if m.start <= seconds <= m.end), None)
        said = f" · “{word}”" if word else ""
        return f"{seconds:.2f} s{said}\nClick to play from here"
