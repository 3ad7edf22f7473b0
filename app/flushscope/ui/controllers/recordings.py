"""The captures folder seen from the window: Preferences (the folder's size cap) and pinning a recording so
that the cap never removes it. The rule itself is Qt-free (:mod:`flushscope.core.store.capture_folder`)."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from flushscope.core.store.capture_folder import RetentionError, StoredCapture, size_words
from flushscope.net.live import LiveSession
from flushscope.ui.windows.preferences import PreferencesDialog

log = logging.getLogger("flushscope.window")


class RecordingsController(QObject):
    """Opens Preferences on the live session's captures folder and applies the cap chosen there; pins and
    unpins the capture shown. Knows which recordings are pinned without reading the folder on every call."""

    status = Signal(str)
    """A message for the status bar."""
    pinsChanged = Signal()
    """A recording was pinned or unpinned (or the pins were read again)."""

    def __init__(self, live: LiveSession, window: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._live = live
        self._window = window
        self._pinned: frozenset[str] | None = None

    @property
    def folder(self) -> Path:
        return self._live.capture_folder.path

    def pinned(self, capture: Path | None) -> bool | None:
        """Whether ``capture`` is pinned; None when it cannot be (none, or not in the captures folder)."""
        if capture is None or capture.parent != self.folder:
            return None
        if self._pinned is None:
            try:
                self._pinned = self._live.capture_folder.retention().pinned
            except RetentionError:
                self._pinned = frozenset()
        return capture.name in self._pinned

    def set_pinned(self, capture: Path | None, pinned: bool) -> bool:
        """Pin ``capture`` (or unpin it); False, said through :attr:`status`, when it cannot be."""
        if capture is None:
            return False
        try:
            self._live.capture_folder.set_pinned(capture, pinned)
        except RetentionError as exc:
            self.status.emit(f"Cannot pin {capture.name}: {exc}")
            return False
        finally:
            self._pinned = None
            self.pinsChanged.emit()
        said = "kept whatever the cap" if pinned else "removed by the cap in its turn"
        self.status.emit(f"{'Pinned' if pinned else 'Unpinned'} {capture.name}: it is {said}")
        return True

    def open_preferences(self) -> PreferencesDialog:
        """Show Preferences; OK applies the cap chosen at once."""
        folder = self._live.capture_folder
        problem = ""
        cap = 0
        captures: list[StoredCapture] = []
        try:
            retention = folder.retention()
            cap = retention.cap
            captures = folder.captures(retention.pinned)
        except RetentionError as exc:
            problem = f"{exc}. Fix or remove the file to change the cap; until then no recording is removed."
        dialog = PreferencesDialog(str(folder.path), captures, cap, problem, self._window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(lambda: self.set_cap(dialog.cap_bytes()))
        dialog.open()
        return dialog

    def set_cap(self, cap: int) -> str:
        """Keep the captures folder under ``cap`` bytes (0: no cap) from now on, applied at once; what came
        of it, in words (also through :attr:`status`)."""
        try:
            self._live.capture_folder.set_cap(cap)
        except RetentionError as exc:
            words = str(exc)
        else:
            done = self._live.prune_captures()
            limit = f"kept under {size_words(cap)}" if cap else "not capped"
            words = f"Recordings are {limit}" + (f"; {done}" if done else "")
        self.status.emit(words)
        return words
