"""Playback start latency: from ``Player.play_segment()`` to the first samples of audio handed to PortAudio.

Run: .venv/bin/python bench/playback.py

Real PortAudio plays into ALSA's file plugin (a configuration written to a temporary directory, as in
tests/integration/test_playback.py), so no sound card is needed. A segment of espeak-ng speech (about 5 s,
pcm_s16le at 24 kHz, recorded as frames to a capture file, then opened from it as the window opens captures,
so that every play reads the audio back from the file) is played 30 times from a stopped player, and 30 times
while the previous play is still running (which has to fade out and close first). The baseline is a bare
``sounddevice.OutputStream`` opened and started with a trivial callback: the time to its first callback.
Target: under 30 ms. The last line gives p50/p95 of each and the ratio player/baseline of p50.
"""

from __future__ import annotations

import base64
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

_TMP = tempfile.TemporaryDirectory(prefix="flushscope-bench-")
_OUT = Path(_TMP.name) / "out.raw"
_CONF = Path(_TMP.name) / "asound.conf"
_CONF.write_text(
    "</usr/share/alsa/alsa.conf>\n"
    f'pcm.!default {{\n    type file\n    slave.pcm "null"\n    file "{_OUT}"\n    format "raw"\n}}\n'
    "ctl.!default { type hw card 0 }\n"
)
# PortAudio reads the ALSA configuration when sounddevice is imported.
os.environ["ALSA_CONFIG_PATH"] = str(_CONF)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "app"))

import sounddevice as sd  # noqa: E402

from flushscope.audio.player import DEFAULT_LATENCY, Player  # noqa: E402
from flushscope.core.formats.capture_index import index_capture  # noqa: E402
from flushscope.core.frames import Direction  # noqa: E402
from flushscope.core.model.recorder import Recorder  # noqa: E402
from flushscope.core.model.records import Segment  # noqa: E402
from flushscope.core.model.session import Session  # noqa: E402
from flushscope.core.store.capture_writer import CaptureWriter  # noqa: E402
from flushscope.emulator.context import render  # noqa: E402
from flushscope.emulator.espeak import Synthesizer  # noqa: E402
from flushscope.emulator.voices import voice_for  # noqa: E402
from flushscope.protocol.audio import AudioFormat, Encoding  # noqa: E402

RUNS = 30
RATE = 24000
TEXT = (
    "This is a segment of speech, long enough to be a typical sentence from a voice agent, spoken twice over."
)


def build_segment() -> tuple[Session, Segment]:
    fmt = AudioFormat(Encoding.PCM_S16LE, RATE)
    with Synthesizer() as synth:
        audio = render(synth.synthesize(TEXT, voice_for(None, "en")), fmt)
    capture = Path(_TMP.name) / "segment.fscap.jsonl"
    session = Session()
    clock = [0.0]
    recorder = Recorder(session, CaptureWriter(capture, "ws://127.0.0.1:1/tts/websocket"), lambda: clock[0])
    request = {
        "context_id": "bench",
        "model_id": "sonic-3",
        "voice": {"mode": "id", "id": "v"},
        "output_format": fmt.to_json(),
        "continue": True,
        "max_buffer_delay_ms": 0,
    }
    recorder.record(1, Direction.SEND, json.dumps({**request, "transcript": TEXT}))
    recorder.record(1, Direction.SEND, json.dumps({**request, "transcript": "", "flush": True}))
    for at in range(0, len(audio), 4800):  # 100 ms chunks
        clock[0] += 0.01
        data = base64.b64encode(audio[at : at + 4800]).decode()
        chunk = {"type": "chunk", "context_id": "bench", "status_code": 206, "done": False, "data": data}
        recorder.record(1, Direction.RECV, json.dumps({**chunk, "flush_id": 1}))
    flush_done = {
        "type": "flush_done",
        "context_id": "bench",
        "status_code": 206,
        "done": False,
        "flush_id": 1,
    }
    recorder.record(1, Direction.RECV, json.dumps({**flush_done, "flush_done": True}))
    recorder.close()
    opened, _, _ = index_capture(capture)
    opened.finish()
    return opened, opened.contexts[0].segments[0]


def percentiles(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000.0, p95 * 1000.0


def player_latencies(session: Session, segment: Segment, *, overlapping: bool) -> tuple[list[float], int]:
    """Start latencies of RUNS plays, and how many of them replaced a play still running."""
    player = Player()
    errors: list[str] = []
    player.on_error = errors.append
    times: list[float] = []
    replaced = 0
    try:
        for _ in range(RUNS):
            if overlapping:
                replaced += not player.wait_finished(0.0)
            else:
                player.wait_finished(10.0)
                player.poll()
            player.play_segment(session.audio, segment)
            deadline = time.perf_counter() + 10.0
            while player.start_latency is None and not errors and time.perf_counter() < deadline:
                time.sleep(0.0002)  # a benchmark, not a test: a short spin until the first block is in
            latency = player.start_latency
            if latency is None:
                player.poll()
                raise SystemExit(f"no audio reached PortAudio: {errors}")
            times.append(latency)
    finally:
        player.close()
        player.poll()
    return times, replaced


def baseline_latencies() -> list[float]:
    times: list[float] = []
    for _ in range(RUNS):
        first = [0.0]
        done = threading.Event()

        def callback(
            outdata: object, frames: int, time_info: object, status: object, first: list[float] = first
        ) -> None:
            if not first[0]:
                first[0] = time.perf_counter()
            outdata[:] = 0  # type: ignore[index]
            raise sd.CallbackStop

        started = time.perf_counter()
        stream = sd.OutputStream(
            samplerate=RATE, dtype="int16", channels=1, callback=callback, latency=DEFAULT_LATENCY,
            finished_callback=done.set,
        )  # fmt: skip
        stream.start()
        done.wait(10.0)
        stream.close()
        times.append(first[0] - started)
    return times


def main() -> None:
    session, segment = build_segment()
    print(f"segment: {segment.audio_seconds:.2f} s of pcm_s16le at {RATE} Hz in {segment.chunk_count} chunks")
    print(f"PortAudio: {sd.get_portaudio_version()[1]}; device: {sd.query_devices(kind='output')['name']}")
    print(f"stream latency setting: {DEFAULT_LATENCY!r}; {RUNS} runs each")
    baseline = percentiles(baseline_latencies())
    fresh = percentiles(player_latencies(session, segment, overlapping=False)[0])
    switch_times, replaced = player_latencies(session, segment, overlapping=True)
    switch = percentiles(switch_times)
    print(
        f"bare OutputStream open+start -> first callback: p50 {baseline[0]:.2f} ms, p95 {baseline[1]:.2f} ms"
    )
    print(f"player, from stopped:                          p50 {fresh[0]:.2f} ms, p95 {fresh[1]:.2f} ms")
    print(
        f"player, replacing a running play:              p50 {switch[0]:.2f} ms, p95 {switch[1]:.2f} ms "
        f"({replaced} of {RUNS} found the previous play still running)"
    )
    print(
        f"play_segment -> first audio handed to PortAudio: p50 {fresh[0]:.2f} ms, p95 {fresh[1]:.2f} ms "
        f"(replacing a play: p50 {switch[0]:.2f}, p95 {switch[1]:.2f}); bare stream p50 {baseline[0]:.2f} ms, "
        f"p95 {baseline[1]:.2f} ms; ratio player/baseline p50 {fresh[0] / baseline[0]:.2f}, "
        f"p95 {fresh[1] / baseline[1]:.2f}; target < 30 ms"
    )


if __name__ == "__main__":
    main()
