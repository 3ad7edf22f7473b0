"""Level of detail for the timeline's chunk blocks, free of Qt: which pixel runs to fill, in what colour.

Per lane, one ``searchsorted`` of the pixel column edges finds the last chunk starting in each column; that
chunk gives the column its colour and its reach. Neighbouring columns of the same segment merge into one
run, so a lane costs at most one rectangle per pixel column and usually one per visible segment, however
many chunks it holds. A lane showing fewer chunks than one per ``_EXACT_PX`` pixels draws every chunk,
with a seam between neighbours.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flushscope.ui.timeline.lanes import AxisMode, FloatArray, IntArray, _Lane

_LANE_SHIFT = 1 << 24  # keeps lanes apart when pixel runs of all lanes are merged in one pass
_EXACT_PX = 8  # below this many pixels per visible chunk, a lane is drawn with level of detail


def _merge_runs(
    slot: IntArray, col0: IntArray, col1: IntArray, key: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Pixel spans [col0, col1) of several lanes (sorted by lane ``slot``, then by distinct col0), each with
    a colour key, merged into runs of the same key that touch or overlap. A run never covers the start of
    the next one. Lanes are kept apart by shifting each far to the right of the one before."""
    if len(col0) == 0:
        return slot, col0, col1, key
    shift = slot * _LANE_SHIFT
    a, b = col0 + shift, col1 + shift
    reach = np.maximum.accumulate(b)
    new = np.ones(len(a), dtype=bool)
    new[1:] = (key[1:] != key[:-1]) | (a[1:] > reach[:-1])
    starts = np.flatnonzero(new)
    r0 = a[starts]
    r1 = np.maximum.reduceat(b, starts)
    r1[:-1] = np.minimum(r1[:-1], r0[1:])
    lane = slot[starts]
    return lane, r0 - lane * _LANE_SHIFT, r1 - lane * _LANE_SHIFT, key[starts]


def _columns(values: FloatArray, scale: float, offset: float, left: int, right: int) -> IntArray:
    """Rounded pixel columns of axis values, clipped just outside the plot."""
    x = values * scale
    x += offset
    np.clip(x, left - 2, right + 2, out=x)
    out: IntArray = x.astype(np.int64)
    return out


def _block_runs(
    lanes: Sequence[_Lane], mode: AxisMode, v0: float, v1: float, left: int, width: int
) -> tuple[IntArray, IntArray, IntArray, IntArray] | None:
    """The pixel runs that show the chunks of ``lanes`` (the visible ones, top to bottom) between ``v0`` and
    ``v1`` on a plot ``width`` pixels wide starting at x ``left``: per run its slot in ``lanes``, its
    columns [x0, x1) and its flush_id; merged runs of lanes drawn with level of detail come first, then the
    chunks of lanes drawn exactly, each part ordered by slot then x. None when no chunk is in view.

    Per lane one binary search of the pixel column edges finds, for every column, the last chunk starting
    in it; the rest is vectorised over all lanes at once."""
    right = left + width
    scale = width / (v1 - v0)
    offset = left + 0.5 - v0 * scale
    # Upper edge (in axis values) of each pixel column from left - 2 to right + 2.
    edges = v0 + (np.arange(left - 2, right + 3) + 0.5 - left) / scale
    lod: list[tuple[int, IntArray, FloatArray, IntArray]] = []
    exact: list[tuple[int, FloatArray, FloatArray, IntArray]] = []
    for slot, lane in enumerate(lanes):
        starts, ends = lane.spans(mode)
        if not len(starts):
            continue
        if starts[0] >= v1 or ends[-1] < v0:
            continue
        # Search only the columns the lane's data spans (a context often covers part of the view).
        c_lo = int(np.searchsorted(edges, starts[0], "right"))
        c_hi = int(np.searchsorted(edges, starts[-1], "right")) + 1
        below = np.searchsorted(starts, edges[c_lo:c_hi], "left")
        # Only the last chunk starting left of the view can reach into it (blocks do not overlap).
        lo, hi = (0 if c_lo > 0 else max(0, int(below[0]) - 1)), int(below[-1])
        if hi <= lo or (hi == lo + 1 and ends[lo] < v0):
            continue
        if (hi - lo) * _EXACT_PX <= width:
            exact.append((slot, starts[lo:hi], ends[lo:hi], lane.seg.view[lo:hi] + lane.base()))
        else:
            filled = np.flatnonzero(np.diff(below, prepend=0))
            last = below[filled] - 1
            lod.append((slot, filled + c_lo, ends[last], lane.seg.view[last] + lane.base()))
    parts: list[tuple[IntArray, IntArray, IntArray, IntArray]] = []
    if lod:
        slot_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in lod])
        col0 = np.concatenate([p[1] for p in lod]) + (left - 2)
        col1 = np.maximum(_columns(np.concatenate([p[2] for p in lod]), scale, offset, left, right), col0 + 1)
        parts.append(_merge_runs(slot_of, col0, col1, np.concatenate([p[3] for p in lod])))
    if exact:
        slot_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in exact])
        c0 = _columns(np.concatenate([p[1] for p in exact]), scale, offset, left, right)
        c1 = np.maximum(_columns(np.concatenate([p[2] for p in exact]), scale, offset, left, right), c0 + 1)
        # Wide enough to tell chunks apart: leave a one-pixel seam between neighbours.
        parts.append((slot_of, c0, np.where(c1 - c0 >= 5, c1 - 1, c1), np.concatenate([p[3] for p in exact])))
    if not parts:
        return None
    slot_of, x0, x1, fid = (np.concatenate([p[k] for p in parts]) for k in range(4))
    return slot_of, x0, x1, fid
