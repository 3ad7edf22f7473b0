"""Connection life from meta frames: when each WebSocket opened and closed, who opened it, how it ended,
what the connection itself says went wrong (a refused upgrade, a frame the proxy refused, a key withheld),
and the names a scenario gave the contexts it opens on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

from flushscope.core.frames import Frame
from flushscope.core.model import connection_anomalies
from flushscope.core.model.anomalies import Finding
from flushscope.core.model.findings import Findings
from flushscope.core.model.records import MAX_NAME, ConnectionInfo

__all__ = ["CONTEXT_NAME", "Connections"]

#: The meta event that names the next context opened with ``context_id`` on its connection:
#: ``{"event": "context_name", "context_id": "...", "name": "greeting"}``.
CONTEXT_NAME: Final = "context_name"

#: ``by`` of a ``close`` event as the proxy (app, upstream, proxy) and the client (client, server) write it.
_SIDES: Final[dict[str, str]] = {
    "app": connection_anomalies.APP,
    "client": connection_anomalies.APP,
    "upstream": connection_anomalies.SERVER,
    "server": connection_anomalies.SERVER,
    "proxy": connection_anomalies.PROXY,
}


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class Connections:
    """The session's connections by number (``session.connections``), kept up to date from the recorder's
    meta frames: ``connect`` (URL, and the client and port the proxy saw), ``open``, ``error``,
    ``keepalive_timeout``, ``frame_too_big``, ``close``; what they say went wrong goes to ``findings``. And
    ``context_name``, kept until the context it names opens (:meth:`take_name`)."""

    def __init__(self, findings: Findings) -> None:
        self.by_number: dict[int, ConnectionInfo] = {}
        self._findings = findings
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

    def still_open(self, talked: Iterable[int]) -> list[int]:
        """The connections open as far as the frames so far say: those that opened, and those with frames
        both ways (``talked``: their numbers) whose opening was not recorded, unless they closed."""
        candidates = {n for n, info in self.by_number.items() if info.opened} | set(talked)
        return sorted(
            n for n in candidates if (info := self.by_number.get(n)) is None or info.closed_t is None
        )

    def meta(self, frame: Frame, event: Mapping[str, object]) -> ConnectionInfo | None:
        """Take in a meta frame and its event; returns its connection when the frame says it closed."""
        kind = event.get("event")
        info = self.by_number.get(frame.conn)
        if info is None:
            info = self.by_number[frame.conn] = ConnectionInfo(frame.conn)
        if kind == "connect":
            info.url = _text(event.get("url"))
            info.client = _text(event.get("client"))
            info.port = _int(event.get("port"))
            info.opened_t = frame.t
            if event.get("key_withheld") is True:
                finding = connection_anomalies.key_withheld(remote=str(event.get("remote") or ""))
                self._flag(finding, frame)
        elif kind == CONTEXT_NAME:
            context_id, name = event.get("context_id"), event.get("name")
            if isinstance(context_id, str) and isinstance(name, str) and name.strip():
                name = name.strip()
                self._names[(frame.conn, context_id)] = (
                    name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
                )
        elif kind == "open":
            info.opened = True
        elif kind == "error":
            self._error(info, frame, event)
        elif kind == "keepalive_timeout":
            info.gave_up = True
        elif kind == "frame_too_big":
            side = connection_anomalies.APP if event.get("from") == "app" else connection_anomalies.SERVER
            size, limit = _int(event.get("bytes")), _int(event.get("limit"))
            finding = connection_anomalies.frame_too_big(
                side=side, size=size, before=_int(event.get("before")) or 0, limit=limit or 0
            )
            self._flag(finding, frame)
        elif kind == "close":
            info.closed_t = frame.t
            info.close_code = _int(event.get("code"))
            info.close_reason = str(event.get("reason") or "")
            info.closed_by = _SIDES.get(str(event.get("by")))
            return info
        return None

    def _error(self, info: ConnectionInfo, frame: Frame, event: Mapping[str, object]) -> None:
        """An ``error`` event: before the connection opened, it says why it never did."""
        message = str(event.get("message", ""))
        info.error = message
        if info.opened or info.closed_t is not None:
            return
        status = _int(event.get("status"))
        info.status = status
        if status is None and info.client is not None:
            # The proxy gives every refusal its status; without one, the app gave up during its handshake.
            finding = connection_anomalies.app_left_during_handshake(message=message)
        else:
            finding = connection_anomalies.connection_refused(status=status, message=message)
        self._flag(finding, frame)

    def _flag(self, finding: Finding, frame: Frame) -> None:
        self._findings.flag(finding, None, frame=frame.index, conn=frame.conn, fold=False)
