"""Playback through real PortAudio into ALSA's file plugin: what reaches the device, sample for sample.

ALSA is pointed at a configuration whose default PCM writes every sample it is given to ``out.raw`` (with a
null sink that consumes at once, so nothing is paced in real time), and PortAudio is re-initialised to read
it (the ``alsa_file`` and ``no_card`` fixtures of ``tests/conftest.py``, the comparisons in
``tests/audio_sink.py``). Each stream open rewrites the file. Segments are built by feeding frames with real
espeak-ng speech.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import sounddevice as sd

from audio_sink import assert_played, decoded, fade_len, has_sound_card, locate, written
from command_line import run_flushscope
from flushscope.audio import output
from flushscope.audio.player import Player, PlayerState
from flushscope.core.frames import Direction
from flushscope.core.model.recorder import Recorder
from flushscope.core.model.records import Context, SegmentState
from flushscope.core.model.session import Session
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.emulator.context import render
from flushscope.emulator.espeak import Speech, Synthesizer
from flushscope.emulator.voices import voice_for
from flushscope.protocol.audio import AudioFormat, Encoding

#: How long a wait on the player's events may last before the test fails (a hang, not a slow machine).
TIMEOUT = 10.0
FORMATS = [
    AudioFormat(Encoding.PCM_S16LE, 24000),
    AudioFormat(Encoding.PCM_F32LE, 44100),
    AudioFormat(Encoding.PCM_MULAW, 8000),
    AudioFormat(Encoding.PCM_ALAW, 16000),
]
SENTENCES = [
    "Hello there, this is the first sentence.",
    "And here is a second one, spoken right after.",
    "The third closes the context.",
]
# Chunks are cut at odd byte counts, so 16- and 32-bit samples straddle chunk boundaries.
CHUNK_BYTES = 3001


class Recorded:
    """What the player reported through its callbacks."""

    def __init__(self, player: Player) -> None:
        self.states: list[PlayerState] = []
        self.positions: list[float] = []
        self.errors: list[str] = []
        player.on_state = self.states.append
        player.on_position = self.positions.append
        player.on_error = self.errors.append


@pytest.fixture
def player() -> Iterator[Player]:
    playing = Player()
    yield playing
    playing.close()


class Wire:
    """Frames of one connection, as a client and a Cartesia server exchange them, recorded through a
    :class:`Recorder` (and into a capture when given one)."""

    def __init__(self, fmt: AudioFormat, capture: CaptureWriter | None = None) -> None:
        self.session = Session()
        ticks = itertools.count()
        self.recorder = Recorder(self.session, capture, clock=lambda: next(ticks) * 0.01)
        self.fmt = fmt

    def send(self, ctx: str, transcript: str, *, flush: bool = False, cont: bool = True) -> None:
        request: dict[str, Any] = {
            "context_id": ctx,
            "model_id": "sonic-3",
            "transcript": transcript,
            "voice": {"mode": "id", "id": "v"},
            "output_format": self.fmt.to_json(),
            "continue": cont,
            "max_buffer_delay_ms": 0,
        }
        if flush:
            request["flush"] = True
        self.recorder.record(1, Direction.SEND, json.dumps(request))

    def chunks(self, ctx: str, flush_id: int, audio: bytes) -> None:
        for at in range(0, len(audio), CHUNK_BYTES):
            data = base64.b64encode(audio[at : at + CHUNK_BYTES]).decode()
            self.recv({"type": "chunk", "context_id": ctx, "status_code": 206, "done": False, "data": data,
                       "step_time": 1.0, "flush_id": flush_id})  # fmt: skip

    def flush_done(self, ctx: str, flush_id: int) -> None:
        self.recv({"type": "flush_done", "context_id": ctx, "status_code": 206, "done": False,
                   "flush_id": flush_id, "flush_done": True})  # fmt: skip

    def done(self, ctx: str) -> None:
        self.recv({"type": "done", "context_id": ctx, "status_code": 206, "done": True})

    def recv(self, obj: dict[str, Any]) -> None:
        self.recorder.record(1, Direction.RECV, json.dumps(obj))

    def context(self, ctx: str, audios: list[bytes]) -> Context:
        """A whole context: one flushed transcript per audio, its chunks and flush_done, then done."""
        for n in range(len(audios)):
            self.send(ctx, f"Sentence {n + 1}. ")
            self.send(ctx, "", flush=True)
        self.send(ctx, "", cont=False)
        for n, audio in enumerate(audios, 1):
            self.chunks(ctx, n, audio)
            self.flush_done(ctx, n)
        self.done(ctx)
        return self.session.contexts[-1]


@pytest.fixture(scope="module")
def speech(synth: Synthesizer) -> list[Speech]:
    return [synth.synthesize(text, voice_for(None, "en")) for text in SENTENCES]


def speak(speech: list[Speech], fmt: AudioFormat, which: int = 0) -> bytes:
    return render(speech[which], fmt)


def play_to_end(player: Player, recorded: Recorded, seconds: float) -> None:
    """Hand the stream the rest of its audio, ``seconds`` in all, as the window does (a poll reads the next
    take of the capture) each time it has run dry, then let it end by itself."""
    player.poll()
    while player.state is PlayerState.PLAYING and player.duration < seconds:
        # The null sink eats what the stream has at once; then the stream waits, silent, for the next take.
        assert player.wait_starved(TIMEOUT), "the stream neither ran dry nor ended"
        handed = player.duration
        player.poll()
        assert player.duration > handed, "a poll handed a stream that had run dry nothing more"
    assert player.wait_finished(TIMEOUT), "playback did not end"
    player.poll()
    assert player.state is PlayerState.STOPPED
    assert recorded.errors == []


# --- tests -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f"{f.encoding.value}-{f.sample_rate}")
def test_a_segment_reaches_the_device_bit_exact_in_every_encoding(
    alsa_file: Path, player: Player, speech: list[Speech], fmt: AudioFormat
) -> None:
    wire = Wire(fmt)
    audio = speak(speech, fmt)
    segment = wire.context("a", [audio]).segments[0]
    recorded = Recorded(player)
    assert player.play_segment(wire.session.audio, segment)
    play_to_end(player, recorded, segment.audio_seconds)
    assert recorded.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert player.position == pytest.approx(segment.audio_seconds)
    assert recorded.positions[-1] == pytest.approx(segment.audio_seconds)
    assert player.start_latency is not None
    assert_played(alsa_file, fmt, decoded(audio, fmt))


def test_fades_are_short_linear_ramps_and_the_model_is_untouched(alsa_file: Path, player: Player) -> None:
    fmt = AudioFormat(Encoding.PCM_S16LE, 24000)
    # A loud tone that starts and ends at full level: without fades both edges would click.
    tone = (20000 * np.sin(np.arange(4800) * 0.2 + np.pi / 2)).astype("<i2")
    wire = Wire(fmt)
    segment = wire.context("a", [tone.tobytes()]).segments[0]
    before = wire.session.audio.chunks(segment)
    recorded = Recorded(player)
    player.play_segment(wire.session.audio, segment)
    play_to_end(player, recorded, segment.audio_seconds)
    y = written(alsa_file, fmt)
    fade = fade_len(fmt)
    assert fade == 96
    start = locate(y, tone, head=fade, tail=fade)
    ramp = np.arange(fade) / fade
    fade_in = y[start : start + fade].astype(np.float64)
    fade_out = y[start + len(tone) - fade : start + len(tone)].astype(np.float64)
    assert np.abs(fade_in - tone[:fade] * ramp).max() <= 1.0
    assert np.abs(fade_out - tone[-fade:] * ramp[::-1]).max() <= 1.0
    assert wire.session.audio.chunks(segment) == before


def test_starting_later_in_the_segment(alsa_file: Path, player: Player, speech: list[Speech]) -> None:
    fmt = AudioFormat(Encoding.PCM_S16LE, 16000)
    audio = speak(speech, fmt, 1)
    wire = Wire(fmt)
    segment = wire.context("a", [audio]).segments[0]
    recorded = Recorded(player)
    player.play_segment(wire.session.audio, segment, start=0.5)
    play_to_end(player, recorded, segment.audio_seconds)
    assert_played(alsa_file, fmt, decoded(audio, fmt)[8000:])
    assert recorded.positions[0] >= 0.5


def test_a_context_plays_its_segments_gapless(alsa_file: Path, player: Player, speech: list[Speech]) -> None:
    fmt = AudioFormat(Encoding.PCM_F32LE, 24000)
    audios = [speak(speech, fmt, n) for n in range(3)]
    wire = Wire(fmt)
    ctx = wire.context("a", audios)
    assert [s.nbytes for s in ctx.segments[:3]] == [len(a) for a in audios]
    recorded = Recorded(player)
    assert player.play_context(wire.session.audio, ctx)
    play_to_end(player, recorded, ctx.audio_seconds)
    assert player.position == pytest.approx(ctx.audio_seconds)
    whole = np.concatenate([decoded(wire.session.audio.segment(s), fmt) for s in ctx.segments])
    assert_played(alsa_file, fmt, whole)


def test_a_segment_still_streaming_plays_every_chunk(
    alsa_file: Path, player: Player, speech: list[Speech]
) -> None:
    fmt = AudioFormat(Encoding.PCM_S16LE, 22050)
    audio = speak(speech, fmt, 0) + speak(speech, fmt, 1)
    thirds = [
        audio[: len(audio) // 3],
        audio[len(audio) // 3 : 2 * len(audio) // 3],
        audio[2 * len(audio) // 3 :],
    ]
    wire = Wire(fmt)
    wire.send("a", "Hello. ")
    wire.send("a", "", flush=True)
    wire.chunks("a", 1, thirds[0])
    segment = wire.session.contexts[0].segments[0]
    assert segment.state is SegmentState.FLUSHING
    recorded = Recorded(player)
    assert player.play_segment(wire.session.audio, segment)

    cut1 = len(thirds[0]) // 2
    assert player.wait_starved(TIMEOUT)
    player.poll()
    assert player.state is PlayerState.PLAYING and player.buffering
    assert player.position == pytest.approx(cut1 / fmt.sample_rate)
    assert not player.wait_finished(0)

    wire.chunks("a", 1, thirds[1])
    player.poll()
    cut2 = (len(thirds[0]) + len(thirds[1])) // 2
    assert player.wait_starved(TIMEOUT)
    assert player.position == pytest.approx(cut2 / fmt.sample_rate)

    # The last chunks and the flush_done arrive together, so the end is known before it is played.
    wire.chunks("a", 1, thirds[2])
    wire.flush_done("a", 1)
    player.poll()
    play_to_end(player, recorded, segment.audio_seconds)
    assert recorded.states == [PlayerState.PLAYING, PlayerState.STOPPED]
    assert player.position == pytest.approx(segment.audio_seconds)

    # Silence went out while the buffer was dry; every sample is there, in order, around it.
    y = written(alsa_file, fmt)
    x = decoded(audio, fmt)
    fade = fade_len(fmt)
    first = locate(y, x[:cut1], head=fade)
    second = locate(y, x[cut1:cut2], after=first + cut1)
    third = locate(y, x[cut2:], after=second + cut2 - cut1, tail=fade)
    assert not np.any(y[first + cut1 : second]) and not np.any(y[second + cut2 - cut1 : third])
    assert not np.any(y[third + len(x) - cut2 :])


def test_pause_and_resume_hold_and_continue_the_position(
    alsa_file: Path, player: Player, speech: list[Speech]
) -> None:
    fmt = AudioFormat(Encoding.PCM_S16LE, 24000)
    audio = speak(speech, fmt, 0) * 12  # about 20 s: far more than the null sink eats before pause()
    wire = Wire(fmt)
    segment = wire.context("a", [audio]).segments[0]
    recorded = Recorded(player)
    player.play_segment(wire.session.audio, segment)
    player.pause()
    assert player.state is PlayerState.PAUSED
    assert player.wait_finished(TIMEOUT)  # the fade-out played and the stream ended by itself
    player.poll()
    held = player.position
    assert 0.0 < held <= segment.audio_seconds
    player.poll()
    assert player.state is PlayerState.PAUSED and player.position == held

    player.resume()
    assert player.state is PlayerState.PLAYING
    play_to_end(player, recorded, segment.audio_seconds)
    assert recorded.states == [
        PlayerState.PLAYING,
        PlayerState.PAUSED,
        PlayerState.PLAYING,
        PlayerState.STOPPED,
    ]
    assert player.position == pytest.approx(segment.audio_seconds)

    # Apart from the fade-out before the pause and the fade-in after it, every sample went out once.
    x = decoded(audio, fmt)
    y = written(alsa_file, fmt)
    fade = fade_len(fmt)
    pause_at = round(held * fmt.sample_rate)
    before, after = x[: max(0, pause_at - fade)], x[pause_at + fade :]
    first = locate(y, before, head=fade) if np.any(before[fade:]) else 0
    if np.any(after[: len(after) - fade]):
        locate(y, after, after=first + len(before), tail=fade)


def test_stop_and_a_new_play_stops_the_previous_one(
    alsa_file: Path, player: Player, speech: list[Speech]
) -> None:
    fmt = AudioFormat(Encoding.PCM_S16LE, 24000)
    wire = Wire(fmt)
    ctx = wire.context("a", [speak(speech, fmt, 0) * 12, speak(speech, fmt, 2)])
    long, short = ctx.segments[0], ctx.segments[1]
    audio = wire.session.audio
    recorded = Recorded(player)
    player.play_segment(audio, long)
    player.stop()
    assert player.state is PlayerState.STOPPED
    stopped_at = player.position
    assert 0.0 <= stopped_at <= long.audio_seconds
    player.poll()
    assert player.position == stopped_at
    assert recorded.states == [PlayerState.PLAYING, PlayerState.STOPPED]

    player.play_segment(audio, long)
    player.play_segment(audio, short)  # stops the long one first
    assert player.state is PlayerState.PLAYING
    play_to_end(player, recorded, short.audio_seconds)
    assert recorded.states[2:] == [
        PlayerState.PLAYING,
        PlayerState.STOPPED,
        PlayerState.PLAYING,
        PlayerState.STOPPED,
    ]
    # Opening the second stream rewrote the file: only the short segment is in it.
    assert_played(alsa_file, fmt, decoded(audio.segment(short), fmt))


def test_an_empty_or_formatless_segment_reports_an_error(alsa_file: Path, player: Player) -> None:
    fmt = AudioFormat(Encoding.PCM_S16LE, 24000)
    wire = Wire(fmt)
    ctx = wire.context("a", [b""])
    recorded = Recorded(player)
    assert not player.play_segment(wire.session.audio, ctx.segments[0])
    player.poll()
    assert player.state is PlayerState.STOPPED and recorded.states == []
    assert len(recorded.errors) == 1 and "has no audio" in recorded.errors[0]


def test_devices_are_listed_with_the_default_first(alsa_file: Path) -> None:
    devices = output.list_devices()
    assert devices and devices[0].is_default and devices[0].name == "default"
    assert output.availability() == (True, "")


def test_an_unknown_device_is_reported_not_raised(
    alsa_file: Path, player: Player, speech: list[Speech]
) -> None:
    fmt = AudioFormat(Encoding.PCM_S16LE, 24000)
    wire = Wire(fmt)
    segment = wire.context("a", [speak(speech, fmt)]).segments[0]
    player.set_device(99)
    usable, reason = player.availability()
    assert not usable and "output device 99 cannot be used" in reason
    recorded = Recorded(player)
    assert not player.play_segment(wire.session.audio, segment)
    player.poll()
    assert player.state is PlayerState.STOPPED
    assert len(recorded.errors) == 1 and "99" in recorded.errors[0]


# PortAudio lists the hardware cards it finds whatever the configuration says, so a machine with a sound
# card cannot be made to look empty.
@pytest.mark.skipif(has_sound_card(), reason="this machine has a sound card: PortAudio always lists it")
def test_no_output_device_is_reported_not_raised(no_card: None, player: Player, speech: list[Speech]) -> None:
    assert len(sd.query_devices()) == 0
    assert output.list_devices() == []
    usable, reason = output.availability()
    assert not usable and reason == "audio playback is unavailable: PortAudio finds no audio output device"
    fmt = AudioFormat(Encoding.PCM_S16LE, 24000)
    wire = Wire(fmt)
    segment = wire.context("a", [speak(speech, fmt)]).segments[0]
    recorded = Recorded(player)
    assert not player.play_segment(wire.session.audio, segment)
    player.poll()
    assert player.state is PlayerState.STOPPED
    assert recorded.errors == [reason] and recorded.states == []


def test_a_missing_portaudio_library_is_explained(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "_sd", None)
    monkeypatch.setattr(output, "_IMPORT_PROBLEM", "PortAudio library not found")
    usable, reason = output.availability()
    assert not usable and "PortAudio library not found" in reason and "libportaudio2" in reason
    assert output.list_devices() == []


# --- the command line ------------------------------------------------------------------------------


@pytest.fixture
def capture(tmp_path: Path, speech: list[Speech]) -> tuple[Path, bytes, AudioFormat]:
    fmt = AudioFormat(Encoding.PCM_MULAW, 8000)
    path = tmp_path / "session.fscap.jsonl"
    audios = [speak(speech, fmt, n) for n in range(2)]
    with CaptureWriter(path, "ws://127.0.0.1:1/tts/websocket") as writer:
        Wire(fmt, writer).context("ctx-a", audios)
    return path, audios[1], fmt


def run_play(*args: str) -> subprocess.CompletedProcess[str]:
    """The play subcommand in a process of its own, on the ALSA configuration of the test."""
    return run_flushscope("play", *args, env=os.environ)


def test_play_command_plays_one_segment_of_a_capture(
    alsa_file: Path, capture: tuple[Path, bytes, AudioFormat]
) -> None:
    path, audio, fmt = capture
    done = run_play(str(path), "--context", "ctx-a", "--flush-id", "2")
    assert done.returncode == 0, done.stderr
    assert "playing segment 2 of context ctx-a" in done.stdout
    assert alsa_file.stat().st_size > 0
    assert_played(alsa_file, fmt, decoded(audio, fmt))


def test_play_command_plays_a_context_by_position(
    alsa_file: Path, capture: tuple[Path, bytes, AudioFormat]
) -> None:
    path, _, _ = capture
    done = run_play(str(path), "--context", "1", "--device", "default")
    assert done.returncode == 0, done.stderr
    assert "playing context ctx-a" in done.stdout


def test_play_command_lists_devices(alsa_file: Path) -> None:
    done = run_play("--list-devices")
    assert done.returncode == 0 and "default" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--context", "ctx-a", "--flush-id", "7"],
            "context ctx-a has no flush_id 7; valid flush_ids: 1, 2",
        ),
        (["--context", "nope"], "no context 'nope'; the capture has: 1 (ctx-a)"),
        (["--context", "1", "--device", "no such card"], "no output device 'no such card'"),
    ],
)
def test_play_command_rejects_what_it_cannot_play(
    alsa_file: Path, capture: tuple[Path, bytes, AudioFormat], args: list[str], message: str
) -> None:
    path, _, _ = capture
    done = run_play(str(path), *args)
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.skipif(has_sound_card(), reason="this machine has a sound card: PortAudio always lists it")
def test_play_command_without_a_device_says_why_and_how_to_hear_it_elsewhere(
    no_card: None, capture: tuple[Path, bytes, AudioFormat]
) -> None:
    path, _, _ = capture
    done = run_play(str(path), "--context", "ctx-a", "--flush-id", "1")
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == (
        "flushscope: audio playback is unavailable: PortAudio finds no audio output device. "
        f"To hear it elsewhere: flushscope export {path} --out DIR\n"
    )


def test_play_command_rejects_a_bad_capture(alsa_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not a capture\n")
    done = run_play(str(bad))
    assert done.returncode == 2 and "flushscope:" in done.stderr
