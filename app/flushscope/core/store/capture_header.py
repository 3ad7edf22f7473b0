"""The first line of a capture file: its header.

::

    {"format": "flushscope-capture", "version": 1, "app": "flushscope 0.1.0",
     "started": "2026-01-12T10:20:30.123456Z", "target": "wss://host/path?api_key=REDACTED", "note": "..."}

``note`` is optional; readers keep header fields they do not know. A newer version than this flushscope reads
is refused with the advice to update.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import flushscope
from flushscope.core.store.line_format import CaptureError, encode_line, is_complete_line
from flushscope.protocol.messages import json_kind

__all__ = [
    "FORMAT",
    "MAX_HEADER_BYTES",
    "VERSION",
    "CaptureHeader",
    "header_line",
    "header_too_long",
    "new_header",
    "parse_header",
]

FORMAT: Final = "flushscope-capture"
VERSION: Final = 1
# A header is small; a first "line" longer than this is some other kind of file, and reading it whole
# could take gigabytes.
MAX_HEADER_BYTES: Final = 1 << 20

_HEADER_FIELDS: Final = ("format", "version", "app", "started", "target", "note")


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


def _utc_iso(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_header(target: str, *, started: datetime | None = None, note: str | None = None) -> CaptureHeader:
    """The header of a capture this flushscope starts now (or at ``started``), recording ``target``."""
    moment = started if started is not None else datetime.now(UTC)
    return CaptureHeader(
        FORMAT, VERSION, f"flushscope {flushscope.__version__}", _utc_iso(moment), target, note
    )


def header_line(header: CaptureHeader) -> bytes:
    """The header as the first line of a capture file (``note`` only when there is one)."""
    fields: dict[str, Any] = {
        "format": header.format,
        "version": header.version,
        "app": header.app,
        "started": header.started,
        "target": header.target,
    }
    if header.note is not None:
        fields["note"] = header.note
    fields.update(header.extra)
    return encode_line(json.dumps(fields, ensure_ascii=False) + "\n")


def header_too_long(name: str) -> CaptureError:
    """The problem of a first line longer than :data:`MAX_HEADER_BYTES`."""
    return CaptureError(
        name, 1, "the first line is far too long for a capture header: not a flushscope capture"
    )


def parse_header(raw: bytes | str | None, name: str, warnings: list[str]) -> CaptureHeader:
    """The header line of a capture; :class:`CaptureError` (line 1) if it is not one."""
    if not raw:
        raise CaptureError(name, 1, "the file is empty: not a flushscope capture")
    if not is_complete_line(raw) and len(raw) >= MAX_HEADER_BYTES:
        raise header_too_long(name)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        obj = json.loads(text.removeprefix("\ufeff"))
    except UnicodeDecodeError:
        raise CaptureError(name, 1, "not UTF-8 text: not a flushscope capture") from None
    except (ValueError, RecursionError):
        if not is_complete_line(raw):
            raise CaptureError(
                name,
                1,
                f"the file ends inside its header line, after {len(raw)} bytes: the capture is cut off",
            ) from None
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
