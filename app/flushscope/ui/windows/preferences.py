"""Preferences: where live sessions are recorded, how much that folder holds, and its size cap."""

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

from flushscope.core.store.capture_folder import RECENT_S, StoredCapture, size_words

GIB = 1024**3


def folder_words(captures: list[StoredCapture]) -> str:
    """What the captures folder holds, in a line."""
    if not captures:
        return "No recordings yet"
    count = len(captures)
    pinned = sum(1 for c in captures if c.pinned)
    total = size_words(sum(c.size for c in captures))
    return f"{count} recording{'s' if count != 1 else ''}, {total}" + (
        f" ({pinned} pinned)" if pinned else ""
    )


class PreferencesDialog(QDialog):
    """The captures folder (its path and what it holds) and the cap on its size, in GiB (0: no cap). What
    the folder holds and its cap are read before the dialog opens; ``problem``, when the folder's retention
    file cannot be read, is said instead and the cap cannot be changed."""

    def __init__(
        self,
        folder: str,
        captures: list[StoredCapture],
        cap: int,
        problem: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.folder_label = QLabel(folder, self)
        self.folder_label.setTextFormat(Qt.TextFormat.PlainText)
        self.folder_label.setWordWrap(True)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.size_label = QLabel(folder_words(captures), self)
        self.cap = QDoubleSpinBox(self)
        self.cap.setRange(0.0, 100_000.0)
        self.cap.setDecimals(1)
        self.cap.setSingleStep(0.5)
        self.cap.setSuffix(" GiB")
        self.cap.setSpecialValueText("no cap")
        self.cap.setValue(cap / GIB)
        self.cap.setToolTip("The most the recordings in the folder may add up to; 0 is no cap")
        self.cap.setEnabled(not problem)
        self.problem = QLabel(problem, self)
        self.problem.setTextFormat(Qt.TextFormat.PlainText)
        self.problem.setWordWrap(True)
        self.problem.setVisible(bool(problem))
        note = QLabel(
            "When a live session starts, and when the cap changes, the oldest recordings are removed until "
            "the rest fit. Never removed: the one being recorded, pinned ones (File > Pin this capture), and "
            f"any written in the last {RECENT_S / 60:g} minutes (another window may be recording into it). "
            "Other files in the folder are left alone.",
            self,
        )
        note.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, parent=self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problem)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.addRow("Recordings go to", self.folder_label)
        form.addRow("It holds", self.size_label)
        form.addRow("Keep at most", self.cap)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.problem)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def cap_bytes(self) -> int:
        """The cap chosen, in bytes (0: no cap)."""
        return round(self.cap.value() * GIB)
