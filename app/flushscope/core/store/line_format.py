"""The frame lines of a capture file: how a frame is written as one line, and how a line is read back.

One JSON object a line, UTF-8, ending with ``\\n``: ``{"t": 1.234567, "conn": 0, "dir": "send", "frame": "<text
verbatim>"}``. ``t`` is seconds since the start (monotonic, written to the microsecond), ``conn`` the connection
number, ``dir`` ``send``, ``recv`` or ``meta``.

- A ``meta`` frame whose text is a compact JSON object (what :func:`flushscope.core.frames.meta_text` makes) is
  written as that object, ``"meta": {...}``, so the file stays readable; any other meta text is written as
  ``"frame"`` so that it reads back exactly as it was.
- A frame the caller knows to be one line of valid JSON may be written inline instead, as the last member:
  ``{"t": ..., "conn": ..., "dir": "recv", "json": <the text verbatim>}``. Escaping a 20 KB audio frame into a
  JSON string costs more than parsing it; inline it costs a copy. Readers take the text back as the exact
  characters after ``"json":``, so it stays verbatim.

The same lines are written to a capture file (:mod:`~flushscope.core.store.capture_writer`) and kept in memory
(:class:`~flushscope.core.store.line_storage.MemoryBacking`), so one reader serves both.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any, Final, NamedTuple

from flushscope.core.frames import Direction, Frame
from flushscope.protocol.messages import json_kind

__all__ = [
    "MAX_CONN",
    "MAX_LINE_BYTES",
    "MAX_SECONDS",
    "CaptureError",
    "Written",
    "encode_line",
    "frame_line",
    "is_complete_line",
    "line_fields",
    "line_text",
    "overlong_line",
    "parse_line",
]

#: The longest frame line a reader takes, its newline not counted: 16 MiB. A chunk frame is about 22 KB
#: (about 16 KB of audio, 100 ms at 44.1 kHz, as base64); the service's largest frames stay far below a
#: megabyte; and the protocol's own WebSocket limit is 1 MiB (the proxy's default ``--max-frame``). So a
#: longer line is no frame a service sent: it is left out with its line number and size, and it is never
#: held whole (the readers skip to the next newline without keeping what they skip).
MAX_LINE_BYTES: Final = 16 << 20
#: A frame's time and connection number beyond these are no session's: ``t`` counts seconds since the start
#: (10^10 s is over three centuries, and keeps every time a date), ``conn`` is stored as a 32-bit number.
MAX_SECONDS: Final = 1e10
MAX_CONN: Final = (1 << 31) - 1

_COMPACT: Final = (",", ":")
# Written only by the writer, after "t", "conn" and "dir", none of which can contain it.
_INLINE: Final = ',"json":'
_DIRECTIONS: Final[dict[str, Direction]] = {d.value: d for d in Direction}

# The C string encoder behind json.dumps(s, ensure_ascii=False), without the per-call encoder set-up, which
# costs as much as escaping a short frame.
_encode_str: Callable[[str], str] = encode_basestring


class CaptureError(Exception):
    """A file that is not a usable capture. ``line`` is 1-based, or None when the file could not be read."""

    def __init__(self, name: str, line: int | None, problem: str) -> None:
        where = f"{name}, line {line}" if line is not None else name
        super().__init__(f"{where}: {problem}")
        self.name = name
        self.line = line
        self.problem = problem


# --- writing ------------------------------------------------------------------------------------------


def _meta_object_text(text: str) -> bool:
    """True if ``text`` is a JSON object written compactly, so that it can stand in the line as is and
    be written back identically from the parsed object."""
    if not text.startswith("{"):
        return False
    try:
        value = json.loads(text)
        return isinstance(value, dict) and json.dumps(value, separators=_COMPACT, ensure_ascii=False) == text
    except (ValueError, RecursionError):
        return False


def encode_line(line: str) -> bytes:
    """A line as UTF-8 bytes, lone surrogates included."""
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:
        # Only lone surrogates fail, and they can only be inside JSON strings, where backslashreplace
        # spells them as the \\uXXXX escape that reads back as the same code point.
        return line.encode("utf-8", "backslashreplace")


class Written(NamedTuple):
    """Where :meth:`~flushscope.core.store.capture_writer.CaptureWriter.write` (or memory) put a frame's line."""

    #: Byte offset of the line in the file.
    offset: int
    #: Bytes of the line, its ``\n`` included.
    size: int
    #: Where the characters the caller asked to find (``span``) start, in bytes from the line's start; -1
    #: when they are not in the line verbatim (a secret was redacted out of them) or none were asked for.
    found: int


def frame_line(
    frame: Frame,
    text: str,
    *,
    valid_json: bool,
    span: tuple[int, int] | None = None,
    strict: bool = True,
) -> tuple[bytes, int]:
    """The capture line of ``frame`` with ``text`` as its text (the frame's own, or redacted), and where
    ``frame.text[span[0]:span[1]]`` starts in it (bytes from the line's start; -1 if it is not there
    verbatim, or ``span`` is None).

    ``strict``: ValueError for a time or a connection number that a capture file cannot hold (beyond
    :data:`MAX_SECONDS` or not finite, outside 0 to :data:`MAX_CONN`), which a reader would leave out. Lines
    kept in memory are not strict: their time and connection are kept beside them."""
    t = frame.t
    if not -MAX_SECONDS <= t <= MAX_SECONDS:
        if strict:
            raise ValueError(f"frame time must be finite and at most {MAX_SECONDS:.0e} s, not {t!r}")
        t = 0.0
    if not 0 <= frame.conn <= MAX_CONN and strict:
        raise ValueError(f"connection number must be from 0 to {MAX_CONN}, not {frame.conn!r}")
    head = f'{{"t":{t:.6f},"conn":{frame.conn:d},"dir":"{frame.dir.value}",'
    inline = False
    if frame.dir is Direction.META and _meta_object_text(text):
        line = f'{head}"meta":{text}}}\n'
    elif valid_json and "\n" not in text and "\r" not in text:
        line = f'{head}"json":{text}}}\n'
        inline = True
    else:
        line = f'{head}"frame":{_encode_str(text)}}}\n'
    data = encode_line(line)
    if span is None:
        return data, -1
    start, end = span
    if inline and text is frame.text:
        # The head is ASCII; the text is copied as is, so the span is where it was, counted in bytes.
        before = text[:start]
        at = len(head) + 7 + (start if before.isascii() else len(before.encode("utf-8", "surrogatepass")))
        return data, at
    # Escaped, or redacted: any place the same characters stand holds the same bytes.
    piece = frame.text[start:end]
    if not piece.isascii():
        return data, -1
    return data, data.find(piece.encode("ascii"))


# --- reading ------------------------------------------------------------------------------------------


def overlong_line(name: str, lineno: int, size: int) -> CaptureError:
    """The problem of a line longer than :data:`MAX_LINE_BYTES` (``size`` bytes, as far as it was read)."""
    return CaptureError(
        name, lineno, f"{size} bytes, longer than any frame (the limit is {MAX_LINE_BYTES >> 20} MiB)"
    )


def is_complete_line(raw: bytes | str) -> bool:
    """Whether ``raw`` ends with its newline (the last line of a file cut off does not)."""
    return raw.endswith(b"\n") if isinstance(raw, bytes) else raw.endswith("\n")


class _BadLine(ValueError):
    """A frame line that cannot be read, in words (without the file name and line number)."""


def line_fields(obj: Any) -> tuple[float, int, Direction]:
    """``t``, ``conn`` and ``dir`` of a parsed frame line; ValueError, in words, if one is missing or of the
    wrong kind."""
    if type(obj) is not dict:
        raise _BadLine(f"a frame line must be a JSON object, not {json_kind(obj)}")
    t = obj.get("t")
    if type(t) is not float:
        if type(t) is not int:
            raise _BadLine(f'"t" must be a number of seconds, not {json_kind(t)}')
        try:
            t = float(t)
        except OverflowError:
            t = math.inf
    if not -MAX_SECONDS <= t <= MAX_SECONDS:
        raise _BadLine(f'"t" must be a number of seconds of at most {MAX_SECONDS:.0e}, not {t:.6g}')
    conn = obj.get("conn")
    if type(conn) is not int or not 0 <= conn <= MAX_CONN:
        shown = (conn if abs(conn) < 10**12 else f"{conn:.3e}") if type(conn) is int else json_kind(conn)
        raise _BadLine(f'"conn" must be a whole number from 0 to {MAX_CONN}, not {shown}')
    dir_value = obj.get("dir")
    direction = _DIRECTIONS.get(dir_value) if type(dir_value) is str else None
    if direction is None:
        raise _BadLine(f'"dir" must be "send", "recv" or "meta", not {json.dumps(dir_value)[:40]}')
    return t, conn, direction


def line_text(obj: dict[str, Any], raw: bytes | str, direction: Direction) -> str:
    """The frame's text from a parsed line (``raw``, as read): inline JSON verbatim, an escaped string, or a
    meta object written back compactly; ValueError, in words, if the line holds none of them."""
    text = obj.get("frame")
    if "json" in obj:
        if text is not None or "meta" in obj:
            raise _BadLine('a line has one of "frame", "json" or "meta"')
        line = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        start = line.find(_INLINE)
        line = line.rstrip("\r\n")
        if start < 0 or not line.endswith("}"):
            raise _BadLine('"json" must be the last member of the line')
        return line[start + len(_INLINE) : -1]
    if type(text) is str:
        if "meta" in obj:
            raise _BadLine('a line has either "frame" or "meta", not both')
        return text
    if text is not None:
        raise _BadLine(f'"frame" must be a string, not {json_kind(text)}')
    if direction is not Direction.META:
        raise _BadLine(f'a {direction.value} line needs a "frame" string')
    meta = obj.get("meta")
    if type(meta) is not dict:
        raise _BadLine(f'a meta line needs a "meta" object, not {json_kind(meta)}')
    try:
        return json.dumps(meta, separators=_COMPACT, ensure_ascii=False)
    except (ValueError, RecursionError):
        raise _BadLine('"meta" cannot be written back as JSON') from None


def parse_line(raw: bytes | str, name: str, lineno: int) -> tuple[float, int, Direction, str]:
    """``t``, ``conn``, ``dir`` and the text of one whole frame line; :class:`CaptureError` naming the line
    when it cannot be read."""
    try:
        obj = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except UnicodeDecodeError as exc:
        raise CaptureError(name, lineno, f"not UTF-8 text (bad byte at column {exc.start + 1})") from None
    except json.JSONDecodeError as exc:
        raise CaptureError(
            name, lineno, f"not JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}"
        ) from None
    except ValueError:
        raise CaptureError(name, lineno, "not JSON: a number of more than 4300 digits") from None
    except RecursionError:
        raise CaptureError(name, lineno, "not JSON: nested too deeply") from None
    try:
        t, conn, direction = line_fields(obj)
        return t, conn, direction, line_text(obj, raw, direction)
    except _BadLine as exc:
        raise CaptureError(name, lineno, str(exc)) from None
