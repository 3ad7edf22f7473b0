"""flushscope's client and session model against the real emulator, in each of its switch settings."""

from __future__ import annotations

import asyncio
import json
import socket
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rig_support import TIMEOUT, until

from command_line import run_flushscope
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.inputs.scenario import parse_scenario
from flushscope.core.model.anomalies import AnomalyKind, Severity
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import ContextState, SegmentState
from flushscope.core.model.session import Session, rebuild
from flushscope.core.store.capture_reader import read_capture
from flushscope.emulator.config import CancelReply, EmulatorConfig, Faults, Pacing
from flushscope.emulator.espeak import Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.net.client import (
    AuthMode,
    Client,
    HandshakeRejected,
    NotConnected,
    ServerClosed,
    Target,
    TLSFailure,
    Unreachable,
)
from flushscope.net.runner import run_scenario, wait_settled
from flushscope.protocol.audio import Encoding, decode

THREE_SEGMENTS = """
context a
send Hello there.
flush
send How are you today?
flush
send Goodbye for now.
flush
end
"""


def segment_texts(session: Session, n: int = 0) -> list[tuple[int | None, str, int]]:
    ctx = session.contexts[n]
    return [(s.flush_id, s.text, s.chunk_count) for s in ctx.segments if s.transcripts or s.chunk_count]


@pytest.mark.asyncio
@pytest.mark.parametrize("base", [1, 0])
async def test_each_transcripts_audio_lands_in_its_segment(rig_factory: Any, base: int) -> None:
    rig = await rig_factory(flush_id_base=base)
    assert await rig.play(THREE_SEGMENTS)
    ctx = rig.session.contexts[0]
    assert ctx.state is ContextState.DONE and ctx.base == base
    rows = segment_texts(rig.session)
    assert [(fid, text) for fid, text, _ in rows] == [
        (base, "Hello there."),
        (base + 1, "How are you today?"),
        (base + 2, "Goodbye for now."),
    ]
    assert all(chunks > 0 for _, _, chunks in rows)
    for segment in ctx.segments[:3]:
        assert segment.state is SegmentState.CLOSED
        samples = decode(rig.session.audio.segment(segment), Encoding.PCM_S16LE)
        assert float(np.sqrt(np.mean(samples**2))) > 0.01  # speech, not silence
        assert 0.4 < segment.audio_seconds < 3.0
        assert [w.text for w in segment.words] == segment.text.split()
    assert rig.session.anomalies == []


@pytest.mark.asyncio
async def test_no_flush_id_before_the_first_flush_is_attributed_by_order(rig_factory: Any) -> None:
    rig = await rig_factory(no_flush_id_before_flush=True)
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx_id, "Hello there, this is the first segment.")
    # Let the first segment's audio start before the flush goes out, as a slow client would.
    await until(rig.session, lambda: rig.session.chunks.size > 0)
    await rig.client.flush(ctx_id)
    await rig.client.send(ctx_id, "And the second one.")
    await rig.client.flush(ctx_id)
    await rig.client.end(ctx_id)
    assert await wait_settled(rig.session, rig.client, TIMEOUT)
    ctx = rig.session.contexts[0]
    assert ctx.base == 1
    first, second = ctx.segments[0], ctx.segments[1]
    assert first.unnumbered_chunks > 0 and first.state is SegmentState.CLOSED
    assert second.flush_id == 2 and second.chunk_count > 0 and second.unnumbered_chunks == 0
    kinds = {a.kind for a in rig.session.anomalies}
    assert kinds == {AnomalyKind.MISSING_FLUSH_ID}


@pytest.mark.asyncio
async def test_flush_done_per_input_makes_server_segments(rig_factory: Any) -> None:
    rig = await rig_factory(flush_done_per_input=True)
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx_id, "One sentence.")
    ctx = rig.session.contexts[0]
    await until(rig.session, lambda: ctx.segments[0].state is SegmentState.CLOSED)
    await rig.client.send(ctx_id, "Another sentence.")
    await rig.client.end(ctx_id)
    assert await wait_settled(rig.session, rig.client, TIMEOUT)
    rows = segment_texts(rig.session)
    assert [(fid, text) for fid, text, _ in rows] == [(1, "One sentence."), (2, "Another sentence.")]
    assert AnomalyKind.FLUSH_DONE_UNREQUESTED in {a.kind for a in rig.session.anomalies}


@pytest.mark.asyncio
async def test_flush_done_per_input_racing_the_client_shows_the_disagreement(rig_factory: Any) -> None:
    rig = await rig_factory(flush_done_per_input=True)
    # Both inputs leave before the server's first flush_done arrives: the client's one segment is two
    # segments on the server's side. The second one's audio has no transcript of its own.
    assert await rig.play("context a\nsend One sentence.\nsend Another sentence.\nend\n")
    ctx = rig.session.contexts[0]
    first, second = ctx.segments[0], ctx.segments[1]
    assert first.text == "One sentence.Another sentence." and first.flush_id == 1
    assert second.server_only and second.transcripts == [] and second.chunk_count > 0
    assert AnomalyKind.FLUSH_DONE_UNREQUESTED in {a.kind for a in rig.session.anomalies}


@pytest.mark.asyncio
@pytest.mark.parametrize("reply", [CancelReply.NONE, CancelReply.DONE])
async def test_cancel_variants(rig_factory: Any, reply: CancelReply) -> None:
    rig = await rig_factory(cancel_reply=reply)
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx_id, "A long first sentence that is already being generated.")
    await rig.client.send(ctx_id, "A queued sentence that must never be spoken.")
    await rig.client.cancel(ctx_id)
    ctx = rig.session.contexts[0]
    assert ctx.state is ContextState.CANCELLED
    if reply is CancelReply.DONE:
        await until(rig.session, lambda: ctx.done_t is not None)
    # A marker context on the same socket: its done means the cancelled one has said all it will.
    assert await rig.play("context m\nsend Marker.\nend\n")
    spoken = " ".join(w.text for s in ctx.segments for w in s.words)
    assert "queued" not in spoken
    assert (ctx.done_t is not None) is (reply is CancelReply.DONE)


@pytest.mark.asyncio
async def test_injected_disorder_is_reported(rig_factory: Any) -> None:
    rig = await rig_factory(faults=Faults(late_chunk=True, skip_flush_id=True))
    assert await rig.play(THREE_SEGMENTS)
    kinds = {a.kind for a in rig.session.anomalies}
    assert AnomalyKind.CHUNK_AFTER_FLUSH_DONE in kinds
    assert AnomalyKind.FLUSH_ID_SKIPPED in kinds
    late = next(a for a in rig.session.anomalies if a.kind is AnomalyKind.CHUNK_AFTER_FLUSH_DONE)
    assert late.context_id == rig.session.contexts[0].context_id and late.frames


@pytest.mark.asyncio
async def test_missing_done_times_out(rig_factory: Any) -> None:
    rig = await rig_factory(faults=Faults(drop_done=True))
    settled = await rig.play("context a\nsend Hello.\nend\n", timeout=0.5)
    assert not settled
    # The connection is still open: a live view's timer, once the wait is over, says the done timed out.
    rig.session.check_timeouts(rig.client.recorder.now() + rig.session.thresholds.done_s)
    assert [a.kind for a in rig.session.anomalies] == [AnomalyKind.DONE_TIMEOUT]


@pytest.mark.asyncio
async def test_a_recording_that_stops_before_the_wait_is_over_ends_there(rig_factory: Any) -> None:
    rig = await rig_factory(faults=Faults(drop_done=True))
    assert not await rig.play("context a id=a\nsend Hello.\nflush\nend\n", timeout=0.5)
    # Read as a file that stops here (a killed recorder): not a timeout, the recording ends.
    rig.session.finish()
    (ends,) = rig.session.anomalies
    assert (ends.kind, ends.severity, ends.context_id) == (AnomalyKind.RECORDING_ENDS, Severity.INFO, "a")
    assert ends.message.startswith("the recording ends here (")
    assert "its done was awaited" in ends.message and ends.message.endswith("cut short, not a timeout")


@pytest.mark.asyncio
async def test_dropped_socket_keeps_everything_and_reconnect_continues_the_session(rig_factory: Any) -> None:
    rig = await rig_factory(faults=Faults(close_after_chunks=3))
    ctx_id = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx_id, "A sentence long enough for several chunks of audio to be sent.")
    await asyncio.wait_for(rig.client.closed.wait(), TIMEOUT)
    assert isinstance(rig.client.close_error, ServerClosed)
    assert rig.session.chunks.size == 3
    assert rig.session.contexts[0].state is ContextState.FAILED
    with pytest.raises(NotConnected):
        await rig.client.send(ctx_id, "more")
    conn = await rig.client.connect()
    assert conn == 2
    ctx2 = rig.client.new_context(GenerationSettings()).context_id
    await rig.client.send(ctx2, "Hi.")
    await until(rig.session, lambda: rig.session.chunks.size >= 4)
    assert {c.conn for c in rig.session.contexts} == {1, 2}
    assert rig.session.frames[0].meta()["event"] == "connect"


@pytest.mark.asyncio
async def test_a_scripts_names_are_recorded_just_before_each_contexts_first_send(rig_factory: Any) -> None:
    rig = await rig_factory()
    assert await rig.play("send Unnamed.\nend\ncontext greeting\nsend Hello.\nflush\nsend Again.\nend\n")
    frames = list(rig.session.frames)
    names = [(f.index, f.meta()) for f in frames if f.meta().get("event") == "context_name"]
    [(at, event)] = names  # the default context of a script has no name of the script's
    greeting = rig.session.contexts[1]
    assert event == {"event": "context_name", "context_id": greeting.context_id, "name": "greeting"}
    assert frames[at + 1].text.startswith(f'{{"context_id":"{greeting.context_id}"')
    assert [c.name for c in rig.session.contexts] == [None, "greeting"]

    # After a reconnect the name is recorded again, on the new connection, before the context's next input.
    ctx = rig.client.new_context(GenerationSettings(), name="again")
    await rig.client.send(ctx.context_id, "One.")
    await rig.client.connect()
    await rig.client.send(ctx.context_id, "Two.")
    await rig.until(lambda: len(rig.session.contexts) == 4)
    assert [(c.conn, c.name) for c in rig.session.contexts[2:]] == [(1, "again"), (2, "again")]


@pytest.mark.asyncio
async def test_connection_errors_are_typed_and_recorded(tmp_path: Path, synth: Synthesizer) -> None:
    session = Session()
    recorder = Recorder(session)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(Unreachable):
        await Client(recorder, Target(f"ws://127.0.0.1:{closed_port}")).connect()
    async with EmulatorServer(EmulatorConfig(require_key="right-key"), synth) as server:
        with pytest.raises(HandshakeRejected) as rejected:
            await Client(recorder, Target(server.url, api_key="wrong-key")).connect()
        assert rejected.value.status == 401 and "API key" in str(rejected.value)
        for auth in AuthMode:
            client = Client(recorder, Target(server.url, api_key="right-key", auth=auth))
            await client.connect()
            await client.aclose()
    async with EmulatorServer(EmulatorConfig(faults=Faults(reject_429=True)), synth) as server:
        with pytest.raises(HandshakeRejected) as limited:
            await Client(recorder, Target(server.url)).connect()
        assert limited.value.status == 429
        # A TLS client against a plain WebSocket server: the handshake fails before any HTTP.
        with pytest.raises(TLSFailure):
            await Client(recorder, Target(server.url.replace("ws://", "wss://"))).connect()
    errors = [f.meta() for f in session.frames if f.meta().get("event") == "error"]
    assert len(errors) == 4


@pytest.mark.asyncio
async def test_the_api_key_never_reaches_the_capture(tmp_path: Path, synth: Synthesizer) -> None:
    key = "sk_car_very_secret_key_123"
    capture = tmp_path / "secret.fscap.jsonl"
    async with EmulatorServer(EmulatorConfig(pacing=Pacing.instant()), synth) as server:
        target = Target(server.url, api_key=key, auth=AuthMode.QUERY)
        result = await run_scenario(parse_scenario("send Hello.\nend\n"), capture, target, timeout=TIMEOUT)
    assert result.settled
    raw = capture.read_bytes()
    assert key.encode() not in raw
    assert b"REDACTED" in raw


@pytest.mark.asyncio
async def test_a_loaded_capture_rebuilds_the_live_model(rig_factory: Any) -> None:
    rig = await rig_factory(faults=Faults(late_chunk=True))
    assert await rig.play(THREE_SEGMENTS + "context b\nsend Second context.\nflush\nend\n")
    rig.client.recorder.close()
    loaded = rebuild(read_capture(rig.capture).frames)
    live = rig.session
    assert [(c.context_id, c.state, c.base) for c in loaded.contexts] == [
        (c.context_id, c.state, c.base) for c in live.contexts
    ]
    assert [loaded.audio.segment(s) for s in loaded.segments()] == [
        live.audio.segment(s) for s in live.segments()
    ]
    assert [(a.kind, a.frames) for a in loaded.anomalies] == [(a.kind, a.frames) for a in live.anomalies]


def test_run_report_and_export_commands(tmp_path: Path) -> None:
    script = tmp_path / "s.txt"
    script.write_text(THREE_SEGMENTS + "context b\nsend Another context.\nflush\nend\n")
    capture = tmp_path / "run.fscap.jsonl"
    run = run_flushscope("run", str(script), "--pace", "instant", "--capture", str(capture), cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "no anomalies" in run.stdout
    report = run_flushscope("report", str(capture), "--json", cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert [s["flush_id"] for s in data["contexts"][0]["segments"]] == [1, 2, 3]
    assert data["contexts"][0]["segments"][1]["transcripts"] == ["How are you today?"]
    assert all(s["flush_done"] and s["chunks"] > 0 for s in data["contexts"][0]["segments"])
    out = tmp_path / "wav"
    export = run_flushscope("export", str(capture), "--out", str(out), cwd=tmp_path)
    assert export.returncode == 0, export.stderr
    # The files are named after the script's names for the contexts.
    assert [c["name"] for c in data["contexts"]] == ["a", "b"]
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"1-a-flush{n}.wav" for n in (1, 2, 3)] + ["2-b-flush1.wav"]

    faulty = tmp_path / "faulty.fscap.jsonl"
    run = run_flushscope(
        "run",
        str(script),
        "--pace",
        "instant",
        "--fault-skip-flush-id",
        "--capture",
        str(faulty),
        cwd=tmp_path,
    )
    assert run.returncode == 1
    assert "flush_id_skipped" in run.stdout

    bad_script = tmp_path / "bad.txt"
    bad_script.write_text("send hi\nfrobnicate\n")
    run = run_flushscope("run", str(bad_script), cwd=tmp_path)
    assert run.returncode == 2 and "line 2" in run.stderr
    not_capture = tmp_path / "x.jsonl"
    not_capture.write_text('{"hello": 1}\n')
    report = run_flushscope("report", str(not_capture), cwd=tmp_path)
    assert report.returncode == 2 and "line 1" in report.stderr
