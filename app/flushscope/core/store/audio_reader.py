"""Chunk audio read back on demand from where the frame store keeps the lines, decoded from their base64.

The model keeps no audio: per chunk it knows its frame (hence its line's offset), where the base64 starts in
that line and how many bytes it decodes to (the chunk columns). Reading a chunk reads its base64 from the
file (one read for a run of nearby lines), checks that the line still starts with the frame's time and that
the base64 is still quoted where it was, and decodes it. A file that changed says so
(:class:`~flushscope.core.store.line_storage.StoreError`).

:class:`AudioReader` reads chunks by their rows in the chunk columns. A :class:`ChunkPlan` is a snapshot of
where some chunks are, safe to read on another thread while the model goes on growing (WAV export on an
executor).
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from flushscope.core.store.chunk_columns import ChunkColumns
from flushscope.core.store.chunk_scan import base64_length, decode_audio
from flushscope.core.store.frame_store import FrameStore, same_time
from flushscope.core.store.line_storage import Backing, FileBacking, StoreError

__all__ = ["AudioReader", "ChunkPlan"]

# Lines closer than this are read in one go (a segment's chunks are near each other in the file, with other
# contexts' chunks between them).
_RUN_GAP: Final = 256 << 10
_RUN_MAX: Final = 8 << 20
_QUOTE: Final = ord('"')
_BACKSLASH: Final = ord("\\")
_TIME_HEAD: Final = b'{"t":'


@dataclass(frozen=True, eq=False)
class ChunkPlan:
    """Where some chunks' audio is: a snapshot that can be read on any thread. Rows, in order."""

    sources: tuple[Backing, ...]
    source: npt.NDArray[np.int8]
    offset: npt.NDArray[np.int64]
    rel: npt.NDArray[np.int32]
    nbytes: npt.NDArray[np.int32]
    t: npt.NDArray[np.float64]
    frame: npt.NDArray[np.int64]
    #: Audio of chunks whose base64 is not in their line verbatim, by position in this plan.
    aside: dict[int, bytes]

    def __len__(self) -> int:
        return len(self.nbytes)

    @property
    def total_bytes(self) -> int:
        return int(self.nbytes.sum())

    def read(self, first: int = 0, last: int | None = None) -> list[bytes]:
        """The audio of chunks [first, last) of the plan, one bytes object each."""
        stop = len(self) if last is None else min(last, len(self))
        if stop <= first:
            return []
        span = slice(first, stop)
        # Python numbers once: indexing numpy arrays item by item costs more than reading the chunk.
        sources = self.source[span].tolist()
        offsets = self.offset[span].tolist()
        rels = self.rel[span].tolist()
        sizes = self.nbytes[span].tolist()
        times = self.t[span].tolist()
        frames = self.frame[span].tolist()
        aside = self.aside
        out: list[bytes] = []
        count = stop - first
        i = 0
        while i < count:
            size = sizes[i]
            if not size or (aside and first + i in aside):
                out.append(aside[first + i] if size else b"")
                i += 1
                continue
            # A run: following chunks of the same backing whose lines are near enough to read at once.
            begin = offsets[i]
            end = begin + rels[i] + base64_length(size) + 1
            j = i + 1
            while j < count and sizes[j] and sources[j] == sources[i] and not (aside and first + j in aside):
                line = offsets[j]
                span_end = line + rels[j] + base64_length(sizes[j]) + 1
                if line < end - 1 or line - end > _RUN_GAP or span_end - begin > _RUN_MAX:
                    break
                end = span_end
                j += 1
            backing = self.sources[sources[i]]
            buf = backing.read(begin, end - begin)
            from_file = isinstance(backing, FileBacking)
            with memoryview(buf) as view:
                for k in range(i, j):
                    line = offsets[k] - begin
                    at = line + rels[k]
                    size = sizes[k]
                    until = at + base64_length(size)
                    if from_file and not _same_line(buf, line, times[k]):
                        raise _changed(backing, frames[k], "its line starts differently")
                    if buf[at - 1] != _QUOTE or buf[until] not in (_QUOTE, _BACKSLASH):
                        raise _changed(backing, frames[k], "its audio is not where it was")
                    try:
                        audio = decode_audio(view[at:until])
                    except binascii.Error:
                        raise _changed(backing, frames[k], "its audio is no longer base64") from None
                    if len(audio) != size:
                        raise _changed(backing, frames[k], "its audio has another length")
                    out.append(audio)
            i = j
        return out

    def blocks(self, max_bytes: int = 1 << 20) -> Iterator[bytes]:
        """The audio in order, joined into blocks of about ``max_bytes`` (never splitting a chunk)."""
        sizes = self.nbytes.tolist()
        i, count = 0, len(sizes)
        while i < count:
            j, size = i, 0
            while j < count and (j == i or size + sizes[j] <= max_bytes):
                size += sizes[j]
                j += 1
            yield b"".join(self.read(i, j))
            i = j


def _same_line(buf: bytes, line: int, t: float) -> bool:
    """Whether the line at ``line`` still carries time ``t`` (lines not written as ``{"t":`` are not
    checked: only the capture writer's layout is known)."""
    if not buf.startswith(_TIME_HEAD, line):
        return True
    at = line + len(_TIME_HEAD)
    comma = buf.find(b",", at, at + 48)
    if comma < 0:
        return False
    try:
        return same_time(float(buf[at:comma]), t)
    except ValueError:
        return False


def _changed(backing: Backing, frame: int, what: str) -> StoreError:
    return StoreError(f"{backing.name} changed since it was read: frame {frame} is not what it was ({what})")


class AudioReader:
    """The audio of a session's chunks, by row of its chunk columns, read back from its frame store. Knows rows,
    not segments: the session's :class:`~flushscope.core.model.session_audio.SessionAudio` reads segments and
    contexts through it."""

    def __init__(self, frames: FrameStore, chunks: ChunkColumns) -> None:
        self._frames = frames
        self._chunks = chunks
        #: Audio of chunks whose base64 could not be found verbatim in their line (a JSON escape inside it,
        #: or a secret redacted out of it in the file), by chunk row. Rare; kept decoded.
        self.aside: dict[int, bytes] = {}

    @property
    def columns(self) -> ChunkColumns:
        """The session's chunk columns, whose rows this reader reads."""
        return self._chunks

    def plan(self, rows: Sequence[int] | npt.NDArray[Any]) -> ChunkPlan:
        """Where the audio of these chunk rows is (in their order), as a snapshot for any thread."""
        rows = np.asarray(rows, dtype=np.int64)
        chunks, frames = self._chunks, self._frames
        frame = chunks.column("frame")[rows]
        aside = (
            {i: self.aside[r] for i, r in enumerate(rows.tolist()) if r in self.aside} if self.aside else {}
        )
        return ChunkPlan(
            sources=frames.sources,
            source=frames.column("source")[frame],
            offset=frames.column("offset")[frame],
            rel=chunks.column("audio")[rows],
            nbytes=chunks.column("nbytes")[rows],
            t=frames.column("t")[frame],
            frame=frame,
            aside=aside,
        )

    def chunks(self, rows: Sequence[int] | npt.NDArray[Any]) -> list[bytes]:
        """The audio of each of these chunk rows."""
        return self.plan(rows).read()
