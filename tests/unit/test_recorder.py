"""The recorder: every frame timed, handed to the model and written to the capture file."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.model.anomalies import AnomalyKind, Severity
from flushscope.core.model.attribution import Attribution
from flushscope.core.model.ingest import Added
from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import Context, ContextState, SegmentState
from flushscope.core.model.session import Session, replay
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from session_snapshot import snapshot
from session_wire import AUDIO, FORMAT

REQUEST = json.dumps({"context_id": "a", "transcript": "Hi. ", "continue": True, "output_format": FORMAT})
CHUNK = json.dumps(
    {
        "type": "chunk",
        "context_id": "a",
        "done": False,
        "flush_id": 1,
        "data": base64.b64encode(AUDIO).decode(),
    }
)
#: (direction, text, whether it is a JSON object)
FRAMES = [
    (Direction.META, meta_text("connect", url="ws://127.0.0.1:1/tts/websocket"), False),
    (Direction.SEND, REQUEST, True),
    (Direction.SEND, '{"transcript": 5}', True),  # an object, though not a request the service reads
    (Direction.SEND, "{oops", False),
    (Direction.SEND, "[1, 2]", False),
    (Direction.RECV, CHUNK, True),
    (Direction.RECV, '{"type": "timestamps", "context_id": "a"}', True),
    (Direction.RECV, "nope", False),
    (Direction.RECV, '"a string"', False),
]


class Clock:
    """A clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_add_says_how_the_frame_was_stored_and_whether_it_is_a_json_object() -> None:
    session = Session()
    results = [session.add(Frame(i, 0.5 * i, 1, d, text)) for i, (d, text, _) in enumerate(FRAMES)]
    assert [r.json_object for r in results] == [json_object for _, _, json_object in FRAMES]
    assert all(isinstance(r, Added) and r.frame is session.frames[i] for i, r in enumerate(results))
    # The chunk is stored whole (its line holds the base64; the model keeps where it is).
    assert results[5].frame.text == CHUNK
    assert session.frame_text(5, elide_audio=False) == CHUNK
    assert session.frame_text(5) == CHUNK.replace(base64.b64encode(AUDIO).decode(), f"<{len(AUDIO)} bytes>")
    assert session.audio.segment(session.contexts[0].segments[0]) == AUDIO


def test_recorder_times_frames_and_stores_json_objects_inline(tmp_path: Path) -> None:
    path = tmp_path / "c.fscap.jsonl"
    clock = Clock()
    session = Session()
    recorder = Recorder(session, CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket"), clock)
    for i, (direction, text, _) in enumerate(FRAMES):
        clock.now = 100.0 + 0.25 * i
        stored = recorder.record(1, direction, text)
        assert (stored.index, stored.t) == (i, 0.25 * i)
    recorder.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()[1:]]
    members = [next(k for k in ("json", "frame", "meta") if k in line) for line in lines]
    assert members == ["meta", "json", "json", "frame", "frame", "json", "json", "frame", "frame"]
    loaded = read_capture(path)
    assert [(f.t, f.dir, f.text) for f in loaded.frames] == [
        (0.25 * i, d, t) for i, (d, t, _) in enumerate(FRAMES)
    ]


class ModelBug(RuntimeError):
    """What the model raises in these tests."""


class FailingAttribution(Attribution):
    """Fails on chunk frame 3, after the frame was stored, as a bug in attribution would."""

    def chunk(
        self, ctx: Context, index: int, t: float, flush_id: int | None, nbytes: int | None, audio: int
    ) -> None:
        if index == 3:
            raise ModelBug(f"cannot handle frame {index}")
        super().chunk(ctx, index, t, flush_id, nbytes, audio)


class FailingToRead(Session):
    """Fails on frame 3 before storing it, as a bug in reading frames would."""

    def add(self, frame: Frame) -> Added:
        if frame.index == 3:
            raise ModelBug(f"cannot handle frame {frame.index}")
        return super().add(frame)


def failing_attribution() -> Session:
    return Session(attribution=FailingAttribution)


def record_turn(recorder: Recorder, clock: Clock) -> list[str]:
    """A context with two chunks, flush_done and done; returns the texts recorded."""
    texts = [
        REQUEST,
        json.dumps({"context_id": "a", "transcript": "", "continue": False, "flush": True}),
        CHUNK,
        CHUNK,
        json.dumps(
            {"type": "flush_done", "context_id": "a", "done": False, "flush_id": 1, "flush_done": True}
        ),
        json.dumps({"type": "done", "context_id": "a", "done": True}),
    ]
    for text in texts:
        clock.now += 0.125  # exact in binary, so the capture's microseconds keep it as it is
        recorder.record(1, Direction.SEND if "transcript" in text else Direction.RECV, text)
    return texts


@pytest.mark.parametrize(
    ("failing", "stored_before"),
    [(failing_attribution, True), (FailingToRead, False)],  # after the frame was stored, or before
)
def test_a_model_fault_keeps_the_frame_flags_it_and_recording_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, failing: Callable[[], Session], stored_before: bool
) -> None:
    path = tmp_path / "c.fscap.jsonl"
    clock = Clock()
    session = failing()
    heard: list[int] = []

    class Frames(SessionObserver):
        def frame_added(self, index: int) -> None:
            heard.append(index)

    session.observers.append(Frames())
    recorder = Recorder(session, CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket"), clock)
    with caplog.at_level(logging.ERROR, "flushscope.recorder"):
        texts = record_turn(recorder, clock)
    recorder.close()

    # The frame is kept whole, in the session and in the capture; observers heard of every frame once.
    assert [session.frame_text(i, elide_audio=False) for i in range(len(texts))] == texts
    assert session.frames[3].text == CHUNK
    assert [f.text for f in read_capture(path).frames] == texts
    assert heard == [0, 1, 2, 3, 4, 5]
    # The frames after it were read and attributed as usual.
    ctx = session.contexts[0]
    assert ctx.state is ContextState.DONE
    assert session.chunk_frames(ctx.segments[0]) == [2]
    assert ctx.segments[0].state is SegmentState.CLOSED
    assert ctx.frames == ([0, 1, 2, 3, 4, 5] if stored_before else [0, 1, 2, 4, 5])
    assert [(a.kind, a.severity, a.conn, a.context_id, a.frames, a.message) for a in session.anomalies] == [
        (AnomalyKind.INTERNAL_ERROR, Severity.ERROR, 1, None, [3],
         "flushscope could not interpret this frame (ModelBug: cannot handle frame 3); the frame is kept as it "
         "came, but the model may lack what it meant"),
    ]  # fmt: skip
    # The traceback is in the log.
    (logged,) = caplog.records
    assert logged.getMessage() == "flushscope could not interpret frame 3 (recv, connection 1)"
    assert logged.exc_info is not None and logged.exc_info[0] is ModelBug
    # Loading the capture gives the same model, under the same fault.
    assert snapshot(replay(failing(), read_capture(path).frames)) == snapshot(session)


def test_a_failing_observer_does_not_stop_the_recording(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(SessionObserver):
        def chunk_added(self, segment: Any, row: int) -> None:
            raise ModelBug("observer")

        def anomaly_added(self, anomaly: Any) -> None:
            raise ModelBug("observer")

    clock = Clock()
    session = Session()
    session.observers.append(Broken())
    path = tmp_path / "c.fscap.jsonl"
    recorder = Recorder(session, CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket"), clock)
    with caplog.at_level(logging.ERROR, "flushscope.recorder"):
        texts = record_turn(recorder, clock)
    recorder.close()
    assert [f.text for f in read_capture(path).frames] == texts
    assert [session.frame_text(i, elide_audio=False) for i in range(len(texts))] == texts
    assert session.contexts[0].state is ContextState.DONE
    assert [r.getMessage() for r in caplog.records] == [
        "flushscope could not interpret frame 2 (recv, connection 1)",
        "frame 2 is kept, but flagging its fault failed too",
        "flushscope could not interpret frame 3 (recv, connection 1)",
        "frame 3 is kept, but flagging its fault failed too",
    ]
