"""Flush boundaries of a session kept up to date without measuring the same audio twice (no Qt).

:func:`flushscope.core.analysis.boundaries.context_boundaries` decodes every segment of a context, about 0.2 ms a
segment whatever its length: a context of thousands of segments takes most of a second. While a session is
live, only the segments at its end change, so :class:`BoundaryCache` keeps each boundary with what it was
measured from (the segments' sizes, words, transcripts and state, and the context's numbering) and
measures again only the pairs of segments where one of those moved. Runs of pairs to measure are handed to
``context_boundaries`` a slice of the context at a time, so each segment is still decoded about once, and
a deadline can stop the work between slices: what is left is measured on the next call.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Final

from flushscope.core.analysis.boundaries import Boundary, BoundaryThresholds, context_boundaries
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.model.session_audio import SessionAudio

#: Pairs measured in one call of ``context_boundaries`` at most (the deadline is checked between calls).
BATCH: Final = 64

_Ident = tuple[int, int, int]


def _version(segment: Segment) -> Hashable:
    """What a boundary reads of a segment, in a few numbers: the lists it reads only ever grow."""
    return (
        segment.nbytes,
        segment.chunk_count,
        len(segment.words),
        len(segment.transcripts),
        segment.flush_t,
        segment.state,
    )


def audible(ctx: Context) -> list[Segment]:
    """The segments of ``ctx`` a boundary can join: those with at least one whole sample."""
    if ctx.format is None:
        return []
    return [s for s in ctx.segments if s.samples and s.chunk_rows]


@dataclass
class _Measured:
    """One context's boundaries, each pair with the versions it was measured from."""

    #: The context's numbering base and frame count when last brought up to date (None: not complete).
    key: Hashable
    pairs: dict[_Ident, tuple[Hashable, Boundary]] = field(default_factory=dict)
    boundaries: list[Boundary] = field(default_factory=list)


class BoundaryCache:
    """The boundaries of one session, measured again only where a segment changed (see the module
    docstring). :meth:`clear` it when another session is shown."""

    def __init__(self, thresholds: BoundaryThresholds | None = None) -> None:
        self.thresholds = thresholds or BoundaryThresholds()
        self._contexts: dict[int, _Measured] = {}
        #: Every boundary known after the last :meth:`update`, context by context.
        self.boundaries: list[Boundary] = []
        #: Pairs the last :meth:`update` measured (the others were reused).
        self.measured = 0

    def clear(self) -> None:
        self._contexts = {}
        self.boundaries = []
        self.measured = 0

    def update(self, session: Session, deadline: float | None = None) -> bool:
        """Bring :attr:`boundaries` up to date with ``session``. With a ``deadline`` (a
        :func:`time.perf_counter` value) measuring stops once it has passed: a pair measured before keeps
        its previous figures, a new one is left out, and the call returns False. True when every boundary
        is current."""
        self.measured = 0
        complete = True
        found: list[Boundary] = []
        for ctx in session.contexts:
            # Whatever a boundary reads of a context comes with a frame of that context, or its numbering.
            key = (ctx.base, len(ctx.frames))
            kept = self._contexts.get(ctx.number)
            if kept is None or kept.key != key:
                kept = self._contexts[ctx.number] = self._measure(session.audio, ctx, kept, key, deadline)
                complete = complete and kept.key is not None
            found.extend(kept.boundaries)
        self.boundaries = found
        return complete

    def _measure(
        self, audio: SessionAudio, ctx: Context, kept: _Measured | None, key: Hashable, deadline: float | None
    ) -> _Measured:
        old = kept.pairs if kept is not None else {}
        segments = audible(ctx)
        versions = [_version(s) for s in segments]
        keys = [(ctx.base, a, b) for a, b in pairwise(versions)]
        idents = [(ctx.number, k.ordinal, n.ordinal) for k, n in pairwise(segments)]
        stale = [i for i, ident in enumerate(idents) if _current(old, ident, keys[i]) is None]
        fresh: dict[int, Boundary] = {}
        complete = True
        for first, last in _batches(stale):
            if deadline is not None and time.perf_counter() >= deadline:
                complete = False
                break
            # A slice of the context: the boundaries of its consecutive segments, and nothing else.
            part = replace(ctx, segments=segments[first : last + 2])
            for offset, boundary in enumerate(context_boundaries(audio, part, self.thresholds)):
                fresh[first + offset] = boundary
            self.measured += last - first + 1
        measured = _Measured(key if complete else None)
        for i, ident in enumerate(idents):
            if i in fresh:
                measured.pairs[ident] = (keys[i], fresh[i])
            elif ident in old:
                # Current, or measured before and not again yet (the deadline came first).
                measured.pairs[ident] = old[ident]
            else:
                continue
            measured.boundaries.append(measured.pairs[ident][1])
        return measured


def _current(pairs: dict[_Ident, tuple[Hashable, Boundary]], ident: _Ident, key: Hashable) -> Boundary | None:
    kept = pairs.get(ident)
    return kept[1] if kept is not None and kept[0] == key else None


def _batches(indexes: list[int]) -> list[tuple[int, int]]:
    """Sorted pair indexes as inclusive runs of consecutive ones, each at most :data:`BATCH` long."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1 and i - runs[-1][0] < BATCH:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs
