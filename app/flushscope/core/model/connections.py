"""Connection life from meta frames: when each WebSocket opened and closed, who opened it, how it ended, and
the names a scenario gave the contexts it opens on it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from flushscope.core.frames import Frame
from flushscope.core.model.records import MAX_NAME, ConnectionInfo

__all__ = ["CONTEXT_NAME", "Connections"]

#: The meta event that names the next context opened with ``context_id`` on its connection:
#: ``{"event": "context_name", "context_id": "...", "name": "greeting"}``.
CONTEXT_NAME: Final = "context_name"


class Connections:
    """The session's connections by number (``session.connections``), kept up to date from the recorder's
    meta frames: ``connect`` (URL, and the client and port the proxy saw), ``error``, ``close``; and
    ``context_name``, kept until the context it names opens (:meth:`take_name`)."""

    def __init__(self) -> None:
        self.by_number: dict[int, ConnectionInfo] = {}
        # Names announced for contexts not opened yet, by (connection, context_id).
        self._names: dict[tuple[int, str], str] = {}

    def take_name(self, conn: int, context_id: str) -> str | None:
        """The name announced for the context opening now with ``context_id`` on ``conn`` (None if none);
        a name names one context: a later context reusing the id needs a name of its own."""
        return self._names.pop((conn, context_id), None)

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
        elif kind == CONTEXT_NAME:
            context_id, name = event.get("context_id"), event.get("name")
            if isinstance(context_id, str) and isinstance(name, str) and name.strip():
                name = name.strip()
                self._names[(frame.conn, context_id)] = (
                    name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
                )
        elif kind == "error":
            info.error = str(event.get("message", ""))
        elif kind == "close":
            info.closed_t = frame.t
            code = event.get("code")
            info.close_code = code if isinstance(code, int) else None
            info.close_reason = str(event.get("reason") or "")
            return info
        return None
