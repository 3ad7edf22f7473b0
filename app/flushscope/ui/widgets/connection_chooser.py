"""Narrowing the views to one connection: a list of the session's connections, shown once there are several
(the apps a recording proxy saw, or reconnections)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from flushscope.core.model.records import ConnectionInfo
from flushscope.ui.bridge import SessionBridge


def connection_text(info: ConnectionInfo) -> str:
    """How the list names a connection: its number (as the proxy panel and the lanes say it) and who opened
    it (or where it went)."""
    who = info.label or info.url or "no URL"
    return f"conn {info.number} · {who}"


class ConnectionChooser(QComboBox):
    """ "All connections" or one of them. Follows the session shown (hidden with fewer than two
    connections) and says which one is chosen through :attr:`connectionChosen`."""

    connectionChosen = Signal(object)
    """The connection number to narrow the views to, or None for all of them."""

    def __init__(self, bridge: SessionBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        # None: nothing listed yet, so that the first refresh (of an empty session too) sets the visibility.
        self._listed: list[tuple[int, str]] | None = None
        self.setToolTip("Show the contexts and frames of one connection only")
        # Apps' labels are long: the list opens wide, the box itself stays narrow enough for small screens.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(14)
        self.addItem("All connections", None)
        self.currentIndexChanged.connect(lambda _index: self.connectionChosen.emit(self.chosen()))
        bridge.framesAdded.connect(lambda _first, _last: self.refresh())
        bridge.sessionReplaced.connect(self._session_replaced)
        self.refresh()

    def chosen(self) -> int | None:
        """The connection the views are narrowed to (None: all)."""
        data = self.currentData()
        return data if isinstance(data, int) else None

    def choose(self, number: int | None) -> None:
        """Narrow the views to connection ``number`` (None: all), as if picked in the list."""
        self.refresh()
        index = self.findData(number) if number is not None else 0
        self.setCurrentIndex(max(index, 0))

    def refresh(self) -> None:
        """List the session's connections anew (their labels are known from their first frame on)."""
        connections = self._bridge.session.connections
        listed = [(n, connection_text(info)) for n, info in sorted(connections.items())]
        if listed == self._listed:
            return
        chosen = self.chosen()
        self._listed = listed
        self.blockSignals(True)
        try:
            while self.count() > 1:
                self.removeItem(1)
            for number, text in listed:
                self.addItem(text, number)
            index = self.findData(chosen) if chosen is not None else 0
            self.setCurrentIndex(max(index, 0))
        finally:
            self.blockSignals(False)
        self.setVisible(len(listed) > 1 or chosen is not None)
        if self.chosen() != chosen:
            self.connectionChosen.emit(self.chosen())

    def _session_replaced(self) -> None:
        self._listed = None
        self.blockSignals(True)
        self.setCurrentIndex(0)
        self.blockSignals(False)
        self.refresh()
        self.connectionChosen.emit(None)
