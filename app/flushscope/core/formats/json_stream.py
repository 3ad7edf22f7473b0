"""A JSON document read as a stream with bounded memory, for the incremental parser (ijson's C backend).

ijson reads a document of any size in constant memory, except for one token: a string (or number) is held
whole before the parser hands it on, and a document nested thousands deep makes its paths grow with the
square of the depth. :class:`BoundedJSON` sits between the file and the parser and keeps both in bounds,
looking at each block of bytes with a few passes in C (``bytes.replace``, ``count``, ``translate``, numpy)
rather than byte by byte in Python:

- **Long strings.** Escaped backslashes and quotes are blanked out of a copy of the block, so that every
  quote left in the copy opens or closes a string. A string still open at the end of a block is held back
  (at most :data:`MAX_STRING_BYTES` of it) until it closes; one that grows past the limit is dropped as it
  streams by, and the parser is given in its place a short string, ``"\\u0000overlong <size>"``, which
  :func:`overlong_size` recognises. So the parser never holds more than the limit of it.
- **Long numbers and runs of spaces.** A whole block outside any string without a single ``[]{},:`` can only
  be one token or blank space longer than a block: :class:`JSONTooLong`.
- **Deep nesting.** The block's brackets outside strings are counted (its quotes and brackets picked out with
  ``bytes.translate``, the running depth with numpy); deeper than :data:`MAX_DEPTH`: :class:`JSONTooDeep`.

A document that is not JSON goes to the parser as it is, which says what is wrong with it.
"""

from __future__ import annotations

import re
from typing import IO, Final

import numpy as np

from flushscope.core.store.line_format import MAX_LINE_BYTES

__all__ = [
    "MAX_DEPTH",
    "MAX_STRING_BYTES",
    "BoundedJSON",
    "JSONTooDeep",
    "JSONTooLong",
    "overlong_size",
]

#: The longest string handed to the parser: the longest frame line a capture may hold (a HAR message's
#: ``data`` is a frame).
MAX_STRING_BYTES: Final = MAX_LINE_BYTES
#: The deepest nesting read. A HAR is about eight deep (log, entries, an entry, its request, headers, a
#: header); a browser's initiator stacks add a few dozen at most.
MAX_DEPTH: Final = 256
#: Bytes read from the file at a time.
BLOCK_BYTES: Final = 1 << 20

_OVERLONG: Final = "\x00overlong "
_OUTSIDE_STRUCTURE: Final = re.compile(rb"[\[\]{},:]")
_KEEP: Final = b'"[]{}'
_DROP_ALL_BUT_STRUCTURE: Final = bytes(b for b in range(256) if b not in _KEEP)
_STEP: Final = np.zeros(256, np.int8)
_STEP[list(b"[{")] = 1
_STEP[list(b"]}")] = -1


class JSONTooLong(ValueError):
    """A number or a run of blank space longer than a block: no HAR holds one."""


class JSONTooDeep(ValueError):
    """Nesting deeper than :data:`MAX_DEPTH`."""


def overlong_size(value: object) -> int | None:
    """The size in bytes of a string that :class:`BoundedJSON` left out, if ``value`` stands in for one."""
    if isinstance(value, str) and value.startswith(_OVERLONG):
        tail = value[len(_OVERLONG) :]
        if tail.isdigit() and len(tail) < 20:
            return int(tail)
    return None


def _blank_escapes(data: bytes) -> bytes:
    """``data`` with every escaped backslash and quote replaced by two letters, so that each quote left
    opens or closes a string (the positions stay)."""
    if b"\\" not in data:
        return data
    return data.replace(b"\\\\", b"xx").replace(b'\\"', b"xx")


class BoundedJSON:
    """A binary file as the parser reads it (``read(n)``), with long strings replaced, long tokens and
    deep nesting refused (see the module's docstring). ``consumed``: bytes read from the file so far."""

    def __init__(
        self, file: IO[bytes], *, limit: int = MAX_STRING_BYTES, markers: tuple[bytes, ...] = ()
    ) -> None:
        self._file = file
        self._limit = limit
        self.consumed = 0
        self._first = True
        # An escape's backslash at the end of a block, held for the next.
        self._carry = b""
        self._in_string = False
        # The open string, from its quote, while it is short enough to hand on.
        self._held = bytearray()
        # Bytes of the open string dropped, once it is too long.
        self._dropped: int | None = None
        self._depth = 0
        #: Of ``markers``: those seen anywhere in the file (outside strings or not).
        self.seen: set[bytes] = set()
        self._markers = markers
        self._tail = b""
        # What readinto has not handed on yet of the last block.
        self._pending = b""
        self._at = 0

    def read(self, size: int = -1) -> bytes:
        """Up to about a block of the document, as the parser should see it; b"" at its end (and for
        ``size`` 0, with which a reader asks what kind of file this is)."""
        if size == 0:
            return b""
        if self._at < len(self._pending):
            rest = self._pending[self._at :]
            self._pending, self._at = b"", 0
            return rest
        return self._next()

    def readinto(self, buffer: bytearray | memoryview) -> int:
        """As :meth:`read`, into ``buffer`` (the parser's fast path: no new bytes object per read)."""
        while self._at >= len(self._pending):
            self._pending, self._at = self._next(), 0
            if not self._pending:
                return 0
        size = min(len(buffer), len(self._pending) - self._at)
        with memoryview(self._pending) as pending:
            buffer[:size] = pending[self._at : self._at + size]
        self._at += size
        return size

    def _next(self) -> bytes:
        while True:
            block = self._file.read(BLOCK_BYTES)
            if not block:
                return self._end()
            self.consumed += len(block)
            if self._first:
                self._first = False
                block = block.removeprefix(b"\xef\xbb\xbf")
            self._look_for_markers(block)
            out = self._block(self._carry + block)
            if out:
                return out

    def _end(self) -> bytes:
        # A string never closed goes to the parser as far as it got, which calls the document cut off.
        out = self._carry + bytes(self._held)
        self._carry, self._held = b"", bytearray()
        return out

    def _look_for_markers(self, block: bytes) -> None:
        if not self._markers:
            return
        window = self._tail + block
        self.seen.update(m for m in self._markers if m in window)
        self._tail = block[-32:]

    def _block(self, data: bytes) -> bytes:
        self._carry = b""
        neutral = _blank_escapes(data)
        if neutral.endswith(b"\\"):
            # An escape cut by the end of the block: it is whole in the next.
            self._carry, data, neutral = data[-1:], data[:-1], neutral[:-1]
        out: list[bytes] = []
        start = 0
        if self._in_string:
            close = neutral.find(b'"')
            if close < 0:
                self._grow(data)
                return b""
            self._grow(data[:close])
            out.append(self._closed_string())
            start = close + 1
        self._check_depth(neutral, start)
        quotes = neutral.count(b'"', start)
        if quotes % 2 == 0:
            if not quotes:
                self._check_structure(neutral, start)
            out.append(data[start:])
        else:
            # The block ends inside a string: hold it back from its opening quote.
            opening = neutral.rfind(b'"', start)
            out.append(data[start:opening])
            self._in_string = True
            self._held = bytearray()
            self._dropped = None
            self._grow(data[opening + 1 :])
        return b"".join(out)

    def _grow(self, piece: bytes) -> None:
        """More of the open string (after its opening quote)."""
        if self._dropped is not None:
            self._dropped += len(piece)
            return
        self._held += piece
        if len(self._held) > self._limit:
            self._dropped = len(self._held)
            self._held = bytearray()

    def _closed_string(self) -> bytes:
        self._in_string = False
        dropped, self._dropped = self._dropped, None
        if dropped is not None:
            return f'"\\u0000overlong {dropped}"'.encode("ascii")
        held, self._held = self._held, bytearray()
        return b'"' + bytes(held) + b'"'

    def _check_structure(self, neutral: bytes, start: int) -> None:
        if len(neutral) - start >= BLOCK_BYTES // 2 and not _OUTSIDE_STRUCTURE.search(neutral, start):
            raise JSONTooLong(
                f"a number or blank space of more than {BLOCK_BYTES // 2 >> 10} KiB near byte {self.consumed}"
            )

    def _check_depth(self, neutral: bytes, start: int) -> None:
        """Follow the depth through the block's brackets outside strings (``start``: outside a string)."""
        marks = np.frombuffer(neutral[start:].translate(None, _DROP_ALL_BUT_STRUCTURE), np.uint8)
        if not len(marks):
            return
        inside = (np.cumsum(marks == ord('"'), dtype=np.int32) & 1).astype(np.bool_)
        steps = _STEP[marks]
        steps[inside] = 0
        depths = np.cumsum(steps, dtype=np.int64)
        if self._depth + int(depths.max()) > MAX_DEPTH:
            raise JSONTooDeep(f"nested more than {MAX_DEPTH} deep near byte {self.consumed}")
        self._depth += int(depths[-1])
