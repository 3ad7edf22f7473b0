"""A lane's markers kept as a session grows (the walk over its events kept while only chunks arrive,
ui/timeline/model/mark_layout.py) equal the markers of a cache built from scratch, after every frame. No
widget, no Qt: the cache is told of changes as the timeline's view tells it."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import THRESHOLDS, Step, conversations
from flushscope.core.analysis.boundaries import Boundary, session_boundaries
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lints import Lint
from flushscope.core.model.session import Session
from flushscope.core.model.session_watch import SessionWatch
from flushscope.ui.timeline.model.lane_cache import LaneCache
from flushscope.ui.timeline.model.lanes import Lane, MarkerKind, Markers
from session_wire import Wire

Analysis = tuple[list[Lint], list[Boundary]]


def update(cache: LaneCache, watch: SessionWatch) -> None:
    """What the view does on a tick: contexts changed, segments changed, then the new rows and anomalies."""
    contexts, segments = watch.take()
    for ctx in contexts:
        if ctx.number <= len(cache.lanes):
            cache.invalidate(cache.lanes[ctx.number - 1])
    cache.segments_changed(segments)
    cache.sync()


def same(kept: Any, fresh: Any, name: str) -> None:
    if isinstance(fresh, np.ndarray):
        assert kept.dtype == fresh.dtype, name
        np.testing.assert_array_equal(kept, fresh, err_msg=name)  # nan equals nan here
    elif isinstance(fresh, dict):
        assert kept.keys() == fresh.keys(), name
        for key in fresh:
            same(kept[key], fresh[key], f"{name}[{key!r}]")
    else:
        assert len(kept) == len(fresh) and all(a is b or a == b for a, b in zip(kept, fresh, strict=True)), (
            name
        )


def assert_follows_chunks(cache: LaneCache, lane: Lane, marks: Markers) -> None:
    """What the chunks move, read from the session itself rather than from the code both caches share."""
    received = float(lane.a_end.values[-1]) if lane.a_end else 0.0
    for b, seg in enumerate(marks.segments):
        ready = seg.text_ready_t
        assert marks.ready[b] == (seg.first_audio_t if ready is None else ready)
        if marks.ongoing[b]:
            assert marks.end_audio[b] == received
        elif seg.flush_done_t is None:
            assert marks.end[b] == lane.t_end.values[cache.pos.values[seg.chunk_rows[-1]]]
    for kind in (MarkerKind.TRANSCRIPT, MarkerKind.FLUSH, MarkerKind.FLUSH_DONE, MarkerKind.DONE):
        before = [float(lane.a_end.values[lane.t.values < t][-1:].sum()) for t in marks.times[kind]]
        assert marks.audio[kind].tolist() == before


def assert_as_from_scratch(cache: LaneCache, analysis: Analysis | None) -> None:
    fresh = LaneCache(cache.session)
    fresh.sync()
    if analysis is not None:
        fresh.set_analysis(*analysis)
    assert len(cache.lanes) == len(fresh.lanes)
    for lane, new in zip(cache.lanes, fresh.lanes, strict=True):
        kept, built = cache.markers(lane), fresh.markers(new)
        assert_follows_chunks(cache, lane, kept)
        for f in fields(Markers):
            same(getattr(kept, f.name), getattr(built, f.name), f"context {lane.context.number}: {f.name}")
    overlay, built_overlay = cache.overlay(), fresh.overlay()
    for f in fields(built_overlay):
        same(getattr(overlay, f.name), getattr(built_overlay, f.name), f"overlay: {f.name}")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations(), st.data())
def test_markers_kept_as_frames_arrive_equal_markers_built_from_scratch(
    steps: list[Step], data: st.DataObject
) -> None:
    session = Session(THRESHOLDS)
    watch = SessionWatch()
    watch.watch(session)
    cache = LaneCache(session)
    analysis: Analysis | None = None
    for step in steps:
        session.add_text(step.ms / 1000, step.conn, step.dir, step.text)
        if not data.draw(st.booleans(), label="tick now"):
            continue
        update(cache, watch)
        if data.draw(st.booleans(), label="analysis now"):
            analysis = (lint_session(session, session_over=False), session_boundaries(session))
            cache.set_analysis(*analysis)
        # Markers not asked for on a tick are asked for later, after more chunks came.
        if data.draw(st.booleans(), label="paint now"):
            assert_as_from_scratch(cache, analysis)
    update(cache, watch)
    assert_as_from_scratch(cache, analysis)
    watch.stop()


def test_a_long_call_streamed_frame_by_frame_keeps_its_walk_while_chunks_alone_arrive() -> None:
    # Sentences sent ahead, each flushed: the next segment waits for the audio before it, so its ready time
    # moves with every chunk of the previous one. Words come with the audio; the last segment ends with the
    # context, not with a flush_done, at the end of its last chunk's block, and a chunk comes after done.
    wire = Wire()
    watch = SessionWatch()
    watch.watch(wire.session)
    cache = LaneCache(wire.session)
    walks = 0

    def step(chunk_only: bool = False) -> None:
        nonlocal walks
        lane = cache.lanes[-1] if cache.lanes else None
        before = cache.markers(lane) if lane is not None else None
        update(cache, watch)
        assert_as_from_scratch(cache, None)
        if before is not None and lane is not None:
            walked = cache.markers(lane).times is not before.times
            walks += walked
            if chunk_only:
                assert not walked

    wire.connect()
    step()
    texts = ["One sentence. ", "Another one, longer. ", "A third. ", "And the last "]
    for text in texts:
        wire.send("a", text)
        step()
        wire.flush("a")
        step()
    wire.send("a", "without a flush.")
    step()
    wire.end("a")
    step()
    for ordinal in range(len(texts) + 1):
        wire.chunk("a", 1 + ordinal, dt=0.03)
        step()  # the first chunk of a segment: its first audio
        for _ in range(6):
            wire.chunk("a", 1 + ordinal, dt=0.03)
            step(chunk_only=True)
            wire.words("a", 1 + ordinal, ["word"])
            step(chunk_only=True)
        if ordinal < len(texts):
            wire.flush_done("a", 1 + ordinal)
            step()
    wire.done("a")
    step()
    wire.chunk("a", len(texts) + 1)  # after done: flagged, and the ended segment's end moves
    step()
    marks = cache.markers(cache.lanes[0])
    assert marks.ongoing.tolist() == [False] * (len(texts) + 1)
    assert len(marks.times[MarkerKind.FLUSH_DONE]) == len(texts)
    assert walks < 30  # the events, not the 60 chunks and words
    watch.stop()
