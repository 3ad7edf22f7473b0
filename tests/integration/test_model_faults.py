"""A fault in flushscope's model, met live: the real client reading the real emulator keeps recording."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from emulator_support import TIMEOUT, serve

from flushscope.core.frames import Direction
from flushscope.core.inputs.scenario import parse_scenario
from flushscope.core.model.anomalies import AnomalyKind, Severity
from flushscope.core.model.attribution import Attribution
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import Context, ContextState, SegmentState
from flushscope.core.model.session import Session
from flushscope.core.store.capture_reader import read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.espeak import Synthesizer
from flushscope.net.client import Client, Target
from flushscope.net.runner import play_scenario, wait_settled

SCRIPT = """
context a
send Hello there.
flush
send How are you today?
flush
end
"""


class ModelBug(RuntimeError):
    """What the model is made to raise."""


@pytest.mark.asyncio
async def test_a_model_fault_on_one_frame_does_not_end_the_recording(
    tmp_path: Path, synth: Synthesizer, caplog: pytest.LogCaptureFixture
) -> None:
    failed: list[int] = []

    class FaultyAttribution(Attribution):
        """Fails on the second chunk it is given, after the frame was stored, as a bug in the model would."""

        given = 0

        def chunk(
            self, ctx: Context, index: int, t: float, flush_id: int | None, nbytes: int | None, audio: int
        ) -> None:
            self.given += 1
            if self.given == 2:
                failed.append(index)
                raise ModelBug(f"no room for frame {index}")
            super().chunk(ctx, index, t, flush_id, nbytes, audio)

    capture = tmp_path / "fault.fscap.jsonl"
    session = Session(attribution=FaultyAttribution)
    async with serve(synth) as server:
        recorder = Recorder(session, CaptureWriter(capture, server.tts_url))
        client = Client(recorder, Target(server.url))
        try:
            await client.connect()
            with caplog.at_level(logging.ERROR, "flushscope.recorder"):
                await play_scenario(parse_scenario(SCRIPT), client)
                assert await wait_settled(session, client, TIMEOUT)
            # The read loop went on: the connection is open and nothing recorded its close.
            assert client.connected
            assert [f.meta()["event"] for f in session.frames if f.dir is Direction.META] == [
                "connect",
                "open",
                "context_name",
            ]
        finally:
            await client.aclose()
            recorder.close()

    (bad,) = failed
    bad_frame = json.loads(session.frames[bad].text)
    assert (bad_frame["type"], bad_frame["context_id"]) == ("chunk", session.contexts[0].context_id)
    # Frames after the fault were recorded and attributed as usual.
    ctx = session.contexts[0]
    assert ctx.state is ContextState.DONE
    first, second = ctx.segments[:2]
    assert (first.text, second.text) == ("Hello there.", "How are you today?")
    assert first.state is SegmentState.CLOSED and second.state is SegmentState.CLOSED
    assert second.chunk_count > 0 and all(f > bad for f in session.chunk_frames(second))
    chunk_frames = [
        f.index for f in session.frames if f.dir is Direction.RECV and json.loads(f.text)["type"] == "chunk"
    ]
    assert sorted(session.chunk_frames(first) + session.chunk_frames(second)) == [
        f for f in chunk_frames if f != bad
    ]
    assert [w.text for w in second.words] == ["How", "are", "you", "today?"]
    # The fault is an anomaly naming the frame, and its traceback is in the log.
    assert [(a.kind, a.severity, a.frames, a.message) for a in session.anomalies] == [
        (AnomalyKind.INTERNAL_ERROR, Severity.ERROR, [bad],
         f"flushscope could not interpret this frame (ModelBug: no room for frame {bad}); the frame is kept as "
         "it came, but the model may lack what it meant"),
    ]  # fmt: skip
    assert [(r.getMessage(), r.exc_info is not None and r.exc_info[0]) for r in caplog.records] == [
        (f"flushscope could not interpret frame {bad} (recv, connection 1)", ModelBug)
    ]
    # The capture holds every frame, as it came (the disconnect's close included).
    loaded = read_capture(capture).frames
    assert [(f.dir, f.text) for f in loaded] == [
        (f.dir, session.frame_text(f.index, elide_audio=False)) for f in session.frames
    ]
    assert loaded[-1].meta()["event"] == "close"
