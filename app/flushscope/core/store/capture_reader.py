"""Reading a capture file as untrusted input, frame by frame or whole.

The header is read and checked first (:func:`~flushscope.core.store.capture_header.parse_header`); then each
line is a frame (:func:`~flushscope.core.store.line_format.parse_line`), numbered in file order. A bad line (not
JSON, a field of the wrong kind) is left out with a warning that names its line, and every other line still
loads; a last line cut off (a crash while writing) is dropped with a warning.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Final

from flushscope.core.frames import Frame
from flushscope.core.store.capture_header import (
    MAX_HEADER_BYTES,
    CaptureHeader,
    header_too_long,
    parse_header,
)
from flushscope.core.store.line_format import (
    MAX_LINE_BYTES,
    CaptureError,
    is_complete_line,
    overlong_line,
    parse_line,
)

__all__ = [
    "CaptureReader",
    "LineProblems",
    "LoadedCapture",
    "open_capture",
    "read_capture",
    "read_capture_text",
]


@dataclass(slots=True)
class LoadedCapture:
    """A whole capture in memory: frames numbered 0..n-1 in file order, and what the reader forgave."""

    header: CaptureHeader
    frames: list[Frame]
    warnings: list[str] = field(default_factory=list)


class LineProblems:
    """The warnings of a reader about bad lines (or a HAR's bad entries and messages: ``what``): each
    named where it is, the first :attr:`SHOWN` in full and the rest counted, so that a file of garbage does
    not make a book of them."""

    SHOWN: Final = 20

    def __init__(self, warnings: list[str], what: str = "bad lines") -> None:
        self._warnings = warnings
        self._what = what
        self.count = 0
        self._summary: int | None = None

    def bad(self, error: CaptureError) -> None:
        """A bad whole line, left out."""
        self.left_out(f"line {error.line}: {error.problem}; the line is left out")

    def left_out(self, warning: str) -> None:
        """A bad part of the file, left out: ``warning`` says where and why."""
        self.count += 1
        if self.count <= self.SHOWN:
            self._warnings.append(warning)
            return
        more = f"{self.count - self.SHOWN} more {self._what} are left out"
        if self._summary is None:
            self._summary = len(self._warnings)
            self._warnings.append(more)
        else:
            self._warnings[self._summary] = more

    def note(self, warning: str) -> None:
        """A warning that is not about a part left out (not counted)."""
        self._warnings.append(warning)

    def cut_off(self, lineno: int, frames: int) -> None:
        """The last line is incomplete: the recording was cut off, or is still being written."""
        self._warnings.append(
            f"line {lineno} is incomplete (the recording was cut off); loaded {frames} frames"
        )


@dataclass(frozen=True, slots=True)
class _Overlong:
    """In place of a line longer than :data:`MAX_LINE_BYTES`, which was skipped, not read: its size."""

    size: int


def _is_blank(raw: bytes | str) -> bool:
    return not raw.strip()


def _frames(lines: Iterator[bytes | str | _Overlong], name: str, warnings: list[str]) -> Iterator[Frame]:
    """Parse the frame lines (the header already taken from ``lines``); bad lines are left out with a
    warning naming them."""
    problems = LineProblems(warnings)
    index = 0
    for lineno, raw in enumerate(lines, 2):
        if isinstance(raw, _Overlong):
            problems.bad(overlong_line(name, lineno, raw.size))
            continue
        try:
            t, conn, direction, text = parse_line(raw, name, lineno)
        except CaptureError as exc:
            if _is_blank(raw):
                continue
            if not is_complete_line(raw):
                problems.cut_off(lineno, index)
                return
            problems.bad(exc)
            continue
        yield Frame(index, t, conn, direction, text)
        index += 1


class CaptureReader:
    """Reads a capture frame by frame, for files too big to want in memory twice.

    The header is read and checked on construction; iterating yields the frames once, in file order.
    ``warnings`` fills as the reader forgives things (a bad line left out, a cut-off last line, a header
    field missing).
    """

    def __init__(
        self, lines: Iterator[bytes | str | _Overlong], name: str, close: Callable[[], None] | None = None
    ) -> None:
        self.name = name
        self.warnings: list[str] = []
        self._close = close
        try:
            first = next(lines, None)
            if isinstance(first, _Overlong):
                raise header_too_long(name)
            self.header = parse_header(first, name, self.warnings)
        except BaseException:
            self.close()
            raise
        self._frames = _frames(lines, name, self.warnings)

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def close(self) -> None:
        """Release the file. Calling it again does nothing."""
        if self._close is not None:
            close, self._close = self._close, None
            close()

    def __enter__(self) -> CaptureReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


# How much of an overlong line one read skips.
_SKIP_BYTES: Final = 1 << 20


def _file_lines(file: IO[bytes], name: str) -> Iterator[bytes | _Overlong]:
    """The header line (as much of it as a header may hold), then every line, each read in a bounded piece:
    a line over :data:`MAX_LINE_BYTES` is skipped to its newline and counted, never held."""
    try:
        yield file.readline(MAX_HEADER_BYTES)
        while line := file.readline(MAX_LINE_BYTES + 1):
            if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
                yield line
                continue
            size = len(line)
            while (piece := file.readline(_SKIP_BYTES)) and not piece.endswith(b"\n"):
                size += len(piece)
            yield _Overlong(size + len(piece.rstrip(b"\n")))
    except OSError as exc:
        raise CaptureError(name, None, f"cannot read: {exc.strerror or exc}") from None


def open_capture(path: str | os.PathLike[str]) -> CaptureReader:
    """Open a capture file to read frame by frame; close the reader when done (it is a context manager)."""
    name = os.fspath(path)
    try:
        file = open(path, "rb")  # noqa: SIM115
    except OSError as exc:
        raise CaptureError(name, None, f"cannot open: {exc.strerror or exc}") from None
    return CaptureReader(_file_lines(file, name), name, file.close)


def read_capture(path: str | os.PathLike[str]) -> LoadedCapture:
    """Load a whole capture file; :class:`CaptureError` if it is not a usable capture."""
    with open_capture(path) as reader:
        frames = list(reader)
        return LoadedCapture(reader.header, frames, reader.warnings)


def _text_lines(text: str) -> Iterator[str | _Overlong]:
    # Only "\n" ends a line: str.splitlines() would also split on characters JSON allows raw in strings.
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        # Characters, not bytes: the text is in memory already, and a line over the limit in characters is
        # over it in bytes.
        if end - start > MAX_LINE_BYTES + 1:
            yield _Overlong(end - start - text.endswith("\n", start, end))
        else:
            yield text[start:end]
        start = end


def read_capture_text(text: str, name: str = "<text>") -> LoadedCapture:
    """Load a capture held in a string, under the same rules as a file."""
    reader = CaptureReader(_text_lines(text), name)
    frames = list(reader)
    return LoadedCapture(reader.header, frames, reader.warnings)
