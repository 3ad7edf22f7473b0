"""The timeline's lanes kept in step with a session (ui/timeline/model/lane_cache.py): incremental updates,
block extents, markers and their invalidation, bounds. Real sessions fed real frames; no widget, no Qt."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from flushscope.core.frames import Direction
from flushscope.core.model.session import Session
from flushscope.ui.timeline.model.lane_cache import LaneCache
from flushscope.ui.timeline.model.lanes import AxisMode, Lane, MarkerKind
from session_wire import Wire

CHUNK_S = 0.1  # each of Wire's chunks holds 0.1 s of audio

ARRIVAL, AUDIO = AxisMode.ARRIVAL, AxisMode.AUDIO


def lane_arrays(lane: Lane) -> dict[str, list[float]]:
    return {
        name: getattr(lane, name).values.tolist()
        for name in ("rows", "t", "t_end", "start", "a_end", "duration", "seg")
    }


def test_marker_kinds_are_numbered_in_drawing_order() -> None:
    # A kind's value is its place: the flat arrays of every kind hold it, painters index sprites by it.
    assert [kind.value for kind in MarkerKind] == list(range(len(MarkerKind)))
    assert list(MarkerKind)[-2:] == [MarkerKind.WARNING, MarkerKind.ERROR]  # drawn last, on top


def kinds(cache: LaneCache, lane: Lane) -> list[MarkerKind]:
    return [MarkerKind(k) for k in cache.markers(lane).all_kinds.tolist()]


# --- lanes and rows -----------------------------------------------------------------------------------


def test_one_lane_per_context_in_order_and_sync_says_when_lanes_were_added() -> None:
    wire = Wire()
    wire.connect()
    cache = LaneCache(wire.session)
    assert cache.sync() is False
    assert cache.lanes == []

    wire.send("a", "One. ")
    wire.send("b", "Two. ")
    assert cache.sync() is True
    assert cache.sync() is False
    wire.chunk("a", 1)
    assert cache.sync() is False  # rows, no new lane

    assert [lane.context.context_id for lane in cache.lanes] == ["a", "b"]
    assert [len(lane.t) for lane in cache.lanes] == [1, 0]


def test_chunk_rows_land_in_their_lanes_with_their_columns() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "One. ")
    wire.send("b", "Two. ")
    wire.flush("a")
    for ctx in ("a", "b", "a", "a", "b"):
        wire.chunk(ctx, 1)
    wire.flush_done("a", 1)
    wire.chunk("a", 2)
    cache = LaneCache(wire.session)
    cache.sync()

    a, b = cache.lanes
    chunks = wire.session.chunks
    assert a.rows.values.tolist() == [0, 2, 3, 5]
    assert b.rows.values.tolist() == [1, 4]
    assert cache.lane_of.values.tolist() == [0, 1, 0, 0, 1, 0]
    assert cache.pos.values.tolist() == [0, 0, 1, 2, 1, 3]
    assert a.t.values.tolist() == chunks.column("t")[[0, 2, 3, 5]].tolist()
    assert a.start.values.tolist() == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert a.a_end.values.tolist() == pytest.approx([0.1, 0.2, 0.3, 0.4])
    assert a.duration.values.tolist() == pytest.approx([CHUNK_S] * 4)
    assert a.seg.values.tolist() == [0, 0, 0, 1]
    assert b.seg.values.tolist() == [0, 0]


def test_a_block_ends_at_its_audio_or_at_the_next_chunk_whichever_is_first() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "One. ")
    cache = LaneCache(wire.session)
    wire.chunk("a", 1, dt=1.0)
    wire.chunk("a", 1, dt=0.05)  # sooner than the 0.1 s of audio before it
    cache.sync()
    lane = cache.lanes[0]
    t = lane.t.values.tolist()
    assert lane.t_end.values.tolist() == pytest.approx([t[0] + 0.05, t[1] + CHUNK_S])

    # The last block is cut short only when the next chunk arrives, in a later sync.
    wire.chunk("a", 1, dt=0.02)
    cache.sync()
    t = lane.t.values.tolist()
    assert lane.t_end.values.tolist() == pytest.approx([t[0] + 0.05, t[1] + 0.02, t[2] + CHUNK_S])


@st.composite
def chunk_stream(draw: st.DrawFn) -> tuple[int, list[tuple[int, float, float]], list[int]]:
    """Contexts, then chunks as (context, seconds since the previous chunk, duration), then sync points."""
    contexts = draw(st.integers(1, 4))
    chunks = draw(
        st.lists(
            st.tuples(st.integers(0, contexts - 1), st.floats(0.0, 0.3), st.floats(0.001, 0.2)),
            max_size=80,
        )
    )
    syncs = draw(st.lists(st.integers(0, len(chunks)), max_size=6))
    return contexts, chunks, sorted(syncs)


def session_with_contexts(contexts: int) -> tuple[Wire, Session]:
    wire = Wire()
    wire.connect()
    for n in range(contexts):
        wire.send(f"c{n}", "Text. ")
    return wire, wire.session


@given(chunk_stream())
def test_syncing_as_rows_arrive_gives_the_same_lanes_as_syncing_once(
    stream: tuple[int, list[tuple[int, float, float]], list[int]],
) -> None:
    contexts, chunks, syncs = stream
    wire, session = session_with_contexts(contexts)
    live = LaneCache(session)
    live.sync()
    heard = [0.0] * contexts
    t = wire.t
    for index, (ctx, dt, duration) in enumerate(chunks):
        for _ in range(syncs.count(index)):
            live.sync()
        t += dt
        session.chunks.append(t, ctx, 0, 1, heard[ctx], duration, 2400, index)
        heard[ctx] += duration
    live.sync()

    once = LaneCache(session)
    once.sync()

    assert [lane_arrays(lane) for lane in live.lanes] == [lane_arrays(lane) for lane in once.lanes]
    assert live.lane_of.values.tolist() == once.lane_of.values.tolist()
    assert live.pos.values.tolist() == once.pos.values.tolist()
    for lane in live.lanes:
        t_, t_end = lane.t.values, lane.t_end.values
        assert np.all(t_end[:-1] <= t_[1:])  # blocks never overlap
        assert np.all(t_end >= t_)
        assert np.all(t_end <= t_ + lane.duration.values + 1e-12)
    # Every row is found again through the maps.
    for row in range(session.chunks.size):
        lane = live.lanes[int(live.lane_of.values[row])]
        assert lane.rows.values[int(live.pos.values[row])] == row


# --- markers and their invalidation ------------------------------------------------------------------


def two_contexts() -> tuple[Wire, LaneCache]:
    wire = Wire()
    wire.connect()
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.send("b", "Hi. ")
    wire.chunk("a", 1)
    wire.chunk("b", 1)
    cache = LaneCache(wire.session)
    cache.sync()
    return wire, cache


def test_markers_and_overlay_are_kept_until_something_they_show_changes() -> None:
    wire, cache = two_contexts()
    a, b = cache.lanes
    marks_a, marks_b, overlay = cache.markers(a), cache.markers(b), cache.overlay()

    cache.sync()
    assert cache.markers(a) is marks_a and cache.markers(b) is marks_b and cache.overlay() is overlay

    wire.chunk("a", 1)
    cache.sync()
    assert cache.markers(a) is not marks_a
    assert cache.markers(b) is marks_b
    assert cache.overlay() is not overlay


def test_context_changes_show_after_the_lane_is_invalidated() -> None:
    # sync() notices rows and anomalies; the owner invalidates a lane whose context changed otherwise.
    wire, cache = two_contexts()
    a = cache.lanes[0]
    assert kinds(cache, a) == [MarkerKind.TRANSCRIPT, MarkerKind.FLUSH]
    wire.flush_done("a", 1)
    wire.end("a")
    wire.done("a")
    cache.sync()
    assert kinds(cache, a) == [MarkerKind.TRANSCRIPT, MarkerKind.FLUSH]

    cache.invalidate(a)

    assert kinds(cache, a) == [
        MarkerKind.TRANSCRIPT,
        MarkerKind.FLUSH,
        MarkerKind.FLUSH_DONE,
        MarkerKind.DONE,
    ]
    marks = cache.markers(a)
    assert marks.ongoing.tolist() == [False]
    assert marks.end.tolist() == marks.times[MarkerKind.FLUSH_DONE].tolist()


def test_warnings_and_errors_invalidate_their_lane_and_show_as_markers() -> None:
    wire, cache = two_contexts()
    a, b = cache.lanes
    wire.chunk("b", None)  # information only: some servers leave flush_id off
    cache.sync()
    assert [x.severity.value for x in wire.session.anomalies] == ["info"]
    assert kinds(cache, b) == [MarkerKind.TRANSCRIPT]
    marks_a, marks_b = cache.markers(a), cache.markers(b)

    unrequested = wire.flush_done("b", 1)  # b never flushed: a warning
    error = wire.error("a", "bad request")
    cache.sync()

    assert cache.markers(a) is not marks_a
    assert cache.markers(b) is not marks_b
    assert MarkerKind.ERROR in kinds(cache, a)
    assert cache.markers(a).times[MarkerKind.ERROR].tolist() == [error.t]
    assert cache.markers(b).times[MarkerKind.WARNING].tolist() == [unrequested.t]


def test_markers_place_each_event_in_time_and_in_the_audio() -> None:
    wire = Wire()
    wire.connect()
    wire.turn("a", ["One. ", "Two. "], chunks=2)
    cache = LaneCache(wire.session)
    cache.sync()
    lane = cache.lanes[0]
    segments = wire.session.contexts[0].segments
    assert not segments[2].transcripts  # the final request's segment: nothing to show
    segments = segments[:2]

    marks = cache.markers(lane)

    assert marks.times[MarkerKind.TRANSCRIPT].tolist() == [t.t for s in segments for t in s.transcripts]
    assert marks.times[MarkerKind.FLUSH].tolist() == [s.flush_t for s in segments]
    assert marks.times[MarkerKind.FLUSH_DONE].tolist() == [s.flush_done_t for s in segments]
    assert marks.times[MarkerKind.DONE].tolist() == [wire.session.contexts[0].done_t]
    assert marks.all_times.tolist() == sorted(marks.all_times.tolist())

    # In audio: inputs sent before any audio sit at 0; each flush_done at the end of its segment's audio.
    def audio_of(kind: MarkerKind) -> list[float]:
        return marks.all_audio[marks.all_kinds == kind].tolist()

    assert audio_of(MarkerKind.TRANSCRIPT) == [0.0, 0.0]
    assert audio_of(MarkerKind.FLUSH_DONE) == pytest.approx([0.2, 0.4])
    assert audio_of(MarkerKind.DONE) == pytest.approx([0.4])
    # One bracket per segment, from text ready through first audio to flush_done.
    assert marks.ordinal.tolist() == [0, 1]
    assert marks.ready.tolist() == [s.text_ready_t for s in segments]
    assert marks.first.tolist() == [s.first_audio_t for s in segments]
    assert marks.end.tolist() == [s.flush_done_t for s in segments]
    assert marks.ongoing.tolist() == [False, False]
    assert marks.end_audio.tolist() == pytest.approx([0.2, 0.4])


def test_a_segment_still_waiting_grows_to_now() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "Hello. ")
    wire.flush("a")
    wire.chunk("a", 1)
    cache = LaneCache(wire.session)
    cache.sync()

    marks = cache.markers(cache.lanes[0])

    assert marks.ongoing.tolist() == [True]
    assert math.isnan(marks.end[0])
    assert marks.end_audio.tolist() == pytest.approx([CHUNK_S])  # all the audio received so far


def test_the_overlay_holds_every_lanes_markers_with_flush_ids_from_each_base() -> None:
    wire = Wire()
    wire.connect()
    wire.turn("a", ["One. ", "Two. "], chunks=1)
    wire.turn("b", ["Three. "], chunks=1, base=0)  # an older server numbering from 0
    cache = LaneCache(wire.session)
    cache.sync()

    overlay = cache.overlay()

    per_lane = [len(cache.markers(lane).all_times) for lane in cache.lanes]
    assert overlay.lane.tolist() == [0] * per_lane[0] + [1] * per_lane[1]
    assert overlay.t.tolist() == [t for lane in cache.lanes for t in cache.markers(lane).all_times.tolist()]
    assert overlay.b_lane.tolist() == [0, 0, 1]
    assert overlay.b_fid.tolist() == [1, 2, 0]


def test_an_empty_session_has_an_empty_overlay_and_no_bounds() -> None:
    cache = LaneCache(Session())
    cache.sync()

    assert len(cache.overlay().t) == 0 and len(cache.overlay().b_fid) == 0
    assert cache.data_bounds(ARRIVAL) is None
    assert cache.data_bounds(AUDIO) is None


# --- bounds and extents -------------------------------------------------------------------------------


def test_data_bounds_span_every_lane() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "One. ")
    wire.chunk("a", 1)
    wire.send("b", "Two. ")
    for _ in range(3):
        wire.chunk("b", 1)
    wire.send("c", "Nothing back yet. ")
    cache = LaneCache(wire.session)
    cache.sync()
    b = cache.lanes[1]

    first_t = wire.session.contexts[0].first_t
    assert cache.data_bounds(ARRIVAL) == (
        first_t,
        pytest.approx(max(wire.session.duration, b.t_end.values[-1])),
    )
    assert cache.data_bounds(AUDIO) == (0.0, pytest.approx(3 * CHUNK_S))


def test_segment_extent_with_and_without_audio() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "One. ")
    wire.flush("a")
    wire.chunk("a", 1)
    wire.chunk("a", 1)
    wire.flush_done("a", 1)
    wire.send("a", "Two. ")
    wire.flush("a")
    cache = LaneCache(wire.session)
    cache.sync()
    lane = cache.lanes[0]
    first, second = wire.session.contexts[0].segments[:2]

    assert cache.segment_extent(first, ARRIVAL) == (lane.t.values[0], lane.t_end.values[1])
    assert cache.segment_extent(first, AUDIO) == (0.0, pytest.approx(2 * CHUNK_S))
    # No audio yet: from its text to its flush, and in audio at the end of what came before.
    assert second.text_ready_t is not None and second.flush_t is not None
    assert cache.segment_extent(second, ARRIVAL) == (second.text_ready_t, second.flush_t)
    assert cache.segment_extent(second, AUDIO) == (pytest.approx(2 * CHUNK_S), pytest.approx(2 * CHUNK_S))


def test_segment_extent_of_a_context_the_cache_does_not_hold_is_none() -> None:
    wire, cache = two_contexts()
    other = Wire()
    other.connect()
    other.send("z", "Elsewhere. ")

    assert cache.segment_extent(other.session.contexts[0].segments[0], ARRIVAL) is None
    wire.send("late", "Not synced yet. ")
    assert cache.segment_extent(wire.session.contexts[2].segments[0], ARRIVAL) is None


def test_fitting_frames_the_contexts_activity_not_the_time_the_session_stayed_open() -> None:
    wire = Wire()
    wire.connect()
    wire.send("a", "One. ")
    wire.chunk("a", 1)
    wire.end("a")
    wire.done("a")
    wire.send("b", "Two. ")
    wire.chunk("b", 1)
    # The window stayed open long after the run: a close 47 s later.
    wire.add(Direction.META, {"event": "close", "code": 1000}, dt=47.0)
    cache = LaneCache(wire.session)
    cache.sync()
    session = wire.session
    first_t = session.contexts[0].first_t
    b = cache.lanes[1]
    last = max(session.frames.time(session.contexts[1].frames[-1]), float(b.t_end.values[-1]))

    lo, hi = cache.activity_bounds(ARRIVAL, cache.lanes) or (0.0, 0.0)
    assert (lo, hi) == (first_t, pytest.approx(last))
    assert session.duration - hi > 40  # the empty time is left out
    assert cache.data_bounds(ARRIVAL) == (
        first_t,
        pytest.approx(session.duration),
    )  # following live: up to now
    since = cache.activity_bounds(AxisMode.SINCE_SEND, cache.lanes)
    assert since is not None and since[0] == 0.0 and since[1] < 1.0
    assert cache.activity_bounds(AUDIO, cache.lanes) == cache.data_bounds(AUDIO)
    assert cache.activity_bounds(ARRIVAL, []) is None
