"""Level of detail for the timeline's chunk blocks (ui/timeline/model/lod.py): which lanes are drawn chunk by chunk,
what the others' rows of pixel columns show, in order. Plain numpy, no widget, no Qt. The rows against
painting every chunk at random zooms: test_timeline_summary.py."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from command_line import qt_loaded_by_importing
from flushscope.core.model.records import Context
from flushscope.ui.timeline.model.lanes import AxisMode, IntArray, Lane
from flushscope.ui.timeline.model.lod import EXACT_PX, MARGIN, block_runs, pixel_columns
from timeline_paint import assert_faithful, held

ARRIVAL = AxisMode.ARRIVAL
COLOURS = 8  # block colours in the palette
Runs = list[tuple[int, int, int, int]]


def make_lane(
    starts: Sequence[float],
    ends: Sequence[float],
    segments: Sequence[int],
    *,
    base: int | None = None,
    audio_shift: float = 0.0,
) -> Lane:
    """A lane holding the given blocks; in audio mode they sit ``audio_shift`` seconds later."""
    lane = Lane(Context(1, 1, "ctx", 0.0, base=base))
    s = np.asarray(starts, dtype=np.float64)
    e = np.asarray(ends, dtype=np.float64)
    lane.rows.extend(np.arange(len(s), dtype=np.int64))
    lane.t.extend(s)
    lane.t_end.extend(e)
    lane.start.extend(s + audio_shift)
    lane.a_end.extend(e + audio_shift)
    lane.duration.extend(e - s)
    lane.seg.extend(np.asarray(segments, dtype=np.int64))
    return lane


def runs(
    lanes: Sequence[Lane], v0: float, v1: float, left: int, width: int, mode: AxisMode = ARRIVAL
) -> Runs:
    """(slot, x0, x1, flush_id) of every stretch of one flush_id, in the order given."""
    result = block_runs(lanes, mode, v0, v1, left, width, COLOURS)
    if result is None:
        return []
    slot, x0, x1, fid = result.runs
    return list(zip(slot.tolist(), x0.tolist(), x1.tolist(), fid.tolist(), strict=True))


def columns(values: Sequence[float] | np.ndarray, v0: float, v1: float, left: int, width: int) -> IntArray:
    """The pixel column of each axis value, as the timeline rounds them (clipped two pixels outside)."""
    scale = width / (v1 - v0)
    x = np.asarray(values, dtype=np.float64) * scale + (left + 0.5 - v0 * scale)
    out: IntArray = np.floor(np.clip(x, left - 2, left + width + 2)).astype(np.int64)
    return out


# --- examples -----------------------------------------------------------------------------------------


def test_nothing_in_view_draws_nothing() -> None:
    one = make_lane([2.0, 3.0], [2.5, 3.5], [0, 0])

    assert block_runs([], ARRIVAL, 0.0, 10.0, 10, 100, COLOURS) is None
    assert block_runs([make_lane([], [], [])], ARRIVAL, 0.0, 10.0, 10, 100, COLOURS) is None
    assert block_runs([one], ARRIVAL, 4.0, 10.0, 10, 100, COLOURS) is None  # all of it left of the view
    assert block_runs([one], ARRIVAL, -5.0, 1.0, 10, 100, COLOURS) is None  # all of it right of the view
    assert block_runs([one], ARRIVAL, 3.5, 10.0, 10, 100, COLOURS) is not None  # its last pixel is in view


def test_one_chunk_is_drawn_exactly_with_a_seam() -> None:
    lane = make_lane([0.0], [1.0], [0])

    assert runs([lane], 0.0, 10.0, 100, 100) == [(0, 100, 109, 1)]


def test_a_narrow_chunk_gets_at_least_one_pixel_and_no_seam() -> None:
    lane = make_lane([2.0, 5.0], [2.001, 5.3], [0, 1])

    assert runs([lane], 0.0, 10.0, 100, 100) == [(0, 120, 121, 1), (0, 150, 153, 2)]


def test_sub_pixel_chunks_merge_into_one_run_per_segment() -> None:
    starts = np.arange(1000) * 0.01
    lane = make_lane(starts, starts + 0.01, np.arange(1000) // 100)

    got = runs([lane], 0.0, 10.0, 100, 200)

    # Ten segments of a second each, 20 pixels apart; where one ends and the next starts, the column shows
    # the next. The last chunk ends on the boundary of the column past the plot's right edge: it shows there.
    assert got == [(0, 100 + 20 * k, 120 + 20 * k, k + 1) for k in range(9)] + [(0, 280, 301, 10)]


def test_a_column_takes_the_colour_of_the_last_chunk_in_it() -> None:
    # One pixel per second, four chunks per pixel; segment 1 starts with chunk 13 (at 3.25 s), inside the
    # column of [3, 4), which therefore shows segment 1 already.
    starts = np.arange(40) * 0.25
    lane = make_lane(starts, starts + 0.25, (np.arange(40) >= 13).astype(int))

    assert runs([lane], 0.0, 10.0, 20, 10) == [(0, 20, 23, 1), (0, 23, 31, 2)]


def test_gaps_wider_than_a_pixel_stay_gaps() -> None:
    starts = np.concatenate([np.arange(100) * 0.01, 5.0 + np.arange(100) * 0.01])
    lane = make_lane(starts, starts + 0.01, np.zeros(200, dtype=int))

    assert runs([lane], 0.0, 10.0, 0, 100) == [(0, 0, 11, 1), (0, 50, 61, 1)]


@pytest.mark.parametrize(("width", "exact"), [(10 * EXACT_PX, True), (10 * EXACT_PX - 1, False)])
def test_zooming_in_far_enough_draws_every_chunk(width: int, exact: bool) -> None:
    starts = np.arange(10) * 0.1
    lane = make_lane(starts, starts + 0.1, np.zeros(10, dtype=int))

    got = runs([lane], 0.0, 1.0, 0, width)

    if exact:
        assert [x0 for _, x0, _, _ in got] == columns(starts, 0.0, 1.0, 0, width).tolist()
        assert all(x1 == x0 + 7 for _, x0, x1, _ in got)  # a one-pixel seam between neighbours
    else:
        assert got == [(0, 0, width + 1, 1)]  # one run, to the column where the last chunk ends


def test_a_chunk_reaching_in_from_the_left_starts_at_the_clip_column() -> None:
    lane = make_lane([-5.0, 6.0], [5.0, 7.0], [0, 1])

    assert runs([lane], 0.0, 10.0, 10, 100) == [(0, 8, 59, 1), (0, 70, 79, 2)]


def test_only_the_last_chunk_left_of_the_view_can_reach_into_it() -> None:
    starts = np.arange(-100, 10) * 0.1
    lane = make_lane(starts, starts + 0.1, (starts >= 0).astype(int))

    got = runs([lane], 0.0, 1.0, 2, 10)

    assert got[0] == (0, 0, 2, 1)  # the chunk just before 0 s, in the clip columns
    assert [fid for *_, fid in got[1:]] == [2]


def test_level_of_detail_lanes_come_first_each_ordered_by_slot_then_x() -> None:
    few = make_lane([1.0, 4.0], [2.0, 5.0], [0, 1])
    many = np.arange(500) * 0.02
    busy = make_lane(many, many + 0.02, np.arange(500) // 250)

    got = runs([few, busy, few], 0.0, 10.0, 0, 100)

    assert [slot for slot, *_ in got] == [1, 1, 0, 0, 2, 2]
    assert got[2:] == [(0, 10, 19, 1), (0, 40, 49, 2), (2, 10, 19, 1), (2, 40, 49, 2)]


@pytest.mark.parametrize(("base", "first"), [(None, 1), (0, 0), (1, 1), (5, 5)])
def test_the_colour_is_the_flush_id_from_the_contexts_base(base: int | None, first: int) -> None:
    lane = make_lane([1.0, 4.0], [2.0, 5.0], [0, 1], base=base)

    assert [fid for *_, fid in runs([lane], 0.0, 10.0, 0, 100)] == [first, first + 1]


def test_the_axis_mode_picks_arrival_or_audio_positions() -> None:
    lane = make_lane([1.0], [2.0], [0], audio_shift=3.0)

    assert runs([lane], 0.0, 10.0, 0, 100, ARRIVAL) == [(0, 10, 19, 1)]
    assert runs([lane], 0.0, 10.0, 0, 100, AxisMode.AUDIO) == [(0, 40, 49, 1)]


# --- properties ---------------------------------------------------------------------------------------


Case = tuple[list[float], list[float], list[int], float, float, int, int]


@st.composite
def lanes_and_views(draw: st.DrawFn) -> Case:
    """Sorted, non-overlapping blocks of one lane (some sub-pixel, some wide, with gaps), their segments,
    and a view: v0, v1, left, width."""
    n = draw(st.integers(1, 60))
    gaps = draw(st.lists(st.floats(0.0, 2.0), min_size=n, max_size=n))
    fill = draw(st.lists(st.floats(0.0, 1.0), min_size=n, max_size=n))
    steps = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    starts = np.cumsum(np.asarray(gaps)) + draw(st.floats(-20.0, 20.0))
    following = np.append(np.diff(starts), 2.0)
    ends = starts + following * np.asarray(fill)
    segments = np.cumsum(np.asarray(steps, dtype=int))
    v0 = draw(st.floats(-30.0, 200.0))
    v1 = v0 + draw(st.floats(0.01, 300.0))
    left, width = draw(st.integers(2, 50)), draw(st.integers(1, 400))
    return starts.tolist(), ends.tolist(), segments.tolist(), v0, v1, left, width


def covered(spans: Sequence[tuple[int, int]]) -> set[int]:
    return set(itertools.chain.from_iterable(range(a, b) for a, b in spans))


def pixel_offsets(values: np.ndarray, v0: float, v1: float, left: int, width: int) -> np.ndarray:
    """How far each value is from the nearest column boundary, in pixels."""
    scale = width / (v1 - v0)
    x = values * scale + (left + 0.5 - v0 * scale)
    return np.asarray(np.abs(x - np.round(x)))


@given(lanes_and_views())
def test_runs_show_every_visible_chunk_and_nothing_else(case: Case) -> None:
    starts_list, ends_list, segments, v0, v1, left, width = case
    lane = make_lane(starts_list, ends_list, segments)
    starts, ends = lane.spans(ARRIVAL)
    # Within rounding error of a column boundary, the column search and the column arithmetic may
    # disagree by a pixel; that is not what this test is about.
    assume(pixel_offsets(np.concatenate([starts, ends]), v0, v1, left, width).min() > 1e-6)
    fids = lane.seg.values + 1
    visible = (starts < v1) & (ends >= v0)

    got = runs([lane], v0, v1, left, width)

    if not got:
        assert not visible.any()
        return
    right = left + width
    for _, x0, x1, _ in got:
        assert left - 2 <= x0 < x1 <= right + 3
    c0 = columns(starts, v0, v1, left, width)
    # The chunks in play: from the last one starting left of the clip columns to the last one starting
    # before the right clip column ends.
    scale = width / (v1 - v0)
    edges = v0 + (np.array([left - 2, right + 2]) + 0.5 - left) / scale
    lo = max(0, int(np.searchsorted(starts, edges[0])) - 1)
    hi = int(np.searchsorted(starts, edges[1]))
    if (hi - lo) * EXACT_PX <= width:
        # Every chunk its own block, in order, in its own colour.
        assert [(x0, fid) for _, x0, _, fid in got] == list(
            zip(c0[lo:hi].tolist(), fids[lo:hi].tolist(), strict=True)
        )
    else:
        # A row of pixel columns: audio where a chunk's span falls, in the colour of a segment there.
        blocks = block_runs([lane], ARRIVAL, v0, v1, left, width, COLOURS)
        assert blocks is not None and blocks.exact is None and blocks.row_slots.tolist() == [0]
        ids = held(starts, ends, fids, v0, scale, width + 2 * MARGIN)
        assert_faithful(blocks.rows[0].tolist(), ids)


@given(
    durations=st.lists(st.floats(0.001, 1.0), min_size=1, max_size=300),
    steps=st.lists(st.booleans(), min_size=300, max_size=300),
    origin=st.floats(-5.0, 5.0),
    margin=st.floats(0.0, 3.0),
    width=st.integers(1, 600),
)
def test_back_to_back_chunks_fill_their_extent_at_every_zoom(
    durations: list[float], steps: list[bool], origin: float, margin: float, width: int
) -> None:
    # Audio that never paused: whatever the zoom, the blocks fill one stretch from the first chunk's start
    # to the last one's end, and each segment shows as one block (or one per chunk, zoomed in).
    n = len(durations)
    ends = origin + np.cumsum(durations)
    starts = np.concatenate([[origin], ends[:-1]])
    segments = np.cumsum(np.asarray(steps[:n], dtype=int))
    v0, v1, left = origin - margin, float(ends[-1]) + margin, 4
    lane = make_lane(starts, ends, segments)
    assume(pixel_offsets(np.concatenate([starts, ends]), v0, v1, left, width).min() > 1e-6)

    got = runs([lane], v0, v1, left, width)

    c0 = columns(starts, v0, v1, left, width)
    c1 = np.maximum(columns(ends, v0, v1, left, width), c0 + 1)
    fids = [fid for *_, fid in got]
    assert fids == sorted(fids)
    if n * EXACT_PX <= width:
        # Every chunk its own block, with a one-pixel seam where it is wide enough to spare one.
        seamed = np.where(c1 - c0 >= 5, c1 - 1, c1)
        assert got == list(zip([0] * n, c0.tolist(), seamed.tolist(), (segments + 1).tolist(), strict=True))
    else:
        # From the column the first chunk starts in to the one the last ends in, no gap.
        edges = pixel_columns(np.array([starts[0], ends[-1]]), v0, width / (v1 - v0), width + 2 * MARGIN)
        first, last = (edges + left - MARGIN).tolist()
        assert covered([(x0, x1) for _, x0, x1, _ in got]) == set(range(first, last + 1))
        assert len(fids) == len(set(fids))  # one block per segment
        assert set(fids) <= set((segments + 1).tolist())
        # The last column shows the last chunk; an early segment may hide under a later one's pixel.
        assert fids[-1] == segments[-1] + 1


def test_the_numpy_parts_of_the_timeline_load_without_qt() -> None:
    model = "flushscope.ui.timeline.model"
    parts = ("lod", "lanes", "lane_cache", "summary", "shown_lanes")
    assert qt_loaded_by_importing(*(f"{model}.{part}" for part in parts)) == []
