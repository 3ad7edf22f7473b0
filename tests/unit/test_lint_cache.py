"""The analysis kept up to date as a live session grows is the analysis of the session read at once."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations import THRESHOLDS, Step, conversations
from flushscope.core.analysis.boundaries import session_boundaries
from flushscope.core.analysis.boundary_cache import BoundaryCache
from flushscope.core.analysis.lint_cache import LintCache, lint_session
from flushscope.core.frames import Direction
from flushscope.core.model.session import Session
from session_wire import Wire


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations(), st.data())
def test_lints_and_boundaries_kept_up_to_date_equal_a_full_run(
    steps: list[Step], data: st.DataObject
) -> None:
    session = Session(THRESHOLDS)
    live, over = LintCache(session_over=False), LintCache(session_over=True)
    boundaries = BoundaryCache()
    for step in steps:
        session.add_text(step.ms / 1000, step.conn, step.dir, step.text)
        if not data.draw(st.booleans(), label="update now"):
            continue
        for cache in (live, over):
            if data.draw(st.booleans(), label="a deadline that has passed first"):
                # Whatever it stopped at, the next update goes on from there.
                before = list(cache.lints)
                if not cache.update(session, deadline=0.0):
                    assert cache.lints == before
            assert cache.update(session)
            assert cache.lints == lint_session(session, session_over=cache.session_over)
        assert boundaries.update(session)
        assert boundaries.boundaries == session_boundaries(session)
    for cache in (live, over):
        assert cache.update(session)
        assert cache.lints == lint_session(session, session_over=cache.session_over)


def test_a_long_context_is_read_once_and_its_settled_lints_are_kept() -> None:
    wire = Wire()
    wire.connect()
    cache = LintCache(session_over=False)
    segments = 0
    for n in range(200):
        if n % 50 == 25:
            # Waits in the service's buffer, not flushed, and runs into the next input.
            wire.send("a", f"Sentence {n}", max_buffer_delay_ms=3000)
        else:
            # Every 50th segment is one word.
            wire.send("a", f"Sentence {n}. " if n % 50 else "Hi", max_buffer_delay_ms=3000)
            segments += 1
            wire.flush("a")
            wire.chunk("a", segments)
            wire.flush_done("a", segments)
        if n % 7 == 0:
            assert cache.update(wire.session)
    assert cache.update(wire.session)
    found = cache.lints
    assert found == lint_session(wire.session, session_over=False)
    assert {lint.id.value for lint in found} == {"continuation-no-space", "short-segment"}
    wire.send("a", "More")
    assert cache.update(wire.session)
    # What was settled is kept as it was found; the new input only adds.
    assert cache.lints == lint_session(wire.session, session_over=False)
    assert all(a is b for a, b in zip(cache.lints, found, strict=False))


def test_lint_session_leaves_nothing_watching_the_session() -> None:
    wire = Wire()
    wire.turn("a", ["One. ", "two"])
    observers = list(wire.session.observers)
    lint_session(wire.session)
    assert wire.session.observers == observers
    cache = LintCache()
    cache.update(wire.session)
    assert len(wire.session.observers) == len(observers) + 1
    cache.clear()
    assert wire.session.observers == observers
    # A frame that does not parse is left out, and the frames after it are read as ever.
    wire.add(Direction.SEND, "{not json")
    wire.send("b", "Alone")
    assert cache.update(wire.session)
    assert cache.lints == lint_session(wire.session) != []
