"""The official ``cartesia==4.2.0`` SDK as the client of the emulator, sync and async, and the emulator as
the ``flushscope serve`` command (PROTOCOL.md sections 5 and 10)."""

from __future__ import annotations

import asyncio
import re
import signal
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from cartesia import AsyncCartesia, Cartesia
from emulator_support import FMT, OTHER_VOICE_ID, TIMEOUT, VOICE_ID, rms, serve

from flushscope.emulator.espeak import Synthesizer
from flushscope.protocol.audio import Encoding, decode

RATE = 24000
CONTEXT_DEFAULTS: dict[str, Any] = {
    "model_id": "sonic-3",
    "output_format": {"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE},
    "language": "en",
    "add_timestamps": True,
    "timeout": TIMEOUT,  # the SDK's own safety net for each receive
}

# Two contexts on one connection, each with a manual flush between its two inputs. Context A leaves
# max_buffer_delay_ms to the server (3000 ms by default: its first input waits for the flush); B asks for 0.
A_PARTS = ("Stay hungry, ", "stay foolish.")
B_PARTS = ("Good morning, my friend. ", "How are you today?")


def summarize(events: Sequence[Any], context_id: str) -> dict[str, Any]:
    """Check one context's events as the SDK delivers them and return what the test compares."""
    assert events, "no events"
    kinds = [e.type for e in events]
    assert kinds[-1] == "done", kinds
    assert kinds.count("done") == 1
    assert set(kinds) <= {"chunk", "timestamps", "flush_done", "done"}, kinds
    for event in events:
        assert event.context_id == context_id
        assert event.done is (event.type == "done")
    flush_done_at = [i for i, e in enumerate(events) if e.type == "flush_done"]
    assert [events[i].flush_id for i in flush_done_at] == [1]
    assert events[flush_done_at[0]].flush_done is True
    chunk_ids = [e.flush_id for e in events if e.type == "chunk"]
    # Chunks of segment 1 all come before its flush_done, those of segment 2 all after.
    assert chunk_ids == sorted(chunk_ids) and set(chunk_ids) == {1, 2}
    assert all(e.flush_id == 1 for e in events[: flush_done_at[0]] if e.type in ("chunk", "timestamps"))
    assert all(e.flush_id == 2 for e in events[flush_done_at[0] + 1 :] if e.type in ("chunk", "timestamps"))
    audio = b"".join(e.audio for e in events if e.type == "chunk")
    assert len(audio) % 2 == 0
    samples = decode(audio, Encoding.PCM_S16LE)
    seconds = samples.size / RATE
    assert rms(samples) > 0.03
    words: list[str] = []
    starts: list[float] = []
    ends: list[float] = []
    for event in events:
        if event.type == "timestamps":
            words += event.word_timestamps.words
            starts += event.word_timestamps.start
            ends += event.word_timestamps.end
    assert starts == sorted(starts) and ends == sorted(ends)
    assert all(e >= s for s, e in zip(starts, ends, strict=True))
    assert ends[-1] <= seconds + 0.001
    # Cumulative: the second segment's first word starts after the first segment's audio.
    first_segment = b"".join(e.audio for e in events[: flush_done_at[0]] if e.type == "chunk")
    second_words = [e for e in events if e.type == "timestamps" and e.flush_id == 2]
    assert second_words[0].word_timestamps.start[0] >= len(first_segment) / 2 / RATE - 0.001
    return {"words": words, "seconds": seconds, "audio": samples}


def check_pair(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert a["words"] == "".join(A_PARTS).split()
    assert b["words"] == "".join(B_PARTS).split()
    assert 0.8 < a["seconds"] < 4.0
    assert 1.5 < b["seconds"] < 5.0


def run_sync_client(url: str) -> tuple[list[Any], list[Any], str, str]:
    """The whole sync-SDK session; runs in a worker thread while the emulator serves on the test's loop."""
    with (
        Cartesia(api_key="sk_car_local_test", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        a = conn.context(voice={"mode": "id", "id": VOICE_ID}, **CONTEXT_DEFAULTS)
        b = conn.context(
            voice={"mode": "id", "id": OTHER_VOICE_ID}, max_buffer_delay_ms=0, **CONTEXT_DEFAULTS
        )
        a.push(A_PARTS[0])
        b.push(B_PARTS[0])
        a.push("", flush=True)
        b.push("", flush=True)
        b.push(B_PARTS[1])
        a.push(A_PARTS[1])
        b.no_more_inputs()
        a.no_more_inputs()
        # A reads the socket and queues B's frames for B (both contexts are registered).
        events_a = list(a.receive())
        events_b = list(b.receive())
        return events_a, events_b, a._context_id, b._context_id


@pytest.mark.asyncio
async def test_sync_sdk_interleaved_contexts_with_manual_flushes(synth: Synthesizer) -> None:
    async with serve(synth) as server:
        events_a, events_b, id_a, id_b = await asyncio.wait_for(
            asyncio.to_thread(run_sync_client, server.url), TIMEOUT
        )
    check_pair(summarize(events_a, id_a), summarize(events_b, id_b))


async def drain(ctx: Any) -> list[Any]:
    return [event async for event in ctx.receive()]


async def run_async_client(url: str) -> None:
    async with (
        AsyncCartesia(api_key="sk_car_local_test", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        a = conn.context(voice={"mode": "id", "id": VOICE_ID}, **CONTEXT_DEFAULTS)
        b = conn.context(voice=OTHER_VOICE_ID, max_buffer_delay_ms=0, **CONTEXT_DEFAULTS)
        await a.push(A_PARTS[0])
        await b.push(B_PARTS[0])
        await a.push("", flush=True)
        await b.push("", flush=True)
        await a.push(A_PARTS[1])
        await b.push(B_PARTS[1])
        await a.no_more_inputs()
        await b.no_more_inputs()
        events_a, events_b = await asyncio.gather(drain(a), drain(b))
        check_pair(summarize(events_a, a._context_id), summarize(events_b, b._context_id))
        # Different voices, different audio.
        x, y = (summarize(events, ctx._context_id)["audio"] for events, ctx in ((events_a, a), (events_b, b)))
        assert x.size != y.size or not np.allclose(x, y)


@pytest.mark.asyncio
async def test_async_sdk_interleaved_contexts_with_manual_flushes(synth: Synthesizer) -> None:
    async with serve(synth) as server:
        await asyncio.wait_for(run_async_client(server.url), TIMEOUT)


@pytest.mark.asyncio
async def test_async_sdk_receives_errors_on_its_context(synth: Synthesizer) -> None:
    # The async SDK drops frames without a context id, so these only arrive because the emulator sets it.
    async with (
        serve(synth) as server,
        AsyncCartesia(api_key="any", websocket_base_url=server.url) as client,
        client.tts.websocket_connect() as conn,
    ):
        empty = conn.context(voice=VOICE_ID, **CONTEXT_DEFAULTS)
        bad = conn.context(
            voice=VOICE_ID, **{**CONTEXT_DEFAULTS, "output_format": {**FMT, "sample_rate": 12345}}
        )
        await empty.no_more_inputs()
        await bad.push("Hello there.", continue_=False)
        errors = await asyncio.wait_for(asyncio.gather(drain(empty), drain(bad)), TIMEOUT)
        good = conn.context(voice=VOICE_ID, **CONTEXT_DEFAULTS)
        await good.push("Still working.", continue_=False)
        after = await asyncio.wait_for(drain(good), TIMEOUT)
    for events in errors:
        assert [e.type for e in events] == ["error"]
        error = events[0]
        assert error.status_code == 400 and error.done is True
        assert error.title and error.message and error.error_code
        assert "None" not in error.error
    assert [e.type for e in after][-1] == "done"


def run_sync_one_shot_and_empty(url: str) -> list[Any]:
    with (
        Cartesia(api_key="any", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        first = conn.context(voice=VOICE_ID, **CONTEXT_DEFAULTS)
        first.push("Hello there.", continue_=False)
        events = list(first.receive())
        # A context ended with a single empty input is the empty-transcript error, not a hang.
        empty = conn.context(voice=VOICE_ID, **CONTEXT_DEFAULTS)
        empty.no_more_inputs()
        events += list(empty.receive())
        return events


@pytest.mark.asyncio
async def test_sync_sdk_one_shot_and_empty_context(synth: Synthesizer) -> None:
    async with serve(synth) as server:
        events = await asyncio.wait_for(asyncio.to_thread(run_sync_one_shot_and_empty, server.url), TIMEOUT)
    kinds = [e.type for e in events]
    assert kinds[-2:] == ["done", "error"]
    assert "chunk" in kinds[:-2]


@pytest.mark.asyncio
async def test_serve_command_as_a_subprocess() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "flushscope",
        "serve",
        "--pace",
        "instant",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = (await asyncio.wait_for(proc.stdout.readline(), TIMEOUT)).decode().strip()
        assert re.fullmatch(r"ws://127\.0\.0\.1:\d+", line), line
        await asyncio.wait_for(run_async_client(line), TIMEOUT)
        events = await asyncio.wait_for(asyncio.to_thread(run_sync_one_shot_and_empty, line), TIMEOUT)
        assert [e.type for e in events][-2:] == ["done", "error"]
        proc.send_signal(signal.SIGTERM)
        _out, err = await asyncio.wait_for(proc.communicate(), TIMEOUT)
        assert proc.returncode == 0, err.decode(errors="replace")
        assert b"Traceback" not in err
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()


def run_sync_cancel_then_other(url: str) -> tuple[list[Any], str, str]:
    with (
        Cartesia(api_key="any", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        cancelled = conn.context(voice=VOICE_ID, **CONTEXT_DEFAULTS)
        # Short, so that what it still streams fits the sync client's receive queue: frames left unread
        # beyond it stop the client reading, and its close would wait for the close timeout.
        cancelled.push("Cancelled now.", max_buffer_delay_ms=0)
        cancelled.push("Never spoken.")
        cancelled.cancel()
        other = conn.context(voice=OTHER_VOICE_ID, **CONTEXT_DEFAULTS)
        other.push("The other context.", continue_=False)
        return list(other.receive()), cancelled._context_id, other._context_id


@pytest.mark.asyncio
async def test_sync_sdk_reader_survives_a_cancelled_context(synth: Synthesizer) -> None:
    # The sync SDK hands frames of an unregistered (cancelled) context to whichever context is reading, and a
    # done among them would end that reader early: with the default cancel reply (none) it runs to its own end.
    async with serve(synth) as server:
        events, cancelled, other = await asyncio.wait_for(
            asyncio.to_thread(run_sync_cancel_then_other, server.url), TIMEOUT
        )
    assert events[-1].type == "done" and events[-1].context_id == other
    leaked = [e for e in events if e.context_id == cancelled]
    assert all(e.type in ("chunk", "timestamps") for e in leaked)
    mine = [e for e in events if e.context_id == other]
    assert [e.type for e in mine].count("chunk") > 0
