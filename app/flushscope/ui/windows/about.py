"""About flushscope: its version and licence, the protocol it implements, and where it records captures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Final

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import flushscope

#: The protocol pages the app implements and explains.
PROTOCOL_URL: Final = "https://docs.cartesia.ai/api-reference/tts/websocket"
FLUSHING_URL: Final = "https://docs.cartesia.ai/use-the-api/tts-websocket/context-flushing-and-flush-i-ds"
LICENCE: Final = "MIT"


class AboutDialog(QDialog):
    """The version, licence and protocol links, and the captures folder with a button that opens it
    through ``open_url`` (the desktop's file manager)."""

    def __init__(
        self, captures: Path, open_url: Callable[[QUrl], object], icon: QIcon, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("About flushscope")
        self.captures = captures
        self._open_url = open_url
        logo = QLabel(self)
        logo.setPixmap(icon.pixmap(64, 64))
        logo.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text = QLabel(self)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setOpenExternalLinks(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.text.setText(
            f"<h3>flushscope {flushscope.__version__}</h3>"
            "<p>An inspector for Cartesia TTS WebSocket contexts, manual flushes and flush_id attribution: "
            "which audio chunk belongs to which transcript.</p>"
            f'<p>It implements <a href="{PROTOCOL_URL}">Cartesia\'s TTS WebSocket</a>, with '
            f'<a href="{FLUSHING_URL}">context flushing and flush_ids</a>.</p>'
            f"<p>Licence: {LICENCE}.</p>"
            "<p>Every live session is recorded to a capture file as it happens, in:</p>"
        )
        self.folder_label = QLabel(str(captures), self)
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.folder_label.setWordWrap(True)
        self.open_button = QPushButton("Open captures folder", self)
        self.open_button.clicked.connect(self.open_captures)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)

        body = QVBoxLayout()
        body.addWidget(self.text)
        body.addWidget(self.folder_label)
        body.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        row = QHBoxLayout()
        row.addWidget(logo)
        row.addLayout(body, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.setMinimumWidth(min(480, self.screen().availableGeometry().width()))

    def open_captures(self) -> None:
        """Open the captures folder in the desktop's file manager (it is created first if missing)."""
        self.captures.mkdir(parents=True, exist_ok=True)
        self._open_url(QUrl.fromLocalFile(str(self.captures)))
