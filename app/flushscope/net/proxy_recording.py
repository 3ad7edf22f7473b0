"""Where the recording proxy records its connections: all into one session and capture (the window, and
``flushscope proxy --capture FILE``), or each into its own capture file (:mod:`flushscope.net.proxy_capture_dir`).

Either way the proxy numbers a connection with :meth:`ProxyRecording.begin`, records its frames and meta events
by that number, and hands it back with :meth:`ProxyRecording.end`, which says in one
:class:`ConnectionSummary` what the connection held, from the session model its frames went through.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from flushscope.core.frames import Direction
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import Context


class FrameSink(Protocol):
    """Takes a connection's frames and meta events, by connection number."""

    def record(self, conn: int, direction: Direction, text: str) -> object:
        """Record one text frame."""
        ...

    def meta(self, conn: int, event: str, **fields: Any) -> object:
        """Record what happened to the connection."""
        ...


class ProxyRecording(FrameSink, Protocol):
    """Records each connection of a proxy from its upgrade to its end."""

    def begin(self, client: str) -> int:
        """A number for a new app connection (sent by ``client``), whose recording starts now."""
        ...

    def end(self, conn: int) -> ConnectionSummary:
        """The connection is over (no frame or event follows): finish its recording and say what it held."""
        ...

    def add_secrets(self, secrets: Iterable[str]) -> None:
        """Redact these from every capture line written from now on."""
        ...


@dataclass
class ConnectionSummary:
    """What one connection held, for the line the proxy logs when it ends."""

    contexts: int = 0
    segments: int = 0
    #: Anomalies that count (warnings and errors), as ``flushscope report`` finds them in its capture.
    anomalies: int = 0
    seconds: float = 0.0
    #: The capture files that hold it (several when it was cut into parts); empty when it shares one.
    files: list[str] = field(default_factory=list)

    def add(
        self,
        contexts: Iterable[Context],
        anomalies: int,
        *,
        joined: Collection[int] = (),
        carried_on: Mapping[int, int] | None = None,
    ) -> None:
        """Count ``contexts`` and ``anomalies`` of one recording. For a connection recorded in parts:
        ``joined`` holds the contexts (by ``id``) that a part before counted already, ``carried_on`` maps a
        context to its first segment that the next part goes on with (counted there, once it is over)."""
        for ctx in contexts:
            if id(ctx) not in joined:
                self.contexts += 1
            until = carried_on.get(id(ctx)) if carried_on else None
            self.segments += sum(1 for s in ctx.segments[:until] if s.transcripts or s.chunk_count)
        self.anomalies += anomalies

    def words(self) -> str:
        """``3 contexts, 7 segments, 0 anomalies``."""
        return f"{self.contexts} contexts, {self.segments} segments, {self.anomalies} anomalies"


class SharedCapture:
    """Every connection into one recorder: one session, one capture, connections numbered by the recorder."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self._began: dict[int, float] = {}

    def begin(self, client: str) -> int:
        conn = self.recorder.new_connection()
        self._began[conn] = time.monotonic()
        return conn

    def record(self, conn: int, direction: Direction, text: str) -> object:
        return self.recorder.record(conn, direction, text)

    def meta(self, conn: int, event: str, **fields: Any) -> object:
        return self.recorder.meta(conn, event, **fields)

    def end(self, conn: int) -> ConnectionSummary:
        session = self.recorder.session
        summary = ConnectionSummary(seconds=time.monotonic() - self._began.pop(conn, time.monotonic()))
        counted = sum(1 for a in session.counted_anomalies() if a.conn == conn)
        summary.add((c for c in session.contexts if c.conn == conn), counted)
        return summary

    def add_secrets(self, secrets: Iterable[str]) -> None:
        capture = self.recorder.capture
        if capture is not None:
            capture.add_secrets(secrets)
