"""The timeline's chunk blocks painted the slow way, one chunk at a time: the reference the level of detail is
held to (shared by the tests)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flushscope.ui.timeline.model.lanes import FloatArray, IntArray
from flushscope.ui.timeline.model.lod import NO_AUDIO, pixel_columns


def held(
    starts: FloatArray, ends: FloatArray, fids: IntArray, v0: float, scale: float, count: int
) -> list[list[int]]:
    """Per column of a row of ``count`` pixel columns, the flush_ids of the chunks whose span (ends
    included) falls in it, in order."""
    out: list[list[int]] = [[] for _ in range(count)]
    first = pixel_columns(np.asarray(starts, dtype=np.float64), v0, scale, count).tolist()
    last = pixel_columns(np.asarray(ends, dtype=np.float64), v0, scale, count).tolist()
    for a, b, f in zip(first, last, np.asarray(fids).tolist(), strict=True):
        for c in range(max(a, 0), min(b, count - 1) + 1):
            out[c].append(f)
    return out


def painted(
    starts: FloatArray, ends: FloatArray, fids: IntArray, v0: float, scale: float, count: int
) -> list[int]:
    """Every chunk filled over the columns its span falls in, one after the other: the last one shows."""
    return [ids[-1] if ids else NO_AUDIO for ids in held(starts, ends, fids, v0, scale, count)]


def assert_faithful(row: Sequence[int], ids: Sequence[Sequence[int]]) -> None:
    """The row shows audio exactly where some chunk is, in the colour of a segment that is there: the one
    segment there, where a column holds only one."""
    assert [f != NO_AUDIO for f in row] == [bool(i) for i in ids]
    for column, (f, here) in enumerate(zip(row, ids, strict=True)):
        if here:
            assert f in here, column
            if len(set(here)) == 1:
                assert f == here[-1], column


def runs_of(row: Sequence[int]) -> list[tuple[int, int, int]]:
    """(first column, past the last, flush_id) of each stretch of one colour."""
    out: list[tuple[int, int, int]] = []
    for c, f in enumerate(row):
        if f == NO_AUDIO:
            continue
        if out and out[-1][1] == c and out[-1][2] == f:
            out[-1] = (out[-1][0], c + 1, f)
        else:
            out.append((c, c + 1, f))
    return out
