"""The recorder: every frame timed, handed to the model and written to the capture file."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from flushscope.core.capture import CaptureWriter, read_capture
from flushscope.core.frames import Direction, Frame, meta_text
from flushscope.core.recorder import Recorder
from flushscope.core.session import Added, Session
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
    # The chunk is stored without its base64 (kept once, decoded, in its segment).
    assert results[5].frame.text == CHUNK.replace(base64.b64encode(AUDIO).decode(), "")
    assert session.frame_text(5, elide_audio=False) == CHUNK


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
