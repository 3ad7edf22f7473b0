"""The emulator over real loopback sockets with a raw WebSocket client: every assertion is on the frames.

PROTOCOL.md sections 2-4, 8 and 12 are the reference; where it leaves a point open, the emulator's
documented default (EmulatorConfig) is what is checked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sized
from typing import Any

import numpy as np
import pytest
from emulator_support import (
    FMT,
    OTHER_VOICE_ID,
    TIMEOUT,
    VOICE_ID,
    Frame,
    Transcript,
    assert_common_shape,
    audio_bytes,
    collect,
    config,
    duration,
    read_until,
    read_until_closed,
    recv,
    recv_frame,
    req,
    rms,
    samples,
    send,
    serve,
    words,
)
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus

from flushscope.emulator.alignment import TimedToken
from flushscope.emulator.config import CancelReply, Faults, Pacing
from flushscope.emulator.espeak import Speech, Synthesizer
from flushscope.emulator.server import EmulatorServer
from flushscope.protocol.audio import SAMPLE_RATES, Encoding

SENTENCE = "The quick brown fox jumps over the lazy dog."


async def one_shot(
    ws: ClientConnection,
    context_id: str,
    text: str = "Hello there.",
    *,
    cont: bool | None = False,
    **extra: Any,
) -> Transcript:
    """A single request that ends its context; returns its frames up to the done."""
    await send(ws, req(context_id, text, cont=cont, **extra))
    log = await collect(ws, [context_id])
    assert log.types(context_id)[-1] == "done", log.types(context_id)
    assert audio_bytes(log.of(context_id))
    return log


def loop_time() -> float:
    return asyncio.get_running_loop().time()


# --- the upgrade: path, auth, version ---------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/tts/websocket", "/v1/tts/websocket", "/tts/websocket/"])
async def test_tts_path_with_or_without_prefix_is_served(synth: Synthesizer, path: str) -> None:
    async with serve(synth) as server, connect(server.url + path) as ws:
        await one_shot(ws, "p")


@pytest.mark.asyncio
@pytest.mark.parametrize("path", ["/", "/tts", "/websocket", "/tts/websocketx", "/v1/stt/websocket"])
async def test_other_paths_get_http_404(synth: Synthesizer, path: str) -> None:
    async with serve(synth) as server:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(server.url + path):
                pass
        assert caught.value.response.status_code == 404


def auth(form: str, key: str) -> tuple[str, dict[str, str]]:
    """(query string, headers) presenting ``key`` the way a given client does."""
    if form == "bearer":
        return "", {"Authorization": f"Bearer {key}"}
    if form == "x-api-key":
        return "", {"X-API-Key": key}
    return f"?{form}={key}", {}


AUTH_FORMS = ["bearer", "x-api-key", "api_key", "access_token"]


@pytest.mark.asyncio
@pytest.mark.parametrize("form", AUTH_FORMS)
async def test_every_auth_form_is_accepted_when_no_key_is_required(synth: Synthesizer, form: str) -> None:
    query, headers = auth(form, "sk_car_anything")
    async with serve(synth) as server, connect(server.tts_url + query, additional_headers=headers) as ws:
        await one_shot(ws, "a")


@pytest.mark.asyncio
async def test_no_credentials_are_accepted_when_no_key_is_required(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await one_shot(ws, "a")


@pytest.mark.asyncio
@pytest.mark.parametrize("form", AUTH_FORMS)
async def test_required_key_is_accepted_in_every_form(synth: Synthesizer, form: str) -> None:
    query, headers = auth(form, "k")
    async with (
        serve(synth, require_key="k") as server,
        connect(server.tts_url + query, additional_headers=headers) as ws,
    ):
        await one_shot(ws, "a")


@pytest.mark.asyncio
@pytest.mark.parametrize("form", [*AUTH_FORMS, "missing"])
async def test_wrong_or_missing_key_gets_http_401(synth: Synthesizer, form: str) -> None:
    query, headers = ("", {}) if form == "missing" else auth(form, "wrong")
    async with serve(synth, require_key="k") as server:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(server.tts_url + query, additional_headers=headers):
                pass
        assert caught.value.response.status_code == 401


@pytest.mark.asyncio
async def test_upgrade_response_carries_a_request_id(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        assert ws.response is not None
        assert ws.response.headers.get("X-Request-Id")


def assert_error_frame(frame: dict[str, Any], status: int, context_id: str | None) -> None:
    """Both payload generations at once (PROTOCOL.md 3.6), terminal, with the request's context id."""
    assert frame["type"] == "error"
    assert frame["done"] is True
    assert frame["status_code"] == status
    for key in ("error", "title", "message"):
        assert isinstance(frame.get(key), str) and frame[key], (key, frame)
    assert "error_code" in frame
    if context_id is None:
        assert "context_id" not in frame or frame["context_id"] is None
    else:
        assert frame["context_id"] == context_id


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("query", "headers", "structured"),
    [
        ("", {}, True),  # no version: the current SDK's default, 2026-08-14
        ("", {"Cartesia-Version": "2026-03-01"}, True),
        ("", {"cartesia-version": "2025-04-16"}, False),
        ("?cartesia_version=2024-11-13", {}, False),
        ("?cartesia_version=2025-04-16", {"Cartesia-Version": "2026-08-14"}, False),
        ("?cartesia_version=2026-03-01", {"Cartesia-Version": "2024-06-10"}, True),
    ],
)
async def test_version_query_wins_over_header_and_selects_the_error_shape(
    synth: Synthesizer, query: str, headers: dict[str, str], structured: bool
) -> None:
    async with serve(synth) as server, connect(server.tts_url + query, additional_headers=headers) as ws:
        await send(ws, req("ctx-v", "", cont=False))
        frame = await recv(ws)
        assert_error_frame(frame, 400, "ctx-v")
        if structured:
            request_id = frame["request_id"]
            assert isinstance(request_id, str)
            assert ":ctx-v:" in request_id
        else:
            assert "request_id" not in frame


async def raw_upgrade(server: EmulatorServer, target: str, headers: dict[str, str] | None = None) -> int:
    """Send a WebSocket upgrade request without a Sec-WebSocket-Key, read the answer to the end; its status."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    lines = [
        f"GET {target} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in (headers or {}).items()),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    try:
        status = await asyncio.wait_for(reader.readline(), TIMEOUT)
        # The server closes after a refusal: nothing of this connection is left on its side.
        await asyncio.wait_for(reader.read(), TIMEOUT)
    finally:
        writer.close()
    return int(status.split()[1])


def held_state(server: EmulatorServer) -> dict[str, int]:
    """How much every container the emulator server keeps holds."""
    return {
        name: len(value)
        for name, value in vars(server).items()
        if isinstance(value, Sized) and not isinstance(value, str | bytes)
    }


async def error_is_structured(ws: ClientConnection) -> bool:
    """Whether this socket's error frames have the shape of versions from 2026-03-01 on."""
    await send(ws, req("v", "", cont=False))
    frame = await recv(ws)
    assert_error_frame(frame, 400, "v")
    return "request_id" in frame


@pytest.mark.asyncio
async def test_refused_handshakes_leave_no_state_behind(synth: Synthesizer) -> None:
    async with serve(synth, require_key="k") as server:
        before = held_state(server)
        statuses = []
        for n in range(30):
            version = f"2024-06-{n % 28 + 1:02}"
            # Through the emulator's own checks, then refused by the WebSocket handshake (no key header).
            statuses.append(await raw_upgrade(server, f"/tts/websocket?cartesia_version={version}&api_key=k"))
            statuses.append(await raw_upgrade(server, "/tts/websocket", {"Cartesia-Version": version}))
            statuses.append(await raw_upgrade(server, f"/elsewhere?cartesia_version={version}&api_key=k"))
        assert statuses == [400, 401, 404] * 30
        assert held_state(server) == before
        # Later connections get their own version (here the default), never one a refused request named.
        for _ in range(10):
            async with connect(server.tts_url, additional_headers={"X-API-Key": "k"}) as ws:
                assert await error_is_structured(ws)


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["header", "query"])
async def test_each_connection_keeps_the_version_it_asked_for(synth: Synthesizer, form: str) -> None:
    def target(version: str) -> tuple[str, dict[str, str]]:
        if form == "header":
            return "", {"Cartesia-Version": version}
        return f"?cartesia_version={version}", {}

    (legacy_query, legacy_headers), (new_query, new_headers) = target("2025-04-16"), target("2026-03-01")
    async with (
        serve(synth) as server,
        connect(server.tts_url + legacy_query, additional_headers=legacy_headers) as legacy,
        connect(server.tts_url + new_query, additional_headers=new_headers) as new,
        connect(server.tts_url + legacy_query, additional_headers=legacy_headers) as legacy_again,
    ):
        # Asked in another order than the sockets opened in.
        assert await error_is_structured(new)
        assert not await error_is_structured(legacy_again)
        assert not await error_is_structured(legacy)
        assert await error_is_structured(new)


# --- contexts, continue, manual flush -------------------------------------------------------------


def assert_segments(frames: list[Frame], ids: list[int]) -> None:
    """Frames of one context: each segment's frames carry its flush_id, its flush_done comes after all of
    them and before anything of the next segment, and flush_done has the documented shape."""
    flush_dones = [(i, f) for i, f in enumerate(frames) if f.type == "flush_done"]
    assert [f["flush_id"] for _, f in flush_dones] == ids[: len(flush_dones)]
    for _, f in flush_dones:
        assert f["done"] is False
        assert f["flush_done"] is True
        assert f["data"] == ""
    for index, frame in enumerate(frames):
        if frame.type not in ("chunk", "timestamps", "phoneme_timestamps"):
            continue
        segment = frame["flush_id"]
        assert segment in ids, frame.obj
        closing = [i for i, f in flush_dones if f["flush_id"] == segment]
        if closing:
            assert index < closing[0], f"frame of segment {segment} after its flush_done"
        earlier = [i for i, f in flush_dones if f["flush_id"] < segment]
        assert all(i < index for i in earlier), f"frame of segment {segment} before an earlier flush_done"


@pytest.mark.asyncio
async def test_interleaved_contexts_with_manual_flushes(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        ts = {"add_timestamps": True}
        await send(
            ws,
            req("A", "Hello there. ", **ts),
            req("B", "Good morning, ", **ts),
            req("A", "", flush=True, **ts),
            req("B", "my friend.", **ts),
            req("C", "A third context.", cont=False, **ts),
            req("B", "", flush=True, **ts),
            req("A", "Second part here.", **ts),
            req("B", "Again from B.", **ts),
            req("A", "", flush=True, **ts),
            req("A", "", cont=False, **ts),
            req("B", "", cont=False, **ts),
        )
        log = await collect(ws, ["A", "B", "C"])
    assert_common_shape(log, ["A", "B", "C"])
    for context_id in "ABC":
        assert log.types(context_id)[-1] == "done"
        assert "error" not in log.types(context_id)
    a, b, c = log.of("A"), log.of("B"), log.of("C")
    # Inputs of one context are answered in order, whatever the other contexts do.
    assert words(a) == ["Hello", "there.", "Second", "part", "here."]
    assert words(b) == ["Good", "morning,", "my", "friend.", "Again", "from", "B."]
    assert words(c) == ["A", "third", "context."]
    assert_segments(a, [1, 2])
    assert_segments(b, [1, 2])
    assert [f["flush_id"] for f in a if f.type == "flush_done"] == [1, 2]
    assert [f["flush_id"] for f in b if f.type == "flush_done"] == [1]
    assert {f["flush_id"] for f in a if f.type == "chunk"} == {1, 2}
    assert {f["flush_id"] for f in b if f.type == "chunk"} == {1, 2}
    # Audio of a segment: both of A's flushes closed segments that had audio.
    first_done = next(i for i, f in enumerate(a) if f.type == "flush_done")
    assert any(f.type == "chunk" for f in a[:first_done])
    # C never flushed: one segment, the documented first id.
    assert {f["flush_id"] for f in c if f.type == "chunk"} == {1}
    assert "flush_done" not in log.types("C")


@pytest.mark.asyncio
async def test_request_without_continue_is_a_one_shot_generation(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        log = await one_shot(ws, "once", "Just this.", cont=None)
        await one_shot(ws, "twice", "And this.", cont=False)
    assert_common_shape(log, ["once"])
    assert words(log.of("once")) == []  # no timestamps unless asked for


@pytest.mark.asyncio
async def test_continuation_inputs_are_spoken_in_order_and_done_comes_last(synth: Synthesizer) -> None:
    texts = ["One sentence here. ", "Two sentences there. ", "Three at last."]
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await send(ws, *(req("k", t, add_timestamps=True) for t in texts), req("k", "", cont=False))
        log = await collect(ws, ["k"])
    assert_common_shape(log, ["k"])
    assert words(log.of("k")) == "".join(texts).split()
    kinds = log.types("k")
    assert kinds.count("done") == 1 and kinds[-1] == "done"
    assert kinds.index("done") > max(i for i, k in enumerate(kinds) if k == "chunk")


@pytest.mark.asyncio
async def test_request_without_context_id_gets_one_on_every_frame(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await send(ws, req(None, "No id given.", cont=False))
        first = await recv(ws)
        context_id = first["context_id"]
        assert isinstance(context_id, str) and context_id
        log = await collect(ws, [context_id])
    assert all(f["context_id"] == context_id for f in log.frames)


# --- audio --------------------------------------------------------------------------------------------


def assert_speech(x: np.ndarray[Any, Any], rate: int) -> None:
    """Speech, not silence and not a constant tone: loud overall, with louder and quieter stretches."""
    assert x.size
    assert np.all(np.isfinite(x))
    assert float(np.max(np.abs(x))) <= 1.0
    assert rms(x) > 0.03, rms(x)
    frame = rate // 50  # 20 ms
    frames = x[: x.size // frame * frame].reshape(-1, frame).astype(np.float64)
    levels = np.sqrt(np.mean(np.square(frames), axis=1))
    assert np.mean(levels > 0.05) > 0.2
    assert np.mean(levels < 0.02) > 0.02


@pytest.mark.asyncio
@pytest.mark.parametrize("encoding", [e.value for e in Encoding])
async def test_audio_is_speech_in_every_encoding_and_rate(synth: Synthesizer, encoding: str) -> None:
    durations: dict[int, float] = {}
    async with serve(synth) as server, connect(server.tts_url) as ws:
        for rate in SAMPLE_RATES:
            fmt = {"container": "raw", "encoding": encoding, "sample_rate": rate}
            context_id = f"{encoding}-{rate}"
            log = await one_shot(ws, context_id, SENTENCE, output_format=fmt)
            frames = log.of(context_id)
            width = Encoding(encoding).sample_width
            for f in frames:
                if f.type == "chunk":
                    assert len(audio_bytes([f])) % width == 0
            x = samples(frames, encoding)
            assert_speech(x, rate)
            durations[rate] = duration(frames, encoding, rate)
    # A nine-word sentence lasts a few seconds, the same at every rate.
    assert all(1.0 < d < 4.0 for d in durations.values()), durations
    assert max(durations.values()) - min(durations.values()) < 0.01, durations


@pytest.mark.asyncio
async def test_short_sentence_duration_is_plausible(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        short = await one_shot(ws, "s", "Hello there.")
        long = await one_shot(ws, "l", SENTENCE + " " + SENTENCE)
    assert 0.5 < duration(short.of("s")) < 4.0
    assert duration(long.of("l")) > 2 * duration(short.of("s"))


# --- timestamps ---------------------------------------------------------------------------------------


def assert_timings(log: Transcript, context_id: str, kind: str, field: str, key: str) -> list[str]:
    """Tokens of one context's timing frames: times non-decreasing, end >= start, every start within the
    audio received when the frame arrived, and every end within the context's whole audio."""
    tokens: list[str] = []
    received = 0.0
    last_start = 0.0
    last_end = 0.0
    for frame in log.of(context_id):
        if frame.type == "chunk":
            received += duration([frame])
        elif frame.type == kind:
            timing = frame[field]
            assert len(timing[key]) == len(timing["start"]) == len(timing["end"]) > 0
            for token, start, end in zip(timing[key], timing["start"], timing["end"], strict=True):
                assert isinstance(token, str) and token
                assert start >= last_start - 1e-6 and end >= last_end - 1e-6, (token, start, end)
                assert end >= start - 1e-6, (token, start, end)
                assert start <= received + 0.001, (token, start, received)
                last_start, last_end = start, end
                tokens.append(token)
    assert last_end <= received + 0.001, (last_end, received)
    return tokens


@pytest.mark.asyncio
async def test_word_timestamps_echo_the_transcript_and_count_from_the_first_audio(synth: Synthesizer) -> None:
    parts = ["Stay hungry, ", "stay foolish. ", "And — keep going!", " Don't settle."]
    ts = {"add_timestamps": True}
    async with serve(synth) as server, connect(server.tts_url) as ws:
        log = Transcript()
        await send(ws, req("w", parts[0], **ts), req("w", "", flush=True, **ts))
        await read_until(ws, log, lambda f: f.type == "flush_done")
        segment_one = duration(log.of("w"))
        # Two inputs in the second segment, spoken one after the other (no buffering), then the end.
        await send(
            ws, req("w", parts[1], **ts), req("w", parts[2], **ts), req("w", parts[3], cont=False, **ts)
        )
        await collect(ws, ["w"], log)
    assert_common_shape(log, ["w"])
    tokens = assert_timings(log, "w", "timestamps", "word_timestamps", "words")
    assert tokens == "".join(parts).split()
    # Cumulative across the flush: the second segment's words start after the first segment's audio.
    second = [f for f in log.of("w") if f.type == "timestamps" and f["flush_id"] == 2]
    assert second and second[0]["word_timestamps"]["start"][0] >= segment_one - 0.001
    first = [f for f in log.of("w") if f.type == "timestamps" and f["flush_id"] == 1]
    assert first[0]["word_timestamps"]["start"][0] < 0.2


@pytest.mark.asyncio
async def test_phoneme_timestamps_when_asked(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        both = await one_shot(ws, "p", "Hello there. ", add_phoneme_timestamps=True, add_timestamps=True)
        only = await one_shot(ws, "q", "Hello again.", add_phoneme_timestamps=True)
        none = await one_shot(ws, "r", "Nothing extra.")
    phonemes = assert_timings(both, "p", "phoneme_timestamps", "phoneme_timestamps", "phonemes")
    assert len(phonemes) >= 6
    assert words(both.of("p")) == ["Hello", "there."]
    assert assert_timings(only, "q", "phoneme_timestamps", "phoneme_timestamps", "phonemes")
    assert "timestamps" not in only.types("q")
    assert set(none.types("r")) == {"chunk", "done"}


# --- what clients send --------------------------------------------------------------------------------


VOICE_SHAPES: list[Any] = [
    VOICE_ID,
    {"id": VOICE_ID},
    {"mode": "id", "id": VOICE_ID},
    {
        "mode": "id",
        "id": VOICE_ID,
        "__experimental_controls": {"speed": "slow", "emotion": ["positivity:high"]},
    },
    {"mode": "embedding", "embedding": [round(0.01 * i - 0.9, 3) for i in range(192)]},
]


@pytest.mark.asyncio
async def test_every_voice_shape_is_accepted(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        audio = []
        for index, voice in enumerate(VOICE_SHAPES):
            log = await one_shot(ws, f"v{index}", "Hello there.", voice=voice)
            assert_speech(samples(log.of(f"v{index}")), FMT["sample_rate"])
            audio.append(audio_bytes(log.of(f"v{index}")))
    # The three id shapes name the same voice.
    assert audio[0] == audio[1] == audio[2]


@pytest.mark.asyncio
async def test_null_language_and_unknown_fields_are_accepted(synth: Synthesizer) -> None:
    extra = {
        "language": None,
        "stream": True,
        "use_original_timestamps": True,
        "something_new": {"nested": [1, 2, 3]},
        "generation_config": {"speed": 1.0, "volume": 1.0, "emotion": "calm"},
        "pronunciation_dict_id": None,
        "speed": "normal",
    }
    async with serve(synth) as server, connect(server.tts_url) as ws:
        log = await one_shot(ws, "x", "Hello there.", **extra)
        regional = await one_shot(ws, "y", "Hello there.", language="en-GB")
    assert_common_shape(log, ["x"])
    assert_common_shape(regional, ["y"])


@pytest.mark.asyncio
async def test_different_voice_ids_give_different_audio(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        one = await one_shot(ws, "1", SENTENCE, voice={"mode": "id", "id": VOICE_ID})
        two = await one_shot(ws, "2", SENTENCE, voice={"mode": "id", "id": OTHER_VOICE_ID})
        again = await one_shot(ws, "3", SENTENCE, voice={"mode": "id", "id": VOICE_ID})
    a, b = samples(one.of("1")), samples(two.of("2"))
    assert a.size != b.size or not np.allclose(a, b, atol=0.01)
    assert audio_bytes(again.of("3")) == audio_bytes(one.of("1"))


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("transcript", "cont"),
    [("", False), ("", True), ("   ", False), (" ", True), ("...", True), (" ?! ", False)],
)
async def test_empty_first_transcript_is_one_error_and_no_done(
    synth: Synthesizer, transcript: str, cont: bool
) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await send(ws, req("empty", transcript, cont=cont))
        frame = await recv(ws)
        assert_error_frame(frame, 400, "empty")
        assert "empty" in frame["error"]
        # Another context on the same socket runs to its end; nothing more arrives for the failed one.
        log = await one_shot(ws, "next")
    assert log.of("empty") == []


@pytest.mark.asyncio
async def test_whitespace_final_input_after_text_ends_normally(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        # LiveKit's pattern: sentences with a trailing space, then a single space with continue false.
        await send(ws, req("lk", "Hello there. ", add_timestamps=True), req("lk", " ", cont=False))
        log = await collect(ws, ["lk"])
    assert_common_shape(log, ["lk"])
    assert log.types("lk")[-1] == "done"
    assert "error" not in log.types("lk")
    assert words(log.of("lk")) == ["Hello", "there."]


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "output_format",
    [
        {"container": "raw", "encoding": "mp3", "sample_rate": 24000},
        {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 12345},
        {"container": "mp3", "encoding": "pcm_s16le", "sample_rate": 24000},
        {"container": "raw", "encoding": "pcm_s16le"},
        "pcm_s16le",
    ],
)
async def test_invalid_output_format_is_an_error_and_the_socket_stays_usable(
    synth: Synthesizer, output_format: Any
) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await send(ws, req("bad", "Hello there.", cont=False, output_format=output_format))
        frame = await recv(ws)
        assert_error_frame(frame, 400, "bad")
        log = await one_shot(ws, "good")
    assert_common_shape(log, ["good"])


@pytest.mark.asyncio
@pytest.mark.parametrize("raw", ['{"context_id": "x", "transcript": ', "not json at all", "[1, 2, 3]", "42"])
async def test_malformed_json_is_an_error_and_the_socket_stays_usable(synth: Synthesizer, raw: str) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await ws.send(raw)
        frame = await recv(ws)
        assert_error_frame(frame, 400, None)
        log = await one_shot(ws, "good")
    assert_common_shape(log, ["good"])


@pytest.mark.asyncio
async def test_wrongly_typed_field_is_an_error_with_the_context_id(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await send(ws, req("typed", "Hello.", flush="yes"))
        assert_error_frame(await recv(ws), 400, "typed")
        await send(ws, {k: v for k, v in req("novoice", "Hello.", cont=False).items() if k != "voice"})
        assert_error_frame(await recv(ws), 400, "novoice")
        await one_shot(ws, "good")


@pytest.mark.asyncio
async def test_binary_frame_is_an_error_and_the_socket_stays_usable(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        await ws.send(json.dumps(req("bin", "Hello.", cont=False)).encode())
        assert_error_frame(await recv(ws), 400, None)
        await one_shot(ws, "good")


# --- switches -----------------------------------------------------------------------------------------


async def two_segments(ws: ClientConnection, context_id: str = "f") -> Transcript:
    await send(
        ws,
        req(context_id, "First part. ", add_timestamps=True),
        req(context_id, "", flush=True),
        req(context_id, "Second part.", add_timestamps=True),
        req(context_id, "", flush=True),
        req(context_id, "", cont=False),
    )
    return await collect(ws, [context_id])


@pytest.mark.asyncio
async def test_flush_id_base_zero(synth: Synthesizer) -> None:
    async with serve(synth, flush_id_base=0) as server, connect(server.tts_url) as ws:
        log = await two_segments(ws)
    frames = log.of("f")
    assert_common_shape(log, ["f"])
    assert_segments(frames, [0, 1])
    assert [f["flush_id"] for f in frames if f.type == "flush_done"] == [0, 1]
    assert frames[0].type == "chunk" and frames[0]["flush_id"] == 0


@pytest.mark.asyncio
async def test_no_flush_id_before_the_first_flush_request(synth: Synthesizer) -> None:
    async with serve(synth, no_flush_id_before_flush=True) as server, connect(server.tts_url) as ws:
        log = Transcript()
        await send(
            ws, req("n", "First part is rather long, to keep streaming a while. ", add_timestamps=True)
        )
        first = await read_until(ws, log, lambda f: f.type == "chunk")
        assert "flush_id" not in first.obj
        await send(
            ws,
            req("n", "", flush=True),
            req("n", "Second part.", add_timestamps=True),
            req("n", "", cont=False),
        )
        await collect(ws, ["n"], log)
        # A context that never flushes has no flush_id anywhere.
        plain = await one_shot(ws, "plain", "Never flushed.", add_timestamps=True)
    frames = log.of("n")
    assert_common_shape(log, ["n"])
    flush_done = next(i for i, f in enumerate(frames) if f.type == "flush_done")
    assert frames[flush_done]["flush_id"] == 1
    before = [f.get("flush_id") for f in frames[:flush_done] if f.type != "flush_done"]
    # Frames made before the flush arrived have none; those made after it carry the segment's id.
    assert before[0] is None
    assert set(before) <= {None, 1}
    assert before == sorted(before, key=lambda v: v is not None)
    after = [f.get("flush_id") for f in frames[flush_done + 1 :] if f.type in ("chunk", "timestamps")]
    assert after and set(after) == {2}
    assert all("flush_id" not in f.obj for f in plain.of("plain"))


@pytest.mark.asyncio
async def test_flush_done_per_input_with_zero_buffer_delay(synth: Synthesizer) -> None:
    texts = ["One sentence here. ", "Two sentences there. ", "Three at last."]
    async with serve(synth, flush_done_per_input=True) as server, connect(server.tts_url) as ws:
        await send(ws, *(req("z", t, add_timestamps=True) for t in texts), req("z", "", cont=False))
        log = await collect(ws, ["z"])
        # With managed buffering the switch does not apply.
        await send(ws, *(req("m", t, max_buffer_delay_ms=3000) for t in texts), req("m", "", cont=False))
        await collect(ws, ["m"], log)
        # An explicit flush right after an input does not close a second, empty segment.
        await send(ws, req("e", texts[0]), req("e", "", flush=True), req("e", texts[1], cont=False))
        await collect(ws, ["e"], log)
    frames = log.of("z")
    assert_common_shape(log, ["z", "m", "e"])
    assert_segments(frames, [1, 2, 3])
    assert [f["flush_id"] for f in frames if f.type == "flush_done"] == [1, 2, 3]
    for segment, text in enumerate(texts, start=1):
        assert words([f for f in frames if f.get("flush_id") == segment]) == text.split()
    assert "flush_done" not in log.types("m")
    assert [f["flush_id"] for f in log.of("e") if f.type == "flush_done"] == [1, 2]


async def cancel_with_queued_inputs(synth: Synthesizer, reply: CancelReply, *, closed: bool) -> Transcript:
    """Context q: three inputs (and, if ``closed``, its end) sent at once; the cancel is sent as soon as the
    first chunk arrives, while the first input is held in a stall and the others are queued. The socket is
    read until the server closes it for idleness, so everything the context sends is seen."""
    faults = Faults(stall_ms=200)
    async with (
        serve(synth, cancel_reply=reply, faults=faults, idle_timeout_s=0.3) as server,
        connect(server.tts_url) as ws,
    ):
        log = Transcript()
        ts = {"add_timestamps": True}
        inputs = [
            req("q", "First input here. ", **ts),
            req("q", "Second input. ", **ts),
            req("q", "Third.", **ts),
        ]
        if closed:
            inputs.append(req("q", "", cont=False))
        await send(ws, *inputs)
        await read_until(ws, log, lambda f: f.type == "chunk")
        await send(ws, {"context_id": "q", "cancel": True})
        await read_until_closed(ws, log)
        assert ws.close_code == 1000
    # Only the input that had started streaming is heard, and all of it.
    assert words(log.of("q")) == ["First", "input", "here."]
    return log


@pytest.mark.asyncio
@pytest.mark.parametrize("closed", [False, True], ids=["open", "after-final-input"])
async def test_cancel_reply_none_sends_nothing_more(synth: Synthesizer, closed: bool) -> None:
    log = await cancel_with_queued_inputs(synth, CancelReply.NONE, closed=closed)
    assert set(log.types("q")) == {"chunk", "timestamps"}


@pytest.mark.asyncio
@pytest.mark.parametrize("closed", [False, True], ids=["open", "after-final-input"])
async def test_cancel_reply_done_sends_a_final_done(synth: Synthesizer, closed: bool) -> None:
    log = await cancel_with_queued_inputs(synth, CancelReply.DONE, closed=closed)
    assert_common_shape(log, ["q"])
    assert log.types("q")[-1] == "done"


@pytest.mark.asyncio
async def test_cancel_of_an_idle_context(synth: Synthesizer) -> None:
    async with serve(synth, cancel_reply=CancelReply.DONE) as server, connect(server.tts_url) as ws:
        log = Transcript()
        await send(ws, req("i", "Hello there. "), req("i", "", flush=True))
        await read_until(ws, log, lambda f: f.type == "flush_done")
        await send(ws, {"context_id": "i", "cancel": True})
        await collect(ws, ["i"], log)
        # Cancelling an unknown context is harmless.
        await send(ws, {"context_id": "nobody", "cancel": True})
        await one_shot(ws, "after")
    assert_common_shape(log, ["i"])


@pytest.mark.asyncio
async def test_max_contexts_gives_a_429_error_frame(synth: Synthesizer) -> None:
    async with serve(synth, max_contexts=2) as server, connect(server.tts_url) as ws:
        log = Transcript()
        await send(ws, req("c1", "One. "), req("c2", "Two. "), req("c3", "Three."))
        error = await read_until(ws, log, lambda f: f.type == "error")
        assert_error_frame(error.obj, 429, "c3")
        assert error["error_code"] == "concurrency_limited"
        # The limit is server-wide, not per socket.
        async with connect(server.tts_url) as other:
            await send(other, req("c4", "Four.", cont=False))
            assert_error_frame(await recv(other), 429, "c4")
        # Ending a context frees its slot.
        await send(ws, req("c1", "", cont=False))
        await collect(ws, ["c1"], log)
        await one_shot(ws, "c5")
        await send(ws, req("c2", "", cont=False))
        await collect(ws, ["c2"], log)
    assert "c3" not in {f.get("context_id") for f in log.frames if f.type != "error"}


@pytest.mark.asyncio
async def test_idle_socket_is_closed_with_1000(synth: Synthesizer) -> None:
    async with serve(synth, idle_timeout_s=0.2) as server, connect(server.tts_url) as ws:
        opened = loop_time()
        with pytest.raises(ConnectionClosedOK):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert loop_time() - opened >= 0.2
        assert ws.close_code == 1000
        assert ws.close_reason == "connection idle timeout"


@pytest.mark.asyncio
async def test_generating_keeps_the_socket_alive(synth: Synthesizer) -> None:
    # Audio streams for about 0.6 s, four times the idle timeout; the client sends nothing meanwhile.
    pacing = Pacing(first_audio_ms=0.0, chunk_ms=93.0, speedup=4.0)
    async with serve(synth, pacing=pacing, idle_timeout_s=0.15) as server, connect(server.tts_url) as ws:
        log = await one_shot(ws, "long", SENTENCE)
        assert duration(log.of("long")) > 2 * 0.15 * pacing.speedup
        with pytest.raises(ConnectionClosedOK):
            await asyncio.wait_for(ws.recv(), TIMEOUT)
        assert ws.close_reason == "connection idle timeout"


@pytest.mark.asyncio
async def test_context_expiry_switch_ends_an_open_context(synth: Synthesizer) -> None:
    async with serve(synth, context_expiry_s=0.2) as server, connect(server.tts_url) as ws:
        sent = loop_time()
        await send(ws, req("x", "Hello there. "))
        log = await collect(ws, ["x"])
        # The id is free again afterwards: a new context, numbered from the start.
        again = await one_shot(ws, "x", "Once more.")
    frames = log.of("x")
    assert_common_shape(log, ["x"])
    assert frames[-1].type == "done"
    last_chunk = max(f.at for f in frames if f.type == "chunk")
    assert frames[-1].at - sent >= 0.2
    assert frames[-1].at - last_chunk >= 0.15
    assert {f["flush_id"] for f in again.of("x") if f.type == "chunk"} == {1}


# --- buffering ----------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_long_buffer_delay_holds_unfinished_text_until_a_flush(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        log = Transcript()
        await send(ws, req("held", "Hello there my friend", max_buffer_delay_ms=5000, add_timestamps=True))
        # A whole generation on another context: had "held" been spoken at once, its audio (synthesized
        # first) would be here before this one's done.
        await send(ws, req("probe", "Just a probe.", cont=False))
        await collect(ws, ["probe"], log)
        assert log.of("held") == []
        await send(ws, req("held", "", flush=True, max_buffer_delay_ms=5000))
        await read_until(ws, log, lambda f: f.type == "flush_done")
        await send(ws, req("held", "", cont=False, max_buffer_delay_ms=5000))
        await collect(ws, ["held"], log)
    assert words(log.of("held")) == ["Hello", "there", "my", "friend"]
    assert_segments(log.of("held"), [1])


@pytest.mark.asyncio
async def test_long_buffer_delay_releases_whole_sentences_at_once(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        log = Transcript()
        await send(ws, req("s", "Hello there. How are", max_buffer_delay_ms=5000, add_timestamps=True))
        await read_until(
            ws, log, lambda f: f.type == "timestamps" and "there." in f["word_timestamps"]["words"]
        )
        await send(ws, req("s", " you today?", max_buffer_delay_ms=5000, add_timestamps=True))
        await send(ws, req("s", "", cont=False, max_buffer_delay_ms=5000))
        await collect(ws, ["s"], log)
    assert words(log.of("s")) == ["Hello", "there.", "How", "are", "you", "today?"]


@pytest.mark.asyncio
async def test_default_buffer_delay_applies_when_the_client_sends_none(synth: Synthesizer) -> None:
    async with serve(synth, default_buffer_delay_ms=200) as server, connect(server.tts_url) as ws:
        obj = req("d", "No terminal punctuation here")
        del obj["max_buffer_delay_ms"]
        sent = loop_time()
        await send(ws, obj)
        first = await recv_frame(ws)
    assert first["context_id"] == "d" and first.type == "chunk"
    assert first.at - sent >= 0.2


@pytest.mark.asyncio
async def test_zero_buffer_delay_speaks_at_once(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        log = Transcript()
        await send(ws, req("now", "Hello there my friend", max_buffer_delay_ms=0))
        await read_until(ws, log, lambda f: f.type == "chunk")
        await send(ws, req("now", "", cont=False))
        await collect(ws, ["now"], log)
    assert log.types("now")[-1] == "done"


@pytest.mark.asyncio
async def test_short_buffer_delay_releases_text_by_itself(synth: Synthesizer) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        log = Transcript()
        sent = loop_time()
        await send(ws, req("short", "Hello there my friend", max_buffer_delay_ms=200, add_timestamps=True))
        first = await read_until(ws, log, lambda f: f.type == "chunk")
        assert first.at - sent >= 0.2
        await send(ws, req("short", "", cont=False, max_buffer_delay_ms=200))
        await collect(ws, ["short"], log)
    assert words(log.of("short")) == ["Hello", "there", "my", "friend"]


# --- faults -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_fault_close_after_chunks_drops_the_socket(synth: Synthesizer) -> None:
    async with (
        serve(synth, faults=Faults(close_after_chunks=3)) as server,
        connect(server.tts_url) as ws,
    ):
        await send(ws, req("c", SENTENCE, cont=False))
        log = Transcript()
        with pytest.raises(ConnectionClosedError) as caught:
            while True:
                log.frames.append(await recv_frame(ws))
        # No close frame: the transport was cut.
        assert caught.value.rcvd is None
    assert log.types("c").count("chunk") == 3
    assert "done" not in log.types("c")


@pytest.mark.asyncio
async def test_fault_drop_done(synth: Synthesizer) -> None:
    async with (
        serve(synth, faults=Faults(drop_done=True), idle_timeout_s=0.3) as server,
        connect(server.tts_url) as ws,
    ):
        await send(ws, req("d", "Hello there.", cont=False), req("e", "Hi.", add_timestamps=True))
        await send(ws, req("e", "", flush=True), req("e", "", cont=False))
        log = Transcript()
        await read_until_closed(ws, log)
    assert ws.close_reason == "connection idle timeout"
    assert "done" not in log.types("d") + log.types("e")
    assert audio_bytes(log.of("d"))
    assert log.types("e").count("flush_done") == 1


@pytest.mark.asyncio
async def test_fault_malformed_every(synth: Synthesizer) -> None:
    async with (
        serve(synth, faults=Faults(malformed_every=4)) as server,
        connect(server.tts_url) as ws,
    ):
        await send(ws, req("m", SENTENCE, cont=False))
        raw: list[str] = []
        while True:
            message = await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert isinstance(message, str)
            raw.append(message)
            try:
                if json.loads(message).get("type") == "done":
                    break
            except json.JSONDecodeError:
                pass
    good = 0
    bad_positions = []
    for index, message in enumerate(raw):
        try:
            json.loads(message)
            good += 1
        except json.JSONDecodeError:
            bad_positions.append(index)
            assert good % 4 == 0
    assert bad_positions and bad_positions[0] == 4
    assert len(bad_positions) == good // 4 or len(bad_positions) == (good - 1) // 4


@pytest.mark.asyncio
async def test_fault_reject_429(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(reject_429=True)) as server:
        with pytest.raises(InvalidStatus) as caught:
            async with connect(server.tts_url):
                pass
        assert caught.value.response.status_code == 429


@pytest.mark.asyncio
async def test_fault_late_chunk(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(late_chunk=True)) as server, connect(server.tts_url) as ws:
        log = await two_segments(ws)
    frames = log.of("f")
    for flush_id in (1, 2):
        index = next(i for i, f in enumerate(frames) if f.type == "flush_done" and f["flush_id"] == flush_id)
        late = frames[index + 1]
        assert late.type == "chunk" and late["flush_id"] == flush_id
        assert late["data"] == next(f for f in reversed(frames[:index]) if f.type == "chunk")["data"]


@pytest.mark.asyncio
async def test_fault_skip_flush_id(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(skip_flush_id=True)) as server, connect(server.tts_url) as ws:
        log = await two_segments(ws)
    frames = log.of("f")
    assert_segments(frames, [1, 3])
    assert [f["flush_id"] for f in frames if f.type == "flush_done"] == [1, 3]


@pytest.mark.asyncio
async def test_fault_stall_inside_a_segment(synth: Synthesizer) -> None:
    # A text no other test speaks: its synthesis takes real time, which the stall must not absorb.
    async with serve(synth, faults=Faults(stall_ms=200)) as server, connect(server.tts_url) as ws:
        log = await one_shot(ws, "s", "A stall comes right after the first chunk of this sentence.")
    chunks = [f for f in log.of("s") if f.type == "chunk"]
    assert chunks[1].at - chunks[0].at >= 0.2


@pytest.mark.asyncio
async def test_fault_extra_delay_before_each_segment(synth: Synthesizer) -> None:
    async with serve(synth, faults=Faults(extra_delay_ms=200)) as server, connect(server.tts_url) as ws:
        log = Transcript()
        sent = loop_time()
        await send(ws, req("e", "Hello there. "), req("e", "", flush=True))
        first = await read_until(ws, log, lambda f: f.type == "chunk")
        assert first.at - sent >= 0.2
        await read_until(ws, log, lambda f: f.type == "flush_done")
        sent = loop_time()
        await send(ws, req("e", "Again.", cont=False))
        second = await read_until(ws, log, lambda f: f.type == "chunk")
        assert second.at - sent >= 0.2
        await collect(ws, ["e"], log)


# --- pacing -------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_real_pacing_sends_no_chunk_before_its_time(synth: Synthesizer) -> None:
    # Lower bounds only: the emulator schedules chunk k at first_audio_ms + k * chunk_ms / speedup after the
    # text arrived, and never sends early; how close to that schedule it keeps is for bench/, not a test.
    pacing = Pacing()
    text = "The quick brown fox jumps over the lazy dog, twice in a row."
    async with serve(synth, pacing=pacing) as server, connect(server.tts_url) as ws:
        sent = loop_time()
        await send(ws, req("p", text, cont=False))
        log = await collect(ws, ["p"])
    frames = log.of("p")
    chunks = [f for f in frames if f.type == "chunk"]
    audio = duration(frames)
    assert 2.0 <= audio <= 4.0
    interval = pacing.chunk_ms / 1000.0 / pacing.speedup
    assert interval == pytest.approx(0.058125)
    for k, chunk in enumerate(chunks):
        earliest = sent + pacing.first_audio_ms / 1000.0 + k * interval
        assert chunk.at >= earliest - 0.001, (k, chunk.at - sent, earliest - sent)
    assert [f.at for f in frames] == sorted(f.at for f in frames)
    assert frames[-1].type == "done" and frames[-1].at >= chunks[-1].at
    # Each chunk but the last is 93 ms of audio, so the schedule delivers 1.6 s of audio per second.
    assert len(chunks) == -(-round(audio * FMT["sample_rate"]) // round(0.093 * FMT["sample_rate"]))
    assert all(abs(duration([c]) - 0.093) < 0.001 for c in chunks[:-1])


@pytest.mark.asyncio
async def test_contexts_on_one_socket_stream_concurrently(synth: Synthesizer) -> None:
    pacing = Pacing(first_audio_ms=0.0, chunk_ms=93.0, speedup=10.0)
    async with serve(synth, pacing=pacing) as server, connect(server.tts_url) as ws:
        await send(ws, req("A", SENTENCE, cont=False), req("B", SENTENCE, cont=False))
        log = await collect(ws, ["A", "B"])
    assert_common_shape(log, ["A", "B"])
    order = [f["context_id"] for f in log.frames if f.type == "chunk"]
    last_a = max(i for i, c in enumerate(order) if c == "A")
    first_b = order.index("B")
    assert first_b < last_a, "B waited for A to finish"


@pytest.mark.asyncio
async def test_client_gone_before_its_error_frame_is_not_a_server_error(
    synth: Synthesizer, caplog: pytest.LogCaptureFixture
) -> None:
    async with serve(synth) as server, connect(server.tts_url) as ws:
        # The error for this arrives at a socket that is already closing.
        await ws.send(b"binary")
        await send(ws, req("late", "", cont=False))
    # Closing the server waited for its connection handlers: whatever they logged is in.
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")], caplog.text


class EndTokenSynth:
    """Speech whose length is a whole number of 93 ms chunks at 8 kHz and whose last token starts where the
    audio ends, as espeak-ng times trailing punctuation ("Hello ?!" gives "?!" a zero-length interval)."""

    def __init__(self) -> None:
        self.samples = np.full(744 * 3, 3000, dtype=np.int16)

    async def synthesize_async(self, text: str, voice: object) -> Speech:
        end = self.samples.size / 8000
        words = (TimedToken("Hello", 0.0, end), TimedToken("?!", end, end))
        return Speech(self.samples, 8000, words, ())

    def close(self) -> None:
        pass


@pytest.mark.asyncio
async def test_token_at_the_very_end_of_the_audio_is_not_lost() -> None:
    fmt = {"container": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}
    stub: Any = EndTokenSynth()
    async with EmulatorServer(config(), stub) as server, connect(server.tts_url) as ws:
        log = await one_shot(ws, "end", "Hello ?!", output_format=fmt, add_timestamps=True)
    assert [f.type for f in log.of("end")].count("chunk") == 3
    assert words(log.of("end")) == ["Hello", "?!"]
