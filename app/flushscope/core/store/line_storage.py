"""Where a session's frame lines are kept: its capture file, read back by offset, or memory when there is
no file to read (a HAR file, a session rebuilt from frames, a capture that could not be written).

Both hold capture lines (:func:`flushscope.core.store.line_format.frame_line`), so one reader serves them. Reads are
safe from any thread: the window writes WAV files on an executor while the loop goes on recording.

The file is opened once and kept open: on POSIX systems a capture moved or deleted while it is shown still
reads through the open descriptor, and nothing is lost; :meth:`FileBacking.whereabouts` says that it
happened, in words, for the window to show.
"""

from __future__ import annotations

import os
import threading
import weakref
from pathlib import Path
from typing import Final

from flushscope.core.frames import Frame
from flushscope.core.store.line_format import Written, frame_line

__all__ = ["Backing", "FileBacking", "MemoryBacking", "StoreError"]

_HAS_PREAD: Final = hasattr(os, "pread")


class StoreError(Exception):
    """A frame or audio that cannot be read back, with the reason in words: the capture file cannot be read,
    or it changed under the session (shorter, or a line not where it was)."""


class FileBacking:
    """A capture file, read by offset through a descriptor kept open."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.name = self.path.name
        self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        # A session dropped without close() still gives its descriptor back.
        self._release = weakref.finalize(self, os.close, self._fd)
        self._identity = _identity(os.fstat(self._fd))
        self._lock = threading.Lock()
        self._closed = False

    def read(self, offset: int, size: int) -> bytes:
        """``size`` bytes from ``offset``; :class:`StoreError` if the file no longer holds them."""
        if self._closed:
            raise StoreError(f"{self.name} was closed")
        try:
            if _HAS_PREAD:
                data = os.pread(self._fd, size, offset)
            else:
                with self._lock:
                    os.lseek(self._fd, offset, os.SEEK_SET)
                    data = os.read(self._fd, size)
        except OSError as exc:
            raise StoreError(f"cannot read {self.name}: {exc.strerror or exc}") from None
        if len(data) < size:
            raise StoreError(
                f"{self.name} changed: it is shorter than when flushscope read it (it ends at byte "
                f"{offset + len(data):,}, a frame was at {offset:,} to {offset + size:,})"
            )
        return data

    def size(self) -> int:
        """The file's size now."""
        return os.fstat(self._fd).st_size

    def whereabouts(self) -> str | None:
        """None while the path still names the file that is open; otherwise what happened, in words."""
        try:
            now = _identity(os.stat(self.path))
        except FileNotFoundError:
            return f"{self.name} was moved or deleted: flushscope still reads it through the file it has open"
        except OSError as exc:
            return f"{self.name} cannot be checked: {exc.strerror or exc}"
        if now != self._identity:
            return (
                f"{self.name} was replaced by another file: flushscope still reads the one it opened, which "
                "is no longer at that path"
            )
        return None

    def close(self) -> None:
        """Release the descriptor. Calling it again does nothing."""
        if not self._closed:
            self._closed = True
            self._release()


def _identity(stat: os.stat_result) -> tuple[int, int]:
    return stat.st_dev, stat.st_ino


class MemoryBacking:
    """Capture lines kept in memory, appended as frames come."""

    name = "memory"

    def __init__(self) -> None:
        self._data = bytearray()

    def write(self, frame: Frame, *, valid_json: bool, span: tuple[int, int] | None = None) -> Written:
        """Keep ``frame``'s line, as :meth:`flushscope.core.store.capture_writer.CaptureWriter.write` writes it."""
        data, found = frame_line(frame, frame.text, valid_json=valid_json, span=span, strict=False)
        offset = len(self._data)
        self._data += data
        return Written(offset, len(data), found)

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset + size > len(self._data):
            raise StoreError(f"no frame is kept in memory at {offset:,} to {offset + size:,}")
        return bytes(self._data[offset : offset + size])

    def size(self) -> int:
        return len(self._data)

    def whereabouts(self) -> str | None:
        return None

    def close(self) -> None:
        """Memory stays until the session goes."""


Backing = FileBacking | MemoryBacking
