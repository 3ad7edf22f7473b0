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
