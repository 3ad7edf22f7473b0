"""While the recording proxy listens: what to paste into the user's app, and the apps connected so far. It
takes the composer's place (your app is the client)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flushscope.net.proxy_hints import AppSetting, app_settings, remote_note
from flushscope.net.proxy_relay import ProxyConnection, ProxyState
from flushscope.ui.widgets.connection_bar import ElidedLabel

#: What the proxy panel says of the composer's absence.
PROXY_NOTE: Final = (
    "Your app is the client: flushscope records what it sends and hears, and sends nothing for it."
)


def describe_connection(connection: ProxyConnection) -> str:
    """One line on a proxied connection: its number in the session (as its lanes and the connection list
    say it), how it stands, its client and its port."""
    state = connection.state.value
    if connection.state is ProxyState.CLOSED and connection.close_code is not None:
        state = f"closed {connection.close_code}"
    elif connection.state is ProxyState.REFUSED and connection.status is not None:
        state = f"refused {connection.status}"
    port = connection.remote.rpartition(":")[2]
    return f"conn {connection.number} · {state} · {connection.client} :{port}"


class ProxyPanel(QWidget):
    """The proxy's URL and the line each common client takes, each with a Copy button (a line too long for
    the panel is elided in its middle, whole in its tooltip), and the list of connected apps, which takes the
    room left. Hidden while the proxy does not run."""

    copied = Signal(str)
    """A setting was put on the clipboard (which one, in words)."""
    connectionPicked = Signal(int)
    """The user picked an app's connection (its number) in the list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[QLabel, ElidedLabel, QToolButton]] = []
        self._settings: list[AppSetting] = []
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(0)
        self._grid.setColumnStretch(0, 1)
        title = _bold(QLabel("Point your app here", self))
        self.note_label = QLabel(PROXY_NOTE, self)
        self.note_label.setWordWrap(True)
        self.connections = QListWidget(self)
        self.connections.setUniformItemSizes(True)
        self.connections.setToolTip("The apps that connected through the proxy; pick one to see its traffic")
        self.connections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.connections.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.empty_label = QLabel("No app has connected yet.", self)
        self.remote_label = QLabel(self)
        self.remote_label.setWordWrap(True)
        self.remote_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.remote_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.note_label)
        layout.addWidget(self.remote_label)
        layout.addLayout(self._grid)
        layout.addSpacing(4)
        layout.addWidget(_bold(QLabel("Apps", self)))
        layout.addWidget(self.empty_label)
        layout.addWidget(self.connections, 1)
        layout.addStretch(0)
        self.connections.itemActivated.connect(self._picked)
        self.connections.itemClicked.connect(self._picked)
        self.hide()

    def show_proxy(self, url: str, remote_urls: Sequence[str] = ()) -> None:
        """The proxy listens at ``url``: show what to paste. ``remote_urls``, the URLs other machines use,
        add a warning (and the URL for them, when it is another)."""
        settings = app_settings(url, remote_urls)
        self.remote_label.setText(remote_note(remote_urls))
        self.remote_label.setVisible(bool(remote_urls))
        while len(self._rows) < len(settings):
            self._add_row()
        for (label, field, button), setting in zip(self._rows, settings, strict=True):
            label.setText(setting.client)
            field.set_full_text(setting.text)
            button.setToolTip(f"Copy the {setting.client} setting")
            button.setProperty("setting", setting.client)
        self._settings = settings
        self.show()

    def hide_proxy(self) -> None:
        """The proxy stopped."""
        self.hide()

    def setting(self, client: str) -> AppSetting:
        """The setting shown for ``client`` (``URL``, ``Python SDK``, ``Pipecat``, ``LiveKit``)."""
        return next(s for s in self._settings if s.client == client)

    def copy(self, client: str) -> str:
        """Put the setting for ``client`` on the clipboard; returns it."""
        text = self.setting(client).text
        QGuiApplication.clipboard().setText(text)
        self.copied.emit(f"the {client} setting" if client != "URL" else "the proxy's URL")
        return text

    def set_connections(self, connections: list[ProxyConnection]) -> None:
        """Show the apps' connections, newest first."""
        self.connections.clear()
        for connection in reversed(connections):
            item = QListWidgetItem(describe_connection(connection))
            item.setData(Qt.ItemDataRole.UserRole, connection.number)
            item.setToolTip(f"{connection.client} from {connection.remote} to {connection.upstream_url}")
            self.connections.addItem(item)
        self.empty_label.setVisible(not connections)
        self.connections.setVisible(bool(connections))

    def _add_row(self) -> None:
        # Two lines a setting: its name and Copy, then its text across the panel's width.
        row = 2 * len(self._rows)
        label = QLabel(self)
        field = ElidedLabel(self, Qt.TextElideMode.ElideMiddle)
        field.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        field.setContentsMargins(0, 0, 0, 6)
        button = QToolButton(self)
        button.setText("Copy")
        button.clicked.connect(lambda: self.copy(str(button.property("setting"))))
        self._grid.addWidget(label, row, 0)
        self._grid.addWidget(button, row, 1)
        self._grid.addWidget(field, row + 1, 0, 1, 2)
        self._rows.append((label, field, button))

    def _picked(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(number, int):
            self.connectionPicked.emit(number)


def _bold(label: QLabel) -> QLabel:
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label
