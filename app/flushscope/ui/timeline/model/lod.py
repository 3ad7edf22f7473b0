"""Level of detail for the timeline's chunk blocks, free of Qt: what to fill, in what colour.

A lane showing fewer chunks than one per ``EXACT_PX`` pixels draws every chunk as its own block, its ends
rounded to the nearest pixel boundary, with a seam between neighbours wide enough to spare one.

Any other lane is drawn as one row of pixel columns, each filled when some chunk's span (start and end
included) falls in it, in the colour of the last chunk that does: audio that never stops leaves no gap, a
pause as wide as a column shows. The row is worked out from the lane's summary (:mod:`.summary`) rather than
from its chunks: the level with at most one bin per column in view gives the first items, and a bin is
replaced by its children at the level below (opened) only where its row cannot tell its columns: a bin over
more than one column with two gaps a column could fall into, or one that is not where its segment changes,
or more than two runs of one segment (over exactly two columns, those show its first and last segment, each
in a column that holds it). So a column shows the last chunk's colour except where it holds three segments
or more at a coarse zoom, and then still the colour of one of them. The cost follows the columns: a few
numpy calls on arrays about as long as the plot is wide per round, whether a lane holds a thousand chunks or
a million.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np

from flushscope.ui.timeline.model.lanes import AxisMode, FloatArray, IntArray, Lane
from flushscope.ui.timeline.model.summary import (
    END,
    FAN,
    FIELDS,
    FIRST,
    GAP,
    GAP2,
    GAP_FROM,
    GAP_TO,
    KEY,
    RUNS,
    SPLIT,
    START,
    FloatRows,
    depth_for,
)

#: Below this many pixels per visible chunk, a lane is drawn with level of detail.
EXACT_PX: Final = 8
#: Rows of pixel columns start this far left of the plot and end as far right of it.
MARGIN: Final = 2
#: A pixel column with no audio (flush_ids may be negative).
NO_AUDIO: Final = int(np.iinfo(np.int64).min)
# A gap this wide in pixels might hold a whole column once rounding is allowed for: it must show.
_GAP_PX = 0.99
_FAN_BITS = FAN.bit_length() - 1  # FAN is a power of two

Runs = tuple[IntArray, IntArray, IntArray, IntArray]


@dataclass(frozen=True)
class Blocks:
    """What a paint fills for the visible lanes (by slot: their order top to bottom).

    ``rows``: per lane with chunks in view (``row_slots``), the flush_id of each pixel column from
    x = left - ``MARGIN`` to x = left + width + ``MARGIN`` (exclusive), ``NO_AUDIO`` where there is no audio.
    ``exact``: the chunks of the lanes drawn chunk by chunk, each with its slot, columns [x0, x1) and
    flush_id (in ``rows`` too).
    ``runs``: the stretches of one flush_id both make, slot, x0, x1, flush_id, the rows' first (for labels
    and the legend)."""

    row_slots: IntArray
    rows: IntArray
    exact: Runs | None
    runs: Runs


def rounded_columns(values: FloatArray, scale: float, offset: float, left: int, right: int) -> IntArray:
    """Rounded pixel columns of axis values, clipped just outside the plot."""
    x = values * scale
    x += offset
    np.clip(x, left - 2, right + 2, out=x)
    out: IntArray = x.astype(np.int64)
    return out


def pixel_columns(values: FloatArray, v0: float, scale: float, count: int) -> IntArray:
    """The column of a lane's row of pixels (0 at x = left - ``MARGIN``) that each axis value falls in, -1
    left of the row and ``count`` right of it. Monotonic in the value, as the level of detail needs."""
    x = values - v0
    x *= scale
    x += MARGIN
    np.floor(x, out=x)
    np.clip(x, -1, count, out=x)
    out: IntArray = x.astype(np.int64)
    return out


def level_for(chunks: int, width: int, top: int) -> int:
    """The level of the summary with at most one bin in view per pixel column (0: the chunks themselves)."""
    level, per_bin = 0, 1
    while level < top and chunks > width * per_bin:
        level += 1
        per_bin *= FAN
    return level


def _chunk_rows(lane: Lane, mode: AxisMode, index: IntArray | slice, out: FloatRows) -> None:
    """Chunks of a lane into ``out`` (zeros) as rows of the summary's shape: the fields a chunk is drawn from,
    its start, end and key (a chunk is never opened, so the rest are only read to be ignored)."""
    starts, ends, _ = lane.axis(mode)
    out[:, START] = starts[index]
    out[:, END] = ends[index]
    out[:, KEY] = lane.seg.values[index]


class _Raster:
    """Rows of pixel columns being filled: per column, the item that starts there latest (its place in
    time, the last column it reaches and its key), from items handed in any order of rounds."""

    def __init__(self, lanes: int, count: int) -> None:
        n = lanes * count
        self.count = count
        self.order = np.full(n, -1, dtype=np.int64)
        self.reach = np.zeros(n, dtype=np.int64)
        self.key = np.zeros(n, dtype=np.float64)  # as the summary keeps them
        self.empty = True  # nothing put yet: no earlier item to compare with

    def put(self, first: IntArray, last: IntArray, key: FloatArray, order: IntArray) -> None:
        """Items starting at flat columns ``first`` (non-decreasing: one round's items, in lane and time
        order) and reaching ``last``; ``order`` ranks items of a lane in time."""
        if not len(first):
            return
        # Of the items starting in one column, the last in time shows there.
        distinct = np.flatnonzero(np.diff(first, append=first[-1] + 1))
        if len(distinct) < len(first):
            first, last, key, order = first[distinct], last[distinct], key[distinct], order[distinct]
        if self.empty:
            self.empty = False
            at = first
        else:
            later = np.flatnonzero(order > self.order[first])
            at, last, key, order = first[later], last[later], key[later], order[later]
        self.order[at] = order
        self.reach[at] = last
        self.key[at] = key

    def fids(self, bases: IntArray) -> IntArray:
        """Per lane row and column, the key of the last item starting in or before the column plus the
        lane's ``bases`` entry if that item reaches the column, else ``NO_AUDIO``. Items of a lane do not
        overlap, so no earlier one can reach further."""
        n = len(self.order)
        where = np.arange(n)
        owner = np.where(self.order >= 0, where, -1)
        np.maximum.accumulate(owner, out=owner)
        # Before any item (owner -1) reads the last column's entry: masked by owner >= 0.
        shown = (owner >= 0) & (self.reach[owner] >= where)
        keys = self.key[owner].astype(np.int64).reshape(len(bases), self.count) + bases[:, None]
        out: IntArray = np.where(shown.reshape(keys.shape), keys, NO_AUDIO)
        return out


@dataclass
class _Items:
    """Bins and chunks of several lanes standing for their chunks in rows of pixel columns, in lane and time
    order: their rows (as in the summary), lane rows, levels (0: a chunk) and indexes in their level."""

    rows: FloatRows
    row: IntArray
    level: IntArray
    index: IntArray


def _first_items(
    lanes: Sequence[Lane], mode: AxisMode, ranges: Sequence[tuple[int, int, int]], count: int
) -> tuple[_Items, IntArray]:
    """The items a paint starts from: per lane, the bins of the level with at most one in view per column
    covering its chunks [lo, hi). Also the size of each lane's levels up to that one (lane row, level)."""
    choice = [level_for(hi - lo, count, depth_for(len(lanes[s].seg))) for s, lo, hi in ranges]
    sizes = np.zeros((len(ranges), max(choice) + 1), dtype=np.int64)
    spans = [
        (lo // FAN**level, (hi - 1) // FAN**level + 1)
        for (_, lo, hi), level in zip(ranges, choice, strict=True)
    ]
    counts = np.asarray([b - a for a, b in spans], dtype=np.int64)
    ends = np.cumsum(counts)
    rows = np.empty((int(ends[-1]), FIELDS), dtype=np.float64)
    for r, ((s, _, _), level, (a, b)) in enumerate(zip(ranges, choice, spans, strict=True)):
        # The levels this paint may read: the one chosen and those below it (opened bins).
        pyramid = lanes[s].summary(mode, level)
        sizes[r, : level + 1] = [pyramid.size(j) for j in range(level + 1)]
        at = slice(int(ends[r] - counts[r]), int(ends[r]))
        if level:
            rows[at] = pyramid.rows(level)[a:b]
        else:
            rows[at] = 0.0  # chunks' rows: no runs, no gaps
            _chunk_rows(lanes[s], mode, slice(a, b), rows[at])
    offsets = np.asarray([a for a, _ in spans], dtype=np.int64) - (ends - counts)
    items = _Items(
        rows,
        np.repeat(np.arange(len(ranges)), counts),
        np.repeat(np.asarray(choice, dtype=np.int64), counts),
        np.arange(len(rows)) + np.repeat(offsets, counts),
    )
    return items, sizes


def pixel_rows(
    lanes: Sequence[Lane],
    mode: AxisMode,
    ranges: Sequence[tuple[int, int, int]],
    v0: float,
    scale: float,
    count: int,
    tally: list[int] | None = None,
) -> tuple[IntArray, IntArray]:
    """For the lanes at slots ``ranges[k][0]`` whose chunks [lo, hi) may show, the flush_id of every pixel
    column of their row (``count`` columns, ``NO_AUDIO``: no audio), from their summaries. Returns the slots
    and the rows (one per slot). ``tally``, if given, gets the number of bins and chunks looked at in each
    round (what the cost follows)."""
    slots = np.asarray([r[0] for r in ranges], dtype=np.int64)
    shifts = np.asarray([lanes[s].axis(mode)[2] for s in slots.tolist()], dtype=np.float64)
    bases = np.asarray([lanes[s].base() for s in slots.tolist()], dtype=np.int64)
    items, sizes = _first_items(lanes, mode, ranges, count)
    raster = _Raster(len(slots), count)
    shifted = bool(shifts.any())
    while len(items.rows):
        if tally is not None:
            tally.append(len(items.rows))
        row = items.row

        def columns(values: FloatArray, which: IntArray | slice, row: IntArray = row) -> IntArray:
            if shifted:
                shift = shifts[row[which]]
                values = values - (shift[:, None] if values.ndim == 2 else shift)
            return pixel_columns(values, v0, scale, count)

        opened = _settle(items, raster, columns, scale, count)
        if not len(opened):
            break
        items = _children(items, opened, lanes, slots, mode, sizes)
    return slots, raster.fids(bases)


def _settle(
    items: _Items,
    raster: _Raster,
    columns: Callable[[FloatArray, IntArray | slice], IntArray],
    scale: float,
    count: int,
) -> IntArray:
    """Put into ``raster`` the items that show as they are; return the indexes of those to open.

    An item shows as up to two parts: the columns [ca, a_last] in its first key, then [b_first, cb] in its
    last. Chunks, and bins within one column, are the second part alone. A wider bin shows its one run; or
    its first run, then its last from where that starts; or, with one gap a column could fall into, the
    chunks before the gap and those after (one run, or two that change there). Over two columns of the row
    and no more, a bin with more runs shows its first and its last, each in a column that holds it. Any
    other bin is opened."""
    rows = items.rows
    every = slice(None)
    bins = bool(items.level.any())
    # The columns of both ends at once, and for bins of where their last run starts and their widest gap.
    where = columns(rows[:, [START, END, SPLIT, GAP_FROM, GAP_TO]] if bins else rows[:, :2], every)
    ca, cb = where[:, 0], where[:, 1]
    inside = (cb >= 0) & (ca < count)
    settled = inside
    b_first = ca
    a_last: IntArray | None = None
    wide = inside & (cb > ca) & (items.level > 0) if bins else inside[:0]
    opened = np.flatnonzero(wide[:0])
    if wide.any():
        # Over whole arrays (most bins at a coarse zoom are wide): chunks' rows read as one run, no gap.
        runs = rows[:, RUNS]
        big = rows[:, GAP] * scale >= _GAP_PX
        pair = (cb == ca + 1) & (ca >= 0) & (cb < count)
        at_gap = big & (rows[:, GAP2] * scale < _GAP_PX)
        at_gap &= (runs == 1.0) | ((runs == 2.0) & (rows[:, SPLIT] == rows[:, GAP_TO]))
        closed = wide & ~(at_gap | (~big & ((runs <= 2.0) | pair)))
        opened = np.flatnonzero(closed)
        settled = inside & ~closed
        split = np.where(at_gap, where[:, 4], where[:, 2])
        b_first = np.where(wide, split, ca)
        a_last = np.where(wide, np.where(at_gap, where[:, 3], split - 1), -2)
    base = items.row * count
    # Rank in time within a lane: twice the index of the first chunk (bins of a level hold FAN ** level).
    order = (items.index << (_FAN_BITS * items.level)) << 1
    ca = np.clip(ca, 0, count - 1)
    cb = np.clip(cb, 0, count - 1)
    # Each put takes items in lane and time order, so with non-decreasing first columns.
    if a_last is not None:
        lead = np.flatnonzero(settled & (a_last >= ca))
        raster.put(
            base[lead] + ca[lead],
            base[lead] + np.minimum(a_last[lead], count - 1),
            rows[lead, FIRST],
            order[lead],
        )
    tail = np.flatnonzero(settled & (b_first < count))
    raster.put(
        base[tail] + np.maximum(b_first[tail], 0), base[tail] + cb[tail], rows[tail, KEY], order[tail] + 1
    )
    return opened


def _children(
    items: _Items, opened: IntArray, lanes: Sequence[Lane], slots: IntArray, mode: AxisMode, sizes: IntArray
) -> _Items:
    """The children of the ``opened`` items, in the same order."""
    index = np.repeat(items.index[opened] * FAN, FAN) + np.tile(np.arange(FAN), len(opened))
    row = np.repeat(items.row[opened], FAN)
    level = np.repeat(items.level[opened] - 1, FAN)
    real = index < sizes[row, level]  # the last bin of a level may have fewer children
    index, row, level = index[real], row[real], level[real]
    out = np.zeros((len(index), FIELDS), dtype=np.float64)
    # One gather per lane: the children of a lane's opened bins all sit at the same level.
    bounds = np.flatnonzero(np.diff(row)) + 1
    for a, b in zip(
        np.concatenate(([0], bounds)).tolist(), np.append(bounds, len(row)).tolist(), strict=True
    ):
        lane = lanes[int(slots[row[a]])]
        child = int(level[a])
        if child == 0:
            _chunk_rows(lane, mode, index[a:b], out[a:b])
        else:
            # Synced up to the level first looked at, which is above this one.
            pyramid = lane.audio if mode is AxisMode.AUDIO else lane.arrival
            out[a:b] = pyramid.rows(child)[index[a:b]]
    return _Items(out, row, level, index)


def _row_runs(slots: IntArray, rows: IntArray, left: int) -> Runs:
    """The stretches of one flush_id in rows of pixel columns: slot, x0, x1, flush_id."""
    count = rows.shape[1]
    flat = rows.reshape(-1)
    change = np.ones(len(flat), dtype=bool)
    change[1:] = flat[1:] != flat[:-1]
    change[::count] = True
    starts = np.flatnonzero(change)
    stops = np.append(starts[1:], len(flat))
    filled = flat[starts] != NO_AUDIO
    starts, stops = starts[filled], stops[filled]
    row, col = np.divmod(starts, count)
    x0 = col + (left - MARGIN)
    return slots[row], x0, x0 + (stops - starts), flat[starts]


def block_runs(
    lanes: Sequence[Lane], mode: AxisMode, v0: float, v1: float, left: int, width: int, colours: int
) -> Blocks | None:
    """What to fill to show the chunks of ``lanes`` (the visible ones, top to bottom) between ``v0`` and
    ``v1`` on a plot ``width`` pixels wide starting at x ``left``, with a palette of ``colours`` block
    colours (flush_id modulo ``colours``); None when no chunk is in view."""
    right = left + width
    scale = width / (v1 - v0)
    offset = left + 0.5 - v0 * scale
    # Upper edges (in axis values) of the first and last rounded pixel columns, left - 2 and right + 2.
    clip_lo = v0 + (-1.5) / scale
    clip_hi = v0 + (width + 2.5) / scale
    coarse: list[tuple[int, int, int]] = []
    exact: list[tuple[int, FloatArray, FloatArray, IntArray]] = []
    for slot, lane in enumerate(lanes):
        starts, ends, shift = lane.axis(mode)
        n = len(starts)
        if not n:
            continue
        # Only the last chunk starting left of the view can reach into it (blocks do not overlap).
        lo = max(0, int(np.searchsorted(starts, clip_lo + shift, "left")) - 1)
        hi = int(np.searchsorted(starts, clip_hi + shift, "left"))
        if hi <= lo or (hi == lo + 1 and float(ends[lo]) - shift < v0):
            continue
        if (hi - lo) * EXACT_PX <= width:
            seg = lane.seg.values[lo:hi] + lane.base()
            exact.append((slot, starts[lo:hi] - shift, ends[lo:hi] - shift, seg))
        else:
            coarse.append((slot, lo, hi))
    count = width + 2 * MARGIN
    parts: list[Runs] = []
    drawn: list[tuple[IntArray, IntArray]] = []
    if coarse:
        row_slots, rows = pixel_rows(lanes, mode, coarse, v0, scale, count)
        drawn.append((row_slots, rows))
        parts.append(_row_runs(row_slots, rows, left))
    chunks: Runs | None = None
    if exact:
        slot_of = np.concatenate([np.full(len(p[1]), p[0], dtype=np.int64) for p in exact])
        c0 = rounded_columns(np.concatenate([p[1] for p in exact]), scale, offset, left, right)
        c1 = np.maximum(
            rounded_columns(np.concatenate([p[2] for p in exact]), scale, offset, left, right), c0 + 1
        )
        # Wide enough to tell chunks apart: leave a one-pixel seam between neighbours.
        chunks = (slot_of, c0, np.where(c1 - c0 >= 5, c1 - 1, c1), np.concatenate([p[3] for p in exact]))
        drawn.append(_chunk_pixels(chunks, left - MARGIN, count, colours))
        parts.append(chunks)
    if not parts:
        return None
    slot_of, x0, x1, fid = (np.concatenate([p[k] for p in parts]) for k in range(4))
    return Blocks(
        np.concatenate([d[0] for d in drawn]),
        np.concatenate([d[1] for d in drawn]),
        chunks,
        (slot_of, x0, x1, fid),
    )


def _chunk_pixels(chunks: Runs, origin: int, count: int, colours: int) -> tuple[IntArray, IntArray]:
    """Rows of pixel columns (from x = ``origin``) for chunks drawn one by one: slot, columns [x0, x1) and
    flush_id each. Where two overlap (a chunk narrower than a pixel, rounded onto its neighbour), the one
    whose colour comes later in the palette of ``colours`` shows, as when each colour's blocks are filled
    in turn."""
    slot_of, x0, x1, fid = chunks
    slots = np.unique(slot_of)
    a = np.clip(x0 - origin, 0, count)
    lengths = np.clip(x1 - origin, 0, count) - a
    lengths = np.maximum(lengths, 0)
    owner = np.repeat(np.arange(len(a)), lengths)
    at = np.searchsorted(slots, slot_of)[owner] * count + a[owner]
    at += np.arange(len(owner)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    best = np.full(len(slots) * count, -1, dtype=np.int64)
    np.maximum.at(best, at, (fid[owner] % colours) << 32 | owner)
    out = np.full(len(best), NO_AUDIO, dtype=np.int64)
    shown = best >= 0
    out[shown] = fid[best[shown] & 0xFFFFFFFF]
    return slots, out.reshape(len(slots), count)
