"""Capture files in the window: open one read-only (menu, dialog, command line or drag and drop; a HAR file
exported from a browser opens the same way), go back to the live session, save the capture shown under
another name.

The live session goes on recording behind a capture that is shown; :attr:`CaptureController.viewing` says
which of the two the views show.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Final

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from flushscope.core.capture import CaptureError, LoadedCapture
from flushscope.core.formats import (
    RecordingFormat,
    detect_format,
    format_for_name,
    read_recording,
    write_recording,
)
from flushscope.core.session import Session, rebuild
from flushscope.net.live import CAPTURE_SUFFIX, LiveSession
from flushscope.ui.bridge import Selection, SessionBridge

#: Saving: a capture, or a HAR file for browser tools and other people's viewers.
SAVE_FILTER: Final = f"flushscope capture (*{CAPTURE_SUFFIX});;HAR file (*.har)"

log = logging.getLogger("flushscope.window")

CAPTURE_FILTER: Final = (
    f"Captures and HAR files (*{CAPTURE_SUFFIX} *.jsonl *.har);;flushscope captures (*{CAPTURE_SUFFIX} *.jsonl);;"
    "HAR files (*.har);;All files (*)"
)


class CaptureController(QObject):
    """Shows a capture file instead of the live session, and saves captures. File dialogs and message
    boxes belong to ``window``, which also takes dropped files through this controller."""

    status = Signal(str)
    """A message for the status bar."""
    shownChanged = Signal()
    """A capture is now shown, or the live session again (:attr:`viewing`)."""
    captureOpened = Signal(str)
    """A capture file is shown (read-only), by path."""
    liveShown = Signal()
    """The live session is shown again (after a capture)."""

    def __init__(
        self, live: LiveSession, bridge: SessionBridge, selection: Selection, window: QWidget
    ) -> None:
        super().__init__(window)
        self._live = live
        self._bridge = bridge
        self._selection = selection
        self._window = window
        #: The capture file shown read-only, or None while the live session is shown.
        self.viewing: Path | None = None
        #: What was read from it.
        self.loaded: LoadedCapture | None = None
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    @property
    def shown_capture(self) -> Path | None:
        """The capture file of what is shown: the one opened, or the live recording."""
        return self.viewing or self._live.capture_path

    def load(self, path: str | Path) -> Session:
        """Show a capture file read-only (the live session goes on behind it). Raises CaptureError and
        leaves the current view untouched if the file is not a usable capture."""
        loaded = read_recording(path)
        session = rebuild(loaded.frames)
        # The recording is over: whatever it still awaited will never come.
        session.finish()
        self.loaded = loaded
        self.viewing = Path(path)
        self._selection.clear()
        self._bridge.set_session(session)
        name = self.viewing.name
        if loaded.warnings:
            self.status.emit(f"{name}: " + "; ".join(loaded.warnings))
        else:
            self.status.emit(f"Opened {name}: {len(loaded.frames):,} frames")
        self.shownChanged.emit()
        self.captureOpened.emit(str(path))
        return session

    def open(self, path: str | Path) -> bool:
        """:meth:`load`, with a message box instead of CaptureError."""
        try:
            self.load(path)
        except CaptureError as exc:
            log.warning("%s", exc)
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Cannot open the capture", str(exc), parent=self._window
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return False
        return True

    def show_live(self) -> None:
        """Show the live session again after a capture."""
        if self.viewing is None:
            return
        self.viewing = None
        self.loaded = None
        self._selection.clear()
        self._bridge.set_session(self._live.session)
        self.shownChanged.emit()
        self.liveShown.emit()

    def save_as(self, path: str | Path) -> bool:
        """Copy the capture shown (the live recording, or the file opened) to ``path``; a name ending in
        ``.har`` gets a HAR file, any other a capture, converted when the shown file is the other kind."""
        source = self.shown_capture
        if source is None:
            self.status.emit("Nothing recorded yet: connect first")
            return False
        wanted = format_for_name(path) or RecordingFormat.CAPTURE
        try:
            if detect_format(source) is not wanted:
                write_recording(read_recording(source), path, wanted, overwrite=True)
            elif Path(path).resolve() != source.resolve():
                shutil.copyfile(source, path)
        except CaptureError as exc:
            self.status.emit(f"Cannot save the capture to {path}: {exc}")
            return False
        except OSError as exc:
            self.status.emit(f"Cannot save the capture to {path}: {exc.strerror or exc}")
            return False
        self.status.emit(f"Saved the {'HAR file' if wanted is RecordingFormat.HAR else 'capture'} to {path}")
        return True

    def choose_and_open(self) -> None:
        """Ask for a capture file, then show it."""
        path, _ = QFileDialog.getOpenFileName(self._window, "Open capture", self._folder(), CAPTURE_FILTER)
        if path:
            self.open(path)

    def choose_and_save(self) -> None:
        """Ask where to save the capture shown, then save it there."""
        source = self.shown_capture
        suggested = str(Path(self._folder()) / (source.name if source else f"capture{CAPTURE_SUFFIX}"))
        path, _ = QFileDialog.getSaveFileName(self._window, "Save capture as", suggested, SAVE_FILTER)
        if path:
            self.save_as(path)

    def _folder(self) -> str:
        current = self._live.capture_path
        return str(current.parent) if current is not None else str(Path.home())

    # --- drag and drop onto the window -------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # QDragEnterEvent derives from QDropEvent: tell them apart by type, not by class.
        kind = event.type()
        if watched is self._window and kind in (QEvent.Type.DragEnter, QEvent.Type.Drop):
            assert isinstance(event, QDropEvent)
            path = dropped_file(event)
            if path is None:
                event.ignore()
                return True
            event.acceptProposedAction()
            if kind == QEvent.Type.Drop:
                self.open(path)
            return True
        return super().eventFilter(watched, event)


def dropped_file(event: QDropEvent) -> Path | None:
    """The one local file being dragged or dropped, if that is what it is."""
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    urls = [url for url in mime.urls() if url.isLocalFile()]
    if len(urls) != 1:
        return None
    return Path(urls[0].toLocalFile())
