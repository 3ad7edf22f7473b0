"""Times every frame, writes it to the capture file, then hands it to the session model."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flushscope.core.capture import CaptureWriter
from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.session import Session

log = logging.getLogger("flushscope.recorder")


class Recorder:
    """The one way frames enter a live session: clock, model, capture file (one flushed line per frame, so a
    crash loses at most the last line).

    A capture file that fails (disk full, removed) is given up with one logged error and an entry in
    :attr:`capture_error`; the session in memory keeps everything.
    """

    def __init__(
        self,
        session: Session,
        capture: CaptureWriter | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.session = session
        self.capture = capture
        self.capture_error: str | None = None
        self._clock = clock
        self._start = clock()
        self._connections = 0

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
        json_object = False
        try:
            # The model parses the text anyway: a JSON object can go into the capture without escaping.
            stored, json_object = session.add(frame)
        except Exception as exc:
            log.exception(
                "flushscope could not interpret frame %d (%s, connection %d)", frame.index, direction, conn
            )
            stored = self._keep(frame, exc)
        finally:
            # Written even if the model failed on the frame: the capture is the record of what happened.
            if self.capture is not None:
                try:
                    self.capture.write(frame, valid_json=json_object)
                except (OSError, ValueError) as exc:
                    self.capture_error = f"the capture file stopped recording: {exc}"
                    log.error("%s", self.capture_error)
                    self.capture = None
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
        """Close the capture file; the session stays as it is."""
        if self.capture is not None:
            self.capture.close()
            self.capture = None
