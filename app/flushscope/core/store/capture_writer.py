"""Writing a capture file: a session's frames as JSON Lines, one flushed line per frame as it happens.

Each line goes to the file in one unbuffered write: a crash loses at most the line being written, and the
reader loads such a file up to its last whole line, with a warning. The header comes first
(:mod:`~flushscope.core.store.capture_header`), then one line a frame (:mod:`~flushscope.core.store.line_format`).

The file is also the session's store (:mod:`flushscope.core.store.frame_store`): :meth:`CaptureWriter.write` says
where each line went, and where a chunk's base64 lies inside it, so that the model keeps offsets instead of
the audio.

Secrets never reach the file (:mod:`~flushscope.core.store.redaction`): the target URL loses its credentials,
and every secret the writer is given (at creation, or later with :meth:`CaptureWriter.add_secrets`) is
replaced by ``REDACTED`` in the header and in every later frame.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO

from flushscope.core.frames import Frame
from flushscope.core.store.capture_header import header_line, new_header
from flushscope.core.store.line_format import Written, frame_line
from flushscope.core.store.redaction import Redactor, redact_url

__all__ = ["CaptureWriter"]


class CaptureWriter:
    """Records a session's frames to a capture file, one flushed line per frame.

    Meant for the event loop's thread: one call of :meth:`write` is one formatted line and one system call,
    with no buffer to lose. The file is created new unless ``overwrite`` is true.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        target: str,
        *,
        secrets: Iterable[str] = (),
        started: datetime | None = None,
        note: str | None = None,
        overwrite: bool = False,
    ) -> None:
        self._path = Path(path)
        self._redactor = Redactor(secrets)
        self._frames_written = 0
        self._offset = 0
        redact = self._redactor.redact
        header = new_header(
            redact(redact_url(target)), started=started, note=None if note is None else redact(note)
        )
        self._file: IO[bytes] | None = open(self._path, "wb" if overwrite else "xb", buffering=0)  # noqa: SIM115
        try:
            self._write_bytes(header_line(header))
        except BaseException:
            # Not even its header: no capture to leave behind.
            self.close()
            self._path.unlink(missing_ok=True)
            raise

    @property
    def path(self) -> Path:
        """Where the capture is written."""
        return self._path

    @property
    def frames_written(self) -> int:
        """How many frame lines have been written (the header not counted)."""
        return self._frames_written

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._file is None

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Redact these too, from the next line on: a proxy learns each client's key only when it connects."""
        self._redactor.add(secrets)

    @property
    def size(self) -> int:
        """Bytes written so far, the header included: where the next line will start."""
        return self._offset

    def write(
        self, frame: Frame, *, valid_json: bool = False, span: tuple[int, int] | None = None
    ) -> Written:
        """Append ``frame`` to the file; says where its line went. Its index is not stored: the reader numbers
        frames in file order.

        ``valid_json``: the caller has parsed the text as JSON, so it may go into the line inline. ``span``:
        characters of the text (a chunk's base64) whose place in the line the caller wants to know."""
        if self._file is None:
            raise ValueError(f"capture {self._path} is closed")
        data, found = frame_line(frame, self._redactor.redact(frame.text), valid_json=valid_json, span=span)
        offset = self._offset
        self._write_bytes(data)
        self._frames_written += 1
        return Written(offset, len(data), found)

    def _write_bytes(self, data: bytes) -> None:
        assert self._file is not None
        written = 0
        try:
            written = self._file.write(data) or 0
            # A regular file takes the whole line at once; a short write happens only on odd file systems.
            while written < len(data):
                written += self._file.write(memoryview(data)[written:]) or 0
        finally:
            # What reached the file counts, even if the rest failed: the next line starts after it.
            self._offset += written

    def close(self) -> None:
        """Close the file. Calling it again does nothing."""
        if self._file is not None:
            file, self._file = self._file, None
            file.close()

    def __enter__(self) -> CaptureWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
