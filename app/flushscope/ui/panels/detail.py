"""The text under a findings table: the current row in words, its frame numbers links to the Frames tab."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel, QWidget

from flushscope.ui.look.frame_links import frame_of_link


class DetailLabel(QLabel):
    """Rich text from :func:`~flushscope.ui.look.frame_links.frame_links`, wrapped and selectable; a click
    on a frame number (or Enter on it, reached with Tab) says which frame."""

    frameLinkActivated = Signal(int)
    """A frame number was clicked: the frame's index."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.setContentsMargins(6, 4, 6, 4)
        self.linkActivated.connect(self._activated)

    def plain_text(self) -> str:
        """The text as it reads, without its markup."""
        document = QTextDocument()
        document.setHtml(self.text())
        return document.toPlainText()

    def _activated(self, link: str) -> None:
        frame = frame_of_link(link)
        if frame is not None:
            self.frameLinkActivated.emit(frame)
