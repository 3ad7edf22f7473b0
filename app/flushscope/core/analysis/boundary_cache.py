"""Flush boundaries of a session kept up to date without measuring the same audio twice (no Qt).

:func:`flushscope.core.analysis.boundaries.context_boundaries` decodes every segment of a context, about 0.2 ms a
segment whatever its length: a context of thousands of segments takes most of a second. While a session is
live, only a few segments change at a time, and the session says which
(:class:`~flushscope.core.model.session_watch.SessionWatch`). So
:class:`BoundaryCache` keeps, per context, its segments with audio in order and the boundary after each, and
measures again only the pairs next to a segment that changed: what an update costs follows what changed, not
how long the context is. Runs of pairs to measure are handed to ``context_boundaries`` a slice of the
context at a time, so each segment is still decoded about once, and a deadline can stop the work between
slices: what is left is measured on the next call.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import replace
from typing import Final

from flushscope.core.analysis.boundaries import Boundary, BoundaryThresholds, context_boundaries
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.model.session_audio import SessionAudio
from flushscope.core.model.session_watch import SessionWatch

#: Pairs measured in one call of ``context_boundaries`` at most (the deadline is checked between calls).
BATCH: Final = 64


def audible(ctx: Context) -> list[Segment]:
    """The segments of ``ctx`` a boundary can join: those with at least one whole sample."""
    if ctx.format is None:
        return []
    return [s for s in ctx.segments if _audible(s)]


def _audible(segment: Segment) -> bool:
    return segment.samples > 0 and bool(segment.chunk_rows)


class _Measured:
    """One context's boundaries: its audible segments (ordinals, in order), the boundary after each but the
    last (None until measured), and the pairs to measure again, by the ordinal of their first segment."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.ordinals = [s.ordinal for s in audible(ctx)]
        self.after: list[Boundary | None] = [None] * max(0, len(self.ordinals) - 1)
        self.stale = set(self.ordinals[:-1])
        self._audible = set(self.ordinals)
        self._found: list[Boundary] | None = None

    def touch(self, segment: Segment) -> bool:
        """``segment`` changed: the pairs it is part of are measured again. True if it made a new pair."""
        ordinal, ordinals = segment.ordinal, self.ordinals
        if ordinal in self._audible:
            at = bisect_left(ordinals, ordinal)
            if at > 0:
                self.stale.add(ordinals[at - 1])
            if at < len(ordinals) - 1:
                self.stale.add(ordinal)
            return False
        if not _audible(segment):
            return False
        # A segment with audio for the first time comes between two others, or after the last.
        at = bisect_left(ordinals, ordinal)
        ordinals.insert(at, ordinal)
        self._audible.add(ordinal)
        if at > 0:
            if at - 1 < len(self.after):
                self.after[at - 1] = None  # the pair it splits is another pair now
            else:
                self.after.append(None)
            self.stale.add(ordinals[at - 1])
        if at < len(ordinals) - 1:
            self.after.insert(at, None)
            self.stale.add(ordinal)
        self._found = None
        return True

    def measure(
        self, audio: SessionAudio, thresholds: BoundaryThresholds, deadline: float | None
    ) -> tuple[int, bool]:
        """Measure the stale pairs (their audio read through ``audio``), a run at a time until ``deadline``:
        how many, and whether all were."""
        ordinals, segments = self.ordinals, self.ctx.segments
        measured = 0
        for first, last in _runs(ordinals, sorted(self.stale)):
            if deadline is not None and time.perf_counter() >= deadline:
                return measured, False
            # A slice of the context: the boundaries of these consecutive segments, and nothing else.
            part = replace(self.ctx, segments=[segments[o] for o in ordinals[first : last + 2]])
            for offset, boundary in enumerate(context_boundaries(audio, part, thresholds)):
                self.after[first + offset] = boundary
                self.stale.discard(ordinals[first + offset])
            measured += last - first + 1
            self._found = None
        return measured, True

    def boundaries(self) -> list[Boundary]:
        """Every boundary measured, in order; one measured before and stale since keeps its figures."""
        if self._found is None:
            self._found = [b for b in self.after if b is not None]
        return self._found


class BoundaryCache:
    """The boundaries of one session, measured again only where a segment changed (see the module
    docstring). The session given to :meth:`update` is watched until another is given or :meth:`clear` is
    called."""

    def __init__(self, thresholds: BoundaryThresholds | None = None) -> None:
        self.thresholds = thresholds or BoundaryThresholds()
        self._watch = SessionWatch()
        self.clear()

    def clear(self) -> None:
        """Forget every boundary, and stop watching the session."""
        self._watch.stop()
        # Per context of the session, in order; those with pairs to measure.
        self._contexts: list[_Measured] = []
        self._stale: set[_Measured] = set()
        self._boundaries: list[Boundary] | None = []
        #: Pairs the last :meth:`update` measured (the others were reused).
        self.measured = 0

    @property
    def boundaries(self) -> list[Boundary]:
        """Every boundary known after the last :meth:`update`, context by context."""
        if self._boundaries is None:
            self._boundaries = [b for kept in self._contexts for b in kept.boundaries()]
        return self._boundaries

    def update(self, session: Session, deadline: float | None = None) -> bool:
        """Bring :attr:`boundaries` up to date with ``session``. With a ``deadline`` (a
        :func:`time.perf_counter` value) measuring stops once it has passed: a pair measured before keeps
        its previous figures, a new one is left out, and the call returns False. True when every boundary
        is current."""
        if self._watch.watch(session):
            self._contexts, self._stale, self._boundaries = [], set(), []
        _, segments = self._watch.take()
        moved = False
        for segment in segments:
            number = segment.context.number
            if number <= len(self._contexts):
                kept = self._contexts[number - 1]
                moved = kept.touch(segment) or moved
                if kept.stale:
                    self._stale.add(kept)
        for ctx in session.contexts[len(self._contexts) :]:
            kept = _Measured(ctx)
            self._contexts.append(kept)
            if kept.stale:
                self._stale.add(kept)
        self.measured = 0
        complete = True
        for kept in sorted(self._stale, key=lambda k: k.ctx.number):
            measured, done = kept.measure(session.audio, self.thresholds, deadline)
            self.measured += measured
            moved = moved or measured > 0
            if not done:
                complete = False
                break
            self._stale.discard(kept)
        if moved:
            self._boundaries = None  # gathered when asked: a live session is updated more often than shown
        return complete


def _runs(ordinals: list[int], stale: list[int]) -> Iterator[tuple[int, int]]:
    """The pairs to measure (``stale``: sorted ordinals of their first segment) as inclusive runs of
    consecutive pair indexes, each at most :data:`BATCH` long, found as they are needed."""
    first = last = -1
    for ordinal in stale:
        at = bisect_left(ordinals, ordinal, last + 1)
        if first >= 0 and at == last + 1 and at - first < BATCH:
            last = at
            continue
        if first >= 0:
            yield first, last
        first = last = at
    if first >= 0:
        yield first, last
