"""Captures in the window: open a capture file read-only (menu, dialog or drag and drop), go back to the
live session, save the capture shown under another name."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from flushscope.core.capture import CaptureError, read_capture
from flushscope.core.session import Session, rebuild
from flushscope.net.live import CAPTURE_SUFFIX
from flushscope.ui.live_controller import LiveController
from flushscope.ui.wording import MESSAGE_MS

log = logging.getLogger("flushscope.window")

CAPTURE_FILTER: Final = f"flushscope captures (*{CAPTURE_SUFFIX} *.jsonl);;All files (*)"


class CaptureFiles(LiveController):
    """The window's part that shows capture files instead of the live session, and saves them."""

    def load_capture(self, path: str | Path) -> Session:
        """Show a capture file read-only (the live session goes on behind it). Raises CaptureError and
        leaves the current view untouched if the file is not a usable capture."""
        loaded = read_capture(path)
        session = rebuild(loaded.frames)
        # The recording is over: whatever it still awaited will never come.
        session.finish()
        self.loaded = loaded
        self.viewing = Path(path)
        self.selection.clear()
        self.bridge.set_session(session)
        self.status.clock = None
        self.composer.set_read_only(True)
        self.follow_check.setEnabled(False)  # a recording does not grow
        self.follow_action.setEnabled(False)
        self._refresh_contexts()
        self.live_action.setEnabled(True)
        name = self.viewing.name
        self.status.set_connection(f"Capture · {name} (read-only)")
        self.view_label.setText(f"Capture {name} · {loaded.header.target or 'unknown target'}")
        self.setWindowTitle(f"{name} — flushscope")
        self.timeline.fit_all()
        if loaded.warnings:
            self.status.showMessage(f"{name}: " + "; ".join(loaded.warnings), MESSAGE_MS * 2)
        else:
            self.status.showMessage(f"Opened {name}: {len(loaded.frames):,} frames", MESSAGE_MS)
        self.captureOpened.emit(str(path))
        return session

    def open_capture(self, path: str | Path) -> bool:
        """:meth:`load_capture`, with a message box instead of CaptureError."""
        try:
            self.load_capture(path)
        except CaptureError as exc:
            log.warning("%s", exc)
            box = QMessageBox(QMessageBox.Icon.Warning, "Cannot open the capture", str(exc), parent=self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return False
        return True

    def show_live(self) -> None:
        """Show the live session again after a capture."""
        if self.viewing is None:
            self.live_action.setEnabled(False)
            return
        self.viewing = None
        self.loaded = None
        self.selection.clear()
        self.bridge.set_session(self.live.session)
        self.status.clock = self.live.now
        self.composer.set_read_only(False)
        self.follow_check.setEnabled(True)
        self.follow_action.setEnabled(True)
        self.live_action.setEnabled(False)
        self.view_label.setText("")
        self.setWindowTitle("flushscope")
        self._show_connection_text()
        self._refresh_contexts()
        self.liveShown.emit()

    def save_capture_as(self, path: str | Path) -> bool:
        """Copy the capture shown (the live recording, or the file opened) to ``path``."""
        source = self.viewing or self.live.capture_path
        if source is None:
            self.status.showMessage("Nothing recorded yet: connect first", MESSAGE_MS)
            return False
        try:
            if Path(path).resolve() != Path(source).resolve():
                shutil.copyfile(source, path)
        except OSError as exc:
            self.status.showMessage(f"Cannot save the capture to {path}: {exc.strerror or exc}", MESSAGE_MS)
            return False
        self.status.showMessage(f"Saved the capture to {path}", MESSAGE_MS)
        return True

    def _choose_capture(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open capture", self._capture_dir(), CAPTURE_FILTER)
        if path:
            self.open_capture(path)

    def _choose_save_path(self) -> None:
        source = self.viewing or self.live.capture_path
        suggested = str(Path(self._capture_dir()) / (source.name if source else f"capture{CAPTURE_SUFFIX}"))
        path, _ = QFileDialog.getSaveFileName(self, "Save capture as", suggested, CAPTURE_FILTER)
        if path:
            self.save_capture_as(path)

    def _capture_dir(self) -> str:
        current = self.live.capture_path
        return str(current.parent) if current is not None else str(Path.home())

    # --- drag and drop -----------------------------------------------------------------------------

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if dropped_file(event) is not None:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        path = dropped_file(event)
        if path is None:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_capture(path)


def dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
    mime = event.mimeData()
    if not mime.hasUrls():
        return None
    urls = [url for url in mime.urls() if url.isLocalFile()]
    if len(urls) != 1:
        return None
    return Path(urls[0].toLocalFile())
