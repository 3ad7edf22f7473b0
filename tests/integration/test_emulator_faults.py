"""The emulator's newer faults as real clients meet them: flushscope's own client (what it recorded is
what was on the wire) and the official ``cartesia`` SDK."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from cartesia import AsyncCartesia, Cartesia
from emulator_support import FMT, TIMEOUT, VOICE_ID, serve
from rig_support import Rig
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosedError

from flushscope.core.frames import Direction
from flushscope.core.store.capture_reader import read_capture
from flushscope.emulator.config import Faults
from flushscope.emulator.espeak import Synthesizer

TWO_SEGMENTS = """
context a
send Hello there, my friend.
flush
send How are you today?
flush
send Goodbye.
end
"""


def wire(rig: Rig) -> list[dict[str, Any]]:
    """Every frame the server sent on the rig's connection, in order, as recorded by the client."""
    loaded = read_capture(rig.capture)
    return [json.loads(f.text) for f in loaded.frames if f.dir is Direction.RECV]


def kinds(frames: list[dict[str, Any]]) -> list[tuple[str, int | None]]:
    """(type, flush_id) of each frame but timestamps."""
    return [(f["type"], f.get("flush_id")) for f in frames if f["type"] != "timestamps"]


async def sdk_events(url: str) -> list[Any]:
    """One context through the async SDK: a sentence, a flush, another sentence, the end; its events."""
    events: list[Any] = []
    async with (
        AsyncCartesia(api_key="x", websocket_base_url=url) as client,
        client.tts.websocket_connect() as conn,
    ):
        ctx = conn.context(
            context_id="sdk",
            model_id="sonic-3",
            voice={"mode": "id", "id": VOICE_ID},
            output_format=dict(FMT),
            language="en",
            max_buffer_delay_ms=0,
            timeout=TIMEOUT,
        )
        await ctx.push("Hello there, my friend. ")
        await ctx.push("", flush=True)
        await ctx.push("How are you today?")
        await ctx.no_more_inputs()
        async for event in ctx.receive():
            events.append(event)
    return events


def sync_events(url: str, text: str, events: list[Any]) -> None:
    """One context through the sync SDK, which reads the socket itself: a dead connection raises at once."""
    with Cartesia(api_key="x", websocket_base_url=url) as client, client.tts.websocket_connect() as conn:
        ctx = conn.context(
            context_id="s",
            model_id="sonic-3",
            voice={"mode": "id", "id": VOICE_ID},
            output_format=dict(FMT),
            max_buffer_delay_ms=0,
            timeout=TIMEOUT,
        )
        ctx.push(text, continue_=False)
        events.extend(ctx.receive())


@pytest.mark.asyncio
async def test_reset_after_chunks_cuts_the_connection_with_a_tcp_reset(synth: Synthesizer) -> None:
    events: list[Any] = []
    async with serve(synth, faults=Faults(reset_after_chunks=3)) as server:
        text = "The connection is reset in the middle of this sentence."
        with pytest.raises(ConnectionClosedError) as caught:
            await asyncio.wait_for(asyncio.to_thread(sync_events, server.url, text, events), TIMEOUT)
    assert [e.type for e in events] == ["chunk"] * 3
    # No close frame either way, and the socket was reset rather than closed.
    assert caught.value.rcvd is None and caught.value.sent is None
    assert isinstance(caught.value.__cause__, ConnectionResetError)


@pytest.mark.asyncio
async def test_close_after_chunks_still_ends_the_stream_without_a_reset(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(close_after_chunks=3)) as server, connect(server.tts_url) as ws:
        await ws.send(json.dumps(_request("c", "The socket is dropped in this sentence.")))
        with pytest.raises(ConnectionClosedError) as caught:
            while True:
                await ws.recv()
    assert caught.value.rcvd is None
    assert not isinstance(caught.value.__cause__, ConnectionResetError)


@pytest.mark.asyncio
async def test_duplicate_chunk_sends_each_segments_first_chunk_twice(rig_factory: Any) -> None:
    rig: Rig = await rig_factory(faults=Faults(duplicate_chunk=True))
    assert await rig.play(TWO_SEGMENTS)
    frames = wire(rig)
    chunks = [f for f in frames if f["type"] == "chunk"]
    for flush_id in (1, 2, 3):
        segment = [f for f in chunks if f["flush_id"] == flush_id]
        assert len(segment) >= 3
        assert segment[0] == segment[1], flush_id
        # Only the first: the rest of the segment is as usual.
        assert all(a != b for a, b in itertools.pairwise(segment[1:]))
    # On the wire the two copies come one right after the other.
    first = next(i for i, f in enumerate(frames) if f["type"] == "chunk")
    assert frames[first] == frames[first + 1]


@pytest.mark.asyncio
async def test_duplicate_chunk_reaches_the_sdk_twice(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(duplicate_chunk=True)) as server:
        events = await sdk_events(server.url)
    chunks = [e for e in events if e.type == "chunk"]
    firsts = [i for i, e in enumerate(chunks) if i == 0 or chunks[i - 1].flush_id != e.flush_id]
    assert [chunks[i].flush_id for i in firsts] == [1, 2]
    for i in firsts:
        assert chunks[i].audio == chunks[i + 1].audio


@pytest.mark.asyncio
async def test_late_segment_sends_a_segments_last_chunk_after_the_next_flush_done(rig_factory: Any) -> None:
    rig: Rig = await rig_factory(faults=Faults(late_segment=True))
    assert await rig.play(TWO_SEGMENTS)
    seen = kinds(wire(rig))
    done_1 = seen.index(("flush_done", 1))
    done_2 = seen.index(("flush_done", 2))
    # Segment 1's last chunk is neither before its flush_done nor among segment 2's chunks: it follows
    # flush_done 2, and segment 2's own last chunk waits for the end (no third flush_done comes).
    assert seen[done_2 + 1] == ("chunk", 1)
    assert ("chunk", 1) not in seen[done_1 + 1 : done_2]
    assert seen[-3:] == [("chunk", 2), ("chunk", 3), ("done", None)]
    assert seen[done_2 + 2] == ("chunk", 3)


@pytest.mark.asyncio
async def test_late_segment_reaches_the_sdk_after_the_next_flush_done(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(late_segment=True)) as server:
        events = await sdk_events(server.url)
    seen = [(e.type, getattr(e, "flush_id", None)) for e in events if e.type != "timestamps"]
    flush_done = seen.index(("flush_done", 1))
    # The SDK hands the late chunk over as it came: after flush_done 1 and after segment 2's chunks.
    assert seen[-3:] == [("chunk", 1), ("chunk", 2), ("done", None)]
    assert ("chunk", 1) in seen[:flush_done]
    assert all(k == ("chunk", 2) for k in seen[flush_done + 1 : -3])


@pytest.mark.asyncio
async def test_stray_context_sends_chunks_for_a_context_nobody_opened(rig_factory: Any) -> None:
    rig: Rig = await rig_factory(faults=Faults(stray_context=True))
    assert await rig.play(TWO_SEGMENTS + "context b\nsend Another one.\nend\n")
    frames = wire(rig)
    opened = {ctx.context_id for ctx in rig.client.contexts.values()}
    stray = [f for f in frames if f["context_id"] not in opened]
    assert [f["context_id"] for f in stray] == [
        f"unopened-{c}" for c in sorted(opened, key=_first_at(frames))
    ]
    assert all(f["type"] == "chunk" and f["data"] for f in stray)
    # Each is a copy of its context's first chunk, sent right after it.
    for copy in stray:
        index = frames.index(copy)
        original = frames[index - 1]
        assert original["context_id"] == copy["context_id"].removeprefix("unopened-")
        assert {**original, "context_id": copy["context_id"]} == copy


@pytest.mark.asyncio
async def test_oversized_frame_is_over_one_mebibyte_and_the_sdk_closes_with_1009(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(oversized_after_chunks=2)) as server:
        async with connect(server.tts_url, max_size=None) as ws:
            await ws.send(json.dumps(_request("o", "An oversized frame follows the second chunk of this.")))
            raw: list[str] = []
            while not raw or json.loads(raw[-1])["type"] != "done":
                message = await ws.recv()
                assert isinstance(message, str)
                raw.append(message)
        sizes = [len(m.encode()) for m in raw if json.loads(m)["type"] == "chunk"]
        assert sizes[2] > 1 << 20 and max(sizes[:2] + sizes[3:]) < 1 << 16
        big = json.loads(raw[[json.loads(m)["type"] for m in raw].index("chunk") + 2])
        assert (big["context_id"], big["flush_id"]) == ("o", 1)

        events: list[Any] = []
        text = "The SDK meets an oversized frame after the second chunk."
        with pytest.raises(ConnectionClosedError) as caught:
            await asyncio.wait_for(asyncio.to_thread(sync_events, server.url, text, events), TIMEOUT)
    assert [e.type for e in events] == ["chunk"] * 2
    # The SDK's websockets refuses the frame from its header: it closes with 1009, message too big.
    assert caught.value.sent is not None and caught.value.sent.code == 1009


@pytest.mark.asyncio
async def test_oversized_frame_is_recorded_by_flushscopes_client(rig_factory: Any) -> None:
    rig: Rig = await rig_factory(faults=Faults(oversized_after_chunks=1))
    assert await rig.play("context a\nsend Hello there.\nend\n")
    chunks = [
        f for f in read_capture(rig.capture).frames if f.dir is Direction.RECV and '"chunk"' in f.text[:20]
    ]
    assert len(chunks[1].text) > 1 << 20
    assert json.loads(chunks[1].text)["context_id"] == json.loads(chunks[0].text)["context_id"]


def _request(context_id: str, text: str) -> dict[str, Any]:
    return {
        "context_id": context_id,
        "model_id": "sonic-3",
        "transcript": text,
        "voice": {"mode": "id", "id": VOICE_ID},
        "output_format": dict(FMT),
        "continue": False,
        "max_buffer_delay_ms": 0,
    }


def _first_at(frames: list[dict[str, Any]]) -> Callable[[str], int]:
    def first(context_id: str) -> int:
        return next(i for i, f in enumerate(frames) if f["context_id"] == context_id)

    return first
