"""Chunk frames read without parsing their audio: where the base64 lies, and the rest of the frame parsed.

Audio is most of every byte a session receives, and the model needs only its size: where a chunk's base64
stands in its text (or in its capture line) is found with a few ``find`` calls, the rest of the text (a
hundred-odd bytes) is parsed as JSON with the base64 cut out, and the base64 itself is only checked and
measured (pybase64 does both at several gigabytes a second); the audio is not kept. Anything that does not look exactly like a plain chunk returns
None, and the caller parses the whole text the ordinary way, which explains whatever is wrong with it.

Why a cut is safe: inside a JSON string every ``"`` is escaped, so ``"data":"`` can only be a member named
``data`` whose value is a string; the rest must then hold exactly one ``"data"`` (the member emptied), and
its value must parse as ``""``. A ``data`` nested in another member, a duplicate, an escape inside the
base64 or a space after the colon all fail one of these checks. What passes is typed exactly as the
protocol parser types a plain chunk; everything else goes to that parser.
"""

from __future__ import annotations

import binascii
import zlib
from typing import Final, NamedTuple

import orjson
import pybase64

from flushscope.core.frames import Direction
from flushscope.core.store.line_format import line_fields

__all__ = [
    "ScannedChunk",
    "ScannedLine",
    "base64_length",
    "base64_size",
    "chunk_digest",
    "decode_audio",
    "plain_chunk_fields",
    "scan_chunk_line",
    "scan_chunk_text",
]

_OPEN: Final = b'"data":"'
_OPEN_TEXT: Final = '"data":"'
_INLINE: Final = b',"json":'
#: The members a chunk frame has (the protocol's own list); a frame with any other takes the general path.
_CHUNK_MEMBERS: Final = frozenset(
    {"type", "context_id", "status_code", "done", "data", "step_time", "flush_id"}
)


def base64_size(data: bytes | bytearray) -> int | None:
    """The number of bytes ``data`` decodes to, if it is base64 as the service sends it (the standard
    alphabet, a multiple of four characters, ``=`` padding only at the end); None otherwise.

    pybase64 checks and decodes 5 KB in well under a microsecond (SIMD); the decoded bytes are dropped."""
    try:
        return len(pybase64.b64decode(data, validate=True))
    except (binascii.Error, ValueError):
        return None


#: Characters of a chunk's base64 that its digest samples, evenly spaced.
_DIGEST_SAMPLES: Final = 64


def chunk_digest(rest: bytes | bytearray, buf: bytes | bytearray, start: int, end: int) -> int:
    """What tells a chunk frame from the one before it, cheaply: a CRC of the frame less its base64
    (``rest``: the context, flush_id, step_time, ...) and of 64 characters spread over its base64
    (``buf[start:end]``), a multiple of four apart, so that each falls at the same place in its group of four.

    0 when the sampled audio is uniform: digital silence (zero samples, or an encoding's silent byte) repeats
    byte for byte in a real stream, so a repeat of it says nothing. Two frames are taken for the same one when
    their digests are equal and not 0: all but the same frame would need the same members and 64 equal
    characters of audio, and a CRC that collides."""
    sample = buf[start : end : max(4, (end - start) // _DIGEST_SAMPLES // 4 * 4)]
    if not sample or sample.count(sample[0]) == len(sample):
        return 0
    return zlib.crc32(sample, zlib.crc32(rest)) + 1


def decode_audio(data: bytes | bytearray | memoryview) -> bytes:
    """Decode base64 that :func:`base64_size` accepted; binascii.Error if it is not (any more)."""
    return pybase64.b64decode(data, validate=True)


def base64_length(nbytes: int) -> int:
    """Characters of the padded base64 of ``nbytes`` bytes."""
    return 4 * -(-nbytes // 3)


class ScannedChunk(NamedTuple):
    """A chunk frame's text read by :func:`scan_chunk_text`."""

    context_id: str
    flush_id: int | None
    #: Where the base64 starts and ends in the text (characters).
    start: int
    end: int
    #: Bytes of audio it holds, or None when it is not base64.
    nbytes: int | None
    #: :func:`chunk_digest` of the frame (0 when it is not base64).
    digest: int


class ScannedLine(NamedTuple):
    """A capture line holding a chunk frame inline, read by :func:`scan_chunk_line`."""

    t: float
    conn: int
    context_id: str
    flush_id: int | None
    #: Where the base64 starts and ends in the buffer (bytes).
    start: int
    end: int
    nbytes: int
    #: :func:`chunk_digest` of the frame.
    digest: int


def _parse(text: str | bytes | bytearray) -> object:
    """``text`` parsed as one JSON value, or None. orjson parses the hundred-odd bytes of a chunk's other
    members four times faster than the json module; where the two could differ (numbers beyond 64 bits,
    which orjson reads as floats; NaN, lone surrogates, which it refuses) the callers' type checks send the
    frame to the json module's path."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return None


def plain_chunk_fields(obj: object) -> tuple[str, int | None] | None:
    """``context_id`` and ``flush_id`` of a chunk object whose base64 was cut out (``data`` is ``""``), if
    it is a plain chunk: only the members a chunk has, each of its type (what the protocol parser types
    without a second look); None for anything else."""
    if type(obj) is not dict or not obj.keys() <= _CHUNK_MEMBERS:
        return None
    get = obj.get
    context_id, status, done, flush_id, step = (
        get("context_id"), get("status_code"), get("done", False), get("flush_id"), get("step_time")
    )  # fmt: skip
    if (
        get("type") == "chunk"
        and get("data") == ""
        and type(context_id) is str
        and (status is None or type(status) is int)
        and type(done) is bool
        and (flush_id is None or type(flush_id) is int)
        and (step is None or type(step) is float or type(step) is int)
    ):
        return context_id, flush_id
    return None


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
    fields = plain_chunk_fields(_parse(rest))
    if fields is None:
        return None
    data = text[start:end]
    raw = data.encode("ascii") if data.isascii() else None
    nbytes = base64_size(raw) if raw is not None else None
    digest = chunk_digest(rest.encode(), raw, 0, len(raw)) if raw is not None and nbytes is not None else 0
    return ScannedChunk(fields[0], fields[1], start, end, nbytes, digest)


def scan_chunk_line(buf: bytes | bytearray, start: int, end: int) -> ScannedLine | None:
    """The capture line ``buf[start:end]`` (without its ``\\n``), if it holds a received plain chunk inline
    whose data is base64, as the writer writes it; None otherwise (the caller parses the line whole).

    What it finds is what the whole-line reader and :func:`scan_chunk_text` would find: the line less its
    base64 must parse, with ``t``, ``conn`` and ``dir`` as the reader wants them, and the frame's text is the
    same span the reader takes (after the first ``,"json":``, up to the line's final brace)."""
    at = buf.find(_OPEN, start, end)
    if at < 0:
        return None
    data_start = at + len(_OPEN)
    data_end = buf.find(b'"', data_start, end)
    if data_end < 0:
        return None
    # Valid base64 is plain JSON string content, so the line less it parses exactly when the line does.
    nbytes = base64_size(buf[data_start:data_end])
    if nbytes is None:
        return None
    last = end - 1
    if last > start and buf[last] == 13:  # a CRLF line
        last -= 1
    inline = buf.find(_INLINE, start, at)
    if buf[last] != 125 or inline < 0:
        return None
    # The reader's frame text: after the first ',"json":', up to the line's final brace. The members before
    # it, closed, must make an object: then ',"json":' is at the top level and the text is the last member.
    head = _parse(buf[start:inline] + b"}")
    if type(head) is not dict or "frame" in head or "meta" in head:
        return None
    try:
        t, conn, direction = line_fields(head)
    except ValueError:
        return None
    text = buf[inline + len(_INLINE) : data_start] + buf[data_end:last]
    if direction is not Direction.RECV or text.count(b'"data"') != 1:
        return None
    fields = plain_chunk_fields(_parse(text))
    if fields is None:
        return None
    digest = chunk_digest(text, buf, data_start, data_end)
    return ScannedLine(t, conn, fields[0], fields[1], data_start, data_end, nbytes, digest)
