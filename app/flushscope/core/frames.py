"""Frames: every raw message in either direction, with its time. The source of truth of a session."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Direction(StrEnum):
    """Which way a frame went, or ``meta`` for what happened to the connection itself."""

    SEND = "send"
    RECV = "recv"
    META = "meta"


@dataclass(frozen=True, slots=True)
class Frame:
    """One recorded frame.

    ``t`` is seconds since the session started (monotonic clock). ``text`` is the frame's text verbatim; for
    ``meta`` frames it is a JSON object with an ``event`` field (``connect``, ``close``, ``error``, ...).
    """

    index: int
    t: float
    conn: int
    dir: Direction
    text: str

    def meta(self) -> dict[str, Any]:
        """The event of a meta frame ({} for other frames or unreadable text)."""
        if self.dir is not Direction.META:
            return {}
        try:
            value = json.loads(self.text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


def meta_text(event: str, **fields: Any) -> str:
    """The text of a meta frame: ``{"event": ..., **fields}``."""
    return json.dumps({"event": event, **fields}, separators=(",", ":"), ensure_ascii=False)


def data_span(text: str, data: str) -> int:
    """Where the string ``data`` (a chunk's base64) starts inside a frame's text as the value of a member
    named "data", or -1 when it cannot be found for sure.

    The whole string is compared: another member named "data" (nested, or a duplicate key) that merely
    starts alike must not be the one cut out, or the frame's text could not be rebuilt."""
    at = text.find('"data"')
    while at >= 0:
        pos = at + 6
        while pos < len(text) and text[pos] in " \t\r\n:":
            pos += 1
        if pos < len(text) and text[pos] == '"':
            start = pos + 1
            end = start + len(data)
            if text.startswith(data, start) and text[end : end + 1] == '"':
                return start
        at = text.find('"data"', at + 6)
    return -1
