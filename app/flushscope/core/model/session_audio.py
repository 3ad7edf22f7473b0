"""The audio of a session's segments and contexts, read back when something plays, draws, measures or exports it.

The records hold no audio and no reader: a segment knows the rows of its chunks in the session's chunk
columns, and ``session.audio`` (a :class:`SessionAudio`) reads those rows back through the store's
:class:`~flushscope.core.store.audio_reader.AudioReader`. Everything it returns is in the encoding the server
sent, in arrival order; a capture that cannot be read back raises
:class:`~flushscope.core.store.line_storage.StoreError`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Final

import numpy as np

from flushscope.core.model.records import Context, Segment
from flushscope.core.store.audio_reader import AudioReader, ChunkPlan

__all__ = ["CACHE_BYTES", "SessionAudio"]

#: How much decoded audio a session keeps, whole segments at a time.
CACHE_BYTES: Final = 32 << 20


class SessionAudio:
    """The audio of one session's segments and contexts (``session.audio``). Keeps up to :data:`CACHE_BYTES`
    of whole segments, the most recently read ones.

    Only this session's records are read: a segment of another session (whose chunk rows index other
    columns) is a ValueError, not someone else's audio."""

    def __init__(
        self, reader: AudioReader, contexts: Sequence[Context], cache_bytes: int = CACHE_BYTES
    ) -> None:
        #: Reads chunks by row; holds the audio kept aside for chunks whose base64 is not in their line.
        self.reader = reader
        self._contexts = contexts
        self._limit = cache_bytes
        self._cache: OrderedDict[Segment, tuple[int, bytes]] = OrderedDict()
        self._cached = 0

    def _own(self, ctx: Context) -> None:
        contexts = self._contexts
        if not (0 < ctx.number <= len(contexts) and contexts[ctx.number - 1] is ctx):
            raise ValueError(f"context {ctx.context_id} (number {ctx.number}) is not one of this session's")

    def segment(self, segment: Segment) -> bytes:
        """All audio of ``segment`` (the newest chunks of a live segment read on top of what the cache
        holds)."""
        self._own(segment.context)
        rows = segment.chunk_rows
        if not rows:
            return b""
        cached = self._cache.get(segment)
        if cached is not None:
            count, audio = cached
            if count == len(rows):
                self._cache.move_to_end(segment)
                return audio
            audio = audio + b"".join(self.reader.chunks(rows.values[count:]))
        else:
            audio = b"".join(self.reader.chunks(rows.values))
        self._keep(segment, len(rows), audio)
        return audio

    def context(self, context: Context) -> bytes:
        """All audio of ``context``: its segments' audio one after another."""
        return b"".join(self.segment(s) for s in context.segments)

    def chunks(self, segment: Segment) -> list[bytes]:
        """The audio of each of ``segment``'s chunks."""
        self._own(segment.context)
        return self.reader.chunks(segment.chunk_rows.values)

    def plan(self, target: Segment | Context) -> ChunkPlan:
        """Where a segment's or a context's audio is (a context's segments one after another), as a snapshot
        to read on any thread (WAV export on an executor) or a block at a time."""
        if isinstance(target, Segment):
            self._own(target.context)
            return self.reader.plan(target.chunk_rows.values)
        self._own(target)
        rows = [s.chunk_rows.values for s in target.segments]
        return self.reader.plan(np.concatenate(rows) if rows else np.zeros(0, np.int64))

    def span(self, segment: Segment, start: int, stop: int) -> bytes:
        """Bytes [start, stop) of ``segment``'s audio, reading only the chunks that hold them."""
        self._own(segment.context)
        cached = self._cache.get(segment)
        if cached is not None and cached[0] == len(segment.chunk_rows):
            return cached[1][start:stop]
        rows = segment.chunk_rows.values
        if stop <= start or not len(rows):
            return b""
        ends = np.cumsum(self.reader.columns.column("nbytes")[rows], dtype=np.int64)
        first = int(np.searchsorted(ends, start, "right"))
        last = int(np.searchsorted(ends, stop - 1, "right"))
        if first >= len(rows):
            return b""
        last = min(last, len(rows) - 1)
        begin = int(ends[first - 1]) if first else 0
        joined = b"".join(self.reader.chunks(rows[first : last + 1]))
        return joined[start - begin : stop - begin]

    def slicer(self, segment: Segment) -> Callable[[int, int], bytes]:
        """A function of (start, stop) giving bytes [start, stop) of ``segment``'s audio as it is now,
        reading each chunk it needs once (for measuring a segment's edges: several nearby ranges)."""
        self._own(segment.context)
        cached = self._cache.get(segment)
        rows = segment.chunk_rows.values.copy()
        if cached is not None and cached[0] == len(rows):
            whole = cached[1]
            return lambda start, stop: whole[start:stop]
        ends = np.cumsum(self.reader.columns.column("nbytes")[rows], dtype=np.int64)
        plan = self.reader.plan(rows)
        got: dict[int, bytes] = {}

        def read(start: int, stop: int) -> bytes:
            if stop <= start or not len(rows):
                return b""
            first = int(np.searchsorted(ends, start, "right"))
            last = min(int(np.searchsorted(ends, stop - 1, "right")), len(rows) - 1)
            if first > last:
                return b""
            missing = [k for k in range(first, last + 1) if k not in got]
            if missing:
                # Contiguous in the segment, so one plan read covers them.
                for k, audio in zip(
                    range(missing[0], missing[-1] + 1), plan.read(missing[0], missing[-1] + 1), strict=True
                ):
                    got[k] = audio
            begin = int(ends[first - 1]) if first else 0
            joined = b"".join(got[k] for k in range(first, last + 1))
            return joined[start - begin : stop - begin]

        return read

    def _keep(self, segment: Segment, count: int, audio: bytes) -> None:
        old = self._cache.pop(segment, None)
        if old is not None:
            self._cached -= len(old[1])
        if len(audio) > self._limit:
            return
        self._cache[segment] = (count, audio)
        self._cached += len(audio)
        while self._cached > self._limit:
            _, (_, dropped) = self._cache.popitem(last=False)
            self._cached -= len(dropped)
