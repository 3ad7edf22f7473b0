"""Chunk frames read without parsing their audio: where the base64 lies, and the rest of the frame parsed.

Audio is most of every byte a session receives, and the model needs only its size: where a chunk's base64
stands in its text (or in its capture line) is found with a few ``find`` calls, the rest of the text (a
hundred-odd bytes) is parsed as JSON with the base64 cut out, and the base64 itself is only checked against
the alphabet and measured, never decoded. Anything that does not look exactly like a plain chunk returns
None, and the caller parses the whole text the ordinary way, which explains whatever is wrong with it.

Why a cut is safe: inside a JSON string every ``"`` is escaped, so ``"data":"`` can only be a member named
``data`` whose value is a string; the rest must then hold exactly one ``"data"`` (the member emptied), and
its value must parse as ``""``. A ``data`` nested in another member, a duplicate, an escape inside the
base64 or a space after the colon all fail one of these checks.
"""

from __future__ import annotations

import json
from typing import Final, NamedTuple

from flushscope.core.capture import line_fields
from flushscope.core.frames import Direction
from flushscope.protocol.messages import Chunk, ProtocolError, parse_server_obj

__all__ = ["B64_ALPHABET", "ScannedChunk", "ScannedLine", "base64_length", "base64_size", "scan_chunk_line"]

B64_ALPHABET: Final = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_PAD: Final = ord("=")
_OPEN: Final = b'"data":"'
_OPEN_TEXT: Final = '"data":"'
_INLINE: Final = b',"json":'


def base64_size(data: bytes) -> int | None:
    """The number of bytes ``data`` decodes to, if it is base64 as the service sends it (the standard
    alphabet, a multiple of four characters, ``=`` padding only at the end); None otherwise."""
    size = len(data)
    if size % 4:
        return None
    pad = 0
    if size and data[-1] == _PAD:
        pad = 2 if data[-2] == _PAD else 1
    # Deleting the alphabet leaves exactly the padding, or the text was not base64.
    if len(data.translate(None, B64_ALPHABET)) != pad:
        return None
    return size // 4 * 3 - pad


def base64_length(nbytes: int) -> int:
    """Characters of the padded base64 of ``nbytes`` bytes."""
    return 4 * -(-nbytes // 3)


class ScannedChunk(NamedTuple):
    """A chunk frame's text read by :func:`scan_chunk_text`."""

    #: The message, with ``data`` empty.
    message: Chunk
    #: Where the base64 starts and ends in the text (characters).
    start: int
    end: int
    #: Bytes of audio it holds, or None when it is not base64.
    nbytes: int | None


class ScannedLine(NamedTuple):
    """A capture line holding a chunk frame inline, read by :func:`scan_chunk_line`."""

    t: float
    conn: int
    message: Chunk
    #: Where the base64 starts and ends in the buffer (bytes).
    start: int
    end: int
    nbytes: int | None


def _chunk(obj: object) -> Chunk | None:
    """The chunk in a parsed object whose base64 was cut out, or None if it is something else."""
    if type(obj) is not dict or obj.get("data") != "" or obj.get("type") != "chunk":
        return None
    try:
        message = parse_server_obj(obj)
    except ProtocolError:
        return None
    return message if isinstance(message, Chunk) else None


def scan_chunk_text(text: str) -> ScannedChunk | None:
    """A chunk frame's text as the model needs it, without parsing its base64; None when the text is not a
    plain chunk (the caller parses it whole)."""
    at = text.find(_OPEN_TEXT)
    if at < 0:
        return None
    start = at + len(_OPEN_TEXT)
    end = text.find('"', start)
    if end < 0 or text.find("\\", start, end) >= 0:
        return None
    rest = text[:start] + text[end:]
    if rest.count('"data"') != 1:
        return None
    try:
        obj = json.loads(rest)
    except (ValueError, RecursionError):
        return None
    message = _chunk(obj)
    if message is None:
        return None
    data = text[start:end]
    nbytes = base64_size(data.encode("ascii")) if data.isascii() else None
    return ScannedChunk(message, start, end, nbytes)


def scan_chunk_line(buf: bytes, start: int, end: int) -> ScannedLine | None:
    """The capture line ``buf[start:end]`` (without its ``\\n``), if it holds a received plain chunk inline
    as the writer writes it; None otherwise (the caller parses the line whole)."""
    at = buf.find(_OPEN, start, end)
    if at < 0:
        return None
    data_start = at + len(_OPEN)
    data_end = buf.find(b'"', data_start, end)
    if data_end < 0 or buf.find(b"\\", data_start, data_end) >= 0:
        return None
    last = end - 1
    if last > start and buf[last] == 13:  # a CRLF line
        last -= 1
    # The reader takes the text after the first ',"json":' up to the line's final brace: that must be the
    # chunk object, so "json" is the line's last member, once.
    if buf[last] != 125 or buf.find(_INLINE, start, at) < 0:
        return None
    rest = buf[start:data_start] + buf[data_end:end]
    if rest.count(b'"data"') != 1 or rest.count(b'"json"') != 1:
        return None
    try:
        obj = json.loads(rest)
        t, conn, direction = line_fields(obj)
    except (ValueError, RecursionError):
        return None
    if direction is not Direction.RECV or "frame" in obj or "meta" in obj or next(reversed(obj)) != "json":
        return None
    message = _chunk(obj["json"])
    if message is None:
        return None
    return ScannedLine(t, conn, message, data_start, data_end, base64_size(buf[data_start:data_end]))
