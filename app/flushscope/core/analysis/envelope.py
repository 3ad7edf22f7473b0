"""The envelope of a segment's or a context's audio at a width: its smallest and largest sample per column.

Computed with numpy from the decoded samples (no Python loop per column). Audio longer than
:data:`WHOLE_SAMPLES` is read from the capture a megabyte at a time and folded into the columns as it is read
(:func:`min_max_streamed`), so an hour-long context costs a megabyte of samples, not an hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session_audio import SessionAudio
from flushscope.protocol.audio import decode, decode_blocks

FloatArray = npt.NDArray[np.float32]
#: What an envelope is drawn for.
Target = Segment | Context
#: Audio up to this many samples is decoded whole for its envelope; longer audio is read in blocks.
WHOLE_SAMPLES: Final = 1 << 20
#: Bytes of audio read and folded into the envelope at a time.
BLOCK_BYTES: Final = 1 << 20


def min_max_columns(samples: npt.NDArray[Any], columns: int) -> tuple[FloatArray, FloatArray]:
    """The smallest and largest sample of each of ``columns`` equal runs of ``samples``. With fewer samples
    than columns, each column shows the sample under it. NaN counts as 0; the values are not clipped."""
    if columns <= 0:
        empty = np.zeros(0, np.float32)
        return empty, empty
    count = len(samples)
    if count == 0:
        zeros = np.zeros(columns, np.float32)
        return zeros, zeros.copy()
    values = np.nan_to_num(np.asarray(samples, np.float32))
    edges = (np.arange(columns, dtype=np.int64) * count) // columns
    mins: FloatArray = np.minimum.reduceat(values, edges)
    maxs: FloatArray = np.maximum.reduceat(values, edges)
    return mins, maxs


def min_max_streamed(
    blocks: Iterable[npt.NDArray[Any]], count: int, columns: int
) -> tuple[FloatArray, FloatArray]:
    """:func:`min_max_columns` of ``count`` samples (at least ``columns``) given as consecutive blocks, without
    holding them all: each block is folded into the columns it covers."""
    if count < columns or columns <= 0:
        whole = np.concatenate([np.asarray(b, np.float32) for b in blocks]) if count else np.zeros(0)
        return min_max_columns(whole, columns)
    edges = (np.arange(columns, dtype=np.int64) * count) // columns
    mins = np.full(columns, np.inf, np.float32)
    maxs = np.full(columns, -np.inf, np.float32)
    at = 0
    for block in blocks:
        values = np.nan_to_num(np.asarray(block, np.float32))
        end = at + len(values)
        if not len(values):
            continue
        # The columns this block reaches: from the one holding its first sample to the one holding its last.
        first = int(np.searchsorted(edges, at, "right")) - 1
        last = int(np.searchsorted(edges, end, "left"))
        starts = np.maximum(edges[first:last] - at, 0)
        np.minimum(mins[first:last], np.minimum.reduceat(values, starts), out=mins[first:last])
        np.maximum(maxs[first:last], np.maximum.reduceat(values, starts), out=maxs[first:last])
        at = end
    return mins, maxs


@dataclass(frozen=True, eq=False)
class Envelope:
    """The envelope of one target at one width: min/max and the segment (ordinal) per column, and the
    target's seconds of audio. ``key`` says what it was computed from (:func:`envelope_key`)."""

    key: tuple[Any, ...]
    mins: FloatArray
    maxs: FloatArray
    segment: npt.NDArray[np.int64]
    seconds: float


def envelope_key(target: Target, columns: int) -> tuple[Any, ...] | None:
    """What the envelope of ``target`` at ``columns`` depends on: the target, its audio so far, the width and
    the numbering (None while the target's format is unknown: it has no envelope)."""
    ctx = target if isinstance(target, Context) else target.context
    if ctx.format is None:
        return None
    nbytes = target.total_bytes if isinstance(target, Context) else target.nbytes
    return (target, nbytes, columns, ctx.base)


def measure_envelope(audio: SessionAudio, target: Target, columns: int) -> Envelope | None:
    """The envelope of ``target``'s audio as it is now at ``columns`` columns, read through its session's
    ``audio`` (None while its format is unknown); :class:`~flushscope.core.store.line_storage.StoreError` if
    the audio cannot be read back."""
    key = envelope_key(target, columns)
    ctx = target if isinstance(target, Context) else target.context
    fmt = ctx.format
    if key is None or fmt is None:
        return None
    nbytes = key[1]
    count = fmt.samples_in(nbytes)
    if count <= WHOLE_SAMPLES:
        whole = audio.segment(target) if isinstance(target, Segment) else audio.context(target)
        mins, maxs = min_max_columns(decode(whole[: count * fmt.sample_width], fmt.encoding), columns)
    else:
        blocks = audio.plan(target).blocks(BLOCK_BYTES)
        mins, maxs = min_max_streamed(decode_blocks(blocks, fmt.encoding, decode), count, columns)
    if isinstance(target, Context):
        bounds = np.cumsum([s.samples for s in target.segments])
        firsts = (np.arange(columns, dtype=np.int64) * count) // columns
        segment = np.minimum(np.searchsorted(bounds, firsts, "right"), len(target.segments) - 1)
    else:
        segment = np.full(columns, target.ordinal, np.int64)
    return Envelope(key, mins, maxs, segment.astype(np.int64), fmt.duration(nbytes))
