"""What a session changed since it was last asked: for caches that redo only that (no Qt)."""

from __future__ import annotations

from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session


class SessionWatch(SessionObserver):
    """The contexts and segments one session added or changed (a segment given a chunk, a transcript,
    timestamps, a flush, its close) since :meth:`take` was last called. Watching a session adds it to the
    session's observers until :meth:`stop` or another session is watched."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self._contexts: set[Context] = set()
        self._segments: set[Segment] = set()

    def watch(self, session: Session) -> bool:
        """Watch ``session`` from now on; True if it is not the one watched so far (everything it holds is
        news then)."""
        if session is self.session:
            return False
        self.stop()
        self.session = session
        session.observers.append(self)
        return True

    def stop(self) -> None:
        """Stop watching, and forget what changed."""
        if self.session is not None and self in self.session.observers:
            self.session.observers.remove(self)
        self.session = None
        self.take()

    def take(self) -> tuple[set[Context], set[Segment]]:
        """The contexts and the segments changed since the last call."""
        taken = self._contexts, self._segments
        self._contexts, self._segments = set(), set()
        return taken

    def context_added(self, context: Context) -> None:
        self._contexts.add(context)

    def context_changed(self, context: Context) -> None:
        self._contexts.add(context)

    def segment_added(self, segment: Segment) -> None:
        self._segments.add(segment)

    def segment_changed(self, segment: Segment) -> None:
        self._segments.add(segment)

    def chunk_added(self, segment: Segment, row: int) -> None:
        self._segments.add(segment)
