"""The analysis windows beside the main one: the strategy comparison, and the diff with another capture.

:class:`AnalysisViews` opens them (one comparison window, kept and shown again; one diff window, replaced
by the next comparison with a capture) and closes what they run when the main window closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.store.line_format import CaptureError
from flushscope.net.live import LiveSession
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.controllers.captures import CAPTURE_FILTER
from flushscope.ui.controllers.playback import PlaybackController
from flushscope.ui.windows.compare import CompareView
from flushscope.ui.windows.diff import DiffView, load_finished, verdict

log = logging.getLogger("flushscope.window")


class AnalysisViews(QObject):
    """Opens the comparison and diff windows of ``window``. ``shown_name`` says what the main window shows
    (a capture's name, or the live session); ``settings`` gives the composer's generation settings."""

    status = Signal(str)
    """A message for the main window's status bar."""

    def __init__(
        self,
        live: LiveSession,
        bridge: SessionBridge,
        selection: Selection,
        playback: PlaybackController,
        settings: Callable[[], GenerationSettings],
        shown_name: Callable[[], str],
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._live = live
        self._bridge = bridge
        self._selection = selection
        self._playback = playback
        self._settings = settings
        self._shown_name = shown_name
        self._window = window
        #: The comparison window, once opened.
        self.compare: CompareView | None = None
        #: The last diff window.
        self.diff: DiffView | None = None

    def open_compare(self) -> CompareView:
        """Show the comparison window (the same one again once opened)."""
        if self.compare is None:
            self.compare = CompareView(self._live, self._settings, self._playback, self._window)
            self.compare.status.connect(self.status)
        self.compare.show_target()
        self.compare.show()
        self.compare.raise_()
        self.compare.activateWindow()
        return self.compare

    def choose_capture_and_diff(self) -> None:
        """Ask for a capture, then show how it differs from the session shown."""
        path, _ = QFileDialog.getOpenFileName(
            self._window, "Compare with a capture", str(Path.home()), CAPTURE_FILTER
        )
        if path:
            self.diff_with(path)

    def diff_with(self, path: str | Path) -> DiffView | None:
        """Show how the capture at ``path`` differs from the session shown; None, with a message box, when
        it is not a usable capture."""
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            other = load_finished(path)
            view = DiffView(
                self._bridge.session,
                self._shown_name(),
                other,
                Path(path).name,
                self._bridge,
                self._selection,
                self._window,
            )
        except CaptureError as exc:
            log.warning("cannot compare with %s: %s", path, exc)
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Cannot compare with the capture", str(exc), parent=self._window
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return None
        finally:
            QApplication.restoreOverrideCursor()
        if self.diff is not None:
            self.diff.close()
            self.diff.deleteLater()
        self.diff = view
        view.status.connect(self.status)
        view.show()
        view.raise_()
        self.status.emit(f"Compared with {Path(path).name}: {verdict(view.diff)}")
        return view

    async def aclose(self) -> None:
        """Stop a comparison still running."""
        if self.compare is not None:
            await self.compare.aclose()
