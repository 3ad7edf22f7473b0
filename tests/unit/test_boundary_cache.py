"""The window's boundary cache: the same figures as the report's, measuring only the pairs that changed."""

from __future__ import annotations

import numpy as np

from flushscope.core.analysis.boundaries import session_boundaries
from flushscope.core.analysis.boundary_cache import BATCH, BoundaryCache, audible
from session_wire import Wire


def tone(step: int, samples: int = 2400) -> bytes:
    return ((np.arange(samples) * step) % 20000 - 10000).astype("<i2").tobytes()


def test_a_finished_session_gives_the_reports_boundaries() -> None:
    wire = Wire()
    wire.turn("a", [f"Part {i}, " for i in range(5)])
    wire.turn("b", ["Alone."])
    wire.turn("c", ["One. ", "Two."], chunks=3)
    cache = BoundaryCache()
    assert cache.update(wire.session)
    assert cache.boundaries == session_boundaries(wire.session)
    assert [(b.context_id, b.from_flush_id, b.to_flush_id) for b in cache.boundaries] == [
        ("a", 1, 2), ("a", 2, 3), ("a", 3, 4), ("a", 4, 5), ("c", 1, 2),
    ]  # fmt: skip
    assert cache.measured == 5
    assert cache.update(wire.session)
    assert cache.measured == 0
    assert cache.boundaries == session_boundaries(wire.session)


def test_a_live_context_measures_only_the_pairs_that_moved() -> None:
    wire = Wire()
    for i in range(4):
        wire.send("a", f"Part {i}, ")
        wire.flush("a")
    cache = BoundaryCache()
    for n in (1, 2):
        wire.chunk("a", n, tone(n))
    assert cache.update(wire.session)
    assert [(b.from_flush_id, b.to_flush_id) for b in cache.boundaries] == [(1, 2)]
    assert cache.measured == 1
    # Segment 3 starts: one new pair. Segment 1's flush_done changes it: its pair again.
    wire.chunk("a", 3, tone(3))
    wire.flush_done("a", 1)
    assert cache.update(wire.session)
    assert cache.measured == 2
    assert cache.boundaries == session_boundaries(wire.session)
    # More audio for segment 3: only the pair it ends.
    wire.chunk("a", 3, tone(5))
    assert cache.update(wire.session)
    assert cache.measured == 1
    assert cache.boundaries == session_boundaries(wire.session)
    assert cache.boundaries[-1].leading_silence_ms == session_boundaries(wire.session)[-1].leading_silence_ms


def test_a_passed_deadline_keeps_what_was_measured_and_finishes_later() -> None:
    wire = Wire()
    wire.turn("a", ["One, ", "two, ", "three."])
    cache = BoundaryCache()
    assert cache.update(wire.session)
    before = list(cache.boundaries)
    wire.turn("b", ["Four, ", "five."])
    wire.chunk("a", 3, tone(9))  # changes a's last pair
    assert not cache.update(wire.session, deadline=0.0)
    assert cache.measured == 0
    # a's pairs keep their figures until measured again; b's new pair is not there yet.
    assert cache.boundaries == before
    assert cache.update(wire.session)
    assert cache.measured == 2
    assert cache.boundaries == session_boundaries(wire.session)


def test_long_runs_are_measured_in_batches_with_the_same_figures() -> None:
    wire = Wire()
    wire.turn("a", [f"Part {i}, " for i in range(BATCH * 2 + 5)], chunks=1)
    cache = BoundaryCache()
    assert cache.update(wire.session)
    assert cache.measured == BATCH * 2 + 4
    assert cache.boundaries == session_boundaries(wire.session)


def test_segments_without_audio_are_skipped_and_a_new_numbering_measures_again() -> None:
    wire = Wire()
    wire.send("a", "One. ")
    wire.flush("a")
    wire.flush("a")  # an empty segment between: no audio
    wire.send("a", "Two.")
    wire.flush("a")
    wire.chunk("a", None, tone(3))
    cache = BoundaryCache()
    assert cache.update(wire.session)
    assert cache.boundaries == []
    ctx = wire.session.contexts[0]
    wire.chunk("a", 3, tone(4))  # the first flush_id fixes the numbering: segment 1 was flush_id 1
    assert [s.ordinal for s in audible(ctx)] == [0, 2]
    assert cache.update(wire.session)
    assert [(b.from_flush_id, b.to_flush_id) for b in cache.boundaries] == [(1, 3)]
    assert cache.boundaries == session_boundaries(wire.session)
    cache.clear()
    assert cache.boundaries == [] and cache.update(wire.session) and cache.measured == 1
