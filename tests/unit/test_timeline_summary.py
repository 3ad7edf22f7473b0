"""The per-lane summaries behind the timeline's level of detail (ui/timeline/model/summary.py, lod.py): every row
against the chunks it stands for, appending in batches against building at once, and the rows of pixel
columns drawn from the summaries against painting every chunk. Plain numpy, no widget, no Qt."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flushscope.core.model.records import Context
from flushscope.ui.timeline.model.lanes import AxisMode, FloatArray, IntArray, Lane
from flushscope.ui.timeline.model.lod import (
    MARGIN,
    NO_AUDIO,
    block_runs,
    level_for,
    pixel_columns,
    pixel_rows,
)
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
    Pyramid,
)
from timeline_paint import assert_faithful, held, painted, runs_of

ARRIVAL, AUDIO, SINCE = AxisMode.ARRIVAL, AxisMode.AUDIO, AxisMode.SINCE_SEND
COLOURS = 8  # block colours in the palette


@st.composite
def chunk_columns(draw: st.DrawFn, max_size: int = 400) -> tuple[FloatArray, FloatArray, IntArray]:
    """Sorted chunks that do not overlap, as a lane holds them: back to back, with gaps of every size, some
    of no length, several at one time; and their segments, mostly in runs, sometimes going back."""
    n = draw(st.integers(1, max_size))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, 4, size=n)  # back to back, a small gap, a large gap, none at all
    gap = np.select(
        [kind == 0, kind == 1, kind == 2], [0.0, rng.uniform(0.0, 0.05, n), rng.uniform(0.5, 5.0, n)], 0.0
    )
    length = np.where(rng.random(n) < 0.1, 0.0, rng.uniform(0.001, 0.2, n))
    origin = draw(st.floats(-50.0, 50.0))
    starts = np.empty(n)
    ends = np.empty(n)
    at = origin
    for i in range(n):
        starts[i] = at
        ends[i] = at + length[i]
        at = ends[i] + gap[i]
    run = draw(st.integers(1, 60))
    keys = (np.arange(n) + rng.integers(0, run)) // run
    back = rng.random(n) < draw(st.sampled_from([0.0, 0.0, 0.02]))
    keys = np.where(back, np.maximum(keys - 1, 0), keys).astype(np.int64)
    return starts, ends, keys


def brute_rows(starts: FloatArray, ends: FloatArray, keys: IntArray, level: int) -> np.ndarray:
    """Level ``level``'s rows computed from the chunks of each bin, one bin at a time (the gap fields:
    the widest gap, the second widest; where the widest is, see :func:`assert_rows_match`)."""
    width = FAN**level
    out = []
    for first in range(0, len(starts), width):
        s, e, k = starts[first : first + width], ends[first : first + width], keys[first : first + width]
        change = np.flatnonzero(k[1:] != k[:-1])
        split = s[change[-1] + 1] if len(change) else s[0]
        gaps = [*sorted((s[1:] - e[:-1]).tolist(), reverse=True), -math.inf, -math.inf]
        out.append([s[0], e[-1], k[-1], k[0], 1 + len(change), split, gaps[0], gaps[1], math.nan, math.nan])
    return np.asarray(out, dtype=np.float64).reshape(-1, FIELDS)


def assert_rows_match(pyramid: Pyramid, starts: FloatArray, ends: FloatArray, keys: IntArray) -> None:
    assert pyramid.chunks == len(starts)
    assert pyramid.size(len(pyramid.levels)) == 1
    for level in range(1, len(pyramid.levels) + 1):
        got, want = pyramid.rows(level), brute_rows(starts, ends, keys, level)
        assert got.shape == want.shape
        for field in (START, END, KEY, FIRST, RUNS, SPLIT):
            assert got[:, field].tolist() == want[:, field].tolist(), (level, field)
        # A bin of one chunk has no gap inside; the summary may say so with any number at most 0.
        for field in (GAP, GAP2):
            single = np.isinf(want[:, field])
            assert np.all(got[single, field] <= 0.0)
            assert got[~single, field].tolist() == want[~single, field].tolist(), (level, field)
        # The widest gap lies between two neighbours of the bin (the first of several as wide, or another).
        width = FAN**level
        for b, (gap, fro, to) in enumerate(got[:, [GAP, GAP_FROM, GAP_TO]].tolist()):
            s, e = starts[b * width : (b + 1) * width], ends[b * width : (b + 1) * width]
            if len(s) > 1 and gap > 0.0:
                m = np.flatnonzero((e[:-1] == fro) & (s[1:] == to))
                assert len(m) and to - fro == gap, (level, b)


# --- the summary ----------------------------------------------------------------------------------------


@given(chunk_columns())
def test_every_row_sums_up_the_chunks_of_its_bin(columns: tuple[FloatArray, FloatArray, IntArray]) -> None:
    starts, ends, keys = columns
    pyramid = Pyramid()

    pyramid.sync(starts, ends, keys)

    assert_rows_match(pyramid, starts, ends, keys)
    assert [pyramid.size(j) for j in range(1, len(pyramid.levels) + 1)] == [
        -(-len(starts) // FAN**j) for j in range(1, len(pyramid.levels) + 1)
    ]


@given(chunk_columns(), st.lists(st.integers(1, 120), min_size=1, max_size=12), st.data())
def test_appending_in_batches_gives_the_summary_built_at_once(
    columns: tuple[FloatArray, FloatArray, IntArray], batches: list[int], data: st.DataObject
) -> None:
    starts, ends, keys = columns
    live = Pyramid()
    n = 0
    for size in batches:
        if n >= len(starts):
            break
        grown = min(len(starts), n + size)
        # The last chunk's end is only final once the next one arrives (a block ends at the next chunk):
        # until then it runs longer, as a lane holds it.
        shown_ends = ends[:grown].copy()
        if grown < len(starts):
            shown_ends[-1] += data.draw(st.floats(0.0, 1.0))
        live.changed(max(0, n - 1))
        live.sync(starts[:grown], shown_ends, keys[:grown])
        n = grown
    live.changed(max(0, n - 1))
    live.sync(starts, ends, keys)

    once = Pyramid()
    once.sync(starts, ends, keys)
    assert len(live.levels) == len(once.levels)
    for j in range(1, len(once.levels) + 1):
        assert live.rows(j).tolist() == once.rows(j).tolist()
    assert_rows_match(live, starts, ends, keys)


def test_the_summary_is_small_and_rewrites_only_the_end_when_chunks_arrive() -> None:
    n = 100_000
    starts = np.arange(n) * 0.01
    pyramid = Pyramid()
    pyramid.sync(starts, starts + 0.01, np.arange(n) // 100)
    levels = range(1, len(pyramid.levels) + 1)
    rows = sum(pyramid.size(j) for j in levels)
    assert rows < n / (FAN - 1) + len(pyramid.levels)
    before = [pyramid.rows(j).copy() for j in levels]

    more = np.arange(n + 50) * 0.01
    pyramid.changed(n - 1)
    pyramid.sync(more, more + 0.01, np.arange(n + 50) // 100)

    # Rows of bins that hold only old chunks are the same objects' same values; none was rewritten.
    for j, old in zip(levels, before, strict=False):
        kept = (n - 1) // FAN**j
        assert np.array_equal(pyramid.rows(j)[:kept], old[:kept])
    assert_rows_match(pyramid, more, more + 0.01, np.arange(n + 50) // 100)


def test_an_empty_lane_has_no_summary() -> None:
    pyramid = Pyramid()
    empty = np.zeros(0)
    pyramid.sync(empty, empty, np.zeros(0, dtype=np.int64))
    assert pyramid.levels == [] and pyramid.chunks == 0


# --- rows of pixel columns against painting every chunk -----------------------------------------------


def make_lane(starts: FloatArray, ends: FloatArray, keys: IntArray, origin: float = 0.0) -> Lane:
    """A lane holding these chunks on both axes (audio: the same positions), its context first sent at
    ``origin``."""
    lane = Lane(Context(1, 1, "ctx", origin, base=1))
    for name, values in (("t", starts), ("t_end", ends), ("start", starts), ("a_end", ends)):
        getattr(lane, name).extend(values)
    lane.duration.extend(ends - starts)
    lane.rows.extend(np.arange(len(starts)))
    lane.seg.extend(keys)
    return lane


@settings(max_examples=300)
@given(
    chunk_columns(),
    st.floats(0.0, 1.0),
    st.floats(-3.0, 0.5),
    st.integers(1, 300),
    st.sampled_from([ARRIVAL, AUDIO, SINCE]),
)
def test_rows_from_the_summary_are_the_chunks_painted_one_by_one(
    columns: tuple[FloatArray, FloatArray, IntArray], where: float, zoom: float, width: int, mode: AxisMode
) -> None:
    starts, ends, keys = columns
    origin = float(starts[0]) - 1.0
    lane = make_lane(starts, ends, keys, origin)
    axis_starts, axis_ends = lane.spans(mode)
    lo_v, hi_v = float(axis_starts[0]), float(axis_ends[-1])
    # Any zoom from a thousandth of the chunks' extent to three times it, anywhere along them.
    span = max(hi_v - lo_v, 1e-3) * 10.0**zoom
    v0 = lo_v - span / 2 + where * (hi_v - lo_v)
    scale = width / span
    count = width + 2 * MARGIN

    slots, rows = pixel_rows([lane], mode, [(0, 0, len(starts))], v0, scale, count)

    assert slots.tolist() == [0]
    ids = held(axis_starts, axis_ends, keys + 1, v0, scale, count)
    assert_faithful(rows[0].tolist(), ids)
    if len(starts) <= count:
        # Few enough to look at each chunk: the very picture of painting them one by one.
        assert rows[0].tolist() == painted(axis_starts, axis_ends, keys + 1, v0, scale, count)


@given(chunk_columns(max_size=3000), st.floats(0.0, 1.0), st.floats(-2.0, 0.0))
def test_rows_of_several_lanes_and_the_blocks_paint(
    columns: tuple[FloatArray, FloatArray, IntArray], where: float, zoom: float
) -> None:
    starts, ends, keys = columns
    lanes = [
        make_lane(starts, ends, keys),
        make_lane(starts[::2], ends[::2], keys[::2]),
        make_lane(starts, ends, keys),
    ]
    lo_v, hi_v = float(starts[0]), float(ends[-1])
    span = max(hi_v - lo_v, 1e-3) * 10.0**zoom
    v0 = lo_v - span / 2 + where * (hi_v - lo_v)
    left, width = 30, 200

    v1 = v0 + span

    blocks = block_runs(lanes, ARRIVAL, v0, v1, left, width, COLOURS)

    scale = width / (v1 - v0)
    count = width + 2 * MARGIN
    if blocks is None:
        # Nothing in the plot (the margins either side may hold a sliver).
        for lane in lanes:
            row = painted(lane.t.values, lane.t_end.values, lane.seg.values + 1, v0, scale, count)
            assert all(f == NO_AUDIO for f in row[MARGIN : count - MARGIN])
        return
    exact = set() if blocks.exact is None else set(blocks.exact[0].tolist())
    coarse = []
    for slot, row in zip(blocks.row_slots.tolist(), blocks.rows.tolist(), strict=True):
        lane = lanes[slot]
        if slot in exact:
            # Chunks one by one: their blocks filled colour by colour, as rectangles would be.
            assert row == filled(blocks.exact, slot, left - MARGIN, count)
        else:
            assert_faithful(
                row, held(lane.t.values, lane.t_end.values, lane.seg.values + 1, v0, scale, count)
            )
            coarse.append((slot, row))
    # The stretches for labels and the legend: the rows' of lanes with level of detail, then the chunks'.
    slot_of, x0, x1, fid = blocks.runs
    from_rows = [
        (slot, a + left - MARGIN, b + left - MARGIN, f) for slot, row in coarse for a, b, f in runs_of(row)
    ]
    got = list(zip(slot_of.tolist(), x0.tolist(), x1.tolist(), fid.tolist(), strict=True))
    assert got[: len(from_rows)] == from_rows
    if blocks.exact is not None:
        assert got[len(from_rows) :] == list(zip(*(part.tolist() for part in blocks.exact), strict=True))


def filled(
    chunks: tuple[IntArray, IntArray, IntArray, IntArray], slot: int, origin: int, count: int
) -> list[int]:
    """One lane's row of pixel columns (from x = ``origin``) with its chunks' blocks [x0, x1) filled one
    colour after the other, each colour's in order."""
    row = [NO_AUDIO] * count
    for colour in range(COLOURS):
        for s, a, b, f in zip(*(part.tolist() for part in chunks), strict=True):
            if s == slot and f % COLOURS == colour:
                for x in range(max(a - origin, 0), min(b - origin, count)):
                    row[x] = f
    return row


# --- cost ---------------------------------------------------------------------------------------------


def test_the_level_has_at_most_one_bin_per_column() -> None:
    assert level_for(100, 1600, 5) == 0
    assert level_for(1600, 1600, 5) == 0
    assert level_for(1601, 1600, 5) == 1
    assert level_for(1_000_000, 1600, 5) == 4  # 8**4 = 4096 chunks a bin: 245 bins
    assert level_for(1_000_000, 1600, 2) == 2  # no higher level yet


@pytest.mark.parametrize("mode", [ARRIVAL, AUDIO, SINCE])
def test_a_million_chunks_cost_what_the_pixels_cost(mode: AxisMode) -> None:
    # Segments of 100 chunks, continuous audio, arriving with a pause after each: at any zoom, a row of
    # pixel columns looks at a few bins per column, however many chunks there are.
    n = 1_000_000
    t = np.arange(n) * 0.01 + (np.arange(n) // 100) * 0.3
    ends = np.minimum(t + 0.01, np.append(t[1:], np.inf))
    lane = make_lane(t, ends, np.arange(n) // 100, origin=-1.0)
    lane.start.values[:] = np.arange(n) * 0.01  # in the audio, no pause
    lane.a_end.values[:] = lane.start.values + 0.01
    starts, stops = lane.spans(mode)
    width = 1600
    count = width + 2 * MARGIN
    for part in (1, 3, 20, 100, 150, 500):
        span = (stops[-1] - starts[0]) / part
        v0 = starts[0] + (stops[-1] - starts[0]) / 2 - span / 2
        # The chunks that may fall in the row, its margins included.
        lo = max(0, int(np.searchsorted(starts, v0 - 3 * span / width)) - 1)
        hi = int(np.searchsorted(starts, v0 + span + 3 * span / width))
        tally: list[int] = []

        _slots, rows = pixel_rows([lane], mode, [(0, lo, hi)], v0, width / span, count, tally)

        assert sum(tally) <= 4 * width, (part, tally)
        # Against every chunk (with numpy: the segments only grow): audio where chunks are, and in each
        # column a segment from the first to the last chunk there; the last one where segments are wider
        # than two columns.
        a = pixel_columns(starts, v0, width / span, count)
        b = pixel_columns(stops, v0, width / span, count)
        column = np.arange(count)
        last = np.searchsorted(a, column, "right") - 1
        first = np.searchsorted(b, column, "left")
        held_any = (last >= 0) & (b[np.maximum(last, 0)] >= column)
        fids = lane.seg.values + 1
        got = rows[0]
        assert np.array_equal(got != NO_AUDIO, held_any)
        assert np.all(got[held_any] >= fids[first[held_any]])
        assert np.all(got[held_any] <= fids[last[held_any]])
        if part >= 20:
            assert np.array_equal(got[held_any], fids[last[held_any]])
