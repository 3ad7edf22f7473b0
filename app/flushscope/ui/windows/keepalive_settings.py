"""The connection settings: how a server that stopped answering is noticed (pings, "stalled", given up)."""

from __future__ import annotations

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

from flushscope.net.keepalive import Keepalive, KeepaliveError
from flushscope.ui.look.wording import sentence


class KeepaliveDialog(QDialog):
    """Three durations in seconds; OK only when they make a valid :class:`Keepalive` (the reason shown
    otherwise). They apply from the next connection on."""

    def __init__(self, keepalive: Keepalive, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Connection settings")
        self.interval = _seconds_box(keepalive.interval_s, self)
        self.interval.setToolTip("Time between the answer to a ping and the next ping")
        self.stall_after = _seconds_box(keepalive.stall_after_s, self)
        self.stall_after.setToolTip("Silence after a ping before the connection is shown as stalled")
        self.timeout = _seconds_box(keepalive.timeout_s, self)
        self.timeout.setToolTip("Silence after which the connection is closed as failed")
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
        note = QLabel("Anything the server sends counts as an answer. Applies to the next connection.", self)
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
