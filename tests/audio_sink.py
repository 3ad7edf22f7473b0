"""Real playback into a file, for tests: ALSA's file plugin as PortAudio's default device, and what reached
it compared with what should have.

ALSA is pointed at a configuration whose default PCM writes every sample it is given to a raw file (with a
null sink that consumes at once, so nothing is paced in real time), and PortAudio is re-initialised to read
it. Each stream open rewrites the file. The fixtures using this are in ``tests/conftest.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import sounddevice as sd

from flushscope.audio.player import FADE_SECONDS
from flushscope.protocol.audio import AudioFormat, Encoding, to_int16

ALSA_FILE_CONF = """</usr/share/alsa/alsa.conf>
pcm.!default {{
    type file
    slave.pcm "null"
    file "{out}"
    format "raw"
}}
ctl.!default {{ type hw card 0 }}
"""
# A default PCM on a sound card that does not exist: PortAudio then lists no device at all.
ALSA_NO_CARD_CONF = """</usr/share/alsa/alsa.conf>
pcm.!default { type hw card 7 }
"""


def reinitialise_portaudio() -> None:
    sd._terminate()
    sd._initialize()


@contextmanager
def alsa_config(conf: Path) -> Iterator[None]:
    """PortAudio re-initialised on ALSA configuration ``conf``, and back on the previous one afterwards."""
    previous = os.environ.get("ALSA_CONFIG_PATH")
    os.environ["ALSA_CONFIG_PATH"] = str(conf)
    reinitialise_portaudio()
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("ALSA_CONFIG_PATH", None)
        else:
            os.environ["ALSA_CONFIG_PATH"] = previous
        reinitialise_portaudio()


def has_sound_card() -> bool:
    """PortAudio lists the hardware cards it finds whatever the configuration says, so a machine with a
    sound card cannot be made to look empty."""
    try:
        return "no soundcards" not in Path("/proc/asound/cards").read_text()
    except OSError:
        return False


# --- what reached the device -----------------------------------------------------------------------


def stream_dtype(fmt: AudioFormat) -> np.dtype[Any]:
    return np.dtype(np.float32 if fmt.encoding is Encoding.PCM_F32LE else np.int16)


def decoded(audio: bytes, fmt: AudioFormat) -> npt.NDArray[Any]:
    """The samples a player must hand over for ``audio``: the bytes as sent, or G.711 expanded."""
    whole = audio[: fmt.samples_in(len(audio)) * fmt.sample_width]
    if fmt.encoding is Encoding.PCM_F32LE:
        return np.frombuffer(whole, "<f4").astype(np.float32)
    return to_int16(whole, fmt.encoding)


def written(out: Path, fmt: AudioFormat) -> npt.NDArray[Any]:
    return np.fromfile(out, stream_dtype(fmt))


def bits(samples: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Samples compared bit for bit (float32 through its integer pattern, so -0.0 and NaN count too)."""
    return samples.view(np.uint32) if samples.dtype == np.float32 else samples


def fade_len(fmt: AudioFormat) -> int:
    return round(FADE_SECONDS * fmt.sample_rate)


def locate(y: npt.NDArray[Any], piece: npt.NDArray[Any], after: int = 0, head: int = 0, tail: int = 0) -> int:
    """Where ``piece`` starts in ``y`` at or after ``after``, its first ``head`` and last ``tail`` samples
    not compared (they may be faded). Fails when it is not there bit for bit."""
    inner = bits(piece[head : len(piece) - tail])
    ybits = bits(y)
    nonzero = np.flatnonzero(inner)
    assert nonzero.size, "the piece is silent: nothing to locate it by"
    anchor = int(nonzero[0])
    for hit in np.flatnonzero(ybits[after + head + anchor :] == inner[anchor]):
        start = after + int(hit)
        if np.array_equal(ybits[start + head : start + head + len(inner)], inner):
            return start
    raise AssertionError(f"{len(piece)} samples not found bit-exact in the {len(y)} written")


def assert_played(out: Path, fmt: AudioFormat, expected: npt.NDArray[Any]) -> None:
    """``out`` holds silence, ``expected`` with a fade of at most FADE_SECONDS at each end, then silence."""
    y = written(out, fmt)
    fade = fade_len(fmt)
    start = locate(y, expected, head=fade, tail=fade)
    end = start + len(expected)
    assert not np.any(y[:start]) and not np.any(y[end:]), "sound outside the segment's samples"
    for edge in (slice(start, start + fade), slice(end - fade, end)):
        got = y[edge].astype(np.float64)
        want = expected[edge.start - start : edge.stop - start].astype(np.float64)
        assert np.all(np.abs(got) <= np.abs(want) + 1e-9), "a fade made samples louder"
