"""The window's help and where its files are: Help > Keyboard shortcuts, How flushing works and About, and
File > Show captures folder.

Each dialog opens window-modal over the main window and deletes itself once closed. Folders and links open
through :attr:`WindowHelp.open_url`, the desktop's by default (tests put a recorder there).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDialog, QWidget

from flushscope.ui.actions import ActionSet
from flushscope.ui.windows.about import AboutDialog
from flushscope.ui.windows.flushing_help import FlushingHelp
from flushscope.ui.windows.shortcuts import ShortcutsDialog

D = TypeVar("D", bound=QDialog)


class WindowHelp(QObject):
    """Opens the help dialogs of ``window`` (the shortcuts listed from ``actions``) and the folder
    ``captures`` where live sessions are recorded."""

    status = Signal(str)
    """A message for the status bar."""

    def __init__(self, actions: ActionSet, captures: Path, window: QWidget) -> None:
        super().__init__(window)
        self._actions = actions
        self._window = window
        #: Where live sessions are recorded.
        self.captures = captures
        #: What opens a folder or a link on the desktop.
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl

    def show_shortcuts(self) -> ShortcutsDialog:
        """Help > Keyboard shortcuts: every shortcut, from the actions themselves."""
        return self._opened(ShortcutsDialog(self._actions.shortcuts(), self._window))

    def show_flushing_help(self) -> FlushingHelp:
        """Help > How flushing works."""
        return self._opened(FlushingHelp(self._window))

    def show_about(self) -> AboutDialog:
        """Help > About: the version, the licence, the protocol and the captures folder."""
        about = AboutDialog(self.captures, self._open_url, self._window.windowIcon(), self._window)
        return self._opened(about)

    def show_captures_folder(self) -> None:
        """Open the folder the live session records to in the desktop's file manager."""
        self.captures.mkdir(parents=True, exist_ok=True)
        self._open_url(QUrl.fromLocalFile(str(self.captures)))

    def _open_url(self, url: QUrl) -> bool:
        # Looked up at each call, so that the dialogs open through the current :attr:`open_url`.
        opened = bool(self.open_url(url))
        if not opened:
            self.status.emit(f"The desktop could not open {url.toLocalFile() or url.toDisplayString()}")
        return opened

    def _opened(self, dialog: D) -> D:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog
