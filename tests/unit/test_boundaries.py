"""Boundary metrics on audio built with known silences and levels, in each of the four encodings."""

from __future__ import annotations

import json
import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flushscope.core.analysis.boundaries import (
    BoundaryThresholds,
    FlagKind,
    SegmentSound,
    context_boundaries,
    measure_edges,
    measure_samples,
    session_boundaries,
)
from flushscope.core.analysis.loudness import FLOOR_DBFS, as_float64, frame_levels, level_dbfs, silent_edges
from flushscope.core.analysis.report import build_report, format_report
from flushscope.core.frames import Direction
from flushscope.core.model.session import Session
from flushscope.protocol.audio import Encoding, encode
from session_wire import Wire

RATE = 24000
#: One frame of the default thresholds, in milliseconds: the precision promised for silences.
FRAME_MS = 10.0


def tone(seconds: float, dbfs: float, freq: float = 400.0) -> npt.NDArray[np.float32]:
    """A sine whose RMS is ``dbfs`` (RMS 1.0 = 0 dBFS, so its peak is sqrt(2) times that)."""
    n = round(seconds * RATE)
    amplitude = math.sqrt(2.0) * 10.0 ** (dbfs / 20.0)
    out: npt.NDArray[np.float32] = (amplitude * np.sin(2 * np.pi * freq * np.arange(n) / RATE)).astype(
        np.float32
    )
    return out


def silence(seconds: float) -> npt.NDArray[np.float32]:
    return np.zeros(round(seconds * RATE), dtype=np.float32)


class AudioWire(Wire):
    """A Wire that sends given audio in the given encoding, in chunks at chosen times."""

    def __init__(self, encoding: Encoding) -> None:
        super().__init__()
        self.encoding = encoding
        self.format = {"container": "raw", "encoding": encoding.value, "sample_rate": RATE}

    def send_text(self, ctx: str, text: str, *, wait: float = 0.0) -> None:
        """Send ``text``, ``wait`` seconds after the previous frame (plus the usual step)."""
        self.t += wait
        self.send(ctx, text, output_format=self.format)

    def flush_ctx(self, ctx: str) -> None:
        self.send(ctx, "", flush=True, output_format=self.format)

    def audio(
        self, ctx: str, flush_id: int, samples: npt.NDArray[np.float32], chunks: int = 3, dt: float = 0.01
    ) -> None:
        """``samples`` in ``chunks`` chunks; the first arrives ``dt`` after the previous frame."""
        data = encode(samples, self.encoding)
        width = self.encoding.sample_width
        step = -(-len(data) // width // chunks) * width
        for i in range(0, len(data), step):
            self.chunk(ctx, flush_id, data[i : i + step], dt=dt if i == 0 else 0.01)

    def word_times(self, ctx: str, flush_id: int, words: list[tuple[str, float, float]]) -> None:
        self.recv(
            {"type": "timestamps", "context_id": ctx, "status_code": 206, "done": False, "flush_id": flush_id,
             "word_timestamps": {"words": [w for w, _, _ in words], "start": [s for _, s, _ in words],
                                 "end": [e for _, _, e in words]}}
        )  # fmt: skip


def two_segments(
    encoding: Encoding,
    first: npt.NDArray[np.float32],
    second: npt.NDArray[np.float32],
    *,
    gap: float = 0.25,
    words: list[tuple[str, float, float]] | None = None,
    texts: tuple[str, str] = ("Hello there. ", "How are you?"),
) -> Session:
    wire = AudioWire(encoding)
    wire.connect()
    wire.send_text("a", texts[0])
    wire.flush_ctx("a")
    wire.send_text("a", texts[1])
    wire.flush_ctx("a")
    wire.end("a")
    wire.audio("a", 1, first)
    if words is not None:
        wire.word_times("a", 1, words)
    wire.flush_done("a", 1)
    wire.audio("a", 2, second, dt=gap)
    wire.flush_done("a", 2)
    wire.done("a")
    return wire.session


@pytest.mark.parametrize("encoding", list(Encoding))
def test_silences_levels_and_gap_of_a_built_boundary(encoding: Encoding) -> None:
    # Sound ends 300 ms before segment 1 does, and segment 2 starts with 150 ms of silence; neither edge
    # falls on a 10 ms frame boundary.
    first = np.concatenate([tone(0.5037, -20.0), silence(0.3)])
    second = np.concatenate([silence(0.15), tone(0.4123, -28.0)])
    session = two_segments(encoding, first, second, gap=0.25)
    (b,) = session_boundaries(session)
    assert (b.from_flush_id, b.to_flush_id, b.context_id) == (1, 2, "a")
    assert 300.0 - FRAME_MS <= b.trailing_silence_ms <= 300.0 + FRAME_MS
    assert 150.0 - FRAME_MS <= b.leading_silence_ms <= 150.0 + FRAME_MS
    # The first chunk of segment 2 came 250 ms after segment 1's flush_done, itself 10 ms after its last chunk.
    assert b.arrival_gap_ms == pytest.approx(260.0, abs=1e-6)
    # The last and first 100 ms are silence (A-law has no exact zero: its quietest code is about -72 dBFS).
    assert b.end_level_dbfs < -60.0 and b.start_level_dbfs < -60.0
    tolerance = 0.05 if encoding in (Encoding.PCM_F32LE, Encoding.PCM_S16LE) else 0.3
    assert b.speech_end_level_dbfs == pytest.approx(-20.0, abs=tolerance)
    assert b.speech_start_level_dbfs == pytest.approx(-28.0, abs=tolerance)
    assert b.speech_level_step_db == pytest.approx(-8.0, abs=2 * tolerance)
    assert b.at_s == pytest.approx(len(first) / RATE)
    assert b.flags == ()  # a 450 ms pause is under the 500 ms limit, an 8 dB step under 10 dB


@pytest.mark.parametrize("encoding", [Encoding.PCM_S16LE, Encoding.PCM_MULAW])
def test_the_level_step_without_silence_is_the_literal_one(encoding: Encoding) -> None:
    session = two_segments(
        encoding, tone(0.6, -12.0), tone(0.6, -24.0), texts=("Hello there, ", "my friend.")
    )
    (b,) = session_boundaries(session)
    # A sine starts on zero: its first sample is the only silence.
    assert b.trailing_silence_ms == 0.0
    assert b.leading_silence_ms == pytest.approx(1000.0 / RATE)
    assert b.end_level_dbfs == pytest.approx(-12.0, abs=0.3)
    assert b.start_level_dbfs == pytest.approx(-24.0, abs=0.3)
    assert b.level_step_db == pytest.approx(-12.0, abs=0.5)
    assert b.speech_level_step_db == pytest.approx(b.level_step_db)
    assert [f.kind for f in b.flags] == [FlagKind.LEVEL_STEP]
    assert "quieter by 12" in b.flags[0].reason
    # The same step after a sentence end is the voice starting afresh, not a seam.
    (after_sentence,) = session_boundaries(two_segments(encoding, tone(0.6, -12.0), tone(0.6, -24.0)))
    assert after_sentence.level_step_db == pytest.approx(b.level_step_db) and after_sentence.flags == ()


def test_a_long_pause_and_a_cut_word_are_flagged_with_their_reasons() -> None:
    first = np.concatenate([tone(0.4, -20.0), silence(0.45)])
    second = np.concatenate([silence(0.25), tone(0.3, -20.0)])
    duration = len(first) / RATE
    # The last word ends 60 ms after the segment's audio.
    words = [("Hello", 0.0, 0.3), ("there.", 0.3, duration + 0.06)]
    (b,) = session_boundaries(two_segments(Encoding.PCM_S16LE, first, second, words=words))
    assert b.last_word == "there." and b.last_word_end_s == pytest.approx(duration + 0.06)
    assert b.word_overrun_ms == pytest.approx(60.0, abs=0.01)
    assert b.last_word_inside is False
    assert [f.kind for f in b.flags] == [FlagKind.WORD_CUT, FlagKind.LONG_PAUSE]
    assert "'there.'" in b.flags[0].reason and "60 ms" in b.flags[0].reason
    assert "700 ms of silence" in b.flags[1].reason


def test_a_last_word_ending_with_the_audio_is_inside() -> None:
    first = tone(0.5, -20.0)
    words = [("Hello", 0.0, 0.2), ("there.", 0.2, 0.5004)]  # rounding puts it a hair past the end
    (b,) = session_boundaries(two_segments(Encoding.PCM_F32LE, first, tone(0.3, -20.0), words=words))
    assert b.last_word_inside is True and b.flags == ()
    assert b.word_overrun_ms == pytest.approx(0.4, abs=0.01)


def test_word_times_count_from_the_contexts_first_audio() -> None:
    # Segment 2's words are on the context's clock: segment 2 starts at 0.5 s.
    wire = AudioWire(Encoding.PCM_S16LE)
    wire.connect()
    for text in ("One two. ", "Three four. ", "Five."):
        wire.send_text("a", text)
        wire.flush_ctx("a")
    wire.end("a")
    for flush_id, words in (
        (1, [("One", 0.0, 0.2), ("two.", 0.2, 0.5)]),
        (2, [("Three", 0.5, 0.7), ("four.", 0.7, 1.0)]),
    ):
        wire.audio("a", flush_id, tone(0.5, -20.0))
        wire.word_times("a", flush_id, words)
        wire.flush_done("a", flush_id)
    wire.audio("a", 3, tone(0.5, -20.0))
    wire.flush_done("a", 3)
    wire.done("a")
    first, second = context_boundaries(wire.session.audio, wire.session.contexts[0])
    assert (first.last_word, first.audio_end_s, first.last_word_inside) == ("two.", 0.5, True)
    assert (second.last_word, second.audio_end_s, second.last_word_inside) == ("four.", 1.0, True)


def test_a_silent_segment_is_flagged_and_its_silence_is_all_of_it() -> None:
    (b,) = session_boundaries(two_segments(Encoding.PCM_S16LE, tone(0.3, -20.0), silence(0.42)))
    assert b.leading_silence_ms == pytest.approx(420.0)
    assert b.speech_start_level_dbfs is None and b.speech_level_step_db is None
    assert b.start_level_dbfs == FLOOR_DBFS
    assert [f.kind for f in b.flags] == [FlagKind.SILENT_SEGMENT]


def test_segments_without_audio_are_skipped_over() -> None:
    wire = AudioWire(Encoding.PCM_S16LE)
    wire.connect()
    wire.send_text("a", "One. ")
    wire.flush_ctx("a")
    wire.flush_ctx("a")  # an empty segment between the two with audio
    wire.send_text("a", "Two.")
    wire.flush_ctx("a")
    wire.end("a")
    wire.audio("a", 1, tone(0.2, -20.0))
    wire.flush_done("a", 1)
    wire.flush_done("a", 2)
    wire.audio("a", 3, tone(0.2, -20.0))
    wire.flush_done("a", 3)
    wire.done("a")
    (b,) = session_boundaries(wire.session)
    assert (b.from_flush_id, b.to_flush_id, b.from_ordinal, b.to_ordinal) == (1, 3, 0, 2)


def test_an_arrival_gap_is_flagged_only_when_the_text_was_waiting() -> None:
    # Both texts and flushes went out before any audio: a 900 ms gap between the segments is the server's.
    session = two_segments(Encoding.PCM_S16LE, tone(0.3, -20.0), tone(0.3, -20.0), gap=0.9)
    (b,) = session_boundaries(session)
    assert [f.kind for f in b.flags] == [FlagKind.ARRIVAL_GAP]
    # The same gap while the client had not sent the next text yet is the client's own pace.
    wire = AudioWire(Encoding.PCM_S16LE)
    wire.connect()
    wire.send_text("a", "Hello there. ")
    wire.flush_ctx("a")
    wire.audio("a", 1, tone(0.3, -20.0))
    wire.flush_done("a", 1)
    wire.send_text("a", "How are you?", wait=0.8)
    wire.flush_ctx("a")
    wire.audio("a", 2, tone(0.3, -20.0))
    (b,) = session_boundaries(wire.session)
    assert b.arrival_gap_ms > 800 and b.flags == ()


def test_thresholds_change_what_counts_as_silence() -> None:
    first = np.concatenate([tone(0.3, -20.0), tone(0.2, -45.0)])
    session = two_segments(Encoding.PCM_S16LE, first, tone(0.3, -20.0))
    (default,) = session_boundaries(session)
    (strict,) = session_boundaries(session, BoundaryThresholds(silence_dbfs=-40.0))
    assert default.trailing_silence_ms < 1.0  # the -45 dBFS tail is sound
    assert strict.trailing_silence_ms == pytest.approx(200.0, abs=FRAME_MS)


def test_frame_levels_and_edges_on_a_partial_last_frame() -> None:
    # Sound from sample 20 to 35 of 47: frames of 10 are silent, loud, half loud, then a silent short one.
    samples = np.concatenate([np.zeros(20), np.full(15, 0.5), np.zeros(12)]).astype(np.float32)
    levels = frame_levels(samples, 10)
    assert levels.shape == (5,)
    assert levels[2] == pytest.approx(20 * math.log10(0.5))
    assert levels[3] == pytest.approx(10 * math.log10(5 * 0.25 / 10))
    assert (levels[0], levels[1], levels[4]) == (FLOOR_DBFS, FLOOR_DBFS, FLOOR_DBFS)
    assert silent_edges(levels, -50.0) == (2, 1)
    assert silent_edges(levels, 0.0) == (5, 5)
    sound = measure_samples(samples, 1000, BoundaryThresholds(frame_ms=10.0, window_ms=10.0))
    assert (sound.leading_samples, sound.trailing_samples) == (20, 12)
    assert sound.speech_head_dbfs == pytest.approx(20 * math.log10(0.5))
    assert level_dbfs(np.array([np.nan, 1.0, -np.inf, 0.0])) == pytest.approx(10 * math.log10(0.5))


def test_report_lists_the_boundaries_in_json_and_text() -> None:
    first = np.concatenate([tone(0.4, -20.0), silence(0.45)])
    second = np.concatenate([silence(0.25), tone(0.3, -20.0)])
    session = two_segments(Encoding.PCM_S16LE, first, second)
    data = json.loads(json.dumps(build_report(session)))
    (entry,) = data["boundaries"]
    assert {k: entry[k] for k in ("context_id", "from_flush_id", "to_flush_id", "outlier")} == {
        "context_id": "a",
        "from_flush_id": 1,
        "to_flush_id": 2,
        "outlier": True,
    }
    assert entry["trailing_silence_ms"] == pytest.approx(450.0, abs=FRAME_MS)
    assert entry["leading_silence_ms"] == pytest.approx(250.0, abs=FRAME_MS)
    assert [f["kind"] for f in entry["flags"]] == ["long_pause"]
    text = format_report(session)
    assert "1>2" in text and "! 700 ms of silence" in text


def test_a_chunk_with_an_odd_byte_is_measured_on_its_whole_samples() -> None:
    wire = AudioWire(Encoding.PCM_S16LE)
    wire.connect()
    wire.send_text("a", "One. ")
    wire.flush_ctx("a")
    wire.send_text("a", "Two.")
    wire.flush_ctx("a")
    wire.chunk("a", 1, encode(tone(0.2, -20.0), Encoding.PCM_S16LE) + b"\x01")
    wire.chunk("a", 2, encode(tone(0.2, -20.0), Encoding.PCM_S16LE))
    (b,) = session_boundaries(wire.session)
    assert b.end_level_dbfs == pytest.approx(-20.0, abs=0.05)
    assert wire.session.frames[-1].dir is Direction.RECV


# --- reading only the edges ------------------------------------------------------------------------------


def whole_segment_sound(
    samples: npt.NDArray[np.float32], rate: int, thresholds: BoundaryThresholds
) -> SegmentSound:
    """The measurement on every sample at once, as it was made before segments were read from their ends: the
    reference that reading only the edges must agree with, to the bit."""
    count = int(samples.size)
    frame = max(1, round(rate * thresholds.frame_ms / 1000.0))
    window = max(1, round(rate * thresholds.window_ms / 1000.0))
    levels = frame_levels(samples, frame)
    lead, trail = silent_edges(levels, thresholds.silence_dbfs)
    head, tail = level_dbfs(samples[:window]), level_dbfs(samples[-window:]) if count else FLOOR_DBFS
    if lead == levels.size:
        return SegmentSound(count, rate, count, count, head, tail, None, None)
    wide = as_float64(samples)
    floor = 10.0 ** (thresholds.silence_dbfs / 20.0)
    first = lead * frame
    above = np.flatnonzero(np.abs(wide[first : first + frame]) >= floor)
    leading = first + (int(above[0]) if above.size else 0)
    last = (levels.size - 1 - trail) * frame
    below = np.flatnonzero(np.abs(wide[last : last + frame]) >= floor)
    end = last + (int(below[-1]) + 1 if below.size else min(frame, count - last))
    return SegmentSound(
        count,
        rate,
        leading,
        count - end,
        head,
        tail,
        level_dbfs(samples[leading : leading + window]),
        level_dbfs(samples[max(leading, end - window) : end]),
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 3000), st.sampled_from([0.0, 1e-5, 0.003, 0.2, 0.9]), st.booleans()),
        min_size=0,
        max_size=8,
    ),
    st.sampled_from([8000, 16000, 24000]),
    st.sampled_from([(10.0, 100.0), (5.0, 30.0), (20.0, 250.0)]),
)
def test_reading_the_edges_measures_what_reading_everything_does(
    runs: list[tuple[int, float, bool]], rate: int, sizes: tuple[float, float]
) -> None:
    # Runs of silence, noise and tones, long and short: a segment's edges anywhere, or nowhere (all silent).
    rng = np.random.default_rng(len(runs))
    pieces = [
        (level * (rng.standard_normal(n) if noisy else np.sin(np.arange(n) * 0.3))).astype(np.float32)
        for n, level, noisy in runs
    ]
    samples = np.concatenate(pieces) if pieces else np.zeros(0, np.float32)
    thresholds = BoundaryThresholds(frame_ms=sizes[0], window_ms=sizes[1])
    reads: list[tuple[int, int]] = []

    def read(start: int, stop: int) -> npt.NDArray[np.float32]:
        assert 0 <= start <= stop <= samples.size
        reads.append((start, stop))
        return samples[start:stop]

    assert measure_edges(read, int(samples.size), rate, thresholds) == whole_segment_sound(
        samples, rate, thresholds
    )
    assert measure_samples(samples, rate, thresholds) == whole_segment_sound(samples, rate, thresholds)


def test_a_long_segment_is_read_at_its_ends_only() -> None:
    samples = np.concatenate([silence(0.05), tone(60.0, -20.0), silence(0.08)]).astype(np.float32)
    read_samples = 0

    def read(start: int, stop: int) -> npt.NDArray[np.float32]:
        nonlocal read_samples
        read_samples += stop - start
        return samples[start:stop]

    sound = measure_edges(read, int(samples.size), RATE, BoundaryThresholds())
    assert sound == whole_segment_sound(samples, RATE, BoundaryThresholds())
    # To the sample (the tone starts at a zero crossing, so its first sample is silent).
    assert (sound.leading_samples, sound.trailing_samples) == (round(0.05 * RATE) + 1, round(0.08 * RATE))
    # A minute of sound: less than a second of it read.
    assert read_samples < RATE


def test_half_the_boundaries_measured_in_a_forked_child_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    from flushscope.core.analysis import boundaries

    session = Session()
    wire = Wire(session)
    for name in "abc":
        wire.send(
            name, "One. ", output_format={"container": "raw", "encoding": "pcm_s16le", "sample_rate": RATE}
        )
        for flush_id in (1, 2, 3):
            audio = encode(
                np.concatenate([silence(0.02 * flush_id), tone(0.2, -20.0), silence(0.03)]),
                Encoding.PCM_S16LE,
            )
            wire.chunk(name, flush_id, audio)
            wire.flush_done(name, flush_id)
    monkeypatch.setattr(boundaries, "PARALLEL_CHUNKS", 1)
    serial = session_boundaries(session)
    assert len(serial) == 6
    assert session_boundaries(session, parallel=True) == serial
