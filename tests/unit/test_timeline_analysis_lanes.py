"""The timeline's lanes in the since-first-send axis, and the analysis's markers on them (no widget, no Qt)."""

from __future__ import annotations

import numpy as np
import pytest

from flushscope.core.analysis.boundaries import session_boundaries
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.ui.timeline.model.lane_cache import LaneCache
from flushscope.ui.timeline.model.lanes import AxisMode, MarkerKind
from session_wire import Wire

SINCE = AxisMode.SINCE_SEND


def two_turns() -> Wire:
    wire = Wire()
    wire.connect()
    wire.turn("a", ["One, ", "two."], chunks=2)
    wire.t += 5.0
    wire.turn("b", ["Three, ", "four."], chunks=2)
    return wire


def test_since_first_send_shifts_each_lane_to_its_first_send() -> None:
    wire = two_turns()
    cache = LaneCache(wire.session)
    cache.sync()
    a, b = cache.lanes
    for lane in (a, b):
        starts, ends = lane.spans(SINCE)
        arrival_starts, arrival_ends = lane.spans(AxisMode.ARRIVAL)
        assert starts.tolist() == pytest.approx((arrival_starts - lane.context.first_t).tolist())
        assert ends.tolist() == pytest.approx((arrival_ends - lane.context.first_t).tolist())
    # The same turn five seconds later: the same places from its first send.
    assert a.spans(SINCE)[0].tolist() == pytest.approx(b.spans(SINCE)[0].tolist())
    lo, hi = cache.data_bounds(SINCE)  # type: ignore[misc]
    # The last block reaches its chunk's duration past the context's last frame.
    last = max(float(lane.t_end.values[-1]) - lane.origin for lane in (a, b))
    assert last > wire.session.frames[b.context.frames[-1]].t - b.origin
    assert lo == 0.0 and hi == pytest.approx(last)
    segment = b.context.segments[1]
    extent = cache.segment_extent(segment, SINCE)
    arrival = cache.segment_extent(segment, AxisMode.ARRIVAL)
    assert extent is not None and arrival is not None
    assert extent == pytest.approx((arrival[0] - b.origin, arrival[1] - b.origin))
    assert b.to_axis(SINCE, np.asarray([b.origin + 0.5])).tolist() == pytest.approx([0.5])
    assert [m.next() for m in AxisMode] == [AxisMode.AUDIO, AxisMode.SINCE_SEND, AxisMode.ARRIVAL]


def test_the_analysis_marks_boundaries_and_advice_and_rebuilds_only_lanes_that_changed() -> None:
    wire = two_turns()
    wire.send("c", "Hello there, my", max_buffer_delay_ms=3000)
    wire.send("c", "friend, how are you?")  # runs together in the buffer: advice on lane c
    session = wire.session
    cache = LaneCache(session)
    cache.sync()
    a, b, c = cache.lanes
    lints = lint_session(session, session_over=False)
    boundaries = session_boundaries(session)
    cache.set_analysis(lints, boundaries)
    marks = cache.markers(a)
    assert len(marks.times[MarkerKind.BOUNDARY]) == 1 and len(marks.times[MarkerKind.OUTLIER]) == 0
    boundary = boundaries[0]
    # At the first chunk of the segment after it; in audio mode at its own position.
    assert marks.times[MarkerKind.BOUNDARY].tolist() == [session.frames[boundary.frames[1]].t]
    assert marks.audio[MarkerKind.BOUNDARY].tolist() == pytest.approx([boundary.at_s])
    assert marks.refs[MarkerKind.BOUNDARY] == [boundary]
    advice = cache.markers(c)
    on_c = [lint for lint in lints if lint.context_id == "c"]
    assert [lint.id.value for lint in on_c] == ["continuation-no-space"]
    assert advice.refs[MarkerKind.ADVICE] == on_c
    assert advice.times[MarkerKind.ADVICE].tolist() == [session.frames[on_c[0].frames[0]].t]
    assert MarkerKind.ADVICE in cache.overlay().kind.tolist()

    # The same findings again: nothing rebuilt. One lane's findings gone: that lane alone.
    before = [cache.markers(lane) for lane in (a, b, c)]
    cache.set_analysis(list(lints), list(boundaries))
    assert [cache.markers(lane) for lane in (a, b, c)] == before
    assert all(x is y for x, y in zip([cache.markers(lane) for lane in (a, b, c)], before, strict=True))
    cache.set_analysis([lint for lint in lints if lint.context_id != "c"], boundaries)
    assert cache.markers(a) is before[0] and cache.markers(b) is before[1]
    assert cache.markers(c) is not before[2] and cache.markers(c).refs[MarkerKind.ADVICE] == []
