"""Generated conversations: the model built live through a recorder is the model rebuilt from the frames, and
from the capture file the recorder wrote; every anomaly names frames of its own connection and context."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from conversations import THRESHOLDS, URL, Step, conversations
from flushscope.core.formats.capture_index import index_capture
from flushscope.core.frames import Direction, Frame
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.session import Session, rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from session_snapshot import snapshot


class Clock:
    """The recorder's clock, set by the test (seconds from a start at 0)."""

    def __init__(self) -> None:
        self.ms = 0

    def __call__(self) -> float:
        return self.ms / 1000


def record_live(steps: list[Step], capture: Path) -> Session:
    """Each step as the live window sees it: the timer's check, then the frame through the recorder."""
    session = Session(THRESHOLDS)
    clock = Clock()
    recorder = Recorder(session, CaptureWriter(capture, URL), clock)
    for step in steps:
        if step.tick_ms is not None:
            clock.ms = step.tick_ms
            session.check_timeouts(recorder.now())
        clock.ms = step.ms
        recorder.record(step.conn, step.dir, step.text)
    recorder.close()
    assert recorder.capture_error is None
    return session


def assert_anomalies_name_their_own_frames(session: Session) -> None:
    frames = session.frames
    for anomaly in session.anomalies:
        for index in anomaly.frames:
            assert 0 <= index < len(frames), anomaly
            frame = frames[index]
            assert frame.conn == anomaly.conn, anomaly
            if anomaly.context_number is None:
                continue
            ctx = session.contexts[anomaly.context_number - 1]
            assert (ctx.conn, ctx.context_id) == (anomaly.conn, anomaly.context_id), anomaly
            # A frame of the context, or an event of its connection (a close that failed it).
            assert index in ctx.frames or frame.dir is Direction.META, anomaly


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(conversations())
def test_live_rebuilt_and_loaded_models_are_the_same(steps: list[Step]) -> None:
    frames = [Frame(i, s.ms / 1000, s.conn, s.dir, s.text) for i, s in enumerate(steps)]
    with tempfile.TemporaryDirectory() as folder:
        capture = Path(folder) / "live.fscap.jsonl"
        live = record_live(steps, capture)
        loaded = read_capture(capture)
        assert loaded.warnings == []
        # Nothing is lost: every frame's text, audio included, is read back as it came.
        assert [live.frame_text(f.index, elide_audio=False) for f in live.frames] == [s.text for s in steps]
        expected = snapshot(live)
        again = rebuild(frames, THRESHOLDS)
        assert snapshot(again) == expected
        from_capture = rebuild(loaded.frames, THRESHOLDS)
        assert snapshot(from_capture) == expected
        # The index pass that opens a capture (chunk lines without parsing their audio) gives the same model,
        # its frames and audio read back from the file; with its scan in a second process (every other
        # example) too.
        indexed, _, warnings = index_capture(capture, THRESHOLDS, parallel=len(steps) % 2 == 1)
        assert warnings == []
        assert snapshot(indexed) == expected
        assert_anomalies_name_their_own_frames(live)
        # Ending the recording flags the same late flushes and ends, whichever way the model was built.
        live.finish()
        again.finish()
        indexed.finish()
        assert snapshot(again) == snapshot(live) == snapshot(indexed)
        assert_anomalies_name_their_own_frames(live)
        for session in (live, indexed):
            session.frames.close()
