"""What the timeline keeps per context (ui/timeline/model/lanes.py): growing columns, spans, colours, audio
positions. Plain numpy, no widget, no Qt."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flushscope.core.growable import GrowableArray
from flushscope.core.model.records import Context
from flushscope.ui.timeline.model.lanes import AxisMode, Lane


def lane_with(t: list[float], duration: list[float], *, base: int | None = None) -> Lane:
    """A lane whose chunks arrive at ``t`` and follow one another in the context's audio."""
    lane = Lane(Context(1, 1, "ctx", 0.0, base=base))
    d = np.asarray(duration, dtype=np.float64)
    a_end = np.cumsum(d)
    lane.t.extend(np.asarray(t, dtype=np.float64))
    lane.t_end.extend(np.asarray(t, dtype=np.float64) + d)
    lane.start.extend(a_end - d)
    lane.a_end.extend(a_end)
    lane.duration.extend(d)
    lane.seg.extend(np.zeros(len(t), dtype=np.int64))
    return lane


# --- the columns: GrowableArray as the lanes use it ------------------------------------------------


@given(st.lists(st.lists(st.integers(-(2**40), 2**40), max_size=150), max_size=30))
def test_extends_keep_everything_in_order(batches: list[list[int]]) -> None:
    column = GrowableArray(np.int64)
    for batch in batches:
        column.extend(np.asarray(batch, dtype=np.int64))

    expected = [value for batch in batches for value in batch]
    assert column.values.tolist() == expected
    assert len(column) == len(expected)


def test_resize_keeps_the_values_grows_with_zeros_and_cuts() -> None:
    column = GrowableArray(np.float64)
    column.extend(np.array([1.0, 2.0, 3.0]))

    column.resize(200)
    assert len(column) == 200
    assert column.values[:3].tolist() == [1.0, 2.0, 3.0]
    assert not column.values[3:].any()

    column.resize(2)
    column.extend(np.array([9.0]))
    assert column.values.tolist() == [1.0, 2.0, 9.0]
    # Cut, then grown again within its room: what was cut does not come back.
    column.resize(5)
    assert column.values.tolist() == [1.0, 2.0, 9.0, 0.0, 0.0]


def test_the_values_are_the_data_not_a_copy() -> None:
    column = GrowableArray(np.float64)
    column.extend(np.array([1.0, 2.0]))

    column.values[1] = 5.0

    assert column[1] == 5.0


# --- Lane --------------------------------------------------------------------------------------------


def test_spans_follow_the_axis_mode() -> None:
    lane = lane_with([1.0, 3.0], [0.5, 0.25])

    arrival = lane.spans(AxisMode.ARRIVAL)
    audio = lane.spans(AxisMode.AUDIO)

    assert [a.tolist() for a in arrival] == [[1.0, 3.0], [1.5, 3.25]]
    assert [a.tolist() for a in audio] == [[0.0, 0.5], [0.5, 0.75]]


@pytest.mark.parametrize(("base", "expected"), [(None, 1), (0, 0), (1, 1), (7, 7)])
def test_the_colour_base_is_the_contexts_or_the_documented_one(base: int | None, expected: int) -> None:
    assert lane_with([], [], base=base).base() == expected


def test_audio_at_counts_what_arrived_strictly_before() -> None:
    lane = lane_with([1.0, 2.0, 3.0], [0.5, 0.5, 0.5])
    times = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, math.nan, -math.inf, math.inf])

    heard = lane.audio_at(times)

    # A chunk arriving at the very time of an event starts there rather than ends there.
    assert heard[:7].tolist() == [0.0, 0.0, 0.5, 0.5, 1.0, 1.0, 1.5]
    assert math.isnan(heard[7])
    assert heard[8:].tolist() == [0.0, 1.5]


def test_audio_at_of_an_empty_lane_is_zero() -> None:
    lane = lane_with([], [])

    heard = lane.audio_at(np.array([0.0, 5.0, math.nan]))

    assert heard[:2].tolist() == [0.0, 0.0]
    assert math.isnan(heard[2])


@given(
    durations=st.lists(st.floats(0.0, 2.0), min_size=1, max_size=50),
    gaps=st.lists(st.floats(0.0, 2.0), min_size=50, max_size=50),
    times=st.lists(st.floats(-1.0, 120.0), max_size=30),
)
def test_audio_at_grows_with_time_from_nothing_to_everything(
    durations: list[float], gaps: list[float], times: list[float]
) -> None:
    t = np.cumsum(gaps[: len(durations)]).tolist()
    lane = lane_with(t, durations)
    ordered = np.sort(np.asarray(times, dtype=np.float64))

    heard = lane.audio_at(ordered)

    assert np.all(np.diff(heard) >= 0)
    assert np.all((heard >= 0.0) & (heard <= lane.a_end.values[-1]))
    # Exactly the audio of the chunks that arrived before each time.
    for when, amount in zip(ordered.tolist(), heard.tolist(), strict=True):
        assert amount == pytest.approx(sum(d for ti, d in zip(t, durations, strict=False) if ti < when))
