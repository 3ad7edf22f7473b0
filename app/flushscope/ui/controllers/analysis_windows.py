"""The analysis windows beside the main one: the strategy comparison, and the diff with another capture.

:class:`AnalysisViews` opens them (one comparison window, kept and shown again; one diff window, replaced
by the next comparison with a capture) where they were last time, or sized to the screen, and closes what
they run when the main window closes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget

from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.store.line_format import CaptureError
from flushscope.net.live import LiveSession
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.controllers.captures import CAPTURE_FILTER
from flushscope.ui.controllers.playback import PlaybackController
from flushscope.ui.preferences.geometry import remember_window, show_placed
from flushscope.ui.preferences.store import Preferences
from flushscope.ui.windows.compare import CompareView
from flushscope.ui.windows.diff import DiffView, load_finished, verdict

log = logging.getLogger("flushscope.window")

#: Each window's name in the settings, and its size the first time on a screen large enough for it.
PLACES = {"compare": QSize(1180, 820), "diff": QSize(1000, 560)}


class AnalysisViews(QObject):
    """Opens the comparison and diff windows of ``window``, placed as ``preferences`` remember them.
    ``shown_name`` says what the main window shows (a capture's name, or the live session); ``settings``
    gives the composer's generation settings."""

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
        preferences: Preferences,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self._preferences = preferences
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
            self.compare.installEventFilter(self)
        self.compare.show_target()
        if not self.compare.isVisible():
            show_placed(self.compare, self._preferences, "compare", PLACES["compare"])
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
        view.installEventFilter(self)
        show_placed(view, self._preferences, "diff", PLACES["diff"])
        view.raise_()
        self.status.emit(f"Compared with {Path(path).name}: {verdict(view.diff)}")
        return view

    def remember(self) -> None:
        """Keep where the analysis windows shown now are."""
        for name, view in (("compare", self.compare), ("diff", self.diff)):
            if view is not None and view.isVisible():
                remember_window(view, self._preferences, name)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # A window closed keeps its place for the next time it opens.
        if event.type() == QEvent.Type.Close and isinstance(watched, QWidget):
            name = "compare" if watched is self.compare else "diff" if watched is self.diff else None
            if name is not None:
                remember_window(watched, self._preferences, name)
        return super().eventFilter(watched, event)

    async def aclose(self) -> None:
        """Stop a comparison still running."""
        if self.compare is not None:
            await self.compare.aclose()
