"""Playing a span of a context's audio (a sentence of it) through real PortAudio into ALSA's file plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from audio_sink import assert_played, decoded
from flushscope.audio.player import Player, PlayerState
from flushscope.core.model.records import Context
from flushscope.protocol.audio import AudioFormat, Encoding
from session_wire import Wire

FMT = AudioFormat(Encoding.PCM_S16LE, 24000)
TIMEOUT = 10.0


@pytest.fixture
def player() -> Iterator[Player]:
    playing = Player()
    yield playing
    playing.close()


def tone(seconds: float, step: int) -> bytes:
    """A ramp of its own per segment, so that any span of the context is found in one place only."""
    n = np.arange(round(seconds * FMT.sample_rate))
    return ((n * step) % 20000 - 10000).astype("<i2").tobytes()


def context(wire: Wire, audios: list[bytes], *, finish: bool = True) -> Context:
    for n in range(len(audios)):
        wire.send("a", f"Sentence {n + 1}. ")
        wire.flush("a")
    if finish:
        wire.end("a")
    for n, audio in enumerate(audios, 1):
        for at in range(0, len(audio), 4801):
            wire.chunk("a", n, audio[at : at + 4801])
        if finish:
            wire.flush_done("a", n)
    if finish:
        wire.done("a")
    return wire.session.contexts[0]


def play(player: Player) -> list[str]:
    errors: list[str] = []
    player.on_error = errors.append
    assert player.wait_finished(TIMEOUT)
    player.poll()
    assert player.state is PlayerState.STOPPED
    return errors


def test_a_span_across_a_segment_boundary_plays_exactly_those_samples(
    alsa_file: Path, player: Player
) -> None:
    wire = Wire()
    ctx = context(wire, [tone(0.5, 7), tone(0.5, 11), tone(0.5, 13)])
    whole = decoded(wire.session.audio.context(ctx), FMT)
    assert player.play_context(wire.session.audio, ctx, 0.3, 0.9, live=False)
    assert play(player) == []
    assert_played(alsa_file, FMT, whole[7200:21600])
    assert player.position == pytest.approx(0.9)


def test_a_span_of_a_context_still_streaming_ends_without_waiting_for_the_rest(
    alsa_file: Path, player: Player
) -> None:
    # The first segment's audio is there, nothing is closed: playing to the end would wait for more.
    wire = Wire()
    ctx = context(wire, [tone(0.5, 5)], finish=False)
    assert not ctx.finished
    assert player.play_context(wire.session.audio, ctx, 0.1, 0.4)
    assert play(player) == []
    assert_played(alsa_file, FMT, decoded(wire.session.audio.context(ctx), FMT)[2400:9600])


def test_an_empty_span_is_refused_in_words(alsa_file: Path, player: Player) -> None:
    wire = Wire()
    ctx = context(wire, [tone(0.5, 3)])
    errors: list[str] = []
    player.on_error = errors.append
    assert not player.play_context(wire.session.audio, ctx, 0.4, 0.4)
    player.poll()
    assert errors == [f"cannot play context {ctx.context_id} from 0.400 s to 0.400 s: the span is empty"]
    assert player.state is PlayerState.STOPPED
