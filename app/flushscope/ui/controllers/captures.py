"""Capture files in the window: open one read-only (menu, dialog, command line or drag and drop; a HAR file
exported from a browser opens the same way), go back to the live session, save the capture shown under
another name.

A capture opens in steps (:class:`~flushscope.core.formats.capture_index.CaptureIndexer`): the session is shown at
once and grows as the file is indexed, a few tens of milliseconds at a time with the loop running in
between, with its progress in the status bar (and a button to stop). Once indexed, the file is followed: lines
appended to it (the live recording of another window, say) are indexed as they come, and a capture moved,
deleted or replaced while shown is said in words (its frames are still read through the file flushscope
has open).

The live session goes on recording behind a capture that is shown; :attr:`CaptureController.viewing` says
which of the two the views show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Final

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from flushscope.core.formats.capture_index import CaptureIndexer
from flushscope.core.formats.recordings import (
    RecordingFormat,
    detect_format,
    open_recording,
    save_recording,
)
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.session import Session
from flushscope.core.store.capture_header import CaptureHeader
from flushscope.core.store.line_format import CaptureError
from flushscope.net.live import CAPTURE_SUFFIX, LiveSession
from flushscope.ui.bridge import Selection, SessionBridge

#: Saving: a capture, or a HAR file for browser tools and other people's viewers.
SAVE_FILTER: Final = f"flushscope capture (*{CAPTURE_SUFFIX});;HAR file (*.har)"

log = logging.getLogger("flushscope.window")

#: One step of indexing runs this long; then the loop runs (paints, input, asyncio) before the next.
STEP_S: Final = 0.02
#: The pause between two steps, in which Qt runs its timers and paints.
STEP_PAUSE_S: Final = 0.002
#: How often a capture shown is checked for lines appended, and for having been moved or deleted.
FOLLOW_MS: Final = 1000

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
    """A capture file is shown (read-only), by path; it may still be being indexed."""
    liveShown = Signal()
    """The live session is shown again (after a capture)."""
    progressChanged = Signal(float)
    """How much of the capture being opened is indexed, 0 to 1; -1 once it is not being opened any more."""
    openFinished = Signal(str)
    """The capture shown (by path) is indexed to its end, or its opening was stopped."""
    noticeChanged = Signal(str)
    """What the window should keep saying about the capture shown (moved, deleted, still being written;
    empty: nothing)."""

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
        #: Its header.
        self.header: CaptureHeader | None = None
        #: What the reader forgave (bad lines left out, a cut-off end).
        self.warnings: list[str] = []
        #: When silences and slow first audio are flagged in the captures opened next (as ``report``'s
        #: defaults until the user chooses: Edit > Connection settings).
        self.thresholds = live.session.thresholds
        self._indexer: CaptureIndexer | None = None
        self._opening = False
        self._notice = ""
        self._waiters: list[asyncio.Future[None]] = []
        self._start_folder: Callable[[], Path] = lambda: live.capture_folder.path
        # The next step: queued on the asyncio loop (behind what is already waiting there, so the live
        # session's sockets and timers keep their turn), or on a Qt timer where no asyncio loop runs.
        self._next_step: asyncio.Handle | None = None
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.timeout.connect(self._step)
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self._follow)
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Flag silences and slow first audio by ``thresholds`` in the captures opened from now on."""
        self.thresholds = thresholds

    @property
    def shown_capture(self) -> Path | None:
        """The capture file of what is shown: the one opened, or the live recording."""
        return self.viewing or self._live.capture_path

    @property
    def opening(self) -> bool:
        """Whether the capture shown is still being indexed for the first time."""
        return self._opening

    @property
    def notice(self) -> str:
        """What the window keeps saying about the capture shown (empty: nothing)."""
        return self._notice

    def load(self, path: str | Path) -> Session:
        """Show a capture file read-only, indexed to its end before this returns (the live session goes on
        behind it). Raises CaptureError and leaves the current view untouched if the file is not a usable
        capture."""
        session = self._begin(path)
        while self._opening:
            self._step(whole=True)
        self._bridge.flush()
        return session

    def open(self, path: str | Path) -> bool:
        """Show a capture file read-only: shown at once, indexed in steps (the first one now); a message box
        instead of CaptureError."""
        try:
            self._begin(path)
        except CaptureError as exc:
            log.warning("%s", exc)
            box = QMessageBox(
                QMessageBox.Icon.Warning, "Cannot open the capture", str(exc), parent=self._window
            )
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            return False
        if self._opening:
            self._step()
            # What the first step indexed is in the views now, not at the bridge's next tick.
            self._bridge.flush()
        return True

    async def wait_opened(self) -> None:
        """Return once the capture shown is indexed to its end (at once if none is being opened)."""
        if not self._opening:
            return
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        await waiter

    def cancel_opening(self) -> None:
        """Stop indexing the capture being opened: what is indexed stays shown, and says so."""
        indexer = self._indexer
        if not self._opening or indexer is None:
            return
        indexer.close()
        self._indexer = None
        name = self.viewing.name if self.viewing is not None else "the capture"
        self._set_notice(
            f"{name}: opening stopped at {indexer.progress:.0%} ({len(indexer.session.frames):,} frames); "
            "the rest of the file is not shown"
        )
        self.status.emit(self._notice)
        self._opened()

    def _begin(self, path: str | Path) -> Session:
        """Show ``path``'s session (a capture to be indexed in steps, or a HAR file read whole)."""
        indexer: CaptureIndexer | None = None
        if detect_format(path) is RecordingFormat.HAR:
            opened = open_recording(path, self.thresholds)
            session, header, warnings = opened.session, opened.header, opened.warnings
            # The recording is over: whatever it still awaited will never come.
            session.finish()
        else:
            indexer = CaptureIndexer(path, self.thresholds)
            session, header, warnings = indexer.session, indexer.header, indexer.warnings
        self._stop()
        self._indexer = indexer
        self._opening = indexer is not None
        self.viewing = Path(path)
        self.header = header
        self.warnings = warnings
        self._set_notice("")
        self._selection.clear()
        self._bridge.set_session(session)
        if indexer is None:
            self._said_opened()
        else:
            self.progressChanged.emit(0.0)
        self.shownChanged.emit()
        self.captureOpened.emit(str(path))
        return session

    def _schedule_step(self) -> None:
        # A short pause rather than call_soon: a chain of zero-delay callbacks keeps Qt's own timers (the
        # views' ticks) from firing until the pass ends.
        try:
            self._next_step = asyncio.get_running_loop().call_later(STEP_PAUSE_S, self._step)
        except RuntimeError:
            self._step_timer.start(round(STEP_PAUSE_S * 1000))

    @property
    def _stepping(self) -> bool:
        return self._next_step is not None or self._step_timer.isActive()

    def _stop(self) -> None:
        """Stop indexing and following the capture shown (its session stays readable while in use)."""
        if self._next_step is not None:
            self._next_step.cancel()
            self._next_step = None
        self._step_timer.stop()
        self._follow_timer.stop()
        if self._indexer is not None:
            self._indexer.close()
            self._indexer = None
        if self._opening:
            self._opening = False
            self.progressChanged.emit(-1.0)
        self._release_waiters()

    def _step(self, *, whole: bool = False) -> None:
        """Index the capture shown for a while (or to its end); schedule the next step, or end the pass."""
        self._next_step = None
        indexer = self._indexer
        if indexer is None:
            return
        try:
            more = indexer.step(seconds=None if whole else STEP_S)
        except CaptureError as exc:
            self._set_notice(f"{exc}; the frames indexed so far are shown")
            self.status.emit(self._notice)
            more = False
        if self._opening:
            self.progressChanged.emit(indexer.progress)
        if more:
            if not whole:
                self._schedule_step()
            return
        if self._opening:
            self._end_of_pass(indexer)

    def _end_of_pass(self, indexer: CaptureIndexer) -> None:
        """The first pass reached the end of the file: the recording ends here, as ``flushscope report`` reads
        it; say what was forgiven, and follow the file from now on."""
        if indexer.pending:
            # An unfinished last line: the writer may be writing it (or the recording was cut off).
            self._set_notice(
                f"{indexer.path.name} ends with an unfinished line: it is cut off, or still being written "
                "(new frames are shown as they come)"
            )
        # Connections still open are said to end here, with what they awaited (information: a wait not over
        # is no timeout). Should the file grow, a frame past a wait's end still flags that timeout.
        indexer.session.finish()
        # The views show all of it before anyone hears that it is open.
        self._bridge.flush()
        self._said_opened()
        self._opened()
        self._follow_timer.start()

    def _said_opened(self) -> None:
        name = self.viewing.name if self.viewing is not None else ""
        if self.warnings:
            self.status.emit(f"{name}: " + "; ".join(self.warnings))
        else:
            self.status.emit(f"Opened {name}: {len(self._bridge.session.frames):,} frames")

    def _opened(self) -> None:
        self._opening = False
        self.progressChanged.emit(-1.0)
        if self.viewing is not None:
            self.openFinished.emit(str(self.viewing))
        self._release_waiters()

    def _release_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _follow(self) -> None:
        """Index what was appended to the capture shown, and say if it was moved or deleted."""
        session = self._bridge.session
        file = session.frames.file
        whereabouts = file.whereabouts() if file is not None else None
        if whereabouts is not None and whereabouts != self._notice:
            self._set_notice(whereabouts)
            self.status.emit(whereabouts)
        indexer = self._indexer
        if indexer is None or self._stepping:
            return
        before = len(session.frames)
        self._step()
        if len(session.frames) > before and self.viewing is not None:
            self._set_notice(f"{self.viewing.name} is being written: new frames are shown as they come")

    def _set_notice(self, text: str) -> None:
        if text != self._notice:
            self._notice = text
            self.noticeChanged.emit(text)

    def show_live(self) -> None:
        """Show the live session again after a capture."""
        if self.viewing is None:
            return
        self._stop()
        self.viewing = None
        self.header = None
        self.warnings = []
        self._set_notice("")
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
        try:
            wanted = save_recording(source, path)
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

    def set_start_folder(self, folder: Callable[[], Path]) -> None:
        """Where the file dialogs start (by default the folder the live session records to)."""
        self._start_folder = folder

    def _folder(self) -> str:
        return str(self._start_folder())

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
