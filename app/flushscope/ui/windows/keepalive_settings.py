"""The connection settings: how a server that stopped answering is noticed (pings, "stalled", given up), and
when a segment's first audio is slow."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from flushscope.core.model.findings import Thresholds
from flushscope.net.keepalive import Keepalive, KeepaliveError
from flushscope.ui.look.wording import sentence


class KeepaliveDialog(QDialog):
    """Three durations in seconds; OK only when they make a valid :class:`Keepalive` (the reason shown
    otherwise). They apply from the next connection on. Below them, the time to first audio over which a
    segment is flagged as slow (``thresholds``'), which applies from now on."""

    def __init__(self, keepalive: Keepalive, thresholds: Thresholds, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connection settings")
        self.interval = _seconds_box(keepalive.interval_s, self)
        self.interval.setToolTip("Time between the answer to a ping and the next ping")
        self.stall_after = _seconds_box(keepalive.stall_after_s, self)
        self.stall_after.setToolTip("Silence after a ping before the connection is shown as stalled")
        self.timeout = _seconds_box(keepalive.timeout_s, self)
        self.timeout.setToolTip("Silence after which the connection is closed as failed")
        self.slow_first_audio = QDoubleSpinBox(self)
        self.slow_first_audio.setRange(10.0, 60000.0)
        self.slow_first_audio.setDecimals(0)
        self.slow_first_audio.setSingleStep(100.0)
        self.slow_first_audio.setSuffix(" ms")
        self.slow_first_audio.setValue(thresholds.slow_first_audio_s * 1000.0)
        self.slow_first_audio.setToolTip(
            "A segment's first audio later than this after its flush (or its first transcript, when the "
            "context does not buffer text) is a warning"
        )
        self._thresholds = thresholds
        self.problem = QLabel(self)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )

        form = QFormLayout()
        form.addRow("Ping every", self.interval)
        form.addRow("Stalled after", self.stall_after)
        form.addRow("Give up after", self.timeout)
        form.addRow("Slow first audio after", self.slow_first_audio)
        note = QLabel(
            "Anything the server sends counts as an answer; pings apply to the next connection. Slow first "
            "audio applies from now on, and to captures opened next.",
            self,
        )
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)

        for box in (self.interval, self.stall_after, self.timeout):
            box.valueChanged.connect(self._check)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self._check()

    def keepalive(self) -> Keepalive:
        """The settings shown; KeepaliveError when they do not fit together."""
        return Keepalive(self.interval.value(), self.stall_after.value(), self.timeout.value())

    def thresholds(self) -> Thresholds:
        """The thresholds given, with the slow first audio shown."""
        return replace(self._thresholds, slow_first_audio_s=self.slow_first_audio.value() / 1000.0)

    def _check(self) -> None:
        problem = ""
        if self.timeout.value() <= self.stall_after.value():
            problem = "Give up after must be longer than Stalled after."
        else:
            try:
                self.keepalive()
            except KeepaliveError as exc:
                problem = sentence(str(exc))
        ok = not problem
        self.problem.setText(problem)
        self.problem.setVisible(not ok)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)


def _seconds_box(value: float, parent: QWidget) -> QDoubleSpinBox:
    box = QDoubleSpinBox(parent)
    box.setRange(0.1, 600.0)
    box.setDecimals(1)
    box.setSingleStep(0.5)
    box.setSuffix(" s")
    box.setValue(value)
    return box
