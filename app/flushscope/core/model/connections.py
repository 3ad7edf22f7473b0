"""Connection life from meta frames: when each WebSocket opened and closed, who opened it, and how it ended."""

from __future__ import annotations

from collections.abc import Mapping

from flushscope.core.frames import Frame
from flushscope.core.model.records import ConnectionInfo

__all__ = ["Connections"]


class Connections:
    """The session's connections by number (``session.connections``), kept up to date from the recorder's
    meta frames: ``connect`` (URL, and the client and port the proxy saw), ``error``, ``close``."""

    def __init__(self) -> None:
        self.by_number: dict[int, ConnectionInfo] = {}

    def label(self, conn: int) -> str | None:
        """How a person tells connection ``conn`` from others of the same app (:attr:`ConnectionInfo.label`)."""
        info = self.by_number.get(conn)
        return info.label if info is not None else None

    def meta(self, frame: Frame, event: Mapping[str, object]) -> ConnectionInfo | None:
        """Take in a meta frame and its event; returns its connection when the frame says it closed."""
        kind = event.get("event")
        info = self.by_number.get(frame.conn)
        if info is None:
            info = self.by_number[frame.conn] = ConnectionInfo(frame.conn)
        if kind == "connect":
            info.url = str(event.get("url")) if event.get("url") is not None else None
            info.client = str(event.get("client")) if event.get("client") is not None else None
            port = event.get("port")
            info.port = port if isinstance(port, int) and not isinstance(port, bool) else None
            info.opened_t = frame.t
        elif kind == "error":
            info.error = str(event.get("message", ""))
        elif kind == "close":
            info.closed_t = frame.t
            code = event.get("code")
            info.close_code = code if isinstance(code, int) else None
            info.close_reason = str(event.get("reason") or "")
            return info
        return None
