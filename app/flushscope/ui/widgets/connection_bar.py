"""The bar across the top of the window: where to connect, with which key and version, and how it went."""

from __future__ import annotations

import os
from typing import Final, Literal
from urllib.parse import urlsplit

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from flushscope.net.client import CARTESIA_URL, DEFAULT_VERSION
from flushscope.net.live import DEFAULT_PROXY_LISTEN, ConnectionState, ConnectionStatus, TargetKind
from flushscope.net.reach import REMOTE_RISK

#: What the bar offers: a server to connect to, or the proxy that the user's own app connects to.
Choice = TargetKind | Literal["proxy"]

#: The light is the one place with fixed colours: its meaning must not change with the theme.
LIGHT_COLOURS: Final[dict[ConnectionState, str]] = {
    ConnectionState.DISCONNECTED: "#9a9a9a",
    ConnectionState.CONNECTING: "#f0a202",
    ConnectionState.CONNECTED: "#2e9d4f",
    ConnectionState.STALLED: "#e06c00",
    ConnectionState.LISTENING: "#1f8fa0",
    ConnectionState.FAILED: "#d64545",
}

#: States in which a connection is open or opening: the fields are locked and the button disconnects.
BUSY: Final = (
    ConnectionState.CONNECTING,
    ConnectionState.CONNECTED,
    ConnectionState.STALLED,
    ConnectionState.LISTENING,
)

TARGETS: Final[tuple[tuple[Choice, str], ...]] = (
    ("emulator", "Embedded emulator"),
    ("cartesia", "Cartesia"),
    ("custom", "Custom URL"),
    ("proxy", "Proxy for your app"),
)


#: How a sentence names each target.
TARGET_WORDS: Final[dict[str, str]] = {
    "emulator": "the embedded emulator",
    "cartesia": "Cartesia",
    "custom": "a custom URL",
    "proxy": "the proxy for your app",
}


#: Where the proxy forwards: what the upstream choice sends to the live session.
UPSTREAMS: Final = (
    ("cartesia", "to Cartesia"),
    ("emulator", "to the emulator"),
    ("url", "to a URL"),
)

_LIGHT_SIZE: Final = 12
#: What the key field says while empty: whether a key is needed there at all.
_KEY_PLACEHOLDERS: Final[dict[Choice, str]] = {
    "emulator": "not needed",
    "cartesia": "your Cartesia key",
    "custom": "optional",
    "proxy": "optional",
}
_KEY_TIP: Final = (
    "Sent as X-API-Key. CARTESIA_API_KEY fills it in; it is written to disk only in the system's keyring, "
    "when Remember is ticked"
)
_REMEMBER_TIP: Final = "Keep the key in the system's keyring for the next start (never in a file)"


class StatusLight(QLabel):
    """A small round light: grey disconnected, amber connecting, green connected, orange stalled (no answer
    from the server), teal listening (the proxy), red failed."""

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
    """A one-line label that elides its text to fit (at its end unless ``mode`` says otherwise) and shows all
    of it in the tooltip."""

    def __init__(
        self, parent: QWidget | None = None, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight
    ) -> None:
        super().__init__(parent)
        self._full = ""
        self._mode = mode
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
        self.setText(metrics.elidedText(self._full, self._mode, max(0, self.width())))


class ConnectionBar(QWidget):
    """Target, URL, API key, API version, Connect/Disconnect and the status light with the last reason.

    For the proxy target the URL field is where the proxy listens, and an upstream choice says where it
    forwards. The API key field is masked and prefilled from ``CARTESIA_API_KEY``; it is never stored anywhere.
    """

    connectRequested = Signal(str, str, str, str)
    """Connect to (target kind, URL, API key, version); URL and key may be empty."""
    proxyRequested = Signal(str, str, str)
    """Start the proxy: (listen ``HOST:PORT``, upstream ``cartesia``/``emulator``/a URL, API key or "")."""
    disconnectRequested = Signal()
    """Close the connection or stop the proxy, or give up the attempt in progress."""
    targetSwitchRequested = Signal(str)
    """The user picked another target (its kind) while a connection or the proxy runs: the bar goes on
    showing the running one until that stops (see :meth:`set_target`)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._emulator_url = ""
        #: What was typed in the URL field, for the targets where it is typed.
        self._typed: dict[Choice, str] = {"custom": "ws://127.0.0.1:8080", "proxy": DEFAULT_PROXY_LISTEN}
        self._state = ConnectionState.DISCONNECTED
        self._remember_why_not = ""
        #: The target whose connection (or proxy) runs, or runs next.
        self._running: Choice = TARGETS[0][0]

        self.target_combo = QComboBox(self)
        for kind, label in TARGETS:
            self.target_combo.addItem(label, kind)
        self.target_combo.setToolTip(
            "Where to connect: the emulator in this app, Cartesia, or any URL; or a proxy your own app uses"
        )
        # As wide as its longest choice: a target cut short ("Embedded emulato") reads as a typo.
        self.target_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)

        self.url_edit = QLineEdit(self)
        self.url_edit.setMinimumWidth(120)
        self.url_edit.setToolTip("The TTS WebSocket URL; /tts/websocket is added to a bare ws://HOST:PORT")

        self.key_edit = QLineEdit(self)
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("API key")
        self.key_edit.setText(os.environ.get("CARTESIA_API_KEY", ""))
        self.key_edit.setToolTip(_KEY_TIP)
        self.key_edit.setMinimumWidth(90)
        self.remember_check = QCheckBox("Remember", self)
        self.remember_check.setToolTip(_REMEMBER_TIP)

        self.upstream_combo = QComboBox(self)
        for value, label in UPSTREAMS:
            self.upstream_combo.addItem(label, value)
        self.upstream_combo.setToolTip(
            "Where the proxy forwards your app's connections: Cartesia, the emulator embedded in this app, or a URL"
        )
        self.upstream_edit = QLineEdit("ws://127.0.0.1:8080", self)
        self.upstream_edit.setPlaceholderText("ws://HOST:PORT or wss://host/tts/websocket")
        self.upstream_edit.setToolTip("The server the proxy forwards to")
        self.upstream_edit.setMinimumWidth(110)
        self.remote_check = QCheckBox("Allow remote", self)
        self.remote_check.setToolTip(
            f"Needed to listen on an address other machines can reach (0.0.0.0, a LAN address): "
            f"{REMOTE_RISK}. Your key goes only on this machine's connections."
        )

        self.version_label = QLabel("Version", self)
        self.version_edit = QLineEdit(DEFAULT_VERSION, self)
        self.version_edit.setToolTip("The Cartesia-Version header")
        self.version_edit.setMaximumWidth(QFontMetrics(self.font()).horizontalAdvance("0000-00-00") + 24)

        self.connect_button = QPushButton("Connect", self)
        self.connect_button.setDefault(False)
        self.connect_button.setAutoDefault(False)

        self.light = StatusLight(self)
        self.reason_label = ElidedLabel(self)
        self.reason_label.setMinimumWidth(40)

        layout = self._layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(6)
        layout.addWidget(QLabel("Target", self))
        layout.addWidget(self.target_combo)
        layout.addWidget(self.url_edit, 3)
        layout.addWidget(self.upstream_combo)
        layout.addWidget(self.upstream_edit, 2)
        layout.addWidget(self.remote_check)
        layout.addWidget(QLabel("Key", self))
        layout.addWidget(self.key_edit, 1)
        layout.addWidget(self.remember_check)
        layout.addWidget(self.version_label)
        layout.addWidget(self.version_edit)
        layout.addWidget(self.connect_button)
        layout.addSpacing(6)
        layout.addWidget(self.light)
        layout.addWidget(self.reason_label, 2)

        self.target_combo.currentIndexChanged.connect(self._target_changed)
        self.target_combo.activated.connect(self._target_picked)
        self.connect_button.clicked.connect(self._button_clicked)
        self.url_edit.textEdited.connect(self._url_edited)
        self.url_edit.returnPressed.connect(self._request_connect)
        self.key_edit.returnPressed.connect(self._request_connect)
        self.version_edit.returnPressed.connect(self._request_connect)
        self.upstream_edit.returnPressed.connect(self._request_connect)
        self.upstream_combo.currentIndexChanged.connect(self._target_changed)
        self._target_changed()
        self.set_status(ConnectionStatus(ConnectionState.DISCONNECTED))

    # --- what the user chose -------------------------------------------------------------------------

    def target_kind(self) -> Choice:
        kind: Choice = self.target_combo.currentData()
        return kind

    def set_target(self, kind: Choice, url: str | None = None) -> None:
        """Choose a target (and, for ``custom``, its URL; for ``proxy``, where it listens) as if the user
        had."""
        if kind in self._typed and url is not None:
            self._typed[kind] = url
        index = self.target_combo.findData(kind)
        if index < 0:
            raise ValueError(f"unknown target {kind!r}")
        self._running = kind
        if index == self.target_combo.currentIndex():
            self._target_changed()
        self.target_combo.setCurrentIndex(index)

    def show_target(
        self, kind: TargetKind, url: str | None = None, api_key: str | None = None, version: str | None = None
    ) -> None:
        """Show a connection request made elsewhere (the command line, a script): the target, and the key and
        version when given."""
        if self.target_kind() != kind or (kind == "custom" and url and url != self._typed["custom"]):
            self.set_target(kind, url)
        self.show_credentials(api_key, version)

    def show_credentials(self, api_key: str | None = None, version: str | None = None) -> None:
        """Show a key and a version given elsewhere (the command line), where given."""
        if api_key:
            self.key_edit.setText(api_key)
        if version:
            self.version_edit.setText(version)

    def set_upstream(self, upstream: str) -> None:
        """Where the proxy forwards: ``cartesia``, ``emulator`` or a URL, as if the user had chosen it."""
        index = self.upstream_combo.findData(upstream)
        if index < 0:
            self.upstream_edit.setText(upstream)
            index = self.upstream_combo.findData("url")
        self.upstream_combo.setCurrentIndex(index)

    def upstream(self) -> str:
        """Where the proxy forwards: ``cartesia``, ``emulator`` or the URL typed."""
        choice: str = self.upstream_combo.currentData()
        return self.upstream_edit.text().strip() if choice == "url" else choice

    def allow_remote(self) -> bool:
        """Whether the proxy may listen on an address other machines can reach."""
        return self.remote_check.isChecked()

    def set_allow_remote(self, allow: bool) -> None:
        self.remote_check.setChecked(allow)

    def url(self) -> str:
        return self.url_edit.text().strip()

    def typed_url(self, kind: Choice) -> str:
        """What was last typed in the URL field for ``custom`` (the URL) or ``proxy`` (where it listens)."""
        return self._typed.get(kind, "")

    def set_typed_url(self, kind: Choice, text: str) -> None:
        """What the URL field holds for ``custom`` or ``proxy`` (shown when that target is chosen)."""
        if kind in self._typed:
            self._typed[kind] = text.strip()
            if self.target_kind() == kind:
                self._update_url_field(locked=self._state in BUSY)

    def set_remember_available(self, why_not: str) -> None:
        """Whether the key can be remembered; ``why_not`` (a sentence, "" when it can) goes in the box's
        tooltip, and the box is greyed."""
        self._remember_why_not = why_not
        self.remember_check.setToolTip(why_not or _REMEMBER_TIP)
        self._lock_fields()

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
                ConnectionState.LISTENING: f"Listening on {status.url}" if status.url else "Listening",
                ConnectionState.FAILED: "Connection failed",
            }[status.state]
        self.reason_label.set_full_text(text)
        # Another target can be picked while connected: the window asks to disconnect first.
        self.target_combo.setEnabled(status.state is not ConnectionState.CONNECTING)
        if status.state not in BUSY:
            self._running = self.target_kind()
        self._lock_fields()
        self._target_changed()
        if status.state is ConnectionState.LISTENING and status.url:
            # Port 0 was typed: show the port the proxy took, on the host typed (a wildcard stays one).
            host = self.url().rpartition(":")[0]
            port = urlsplit(status.url).port
            self.url_edit.setText(f"{host}:{port}" if host else urlsplit(status.url).netloc)

    def _lock_fields(self) -> None:
        """Fields are locked while a connection or the proxy runs; Remember also where no keyring is."""
        busy = self._state in BUSY
        for widget in (
            self.key_edit,
            self.version_edit,
            self.upstream_combo,
            self.remote_check,
        ):
            widget.setEnabled(not busy)
        self.remember_check.setEnabled(not busy and not self._remember_why_not)

    def show_error(self, message: str) -> None:
        """The reason of the last failure, next to the light (the light itself shows the state)."""
        self.reason_label.set_full_text(message)

    def reason(self) -> str:
        return self.reason_label.full_text()

    # --- internals -----------------------------------------------------------------------------------

    def _target_changed(self) -> None:
        """Show the fields of the target chosen, locked while a connection or the proxy runs."""
        kind = self.target_kind()
        locked = self._state in BUSY
        proxy = kind == "proxy"
        self._update_url_field(locked=locked)
        # What goes is hidden and what stays shrinks before the proxy's fields show: a window that fits the
        # bar either way never has to grow for a moment in between.
        # An app brings its own version; the proxy passes it on.
        self.version_label.setVisible(not proxy)
        self.version_edit.setVisible(not proxy)
        # Where the proxy listens is short, and its key field says more: the room goes to the key.
        self._layout.setStretchFactor(self.url_edit, 1 if proxy else 3)
        self._layout.setStretchFactor(self.key_edit, 2 if proxy else 1)
        self.url_edit.setMinimumWidth(120 if proxy else 220)
        self.key_edit.setMinimumWidth(120 if proxy else 140)
        self.upstream_combo.setVisible(proxy)
        self.remote_check.setVisible(proxy)
        self.upstream_edit.setVisible(proxy and self.upstream_combo.currentData() == "url")
        self.upstream_edit.setReadOnly(locked)
        if proxy:
            self.key_edit.setPlaceholderText("optional: replaces the apps' keys")
            self.key_edit.setToolTip(
                "Optional: replaces the key your app sends, upstream; leave empty to pass your app's key on "
                "(CARTESIA_API_KEY then replaces only a placeholder key such as 'x')."
            )
        else:
            self.key_edit.setPlaceholderText(_KEY_PLACEHOLDERS[kind])
            self.key_edit.setToolTip(_KEY_TIP)
        starting = self._state is ConnectionState.CONNECTING
        if proxy:
            self.connect_button.setText("Cancel" if starting else "Stop proxy" if locked else "Start proxy")
            tip = "Stop the proxy" if locked else "Listen for your app and forward it, recording everything"
        else:
            self.connect_button.setText("Cancel" if starting else "Disconnect" if locked else "Connect")
            tip = "Close the connection" if locked else "Open a WebSocket connection to the target"
        self.connect_button.setToolTip(tip)

    def _target_picked(self, index: int) -> None:
        """The user picked a target: while a connection or the proxy runs, the running one stays shown and
        the window is asked to switch."""
        kind: Choice = self.target_combo.itemData(index)
        if self._state not in BUSY or kind == self._running:
            self._running = kind
            return
        self.target_combo.setCurrentIndex(self.target_combo.findData(self._running))
        self.targetSwitchRequested.emit(kind)

    def _url_edited(self, text: str) -> None:
        kind = self.target_kind()
        if kind in self._typed:
            self._typed[kind] = text.strip()

    def _update_url_field(self, *, locked: bool) -> None:
        kind = self.target_kind()
        typed = kind in self._typed
        self.url_edit.setClearButtonEnabled(typed and not locked)
        if typed:
            self.url_edit.setReadOnly(locked)
            if self.url_edit.text() != self._typed[kind]:
                self.url_edit.setText(self._typed[kind])
            self.url_edit.setPlaceholderText(
                "HOST:PORT your app connects to"
                if kind == "proxy"
                else "ws://HOST:PORT or wss://host/tts/websocket"
            )
            self.url_edit.setToolTip(
                "Where the proxy listens: your app connects to ws://HOST:PORT/tts/websocket (port 0 picks one)"
                if kind == "proxy"
                else "The TTS WebSocket URL; /tts/websocket is added to a bare ws://HOST:PORT"
            )
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
        url = self.url() if kind in self._typed else ""
        if kind in self._typed:
            self._typed[kind] = url
        if kind == "proxy":
            self.proxyRequested.emit(url, self.upstream(), self.api_key())
        else:
            self.connectRequested.emit(kind, url, self.api_key(), self.version())
