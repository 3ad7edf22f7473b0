"""The output device picker: a menu of the devices PortAudio lists, the one in use checked."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from flushscope.ui.controllers.playback import PlaybackController
from flushscope.ui.look.wording import sentence


class OutputDeviceMenu(QMenu):
    """The output devices to pick from, the default first, the one in use checked. The list and whether
    playback can work are asked again each time the menu opens (devices come and go)."""

    deviceChosen = Signal(str)
    """A device was picked (its name); when it cannot be used, :attr:`PlaybackController.reason` says why."""

    def __init__(self, title: str, playback: PlaybackController, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._playback = playback
        self.setToolTipsVisible(True)
        self.aboutToShow.connect(self.refresh)

    def refresh(self) -> None:
        """List the devices now (also done each time the menu opens)."""
        self.clear()
        playback = self._playback
        available, reason = playback.check_availability()
        devices = playback.devices()
        group = QActionGroup(self)
        group.setExclusive(True)
        for device in devices:
            label = device.name.replace("&", "&&") + (" (default)" if device.is_default else "")
            action = self.addAction(label)
            action.setCheckable(True)
            group.addAction(action)
            # The default entry follows the system's default, whichever device that becomes.
            index = None if device.is_default else device.index
            action.setChecked(playback.device == index or playback.device == device.index)
            action.triggered.connect(lambda _checked=False, i=index, name=device.name: self._choose(i, name))
        if not devices:
            self.addAction("No output device found").setEnabled(False)
        if not available:
            self.addSeparator()
            note = self.addAction(sentence(reason))
            note.setEnabled(False)

    def _choose(self, index: int | None, name: str) -> None:
        self._playback.choose_device(index, name)
        self.deviceChosen.emit(name)
