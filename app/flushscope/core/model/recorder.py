"""Times every frame and hands it to the session model, whose store writes it to the capture file."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.model.session import Session
from flushscope.core.store.capture_writer import CaptureWriter

log = logging.getLogger("flushscope.recorder")


class Recorder:
    """The one way frames enter a live session: clock, model, capture file (one flushed line per frame, so a
    crash loses at most the last line).

    The capture file is the session's store: the model writes each frame's line there and keeps only where
    it went (:class:`~flushscope.core.store.frame_store.FrameStore`). A capture file that fails (disk full) is given
    up with one logged error and an entry in :attr:`capture_error`; the frames from then on are kept in
    memory, and nothing is lost. Without a capture file, everything is kept in memory.
    """

    def __init__(
        self,
        session: Session,
        capture: CaptureWriter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self._capture_error: str | None = None
        self._clock = clock
        self._start = clock()
        self._connections = 0
        if capture is not None:
            self.capture = capture

    @property
    def capture(self) -> CaptureWriter | None:
        """The capture file being written, or None (none yet, closed, or given up)."""
        return self.session.frames.writer

    @capture.setter
    def capture(self, writer: CaptureWriter | None) -> None:
        """Record to ``writer`` from the next frame on (None: stop, and keep later frames in memory)."""
        store = self.session.frames
        if writer is None:
            old = store.detach()
            if old is not None:
                old.close()
            return
        try:
            store.attach(writer)
        except OSError as exc:
            writer.close()
            self._capture_error = f"cannot read back the capture {writer.path}: {exc.strerror or exc}; the session is kept in memory"
            log.error("%s", self._capture_error)

    @property
    def capture_error(self) -> str | None:
        """Why the capture file is not (or no longer) recording, in words; None while it is."""
        return self._capture_error or self.session.frames.problem

    @capture_error.setter
    def capture_error(self, text: str | None) -> None:
        self._capture_error = text

    def now(self) -> float:
        """Seconds since the session started."""
        return self._clock() - self._start

    def new_connection(self) -> int:
        """A number for the next connection of this session (1, 2, ...)."""
        self._connections += 1
        return self._connections

    def record(self, conn: int, direction: Direction, text: str) -> Frame:
        """Record one frame: timed now, given to the model, written to the capture. Returns it as stored.

        A fault in the model does not escape: the frame is kept in the session and the capture all the same,
        an ``internal_error`` anomaly says what failed, the traceback goes to the log, and the caller (a
        connection's read loop) goes on."""
        session = self.session
        frame = Frame(len(session.frames), self.now(), conn, direction, text)
        try:
            # The model stores the frame (the capture line) before it interprets it.
            stored, _ = session.add(frame)
        except Exception as exc:
            log.exception(
                "flushscope could not interpret frame %d (%s, connection %d)", frame.index, direction, conn
            )
            stored = self._keep(frame, exc)
        return stored

    def _keep(self, frame: Frame, error: Exception) -> Frame:
        try:
            return self.session.add_uninterpreted(frame, error)
        except Exception:
            # Only a failing observer (or an error that cannot be put in words) gets here: the frame is stored
            # before either comes into play.
            log.exception("frame %d is kept, but flagging its fault failed too", frame.index)
            return self.session.frames[-1]

    def meta(self, conn: int, event: str, **fields: Any) -> Frame:
        """Record what happened to connection ``conn`` (``connect``, ``open``, ``close``, ``error``, ...)."""
        return self.record(conn, Direction.META, meta_text(event, **fields))

    def close(self) -> None:
        """Close the capture file; the session stays as it is, and its frames are still read from the file."""
        self.capture = None
