"""While the recording proxy listens: what to paste into the user's app, and the apps connected so far."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from flushscope.net.proxy_hints import AppSetting, app_settings, remote_note
from flushscope.net.proxy_relay import ProxyConnection, ProxyState


def describe_connection(connection: ProxyConnection) -> str:
    """One line on a proxied connection: its number, how it stands, its client and its port (what a narrow
    list cuts off last is the least telling)."""
    state = connection.state.value
    if connection.state is ProxyState.CLOSED and connection.close_code is not None:
        state = f"closed {connection.close_code}"
    elif connection.state is ProxyState.REFUSED and connection.status is not None:
        state = f"refused {connection.status}"
    port = connection.remote.rpartition(":")[2]
    return f"#{connection.number} · {state} · {connection.client} · :{port}"


class ProxyPanel(QWidget):
    """The proxy's URL and the line each common client takes, each with a Copy button, and the list of
    connected apps. Hidden while the proxy does not run."""

    copied = Signal(str)
    """A setting was put on the clipboard (which one, in words)."""
    connectionPicked = Signal(int)
    """The user picked an app's connection (its number) in the list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._rows: list[tuple[QLabel, QLineEdit, QToolButton]] = []
        self._settings: list[AppSetting] = []
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(4)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        title = QLabel("Point your app here", self)
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        self.connections = QListWidget(self)
        self.connections.setUniformItemSizes(True)
        self.connections.setToolTip("The apps that connected through the proxy; pick one to see its traffic")
        self.connections.setMaximumHeight(110)
        self.connections.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.connections.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.empty_label = QLabel("No app has connected yet.", self)
        self.remote_label = QLabel(self)
        self.remote_label.setWordWrap(True)
        self.remote_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.remote_label.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        layout.setSpacing(4)
        layout.addWidget(title)
        layout.addWidget(self.remote_label)
        layout.addLayout(self._grid)
        layout.addWidget(self.empty_label)
        layout.addWidget(self.connections)
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
            field.setText(setting.text)
            field.setCursorPosition(0)
            field.setToolTip(setting.text)
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
        row = len(self._rows)
        label = QLabel(self)
        field = QLineEdit(self)
        field.setReadOnly(True)
        button = QToolButton(self)
        button.setText("Copy")
        button.clicked.connect(lambda: self.copy(str(button.property("setting"))))
        self._grid.addWidget(label, row, 0)
        self._grid.addWidget(field, row, 1)
        self._grid.addWidget(button, row, 2)
        self._rows.append((label, field, button))

    def _picked(self, item: QListWidgetItem) -> None:
        number = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(number, int):
            self.connectionPicked.emit(number)
