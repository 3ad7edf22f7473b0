"""A HAR file read as a stream: the small members of its ``log`` first, then its entries one at a time.

A browser's HAR of a long session holds hundreds of thousands of entries (every request of every page), of
which a TTS WebSocket is one or two. Read whole, it takes ten times its size in memory; read here, with
ijson's C parser (yajl) behind :class:`~flushscope.core.formats.json_stream.BoundedJSON`, memory holds one
entry at a time, and no string over the limit.

Three passes over the file, each cheap where it is not needed:

1. **The head**, event by event, up to where ``log.entries`` opens: ``log.creator`` and ``log._flushscope``
   when they come first (browsers write ``creator`` first; flushscope writes both first), and the checks
   that this is a HAR file at all.
2. **The entries**, built one at a time in C.
3. **The tail**, only when the entries' pass saw one of those two members after the entries (files written
   by older versions of flushscope): that member alone.

A file that is not JSON is refused with what the parser says, near which byte; one small enough to hold
(at most :data:`~flushscope.core.formats.json_stream.MAX_STRING_BYTES`) is then read whole with Python's
``json``, which names the line and column, or reads what yajl cannot (integers beyond 64 bits, lone
surrogates). A file cut off (or broken) after some entries keeps them, with a warning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import IO, Any, Final

import ijson

from flushscope.core.formats.json_stream import MAX_STRING_BYTES, BoundedJSON
from flushscope.core.store.line_format import CaptureError
from flushscope.protocol.messages import json_kind

try:
    # Named here, not chosen at run time by ijson, so that a bundle carries the C backend.
    import ijson.backends.yajl2_c as _parser
except ImportError:  # pragma: no cover - a platform without the wheel's C extension
    import ijson.backends.python as _parser

__all__ = ["HAR_MEMBERS", "ReadWhole", "har_parts", "read_whole"]

#: The members of ``log`` besides its entries that the reader uses.
HAR_MEMBERS: Final = ("creator", "_flushscope")
_MARKERS: Final = {member: f'"{member}"'.encode() for member in HAR_MEMBERS}
_SCALARS: Final = frozenset({"null", "boolean", "integer", "double", "number", "string"})
# What the parsers raise for a document that is not (usable) JSON: ijson's own errors, and ValueError for a
# string that is not UTF-8, a number too long, nesting too deep (json_stream).
_NOT_JSON: Final = (ijson.JSONError, ValueError, OverflowError)


class ReadWhole(Exception):
    """The streaming parser failed on a file small enough to read whole, and Python's json read it:
    ``document`` is the file's content, to load instead."""

    def __init__(self, document: object) -> None:
        super().__init__("read whole")
        self.document = document


def har_parts(file: IO[bytes], name: str) -> tuple[dict[str, Any], Iterator[object], list[str]]:
    """The ``log`` members of :data:`HAR_MEMBERS` that were found (those after the entries are added once
    the entries are all read), the entries, and the warnings of the reading (filled as it goes).

    :class:`CaptureError` when the file is not a HAR file; :class:`ReadWhole` (from this call or while the
    entries are read) when the stream failed on a small file that Python's json reads."""
    log = _head(file, name)
    warnings: list[str] = []
    return log, _entries(file, name, log, warnings), warnings


def _head(file: IO[bytes], name: str) -> dict[str, Any]:
    stream = BoundedJSON(file)
    events = _parser.parse(stream, use_float=True)
    log: dict[str, Any] = {}
    try:
        first = next(events, None)
        if first is None or first[1] != "start_map":
            raise CaptureError(name, None, 'not a HAR file: no "log" object at the top')
        seen_log = False
        for prefix, event, value in events:
            if prefix == "log" and not seen_log:
                if event != "start_map":
                    raise CaptureError(name, None, 'not a HAR file: no "log" object at the top')
                seen_log = True
            elif prefix == "log.entries":
                if event == "start_array":
                    return log
                kind = "an object" if event == "start_map" else json_kind(value)
                raise CaptureError(name, None, f'not a HAR file: "log.entries" must be a list, not {kind}')
            elif prefix in ("log.creator", "log._flushscope") and event != "map_key":
                log[prefix[4:]] = value if event in _SCALARS else _build(event, events)
    except _NOT_JSON as exc:
        raise _not_json(file, name, exc, stream.consumed) from None
    if not seen_log:
        raise CaptureError(name, None, 'not a HAR file: no "log" object at the top')
    raise CaptureError(name, None, 'not a HAR file: "log.entries" must be a list, not null')


def _build(event: str, events: Iterator[tuple[str, str, Any]]) -> Any:
    """The object or array that ``event`` opened, built from the events that follow, up to its end."""
    builder = ijson.ObjectBuilder()
    builder.event(event, None)
    depth = 1
    for _, inner, value in events:
        builder.event(inner, value)
        if inner in ("start_map", "start_array"):
            depth += 1
        elif inner in ("end_map", "end_array"):
            depth -= 1
            if not depth:
                break
    return builder.value


def _entries(file: IO[bytes], name: str, log: dict[str, Any], warnings: list[str]) -> Iterator[object]:
    file.seek(0)
    stream = BoundedJSON(file, markers=tuple(_MARKERS.values()))
    count = 0
    try:
        for entry in _parser.items(stream, "log.entries.item", use_float=True):
            count += 1
            yield entry
    except _NOT_JSON as exc:
        if not count:
            raise _not_json(file, name, exc, stream.consumed) from None
        small = _small(file)
        if small is not None:
            raise ReadWhole(small) from None
        warnings.append(
            f"the file is cut off or broken after entry {count} ({_first_line(exc)} near byte "
            f"{stream.consumed}): the rest is left out"
        )
    for member, marker in _MARKERS.items():
        if member not in log and marker in stream.seen:
            log.update(_member(file, member))


def _member(file: IO[bytes], member: str) -> dict[str, Any]:
    """``log.<member>`` read on its own (empty if it is not there, or cannot be read)."""
    file.seek(0)
    try:
        for value in _parser.items(BoundedJSON(file), f"log.{member}", use_float=True):
            return {member: value}
    except _NOT_JSON:
        pass
    return {}


def _first_line(exc: BaseException) -> str:
    # yajl's messages go on with the text around the error, over several lines.
    text = str(exc).strip().splitlines()
    return text[0].removeprefix("b'") if text else type(exc).__name__


def _small(file: IO[bytes]) -> object | None:
    """The whole file read with Python's json, if it is small enough to hold and json reads it."""
    if os.fstat(file.fileno()).st_size > MAX_STRING_BYTES:
        return None
    try:
        return read_whole(file, "")
    except CaptureError:
        return None


def read_whole(file: IO[bytes], name: str) -> object:
    """The whole (small) file as a JSON document; :class:`CaptureError` saying where it is not JSON."""
    file.seek(0)
    data = file.read(MAX_STRING_BYTES + 1)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise CaptureError(name, None, "not UTF-8 text: not a HAR file") from None
    except json.JSONDecodeError as exc:
        where = f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
        raise CaptureError(name, exc.lineno, f"not JSON ({where}): not a HAR file") from None
    except (ValueError, RecursionError) as exc:
        raise CaptureError(name, None, f"not JSON ({exc or 'nested too deeply'}): not a HAR file") from None


def _not_json(file: IO[bytes], name: str, exc: BaseException, consumed: int) -> Exception:
    """What to raise for a file the stream could not read: the whole file, read by Python's json when it
    is small (:class:`ReadWhole`, or json's own words); the parser's words otherwise."""
    if os.fstat(file.fileno()).st_size <= MAX_STRING_BYTES:
        try:
            return ReadWhole(read_whole(file, name))
        except CaptureError as error:
            return error
    return CaptureError(name, None, f"not JSON ({_first_line(exc)} near byte {consumed}): not a HAR file")
