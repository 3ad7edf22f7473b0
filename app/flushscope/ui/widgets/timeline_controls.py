"""The bar above the timeline: which x-axis it uses, Fit and Follow live, and what is shown."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractButton,
    QButtonGroup,
    QCheckBox,
    QHBoxLayout,
    QLabel,
    QRadioButton,
    QToolButton,
    QWidget,
)

from flushscope.ui.timeline import AxisMode, TimelineView
from flushscope.ui.widgets.connection_bar import ElidedLabel


class TimelineControls(QWidget):
    """Arrival time, audio position or time since each context's first send on the x-axis (kept in step
    with the timeline both ways), a button for the ``fit`` action and a check box for the ``follow`` action,
    the ``connections`` chooser, and a label for what the timeline shows."""

    def __init__(
        self,
        timeline: TimelineView,
        fit: QAction,
        follow: QAction,
        connections: QWidget,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._timeline = timeline
        self.arrival_button = QRadioButton("Arrival time", self)
        self.arrival_button.setToolTip("x: when each chunk arrived")
        self.audio_button = QRadioButton("Audio position", self)
        self.audio_button.setToolTip("x: where each chunk sits in its context's audio")
        self.since_button = QRadioButton("Since first send", self)
        self.since_button.setToolTip("x: when each chunk arrived, counted from its context's first send")
        self._buttons = {
            AxisMode.ARRIVAL: self.arrival_button,
            AxisMode.AUDIO: self.audio_button,
            AxisMode.SINCE_SEND: self.since_button,
        }
        self._axis_group = QButtonGroup(self)
        self._axis_group.setExclusive(True)
        self._buttons[timeline.axis_mode()].setChecked(True)
        self.fit_button = _tool_button(fit, self)
        self.follow_check = _check_box(follow, self)
        # A capture's name and target are long: cut to the room left, whole in the tooltip.
        self.view_label = ElidedLabel(self)
        self.view_label.setTextFormat(Qt.TextFormat.PlainText)
        self.view_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 2)
        layout.setSpacing(4)
        layout.addWidget(QLabel("x-axis:", self))
        for button in self._buttons.values():
            self._axis_group.addButton(button)
            layout.addWidget(button)
        layout.addSpacing(12)
        layout.addWidget(self.fit_button)
        layout.addWidget(self.follow_check)
        layout.addSpacing(12)
        layout.addWidget(connections)
        layout.addWidget(self.view_label, 1)

        self._axis_group.buttonToggled.connect(self._axis_toggled)
        timeline.axisModeChanged.connect(self._axis_changed)

    def set_shown(self, text: str) -> None:
        """Say what the timeline shows (empty for the live session)."""
        self.view_label.set_full_text(text)

    def _axis_toggled(self, button: QAbstractButton, checked: bool) -> None:
        if checked:
            mode = next(m for m, b in self._buttons.items() if b is button)
            self._timeline.set_axis_mode(mode)

    def _axis_changed(self, mode: AxisMode) -> None:
        button = self._buttons[mode]
        if not button.isChecked():
            button.setChecked(True)


def _tool_button(action: QAction, parent: QWidget) -> QToolButton:
    button = QToolButton(parent)
    button.setDefaultAction(action)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    return button


def _check_box(action: QAction, parent: QWidget) -> QCheckBox:
    """A check box that shows a checkable action: its text, tooltip, state and whether it is enabled."""
    box = QCheckBox(action.iconText(), parent)
    box.setToolTip(action.toolTip())

    def follow_action() -> None:
        box.setEnabled(action.isEnabled())
        box.setChecked(action.isChecked())

    follow_action()
    action.changed.connect(follow_action)
    action.toggled.connect(box.setChecked)
    box.toggled.connect(action.setChecked)
    return box
