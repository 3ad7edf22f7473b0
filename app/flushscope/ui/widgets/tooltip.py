"""Tooltips for custom-painted widgets, whose text depends on the point under the mouse."""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtGui
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QToolTip, QWidget


def show_tooltip(widget: QWidget, event: QEvent, describe: Callable[[QPoint], str | None]) -> bool:
    """Handle a ToolTip event with ``describe(pos)``; True if ``event`` was one (the caller returns it)."""
    if event.type() != QEvent.Type.ToolTip:
        return False
    help_event: QHelpEvent = event  # type: ignore[assignment]
    text = describe(help_event.pos())
    if text:
        QToolTip.showText(help_event.globalPos(), QtGui.Qt.convertFromPlainText(text), widget)
    else:
        QToolTip.hideText()
        event.ignore()
    return True
