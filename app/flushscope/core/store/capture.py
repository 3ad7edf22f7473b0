"""Capture files: a session's frames as JSON Lines, written as they happen and read back as untrusted input.

Format, version 1. UTF-8, one JSON object a line, each line ending with ``\\n``:

- line 1, the header::

    {"format": "flushscope-capture", "version": 1, "app": "flushscope 0.1.0",
     "started": "2026-01-12T10:20:30.123456Z", "target": "wss://host/path?api_key=REDACTED", "note": "..."}

  ``note`` is optional; readers keep header fields they do not know.
- then one line a frame: ``{"t": 1.234567, "conn": 0, "dir": "send", "frame": "<text verbatim>"}``. ``t`` is
  seconds since the start (monotonic, written to the microsecond), ``conn`` the connection number, ``dir``
  ``send``, ``recv`` or ``meta``. A ``meta`` frame whose text is a compact JSON object (what
  :func:`flushscope.core.frames.meta_text` makes) is written as that object, ``"meta": {...}``, so the file
  stays readable; any other meta text is written as ``"frame"`` so that it reads back exactly as it was.
- a frame the caller knows to be one line of valid JSON may be written inline instead, as the last member:
  ``{"t": ..., "conn": ..., "dir": "recv", "json": <the text verbatim>}``. Escaping a 20 KB audio frame into a
  JSON string costs more than parsing it; inline it costs a copy. Readers take the text back as the exact
  characters after ``"json":``, so it stays verbatim.

Each line goes to the file in one unbuffered write: a crash loses at most the line being written, and the
reader loads such a file up to its last whole line, with a warning. A bad line elsewhere (not JSON, a field
of the wrong kind) is left out with a warning that names its line; every other line still loads.

The file is also the session's store (:mod:`flushscope.core.store.frame_store`): :meth:`CaptureWriter.write` says
where each line went, and where a chunk's base64 lies inside it, so that the model keeps offsets instead of
the audio.

Secrets: the target URL loses its credentials (:func:`redact_url`), and every known secret string the
writer is given (at creation, or later with :meth:`CaptureWriter.add_secrets`) is replaced by ``REDACTED``
wherever it appears, in the header and in every later frame, also in its JSON-escaped and URL-encoded
spellings. A frame that carried a secret is therefore not stored verbatim;
that is the point.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, NamedTuple
from urllib.parse import quote, quote_plus, unquote_plus

import flushscope
from flushscope.core.frames import Direction, Frame
from flushscope.protocol.messages import json_kind

__all__ = [
    "FORMAT",
    "MAX_HEADER_BYTES",
    "REDACTED",
    "VERSION",
    "CaptureError",
    "CaptureHeader",
    "CaptureReader",
    "CaptureWriter",
    "LineProblems",
    "LoadedCapture",
    "Written",
    "frame_line",
    "line_fields",
    "line_text",
    "open_capture",
    "parse_header",
    "parse_line",
    "read_capture",
    "read_capture_text",
    "redact_text",
    "redact_url",
]

FORMAT: Final = "flushscope-capture"
VERSION: Final = 1
REDACTED: Final = "REDACTED"

# Shorter strings would blank out ordinary words and numbers all over a capture.
_MIN_SECRET_LEN: Final = 4
# A header is small; a first "line" longer than this is some other kind of file, and reading it whole
# could take gigabytes.
MAX_HEADER_BYTES: Final = 1 << 20

_SECRET_NAME = re.compile(r"key|token|secret|auth", re.IGNORECASE)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_COMPACT: Final = (",", ":")
# Written only by the writer, after "t", "conn" and "dir", none of which can contain it.
_INLINE: Final = ',"json":'


# The C string encoder behind json.dumps(s, ensure_ascii=False), without the per-call encoder set-up, which
# costs as much as escaping a short frame.
_encode_str: Callable[[str], str] = encode_basestring


# --- secrets ------------------------------------------------------------------------------------------


def redact_url(url: str) -> str:
    """``url`` with its secrets replaced by ``REDACTED`` and everything else left exactly as it was.

    Secrets are the user information of the authority (``user:password@``, often a token) and the values of
    query and fragment parameters whose decoded name contains ``key``, ``token``, ``secret`` or ``auth`` in
    any case (``api_key``, ``access_token``, ``X-Auth``, ...). Works on strings that do not parse as URLs.
    """
    rest = url
    head = ""
    if scheme := _SCHEME.match(url):
        end = scheme.end()
        authority_end = len(url)
        for stop in "/?#":
            found = url.find(stop, end)
            if found != -1:
                authority_end = min(authority_end, found)
        authority = url[end:authority_end]
        at = authority.rfind("@")
        if at != -1:
            authority = f"{REDACTED}@{authority[at + 1 :]}"
        head = url[:end] + authority
        rest = url[authority_end:]
    fragment = ""
    hash_at = rest.find("#")
    if hash_at != -1:
        rest, fragment = rest[:hash_at], "#" + _redact_params(rest[hash_at + 1 :])
    query_at = rest.find("?")
    if query_at != -1:
        rest = rest[: query_at + 1] + _redact_params(rest[query_at + 1 :])
    return head + rest + fragment


def _redact_params(params: str) -> str:
    pairs = params.split("&")
    for i, pair in enumerate(pairs):
        name, eq, _value = pair.partition("=")
        if eq and _SECRET_NAME.search(unquote_plus(name)):
            pairs[i] = f"{name}={REDACTED}"
    return "&".join(pairs)


def redact_text(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each secret of at least four characters replaced by ``REDACTED``, longest first."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text


def _secret_spellings(secrets: Iterable[str]) -> tuple[str, ...]:
    """Every way a secret can appear inside a frame: as is, escaped inside a JSON string, URL-encoded."""
    spellings: set[str] = set()
    for secret in secrets:
        if len(secret) < _MIN_SECRET_LEN:
            continue
        spellings.update(
            (
                secret,
                _encode_str(secret)[1:-1],
                json.dumps(secret)[1:-1],
                quote(secret, safe=""),
                quote_plus(secret, safe=""),
            )
        )
    return tuple(sorted(spellings, key=len, reverse=True))


# --- writing ------------------------------------------------------------------------------------------


def _utc_iso(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


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


def _encode_line(line: str) -> bytes:
    try:
        return line.encode("utf-8")
    except UnicodeEncodeError:
        # Only lone surrogates fail, and they can only be inside JSON strings, where backslashreplace
        # spells them as the \\uXXXX escape that reads back as the same code point.
        return line.encode("utf-8", "backslashreplace")


class Written(NamedTuple):
    """Where :meth:`CaptureWriter.write` put a frame's line."""

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

    ``strict``: ValueError for a time that is not finite or a negative connection, which a capture file
    cannot hold. Lines kept in memory are not strict: their time and connection are kept beside them."""
    t = frame.t
    if not math.isfinite(t):
        if strict:
            raise ValueError(f"frame time must be finite, not {t!r}")
        t = 0.0
    if frame.conn < 0 and strict:
        raise ValueError(f"connection number must not be negative, not {frame.conn!r}")
    head = f'{{"t":{t:.6f},"conn":{frame.conn:d},"dir":"{frame.dir.value}",'
    inline = False
    if frame.dir is Direction.META and _meta_object_text(text):
        line = f'{head}"meta":{text}}}\n'
    elif valid_json and "\n" not in text and "\r" not in text:
        line = f'{head}"json":{text}}}\n'
        inline = True
    else:
        line = f'{head}"frame":{_encode_str(text)}}}\n'
    data = _encode_line(line)
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
        self._secrets: tuple[str, ...] = tuple(secrets)
        self._spellings = _secret_spellings(self._secrets)
        self._frames_written = 0
        self._offset = 0
        header: dict[str, Any] = {
            "format": FORMAT,
            "version": VERSION,
            "app": f"flushscope {flushscope.__version__}",
            "started": _utc_iso(started if started is not None else datetime.now(UTC)),
            "target": self._redact(redact_url(target)),
        }
        if note is not None:
            header["note"] = self._redact(note)
        self._file: IO[bytes] | None = open(self._path, "wb" if overwrite else "xb", buffering=0)  # noqa: SIM115
        try:
            self._write_bytes(_encode_line(json.dumps(header, ensure_ascii=False) + "\n"))
        except BaseException:
            self.close()
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
        known = set(self._secrets)
        fresh = {s for s in secrets if len(s) >= _MIN_SECRET_LEN} - known
        if fresh:
            self._secrets = (*self._secrets, *sorted(fresh))
            self._spellings = _secret_spellings(self._secrets)

    def _redact(self, text: str) -> str:
        for spelling in self._spellings:
            if spelling in text:
                text = text.replace(spelling, REDACTED)
        return text

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
        text = self._redact(frame.text) if self._spellings else frame.text
        data, found = frame_line(frame, text, valid_json=valid_json, span=span)
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


# --- reading ------------------------------------------------------------------------------------------


class CaptureError(Exception):
    """A file that is not a usable capture. ``line`` is 1-based, or None when the file could not be read."""

    def __init__(self, name: str, line: int | None, problem: str) -> None:
        where = f"{name}, line {line}" if line is not None else name
        super().__init__(f"{where}: {problem}")
        self.name = name
        self.line = line
        self.problem = problem


@dataclass(slots=True)
class CaptureHeader:
    """The first line of a capture. ``extra`` keeps the fields this version does not define."""

    format: str
    version: int
    app: str
    started: str
    target: str
    note: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def started_at(self) -> datetime | None:
        """``started`` as an aware datetime, or None if it is not an ISO-8601 time."""
        try:
            moment = datetime.fromisoformat(self.started)
        except ValueError:
            return None
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(slots=True)
class LoadedCapture:
    """A whole capture in memory: frames numbered 0..n-1 in file order, and what the reader forgave."""

    header: CaptureHeader
    frames: list[Frame]
    warnings: list[str] = field(default_factory=list)


_DIRECTIONS: Final[dict[str, Direction]] = {d.value: d for d in Direction}
_HEADER_FIELDS: Final = ("format", "version", "app", "started", "target", "note")


def _is_complete(raw: bytes | str) -> bool:
    return raw.endswith(b"\n") if isinstance(raw, bytes) else raw.endswith("\n")


def parse_header(raw: bytes | str | None, name: str, warnings: list[str]) -> CaptureHeader:
    """The header line of a capture; :class:`CaptureError` (line 1) if it is not one."""
    if not raw:
        raise CaptureError(name, 1, "the file is empty: not a flushscope capture")
    if not _is_complete(raw) and len(raw) >= MAX_HEADER_BYTES:
        raise CaptureError(
            name, 1, "the first line is far too long for a capture header: not a flushscope capture"
        )
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        obj = json.loads(text.removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise CaptureError(name, 1, "not UTF-8 text: not a flushscope capture") from None
    except (ValueError, RecursionError):
        raise CaptureError(name, 1, "not a JSON header: not a flushscope capture") from None
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CaptureError(name, 1, f'the header has no "format": "{FORMAT}": not a flushscope capture')
    version = obj.get("version")
    if type(version) is not int:
        raise CaptureError(name, 1, f"the header's version must be an integer, not {json_kind(version)}")
    if version > VERSION:
        raise CaptureError(
            name,
            1,
            f"capture version {version} is newer than this flushscope reads ({VERSION}); update flushscope",
        )
    if version < 1:
        raise CaptureError(name, 1, f"unknown capture version {version}")
    values: dict[str, str] = {}
    for key in ("app", "started", "target"):
        value = obj.get(key)
        if value is None:
            warnings.append(f"the header has no {key!r}")
            value = ""
        elif not isinstance(value, str):
            raise CaptureError(name, 1, f"the header's {key!r} must be a string, not {json_kind(value)}")
        values[key] = value
    note = obj.get("note")
    if note is not None and not isinstance(note, str):
        raise CaptureError(name, 1, f"the header's 'note' must be a string, not {json_kind(note)}")
    return CaptureHeader(
        format=FORMAT,
        version=version,
        app=values["app"],
        started=values["started"],
        target=values["target"],
        note=note,
        extra={k: v for k, v in obj.items() if k not in _HEADER_FIELDS},
    )


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
    if not math.isfinite(t):
        raise _BadLine(f'"t" must be a finite number, not {t!r}')
    conn = obj.get("conn")
    if type(conn) is not int or conn < 0:
        shown = conn if type(conn) is int else json_kind(conn)
        raise _BadLine(f'"conn" must be a non-negative integer, not {shown}')
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
        raise CaptureError(name, lineno, f"not JSON: {exc.msg} at column {exc.colno}") from None
    except (ValueError, RecursionError):
        raise CaptureError(name, lineno, "not JSON: nested too deeply or a number too long") from None
    try:
        t, conn, direction = line_fields(obj)
        return t, conn, direction, line_text(obj, raw, direction)
    except _BadLine as exc:
        raise CaptureError(name, lineno, str(exc)) from None


class LineProblems:
    """The warnings of a reader about bad lines: each named with its line number, the first
    :attr:`SHOWN` in full and the rest counted, so that a file of garbage does not make a book of them."""

    SHOWN: Final = 20

    def __init__(self, warnings: list[str]) -> None:
        self._warnings = warnings
        self.count = 0
        self._summary: int | None = None

    def bad(self, error: CaptureError) -> None:
        """A bad whole line, left out."""
        self.count += 1
        if self.count <= self.SHOWN:
            self._warnings.append(f"line {error.line}: {error.problem}; the line is left out")
            return
        more = f"{self.count - self.SHOWN} more bad lines are left out"
        if self._summary is None:
            self._summary = len(self._warnings)
            self._warnings.append(more)
        else:
            self._warnings[self._summary] = more

    def cut_off(self, lineno: int, frames: int) -> None:
        """The last line is incomplete: the recording was cut off, or is still being written."""
        self._warnings.append(
            f"line {lineno} is incomplete (the recording was cut off); loaded {frames} frames"
        )


def _is_blank(raw: bytes | str) -> bool:
    return not raw.strip()


def _frames(lines: Iterator[bytes | str], name: str, warnings: list[str]) -> Iterator[Frame]:
    """Parse the frame lines (the header already taken from ``lines``); bad lines are left out with a
    warning naming them."""
    problems = LineProblems(warnings)
    index = 0
    for lineno, raw in enumerate(lines, 2):
        try:
            t, conn, direction, text = parse_line(raw, name, lineno)
        except CaptureError as exc:
            if _is_blank(raw):
                continue
            if not _is_complete(raw):
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
        self, lines: Iterator[bytes | str], name: str, close: Callable[[], None] | None = None
    ) -> None:
        self.name = name
        self.warnings: list[str] = []
        self._close = close
        try:
            self.header = parse_header(next(lines, None), name, self.warnings)
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


def _file_lines(file: IO[bytes], name: str) -> Iterator[bytes]:
    try:
        yield file.readline(MAX_HEADER_BYTES)
        yield from file
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


def _text_lines(text: str) -> Iterator[str]:
    # Only "\n" ends a line: str.splitlines() would also split on characters JSON allows raw in strings.
    start = 0
    while (end := text.find("\n", start)) != -1:
        yield text[start : end + 1]
        start = end + 1
    if start < len(text):
        yield text[start:]


def read_capture_text(text: str, name: str = "<text>") -> LoadedCapture:
    """Load a capture held in a string, under the same rules as a file."""
    reader = CaptureReader(_text_lines(text), name)
    frames = list(reader)
    return LoadedCapture(reader.header, frames, reader.warnings)
