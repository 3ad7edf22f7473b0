"""HAR files (HTTP Archive 1.2) in and out: a browser's export of a TTS WebSocket, or a capture to share.

Reading: every entry whose request URL's path ends in ``/tts/websocket`` and that carries a
``_webSocketMessages`` list (Chromium-based browsers and Firefox write it) becomes one connection, numbered
1, 2, ... in file order. Its messages become frames: ``type`` ``send`` or ``receive``, ``time`` in seconds
since the epoch (milliseconds are recognised by their size), ``opcode`` 1 text (the frame's text is
``data``) or 2 binary (a ``binary`` meta event with the size of the base64-decoded ``data``). Other entries
and other opcodes are left out. Frame times count from the earliest time among the connections read.

Secrets: every value of a request header or query parameter whose name holds ``key``, ``token``,
``secret``, ``auth`` or ``cookie``, and the user information of every URL, is replaced by ``REDACTED``
in everything read: URLs, labels and frame texts. The file is untrusted input: anything unusable is a
:class:`~flushscope.core.store.line_format.CaptureError` naming the entry and message.

Writing: one entry per connection of a capture, with its text frames as ``_webSocketMessages`` and
flushscope's own fields beside them (``_flushscopeMeta`` per entry for the meta events, ``_frame`` on every
message and meta event for the capture's order, ``_flushscope`` on the log for the capture's header), so
that a capture written as HAR and read back rebuilds the same session. docs/HAR.md lists every field.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import flushscope
from flushscope.core.formats.har_stream import ReadWhole, har_parts
from flushscope.core.formats.json_stream import overlong_size
from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.shown_text import quoted
from flushscope.core.store.capture_header import FORMAT, VERSION, CaptureHeader
from flushscope.core.store.capture_reader import LineProblems, LoadedCapture
from flushscope.core.store.line_format import MAX_SECONDS, CaptureError
from flushscope.core.store.redaction import redact_text, redact_url
from flushscope.core.store.whole_file import written_whole
from flushscope.protocol.messages import json_kind

__all__ = ["HAR_VERSION", "TTS_PATH", "load_har", "read_har", "write_har"]

HAR_VERSION: Final = "1.2"
TTS_PATH: Final = "/tts/websocket"

_SECRET_NAME = re.compile(r"key|token|secret|auth|cookie", re.IGNORECASE)
_COMPACT: Final = (",", ":")
# Epoch seconds stay below this until the year 5138; epoch milliseconds are far above it.
_MILLISECONDS_ABOVE: Final = 1e11
# The first and last seconds a date can name (years 1 and 9999), in epoch seconds.
_EARLIEST: Final = -62135596800.0
_LATEST: Final = 253402300799.0
_MESSAGE_TYPES: Final = {"send": Direction.SEND, "receive": Direction.RECV}
_TEXT, _BINARY = 1, 2
_LONE_SURROGATE: Final = re.compile("[\ud800-\udfff]")


# --- reading --------------------------------------------------------------------------------------------


@dataclass
class _Event:
    """A frame before the connections are merged: its epoch time and where it sorts."""

    time: float
    order: tuple[int, int, int]
    conn: int
    direction: Direction
    text: str
    #: The entry (and message) it came from, for a warning.
    where: str


def read_har(path: str | os.PathLike[str]) -> LoadedCapture:
    """Load the TTS WebSockets of a HAR file as a capture; :class:`CaptureError` if it is not usable.

    The file is read as a stream (:func:`~flushscope.core.formats.har_stream.har_parts`): memory grows with
    the TTS frames kept, not with the entries or the file's size, and no string over the limit is held."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            try:
                head, entries, problems = har_parts(file, name)
                loaded = _load(head, entries, name)
            except ReadWhole as whole:
                return load_har(whole.document, name)
    except OSError as exc:
        raise CaptureError(name, None, f"cannot read: {exc.strerror or exc}") from None
    loaded.warnings.extend(problems)
    return loaded


def load_har(document: object, name: str = "<har>") -> LoadedCapture:
    """The TTS WebSockets of a parsed HAR document, as a capture."""
    log = document.get("log") if isinstance(document, dict) else None
    if not isinstance(log, dict):
        raise CaptureError(name, None, 'not a HAR file: no "log" object at the top')
    entries = log.get("entries")
    if not isinstance(entries, list):
        raise CaptureError(
            name, None, f'not a HAR file: "log.entries" must be a list, not {json_kind(entries)}'
        )
    return _load(log, iter(entries), name)


def _load(log: dict[str, Any], entries: Iterator[object], name: str) -> LoadedCapture:
    """The capture of a HAR's ``log`` members (``creator``, ``_flushscope``) and its entries, given one at
    a time: an entry that is not a TTS WebSocket is dropped as soon as its credentials are noted."""
    warnings: list[str] = []
    problems = LineProblems(warnings, "bad entries or messages")
    found: set[str] = set()
    kept: list[tuple[int, dict[str, Any], str]] = []
    for number, entry in enumerate(entries, 1):
        if not isinstance(entry, dict):
            problems.left_out(f"entry {number}: not an object but {json_kind(entry)}; left out")
            continue
        _entry_secrets(entry, found)
        url = _entry_url(entry)
        messages = entry.get("_webSocketMessages")
        if url is None or messages is None or not _is_tts(url):
            continue
        if not isinstance(messages, list):
            problems.left_out(
                f'entry {number}: "_webSocketMessages" is {json_kind(messages)}, not a list; left out'
            )
            continue
        kept.append((number, entry, url))
    # Every entry's credentials are known only now: redacted from every connection, the earlier ones too.
    secrets = {s for s in found if s}
    events: list[_Event] = []
    urls: list[str] = []
    for conn, (number, entry, url) in enumerate(kept, 1):
        shown = redact_text(redact_url(url), secrets)
        urls.append(shown)
        events.extend(_entry_events(entry, conn, number, shown, secrets, problems))
        events.extend(_message_events(entry["_webSocketMessages"], conn, number, secrets, problems))
    kept.clear()
    stored = log.get("_flushscope")
    stored = stored if isinstance(stored, dict) else {}
    if not urls:
        warnings.append("the HAR file holds no TTS WebSocket (no entry on /tts/websocket with messages)")
    origin = _origin(stored, events)
    # A file this module wrote numbers every frame; any other is ordered by time, then by file order.
    if events and all(e.order[0] >= 0 for e in events):
        events.sort(key=lambda e: e.order[0])
    else:
        events.sort(key=lambda e: (e.time, e.order[1], e.order[2]))
    frames: list[Frame] = []
    for event in events:
        t = round(event.time - origin, 6)
        if not -MAX_SECONDS <= t <= MAX_SECONDS:
            problems.left_out(
                f"{event.where}: its time is {t:.3g} s from the start, beyond any session; left out"
            )
            continue
        frames.append(Frame(len(frames), t, event.conn, event.direction, event.text))
    header = _header(log, stored, origin, urls, name, secrets)
    return LoadedCapture(header, frames, warnings)


def _entry_url(entry: dict[str, Any]) -> str | None:
    request = entry.get("request")
    url = request.get("url") if isinstance(request, dict) else None
    return url if isinstance(url, str) else None


def _is_tts(url: str) -> bool:
    return urlsplit(url).path.rstrip("/").endswith(TTS_PATH)


def _entry_secrets(entry: dict[str, Any], found: set[str]) -> None:
    """Add every credential an entry's request carries to ``found``: secret-named header and query values,
    URL user info."""
    request = entry.get("request")
    if not isinstance(request, dict):
        return
    url = request.get("url")
    # Most of a browser's requests carry neither user info nor a query: no need to take them apart.
    if isinstance(url, str) and ("@" in url or "?" in url):
        parts = urlsplit(url)
        if "@" in parts.netloc:
            info = parts.netloc.rpartition("@")[0]
            found.update((info, *info.split(":", 1)))
        for key, value in parse_qsl(parts.query, keep_blank_values=True):
            if _SECRET_NAME.search(key):
                found.add(value)
        for pair in parts.query.split("&"):
            key, _, raw = pair.partition("=")
            if _SECRET_NAME.search(unquote_plus(key)):
                found.add(raw)
    for field_name in ("headers", "queryString", "cookies"):
        items = request.get(field_name)
        for item in items if isinstance(items, list) else ():
            if not isinstance(item, dict):
                continue
            item_name, item_value = item.get("name"), item.get("value")
            if (
                isinstance(item_name, str)
                and isinstance(item_value, str)
                and (field_name == "cookies" or _SECRET_NAME.search(item_name))
            ):
                found.add(item_value.strip())
                scheme, _, token = item_value.strip().partition(" ")
                if token and scheme.isalpha():
                    found.add(token.strip())


def _entry_events(
    entry: dict[str, Any], conn: int, number: int, url: str, secrets: set[str], problems: LineProblems
) -> list[_Event]:
    """The connection's meta events: flushscope's own when it wrote them, else connect (and open)."""
    where = f"entry {number}"
    stored = entry.get("_flushscopeMeta")
    if isinstance(stored, list):
        events = []
        for position, item in enumerate(stored):
            at = f"{where}, meta event {position + 1}"
            if not isinstance(item, dict):
                problems.left_out(f"{at}: not an object but {json_kind(item)}; left out")
                continue
            time = _time(item.get("time"))
            meta, text = item.get("meta"), item.get("text")
            if isinstance(meta, dict):
                text = _compact(meta)
            if time is None or not isinstance(text, str) or overlong_size(text) is not None:
                problems.left_out(f"{at}: {_meta_problem(time, meta, text)}; left out")
                continue
            order = item.get("_frame")
            index = order if type(order) is int and order >= 0 else -1
            events.append(
                _Event(time, (index, number, -1), conn, Direction.META, redact_text(text, secrets), at)
            )
        return events
    started = _started(entry)
    if started is None:
        messages = entry.get("_webSocketMessages") or []
        times = [_time(m.get("time")) for m in messages if isinstance(m, dict)]
        numbers = [t for t in times if t is not None]
        started = min(numbers) if numbers else 0.0
        problems.note(f"{where} has no usable startedDateTime; its connection starts at its first message")
    fields: dict[str, Any] = {"url": url}
    label = _user_agent(entry)
    if label is not None:
        fields["client"] = redact_text(label, secrets)
    events = [_Event(started, (-1, number, -2), conn, Direction.META, meta_text("connect", **fields), where)]
    response = entry.get("response")
    status = response.get("status") if isinstance(response, dict) else None
    if status == 101:
        events.append(_Event(started, (-1, number, -1), conn, Direction.META, meta_text("open"), where))
    elif type(status) is int and 0 < status < 1000:
        error = meta_text("error", message=f"HTTP {status}", status=status)
        events.append(_Event(started, (-1, number, -1), conn, Direction.META, error, where))
    return events


def _compact(meta: dict[str, Any]) -> str | None:
    try:
        return json.dumps(meta, separators=_COMPACT, ensure_ascii=False)
    except (ValueError, RecursionError):
        return None


def _meta_problem(time: float | None, meta: object, text: object) -> str:
    if time is None:
        return '"time" is not a number of seconds since the epoch'
    size = overlong_size(text)
    if size is not None:
        return f"{size} bytes, longer than any frame"
    if meta is not None:
        return '"meta" is not an object that can be written back as JSON'
    return 'it needs "meta" or "text"'


def _message_events(
    messages: list[Any], conn: int, number: int, secrets: set[str], problems: LineProblems
) -> Iterator[_Event]:
    skipped: dict[str, int] = {}
    for position, message in enumerate(messages):
        where = f"entry {number}, message {position + 1}"
        if not isinstance(message, dict):
            problems.left_out(f"{where}: not an object but {json_kind(message)}; left out")
            continue
        kind = message.get("type")
        direction = _MESSAGE_TYPES.get(kind) if isinstance(kind, str) else None
        opcode = message.get("opcode")
        if direction is None or opcode not in (_TEXT, _BINARY):
            what = f"type {_short(kind)}" if direction is None else f"opcode {_short(opcode)}"
            skipped[what] = skipped.get(what, 0) + 1
            continue
        time = _time(message.get("time"))
        data = message.get("data")
        size = overlong_size(data)
        if time is None or not isinstance(data, str) or size is not None:
            if time is None:
                problem = '"time" is not a number of seconds since the epoch'
            elif size is not None:
                problem = f'"data" is {size} bytes, longer than any frame'
            else:
                problem = f'"data" is {json_kind(data)}, not a string'
            problems.left_out(f"{where}: {problem}; left out")
            continue
        order = message.get("_frame")
        index = order if type(order) is int and order >= 0 else -1
        if opcode == _TEXT:
            text = redact_text(data, secrets)
        else:
            try:
                nbytes = len(base64.b64decode(data, validate=True))
            except (binascii.Error, ValueError):
                nbytes = len(data.encode("utf-8", "surrogatepass"))
            text = meta_text("binary", dir=direction.value, bytes=nbytes)
            direction = Direction.META
        yield _Event(time, (index, number, position), conn, direction, text, where)
    for what, count in skipped.items():
        problems.note(f"entry {number}: left out {count} message(s) with {what}")


def _short(value: object) -> str:
    """A value of the file in a warning: quoted, escaped and cut short."""
    if isinstance(value, str):
        return quoted(value, 40)
    shown = repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else ""
    return shown if 0 < len(shown) <= 40 else json_kind(value)


def _seconds(value: float) -> float:
    return value / 1000.0 if value > _MILLISECONDS_ABOVE else float(value)


def _epoch(value: object) -> float | None:
    """``value`` as epoch seconds, if it is a number of seconds that a date can name."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if _EARLIEST <= value <= _LATEST else None


def _time(value: object) -> float | None:
    """A message's ``time`` in epoch seconds (seconds, or milliseconds recognised by their size); None if it
    is not a number or names no date."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return _epoch(_seconds(value)) if abs(value) < -_EARLIEST * 1e4 else None


def _started(entry: dict[str, Any]) -> float | None:
    value = entry.get("startedDateTime")
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _user_agent(entry: dict[str, Any]) -> str | None:
    request = entry.get("request")
    headers = request.get("headers") if isinstance(request, dict) else None
    for item in headers if isinstance(headers, list) else ():
        if isinstance(item, dict) and str(item.get("name", "")).lower() == "user-agent":
            value = item.get("value")
            return value if isinstance(value, str) else None
    return None


def _origin(stored: dict[str, Any], events: list[_Event]) -> float:
    epoch = _epoch(stored.get("epoch"))
    if epoch is not None:
        return epoch
    return min((e.time for e in events), default=0.0)


def _header(
    log: dict[str, Any], stored: dict[str, Any], origin: float, urls: list[str], name: str, secrets: set[str]
) -> CaptureHeader:
    creator = log.get("creator")
    app = ""
    if isinstance(creator, dict):
        app = " ".join(str(creator.get(k)) for k in ("name", "version") if isinstance(creator.get(k), str))

    def text(key: str, default: str) -> str:
        value = stored.get(key)
        return redact_text(value, secrets) if isinstance(value, str) else default

    started = _iso(origin)
    known = ("format", "version", "app", "started", "target", "note", "epoch")
    extra = {k: v for k, v in stored.items() if k not in known}
    note: str | None = f"imported from the HAR file {Path(name).name}"
    if "note" in stored:
        note = text("note", "") if stored["note"] is not None else None
    return CaptureHeader(
        format=FORMAT,
        version=VERSION,
        app=text("app", app),
        started=text("started", started),
        target=text("target", urls[0] if urls else ""),
        note=note,
        extra={**extra, "source": "har"},
    )


# --- writing --------------------------------------------------------------------------------------------


def _iso(epoch: float) -> str:
    """Epoch seconds as an ISO 8601 UTC time; beyond the dates a time can name, the nearest one."""
    try:
        moment = datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, ValueError, OSError):
        moment = datetime.max.replace(tzinfo=UTC) if epoch > 0 else datetime.min.replace(tzinfo=UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _query_string(url: str) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)]


def _meta_item(frame: Frame, epoch: float) -> dict[str, Any]:
    try:
        value = json.loads(frame.text)
    except (ValueError, RecursionError):
        value = None
    compact = (
        isinstance(value, dict) and json.dumps(value, separators=_COMPACT, ensure_ascii=False) == frame.text
    )
    item: dict[str, Any] = {"time": epoch + frame.t}
    if compact:
        item["meta"] = value
    else:
        item["text"] = frame.text
    item["_frame"] = frame.index
    return item


def _entries(loaded: LoadedCapture, epoch: float) -> Iterable[dict[str, Any]]:
    by_conn: dict[int, list[Frame]] = {}
    for frame in loaded.frames:
        by_conn.setdefault(frame.conn, []).append(frame)
    for conn, frames in by_conn.items():
        metas = [f for f in frames if f.dir is Direction.META]
        events = [f.meta() for f in metas]
        connect = next((e for e in events if e.get("event") == "connect"), {})
        url = connect.get("url")
        url = url if isinstance(url, str) else loaded.header.target
        opened = any(e.get("event") == "open" for e in events)
        headers = (
            [{"name": "User-Agent", "value": connect["client"]}]
            if isinstance(connect.get("client"), str)
            else []
        )
        started = epoch + frames[0].t
        yield {
            "startedDateTime": _iso(started),
            "time": 0,
            "request": {
                "method": "GET",
                "url": url,
                "httpVersion": "HTTP/1.1",
                "cookies": [],
                "headers": headers,
                "queryString": _query_string(url),
                "headersSize": -1,
                "bodySize": 0,
            },
            "response": {
                "status": 101 if opened else 0,
                "statusText": "Switching Protocols" if opened else "",
                "httpVersion": "HTTP/1.1",
                "cookies": [],
                "headers": [],
                "content": {"size": 0, "mimeType": "x-unknown"},
                "redirectURL": "",
                "headersSize": -1,
                "bodySize": 0,
            },
            "cache": {},
            "timings": {
                "blocked": -1,
                "dns": -1,
                "connect": -1,
                "send": 0,
                "wait": 0,
                "receive": 0,
                "ssl": -1,
            },
            "connection": str(conn),
            "_resourceType": "websocket",
            "_webSocketMessages": [
                {
                    "type": "send" if f.dir is Direction.SEND else "receive",
                    "time": epoch + f.t,
                    "opcode": _TEXT,
                    "data": f.text,
                    "_frame": f.index,
                }
                for f in frames
                if f.dir is not Direction.META
            ],
            "_flushscopeMeta": [_meta_item(f, epoch) for f in metas],
        }


def har_document(loaded: LoadedCapture) -> dict[str, Any]:
    """A capture as a HAR document (see the module's docstring)."""
    header = loaded.header
    moment = header.started_at()
    epoch = moment.timestamp() if moment is not None else 0.0
    stored: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "app": header.app,
        "started": header.started,
        "target": header.target,
        "note": header.note,
        "epoch": epoch,
        **{k: v for k, v in header.extra.items() if k != "source"},
    }
    return {
        "log": {
            "version": HAR_VERSION,
            "creator": {"name": "flushscope", "version": flushscope.__version__},
            "pages": [],
            # Before the entries, so that a reader has it without reading them twice.
            "_flushscope": stored,
            "entries": list(_entries(loaded, epoch)),
        }
    }


def write_har(loaded: LoadedCapture, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
    """Write ``loaded`` as a HAR file, whole or not at all (:mod:`~flushscope.core.store.whole_file`); a file
    that exists is kept unless ``overwrite`` (``FileExistsError``)."""
    document = har_document(loaded)
    with (
        written_whole(path, overwrite=overwrite) as temporary,
        open(temporary, "w", encoding="utf-8") as file,
    ):
        _dump(document, file)


def _dump(document: dict[str, Any], file: IO[str]) -> None:
    # A lone surrogate (a capture keeps text verbatim) is no character: no WebSocket can carry it and a HAR
    # reader cannot read it back, so it is written as U+FFFD, the replacement character.
    for piece in json.JSONEncoder(ensure_ascii=False, indent=1).iterencode(document):
        file.write(_LONE_SURROGATE.sub("\ufffd", piece))
    file.write("\n")
