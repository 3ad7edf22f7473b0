"""The proxy's sidecar recording: one capture file per app connection, in a directory, cut into parts when
long (``flushscope proxy --capture-dir DIR [--rotate-mb N] [--rotate-minutes M]``).

Each connection gets its own session model and capture, named and finished as
:mod:`flushscope.core.store.capture_dir` says (``NAME.jsonl.part`` while written, ``NAME.jsonl`` once
complete). A capture is whole on its own: a header (the upstream URL without secrets), the connection's
``connect`` event (its client's User-Agent and port), its frames, its ``close``. The connection keeps the
number the proxy gave it (``conn`` in the file, ``c17`` in the name, ``connection 17`` in the log), so that the
three agree.

Parts: once the part being written has reached the size or the age asked for, it is cut before the next
frame: it ends with a ``rotated`` event, and the next part (``NAME-part2.jsonl``, ...) starts with the
connection's ``connect`` event again and a ``continued`` event that carries what the contexts going on at
the cut had reached (:mod:`flushscope.core.model.continuation`), so that every part loads on its own without
false anomalies. An idle connection is cut at its next frame, not while idle. Each part has a session of
its own, so a long connection costs the memory of one part.

The writes are the event loop's (one unbuffered line per frame, as for a single capture); flushing a
finished file to the disk and renaming it, which can take a while on a busy disk, happen on a worker thread,
and :meth:`CaptureDirectory.close` waits for them.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flushscope.core.frames import Direction
from flushscope.core.model.continuation import CONTINUED, ROTATED, Waits, carried_contexts, carried_from
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session
from flushscope.core.store.capture_dir import FINISHED, capture_name, create_capture, finish_capture, stem
from flushscope.net.proxy_recording import ConnectionSummary

__all__ = ["CaptureDirectory", "Rotation"]

log = logging.getLogger("flushscope.proxy")

NOTE = "recorded by flushscope proxy"


@dataclass(frozen=True)
class Rotation:
    """When a part is cut: at ``max_bytes`` of capture, or ``max_seconds`` after it started (None: never)."""

    max_bytes: int | None = None
    max_seconds: float | None = None

    def __post_init__(self) -> None:
        for value in (self.max_bytes, self.max_seconds):
            if value is not None and not (math.isfinite(value) and value > 0):
                raise ValueError(f"a part's size or age must be positive, not {value}")


class _Part:
    """One capture file of a connection being written, with its own session model."""

    def __init__(self, number: int, recorder: Recorder, path: Path | None, started: float) -> None:
        self.number = number
        self.recorder = recorder
        #: Where it is written (None: it could not be created, and the part is kept in memory only).
        self.path = path
        self.started = started
        #: Contexts (by ``id``) this part joined from the one before.
        self.joined: set[int] = set()

    @property
    def name(self) -> str:
        return "" if self.path is None else stem(self.path) + FINISHED


class CaptureDirectory:
    """A :class:`~flushscope.net.proxy_recording.ProxyRecording` that writes each connection's capture into
    ``directory`` (which must exist). ``target`` is the upstream's URL (written without its secrets)."""

    def __init__(
        self,
        directory: Path,
        target: str,
        *,
        secrets: Iterable[str] = (),
        rotation: Rotation = Rotation(),
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self.target = target
        self.rotation = rotation
        self._secrets: set[str] = set(secrets)
        self._clock = clock
        self._wall_clock = wall_clock
        self._count = 0
        self._open: dict[int, _Connection] = {}
        self._finisher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="flushscope-capture-finish")
        #: Every capture file finished so far, and why each one that could not be finished failed.
        self.finished: list[Path] = []
        self.problems: list[str] = []

    # --- ProxyRecording ---------------------------------------------------------------------------------

    def begin(self, client: str) -> int:
        self._count += 1
        conn = self._count
        self._open[conn] = _Connection(self, conn, client)
        return conn

    def record(self, conn: int, direction: Direction, text: str) -> object:
        return self._open[conn].record(direction, text)

    def meta(self, conn: int, event: str, **fields: Any) -> object:
        return self._open[conn].meta(event, fields)

    def end(self, conn: int) -> ConnectionSummary:
        return self._open.pop(conn).end()

    def add_secrets(self, secrets: Iterable[str]) -> None:
        self._secrets.update(secrets)
        for connection in self._open.values():
            capture = connection.part.recorder.capture
            if capture is not None:
                capture.add_secrets(self._secrets)

    # --- files ------------------------------------------------------------------------------------------

    def create(self, name: str, note: str, number: int, started: datetime) -> _Part:
        """Part ``number`` of a connection, begun at ``started``, written to a new capture ``name`` (suffixed as
        being written); when the file cannot be created, the part goes on in memory so that the traffic
        still flows."""
        try:
            writer = create_capture(
                self.directory, name, self.target, secrets=self._secrets, note=note, started=started
            )
        except OSError as exc:
            self.problem(f"cannot create a capture in {self.directory}: {exc.strerror or exc}")
            return _Part(number, Recorder(Session(), clock=self._clock), None, self._clock())
        return _Part(number, Recorder(Session(), writer, clock=self._clock), writer.path, self._clock())

    def problem(self, words: str) -> None:
        """A capture that will be missing or incomplete: logged, and kept for the end."""
        self.problems.append(words)
        log.error("%s", words)

    def finish(self, path: Path) -> None:
        """Flush and rename the closed capture at ``path`` on the worker thread."""
        self._finisher.submit(finish_capture, path).add_done_callback(self._finished)

    def _finished(self, future: Future[Path]) -> None:
        # On the worker thread: appending to a list is safe there, and the lists are read after close().
        exc = future.exception()
        if exc is None:
            self.finished.append(future.result())
            return
        self.problem(f"could not finish a capture: {getattr(exc, 'strerror', None) or exc}")

    def now(self) -> float:
        """The monotonic clock the captures are timed by."""
        return self._clock()

    def wall(self) -> datetime:
        """The time of day, for names and headers."""
        return self._wall_clock()

    def close(self) -> None:
        """End every connection still recording (a proxy that stopped abruptly) and wait until every capture
        is finished on the disk."""
        for conn in list(self._open):
            self.end(conn)
        self._finisher.shutdown(wait=True)


class _Connection:
    """One app connection's recording: its parts, one at a time."""

    def __init__(self, directory: CaptureDirectory, conn: int, client: str) -> None:
        self.directory = directory
        self.conn = conn
        self.began = directory.now()
        started = directory.wall()
        self.name = capture_name(started, client, conn)
        self.summary = ConnectionSummary()
        self.connect: dict[str, Any] = {}
        self.part = directory.create(self.name, f"{NOTE}, connection {conn}", 1, started)
        if self.part.path is not None:
            # Its name (should the first choice have been taken) names the later parts too.
            self.name = stem(self.part.path)

    def _part(self, number: int) -> _Part:
        note = f"{NOTE}, connection {self.conn}, part {number}"
        return self.directory.create(f"{self.name}-part{number}", note, number, self.directory.wall())

    def record(self, direction: Direction, text: str) -> object:
        # Cut before a frame rather than after, so that no part is left with nothing but the close.
        if self._due():
            self._rotate()
        return self.part.recorder.record(self.conn, direction, text)

    def meta(self, event: str, fields: dict[str, Any]) -> object:
        if event == "connect":
            self.connect = dict(fields)
        return self.part.recorder.meta(self.conn, event, **fields)

    def _due(self) -> bool:
        rotation = self.directory.rotation
        capture = self.part.recorder.capture
        if capture is None:
            return False  # in memory: one file is as good as another
        if rotation.max_bytes is not None and capture.size >= rotation.max_bytes:
            return True
        age = self.directory.now() - self.part.started
        return rotation.max_seconds is not None and age >= rotation.max_seconds

    def _rotate(self) -> None:
        old = self.part
        number = old.number + 1
        self.part = self._part(number)
        ended = old.recorder.meta(self.conn, ROTATED, next=self.part.name)
        session = old.recorder.session
        # The session has now flagged every wait that was over by the cut: the next part must not again.
        waits = Waits(session.thresholds.flush_done_s, session.thresholds.done_s)
        carried = carried_contexts(session.contexts, self.conn, ended.t, waits)
        carried_on = {id(c): first for c in session.contexts if (first := carried_from(c)) is not None}
        self._close(old, carried_on)
        recorder = self.part.recorder
        recorder.meta(self.conn, "connect", **{**self.connect, "part": number})
        recorder.meta(self.conn, CONTINUED, part=number, previous=old.name, contexts=carried)
        self.part.joined = {id(ctx) for ctx in recorder.session.contexts}

    def _close(self, part: _Part, carried_on: dict[int, int] | None = None) -> None:
        recorder = part.recorder
        if recorder.capture_error is not None and part.path is not None:
            self.directory.problem(f"{part.name} is incomplete: {recorder.capture_error}")
        recorder.close()
        session = recorder.session
        session.finish()
        anomalies = len(session.counted_anomalies())
        self.summary.add(session.contexts, anomalies, joined=part.joined, carried_on=carried_on)
        session.frames.close()
        if part.path is not None:
            self.summary.files.append(part.name)
            self.directory.finish(part.path)

    def end(self) -> ConnectionSummary:
        self._close(self.part)
        self.summary.seconds = self.directory.now() - self.began
        return self.summary
