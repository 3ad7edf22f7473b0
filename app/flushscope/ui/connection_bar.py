"""The bar across the top of the window: where to connect, with which key and version, and how it went."""

from __future__ import annotations

import os
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from flushscope.net.client import CARTESIA_URL, DEFAULT_VERSION
from flushscope.net.live import ConnectionState, ConnectionStatus, TargetKind

#: The light is the one place with fixed colours: its meaning must not change with the theme.
LIGHT_COLOURS: Final[dict[ConnectionState, str]] = {
    ConnectionState.DISCONNECTED: "#9a9a9a",
    ConnectionState.CONNECTING: "#f0a202",
    ConnectionState.CONNECTED: "#2e9d4f",
    ConnectionState.STALLED: "#e06c00",
    ConnectionState.FAILED: "#d64545",
}

#: States in which a connection is open or opening: the fields are locked and the button disconnects.
BUSY: Final = (ConnectionState.CONNECTING, ConnectionState.CONNECTED, ConnectionState.STALLED)

TARGETS: Final[tuple[tuple[TargetKind, str], ...]] = (
    ("emulator", "Embedded emulator"),
    ("cartesia", "Cartesia"),
    ("custom", "Custom URL"),
)

_LIGHT_SIZE: Final = 12


class StatusLight(QLabel):
    """A small round light: grey disconnected, amber connecting, green connected, orange stalled (no answer
    from the server), red failed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFixedSize(_LIGHT_SIZE, _LIGHT_SIZE)
        self.state = ConnectionState.DISCONNECTED
        self.set_state(ConnectionState.DISCONNECTED)

    def set_state(self, state: ConnectionState) -> None:
        self.state = state
        colour = LIGHT_COLOURS[state]
        self.setStyleSheet(
            f"background-color: {colour}; border-radius: {_LIGHT_SIZE // 2}px; border: 1px solid rgba(0,0,0,60);"
        )
        self.setAccessibleName(f"connection {state.value}")
        self.setToolTip(f"Connection: {state.value}")


class ElidedLabel(QLabel):
    """A one-line label that elides its text to fit and shows all of it in the tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(80)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self.setToolTip(text)
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        metrics = QFontMetrics(self.font())
        self.setText(metrics.elidedText(self._full, Qt.TextElideMode.ElideRight, max(0, self.width())))


class ConnectionBar(QWidget):
    """Target, URL, API key, API version, Connect/Disconnect and the status light with the last reason.

    The API key field is masked and prefilled from ``CARTESIA_API_KEY``; it is never stored anywhere.
    """

    connectRequested = Signal(str, str, str, str)
    """Connect to (target kind, URL, API key, version); URL and key may be empty."""
    disconnectRequested = Signal()
    """Close the connection, or give up the attempt in progress."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._emulator_url = ""
        self._custom_url = "ws://127.0.0.1:8080"
        self._state = ConnectionState.DISCONNECTED

        self.target_combo = QComboBox(self)
        for kind, label in TARGETS:
            self.target_combo.addItem(label, kind)
        self.target_combo.setToolTip("Where to connect: the emulator in this app, Cartesia, or any URL")

        self.url_edit = QLineEdit(self)
        self.url_edit.setMinimumWidth(220)
        self.url_edit.setToolTip("The TTS WebSocket URL; /tts/websocket is added to a bare ws://HOST:PORT")

        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("API key")
        self.key_edit.setText(os.environ.get("CARTESIA_API_KEY", ""))
        self.key_edit.setToolTip("Sent as X-API-Key; never saved (CARTESIA_API_KEY fills it in)")
        self.key_edit.setMinimumWidth(140)

        self.version_edit = QLineEdit(DEFAULT_VERSION, self)
        self.version_edit.setToolTip("The Cartesia-Version header")
        self.version_edit.setMaximumWidth(QFontMetrics(self.font()).horizontalAdvance("0000-00-00") + 24)

        self.connect_button = QPushButton("Connect", self)
        self.connect_button.setDefault(False)
        self.connect_button.setAutoDefault(False)

        self.light = StatusLight(self)
        self.reason_label = ElidedLabel(self)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(QLabel("Target", self))
        layout.addWidget(self.target_combo)
        layout.addWidget(self.url_edit, 3)
        layout.addWidget(QLabel("Key", self))
        layout.addWidget(self.key_edit, 1)
        layout.addWidget(QLabel("Version", self))
        layout.addWidget(self.version_edit)
        layout.addWidget(self.connect_button)
        layout.addSpacing(6)
        layout.addWidget(self.light)
        layout.addWidget(self.reason_label, 2)

        self.target_combo.currentIndexChanged.connect(self._target_changed)
        self.connect_button.clicked.connect(self._button_clicked)
        self.url_edit.textEdited.connect(self._url_edited)
        self.url_edit.returnPressed.connect(self._request_connect)
        self.key_edit.returnPressed.connect(self._request_connect)
        self.version_edit.returnPressed.connect(self._request_connect)
        self._target_changed()
        self.set_status(ConnectionStatus(ConnectionState.DISCONNECTED))

    # --- what the user chose -------------------------------------------------------------------------

    def target_kind(self) -> TargetKind:
        kind: TargetKind = self.target_combo.currentData()
        return kind

    def set_target(self, kind: TargetKind, url: str | None = None) -> None:
        """Choose a target (and, for ``custom``, its URL) as if the user had."""
        if kind == "custom" and url is not None:
            self._custom_url = url
        index = self.target_combo.findData(kind)
        if index < 0:
            raise ValueError(f"unknown target {kind!r}")
        if index == self.target_combo.currentIndex():
            self._target_changed()
        self.target_combo.setCurrentIndex(index)

    def show_target(
        self, kind: TargetKind, url: str | None = None, api_key: str | None = None, version: str | None = None
    ) -> None:
        """Show a connection request made elsewhere (the command line, a script): the target, and the key and
        version when given."""
        if self.target_kind() != kind or (kind == "custom" and url and url != self._custom_url):
            self.set_target(kind, url)
        if api_key:
            self.key_edit.setText(api_key)
        if version:
            self.version_edit.setText(version)

    def url(self) -> str:
        return self.url_edit.text().strip()

    def api_key(self) -> str:
        return self.key_edit.text().strip()

    def version(self) -> str:
        return self.version_edit.text().strip() or DEFAULT_VERSION

    def set_emulator_url(self, url: str | None) -> None:
        """Show where the embedded emulator listens (once it runs)."""
        self._emulator_url = url or ""
        if self.target_kind() == "emulator":
            self._show_fixed_url()

    # --- state ---------------------------------------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        return self._state

    def set_status(self, status: ConnectionStatus) -> None:
        """Show a connection state and its reason; the controls follow (fields locked while connected)."""
        self._state = status.state
        self.light.set_state(status.state)
        text = status.reason
        if not text:
            text = {
                ConnectionState.DISCONNECTED: "Not connected",
                ConnectionState.CONNECTING: f"Connecting to {status.url}" if status.url else "Connecting…",
                ConnectionState.CONNECTED: f"Connected to {status.url}" if status.url else "Connected",
                ConnectionState.STALLED: "The server does not answer",
                ConnectionState.FAILED: "Connection failed",
            }[status.state]
        self.reason_label.set_full_text(text)
        busy = status.state in BUSY
        self.connect_button.setText(
            "Cancel" if status.state is ConnectionState.CONNECTING else "Disconnect" if busy else "Connect"
        )
        self.connect_button.setToolTip(
            "Close the connection" if busy else "Open a WebSocket connection to the target"
        )
        for widget in (self.target_combo, self.key_edit, self.version_edit):
            widget.setEnabled(not busy)
        self._update_url_field(locked=busy)

    def show_error(self, message: str) -> None:
        """The reason of the last failure, next to the light (the light itself shows the state)."""
        self.reason_label.set_full_text(message)

    def reason(self) -> str:
        return self.reason_label.full_text()

    # --- internals -----------------------------------------------------------------------------------

    def _target_changed(self) -> None:
        self._update_url_field(locked=self._state in BUSY)
        kind = self.target_kind()
        self.key_edit.setPlaceholderText("not needed" if kind == "emulator" else "API key")

    def _url_edited(self, text: str) -> None:
        if self.target_kind() == "custom":
            self._custom_url = text.strip()

    def _update_url_field(self, *, locked: bool) -> None:
        kind = self.target_kind()
        self.url_edit.setClearButtonEnabled(kind == "custom" and not locked)
        if kind == "custom":
            self.url_edit.setReadOnly(locked)
            if self.url_edit.text() != self._custom_url:
                self.url_edit.setText(self._custom_url)
            self.url_edit.setPlaceholderText("ws://HOST:PORT or wss://host/tts/websocket")
        else:
            self.url_edit.setReadOnly(True)
            self._show_fixed_url()

    def _show_fixed_url(self) -> None:
        kind = self.target_kind()
        if kind == "emulator":
            text = self._emulator_url + "/tts/websocket" if self._emulator_url else ""
            self.url_edit.setPlaceholderText("starts on a free local port when you connect")
        else:
            text = CARTESIA_URL
        self.url_edit.setText(text)

    def _button_clicked(self) -> None:
        if self._state in BUSY:
            self.disconnectRequested.emit()
        else:
            self._request_connect()

    def _request_connect(self) -> None:
        if self._state in BUSY:
            return
        kind = self.target_kind()
        url = self.url() if kind == "custom" else ""
        if kind == "custom":
            self._custom_url = url
        self.connectRequested.emit(kind, url, self.api_key(), self.version())
