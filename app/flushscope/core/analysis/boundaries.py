"""What happens to the sound at each flush boundary: silences, arrival gap, level step, and cut words.

A boundary joins two consecutive segments with audio of one context (segment k and k+1; a segment without
audio in between, such as an empty flush's, is skipped over). For each one:

* the trailing silence of k and the leading silence of k+1: the runs of frames below a threshold in dBFS
  at k's end and k+1's start (frames of ``frame_ms``, aligned on each segment's first sample), the edge
  then placed on the last (first) sample above the threshold's amplitude inside the loud frame, so a
  figure is exact to within one frame, and to the sample on clean audio;
* the arrival gap: from the last chunk of k to the first chunk of k+1, on the session's clock;
* the level step: the RMS level of the first ``window_ms`` of k+1 minus that of the last ``window_ms`` of
  k, as it is on the wire, and the same measured on the speech either side (before k's trailing silence
  and after k+1's leading silence), which is what a listener hears as one voice getting louder or quieter;
* where word timestamps exist, whether the last word of k ends inside k's audio. Word times count from the
  context's first audio (PROTOCOL.md 12.2), so k's audio spans ``start_sample / rate`` to that plus its
  duration, in the same clock.

Outliers are flagged with the reason: a word cut, a pause (trailing plus leading silence) over a threshold,
a silent segment, a large level step inside a sentence (k's text does not end one), a gap the server made
although the next text was there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import pairwise
from typing import Any

import numpy as np

from flushscope.core.analysis.loudness import FLOOR_DBFS, as_float64, wide_frame_levels, wide_level_dbfs
from flushscope.core.forked_child import Forked, fork_available
from flushscope.core.inputs.text_shape import ends_sentence
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.model.session_audio import SessionAudio
from flushscope.protocol.audio import decode


@dataclass(frozen=True)
class BoundaryThresholds:
    """How boundaries are measured, and when a figure is an outlier."""

    #: Frames quieter than this are silence.
    silence_dbfs: float = -50.0
    #: The frame length for silence detection.
    frame_ms: float = 10.0
    #: How much audio either side of the boundary the level step compares.
    window_ms: float = 100.0
    #: A pause (k's trailing silence plus k+1's leading silence) longer than this is flagged.
    max_pause_ms: float = 500.0
    #: A speech level step larger than this (either way) is flagged, where k does not end a sentence.
    max_level_step_db: float = 10.0
    #: A last word may end this much after its segment's audio before it counts as cut (timestamps are
    #: rounded, and resampling shortens audio by a few samples).
    word_tolerance_ms: float = 10.0
    #: An arrival gap longer than this is flagged when the next segment's text was ready before k's audio
    #: was all out (the gap is then the server's, not the client's).
    max_gap_ms: float = 500.0

    def __post_init__(self) -> None:
        if self.frame_ms <= 0 or self.window_ms <= 0:
            raise ValueError("frame_ms and window_ms must be positive")


class FlagKind(StrEnum):
    """Why a boundary is an outlier."""

    WORD_CUT = "word_cut"
    LONG_PAUSE = "long_pause"
    SILENT_SEGMENT = "silent_segment"
    LEVEL_STEP = "level_step"
    ARRIVAL_GAP = "arrival_gap"


@dataclass(frozen=True, slots=True)
class BoundaryFlag:
    """One reason a boundary stands out, as a kind and a sentence."""

    kind: FlagKind
    reason: str


@dataclass(frozen=True, slots=True)
class SegmentSound:
    """What the boundary figures need of one segment's audio (samples at the context's rate)."""

    samples: int
    rate: int
    #: Silent samples at the start and at the end (both are ``samples`` for a silent segment).
    leading_samples: int
    trailing_samples: int
    #: Levels of the first and last window, and of the first and last window of sound (None when silent).
    head_dbfs: float
    tail_dbfs: float
    speech_head_dbfs: float | None
    speech_tail_dbfs: float | None

    @property
    def silent(self) -> bool:
        return self.speech_head_dbfs is None

    @property
    def seconds(self) -> float:
        return self.samples / self.rate


@dataclass(frozen=True, slots=True)
class Boundary:
    """The figures of one flush boundary, from segment ``from_ordinal`` to ``to_ordinal`` of a context.

    Times are milliseconds, levels dBFS (floored at -120), steps dB (positive: k+1 is louder). Word fields
    are None where the segment has no word timestamps."""

    conn: int
    context_id: str
    context_number: int
    from_ordinal: int
    to_ordinal: int
    from_flush_id: int | None
    to_flush_id: int | None
    #: The last chunk frame of k and the first chunk frame of k+1.
    frames: tuple[int, int]
    #: Where the boundary lies in the context's audio (k+1's first sample), in seconds.
    at_s: float
    trailing_silence_ms: float
    leading_silence_ms: float
    arrival_gap_ms: float
    end_level_dbfs: float
    start_level_dbfs: float
    speech_end_level_dbfs: float | None
    speech_start_level_dbfs: float | None
    last_word: str | None
    last_word_end_s: float | None
    #: Where k's audio ends, on the word timestamps' clock.
    audio_end_s: float
    flags: tuple[BoundaryFlag, ...] = ()

    @property
    def pause_ms(self) -> float:
        """The silence a listener hears at the boundary when the two segments play back to back."""
        return self.trailing_silence_ms + self.leading_silence_ms

    @property
    def level_step_db(self) -> float:
        return self.start_level_dbfs - self.end_level_dbfs

    @property
    def speech_level_step_db(self) -> float | None:
        if self.speech_end_level_dbfs is None or self.speech_start_level_dbfs is None:
            return None
        return self.speech_start_level_dbfs - self.speech_end_level_dbfs

    @property
    def word_overrun_ms(self) -> float | None:
        """How far the last word of k ends after k's audio (negative: inside it)."""
        if self.last_word_end_s is None:
            return None
        return (self.last_word_end_s - self.audio_end_s) * 1000.0

    @property
    def last_word_inside(self) -> bool | None:
        return None if self.last_word_end_s is None else not self.has(FlagKind.WORD_CUT)

    @property
    def outlier(self) -> bool:
        return bool(self.flags)

    def has(self, kind: FlagKind) -> bool:
        return any(flag.kind is kind for flag in self.flags)

    def to_json(self) -> dict[str, Any]:
        """The ``boundaries`` entry of ``report --json`` (and of ``compare --json``)."""
        return {
            "context_id": self.context_id,
            "context_number": self.context_number,
            "from_flush_id": self.from_flush_id,
            "to_flush_id": self.to_flush_id,
            "from_segment": self.from_ordinal + 1,
            "to_segment": self.to_ordinal + 1,
            "frames": list(self.frames),
            "at_s": _round(self.at_s, 6),
            "trailing_silence_ms": _round(self.trailing_silence_ms, 1),
            "leading_silence_ms": _round(self.leading_silence_ms, 1),
            "pause_ms": _round(self.pause_ms, 1),
            "arrival_gap_ms": _round(self.arrival_gap_ms, 1),
            "end_level_dbfs": _round(self.end_level_dbfs, 2),
            "start_level_dbfs": _round(self.start_level_dbfs, 2),
            "level_step_db": _round(self.level_step_db, 2),
            "speech_end_level_dbfs": _round(self.speech_end_level_dbfs, 2),
            "speech_start_level_dbfs": _round(self.speech_start_level_dbfs, 2),
            "speech_level_step_db": _round(self.speech_level_step_db, 2),
            "last_word": self.last_word,
            "last_word_end_s": _round(self.last_word_end_s, 6),
            "audio_end_s": _round(self.audio_end_s, 6),
            "word_overrun_ms": _round(self.word_overrun_ms, 1),
            "last_word_inside": self.last_word_inside,
            "outlier": self.outlier,
            "flags": [{"kind": f.kind.value, "reason": f.reason} for f in self.flags],
        }


def _frame(index: int | None) -> int:
    assert index is not None  # a segment with chunks has its first and last chunk frames
    return index


def _time(t: float | None) -> float:
    assert t is not None  # a segment with chunks has its first and last chunk times
    return t


def _round(value: float | None, digits: int) -> float | None:
    # Adding 0.0 turns a rounded -0.0 into 0.0.
    return None if value is None else round(value, digits) + 0.0


SampleReader = Callable[[int, int], Any]
"""Reads samples [start, stop) of a segment's audio, decoded (an array)."""


def measure_samples(samples: Any, rate: int, thresholds: BoundaryThresholds) -> SegmentSound:
    """The silences and edge levels of decoded mono ``samples`` at ``rate``."""
    return measure_edges(lambda start, stop: samples[start:stop], int(samples.size), rate, thresholds)


def measure_edges(read: SampleReader, count: int, rate: int, thresholds: BoundaryThresholds) -> SegmentSound:
    """:func:`measure_samples` of ``count`` samples that ``read`` gives on request: only the audio near each
    end is read, from the ends inwards until sound is found, so a long segment costs what its edges cost
    (the whole of it only when it is silent). Frames are aligned on the first sample, as if it were all read."""
    frame = max(1, round(rate * thresholds.frame_ms / 1000.0))
    window = max(1, round(rate * thresholds.window_ms / 1000.0))
    # Everything below usually falls within two windows and two frames of either end: read those once.
    read = _Edges(read, count, 2 * window + 2 * frame)
    head_level = wide_level_dbfs(read(0, min(window, count)))
    tail_level = wide_level_dbfs(read(max(0, count - window), count)) if count else FLOOR_DBFS
    frames = -(-count // frame)
    # Enough frames for the edge window at once, then twice as many each time.
    block = max(4, -(-2 * window // frame))
    first = _first_loud(read, count, frame, frames, block, thresholds.silence_dbfs)
    if first is None:
        return SegmentSound(count, rate, count, count, head_level, tail_level, None, None)
    last = _last_loud(read, count, frame, frames, block, thresholds.silence_dbfs, first)
    # The frames find where sound starts and ends without being fooled by a click; inside the first and
    # the last loud frame, the first and last sample above the threshold's amplitude place the edge exactly.
    floor = 10.0 ** (thresholds.silence_dbfs / 20.0)
    first_loud = first * frame
    head = np.flatnonzero(np.abs(read(first_loud, min(first_loud + frame, count))) >= floor)
    leading = first_loud + (int(head[0]) if head.size else 0)
    last_loud = last * frame
    tail = np.flatnonzero(np.abs(read(last_loud, min(last_loud + frame, count))) >= floor)
    sound_end = last_loud + (int(tail[-1]) + 1 if tail.size else min(frame, count - last_loud))
    trailing = count - sound_end
    return SegmentSound(
        count,
        rate,
        leading,
        trailing,
        head_level,
        tail_level,
        wide_level_dbfs(read(leading, min(leading + window, count))),
        wide_level_dbfs(read(max(leading, sound_end - window), sound_end)),
    )


class _Edges:
    """Samples of a segment read from its ends inwards and kept, as float64 with NaN and infinities made
    plain (:func:`as_float64`, once): [0, head_end) and [tail_start, count). A range outside both widens
    the nearer side (at least twice as far), until the two meet."""

    def __init__(self, read: SampleReader, count: int, reach: int) -> None:
        self._read: SampleReader = lambda start, stop: as_float64(read(start, stop))
        self._count = count
        self._head_end = min(reach, count)
        self._head: Any = self._read(0, self._head_end)
        self._tail_start = max(self._head_end, count - reach)
        self._tail: Any = self._read(self._tail_start, count)

    def __call__(self, start: int, stop: int) -> Any:
        head_end, tail_start = self._head_end, self._tail_start
        if stop <= head_end:
            return self._head[start:stop]
        if start >= tail_start:
            return self._tail[start - tail_start : stop - tail_start]
        if start - head_end <= tail_start - stop:
            end = min(max(stop, 2 * head_end), tail_start)
            self._head = np.concatenate((self._head, self._read(head_end, end)))
            self._head_end = end
        else:
            begin = max(min(start, tail_start - 2 * (self._count - tail_start)), head_end)
            self._tail = np.concatenate((self._read(begin, tail_start), self._tail))
            self._tail_start = begin
        if self._head_end >= self._tail_start:
            # They met: one array holds the whole segment.
            whole = np.concatenate((self._head, self._tail[self._head_end - self._tail_start :]))
            self._head, self._tail = whole, whole
            self._head_end, self._tail_start = self._count, 0
        return self(start, stop)


def _first_loud(
    read: SampleReader, count: int, frame: int, frames: int, block: int, threshold: float
) -> int | None:
    """The first frame at or above ``threshold`` dBFS, reading from the start; None if all are below."""
    k = 0
    while k < frames:
        stop = min(frames, k + block)
        loud = np.flatnonzero(
            wide_frame_levels(read(k * frame, min(stop * frame, count)), frame) >= threshold
        )
        if loud.size:
            return k + int(loud[0])
        k, block = stop, 2 * block
    return None


def _last_loud(
    read: SampleReader, count: int, frame: int, frames: int, block: int, threshold: float, first: int
) -> int:
    """The last frame at or above ``threshold`` dBFS, reading back from the end (``first`` is loud)."""
    stop = frames
    while stop > first + 1:
        k = max(first + 1, stop - block)
        loud = np.flatnonzero(
            wide_frame_levels(read(k * frame, min(stop * frame, count)), frame) >= threshold
        )
        if loud.size:
            return k + int(loud[-1])
        stop, block = k, 2 * block
    return first


def measure_segment(
    session_audio: SessionAudio, segment: Segment, thresholds: BoundaryThresholds
) -> SegmentSound | None:
    """The sound of a segment's audio (read through its session's ``audio``), decoded from its encoding; None
    without audio or a known format. Only the chunks near the segment's ends are read (and those of a silent
    segment, all of them)."""
    fmt = segment.context.format
    if fmt is None or not segment.nbytes:
        return None
    count = fmt.samples_in(segment.nbytes)
    if not count:
        return None
    width, encoding = fmt.sample_width, fmt.encoding
    audio = session_audio.slicer(segment)

    def read(start: int, stop: int) -> Any:
        return decode(audio(start * width, stop * width), encoding)

    return measure_edges(read, count, fmt.sample_rate, thresholds)


def context_boundaries(
    session_audio: SessionAudio, ctx: Context, thresholds: BoundaryThresholds | None = None
) -> list[Boundary]:
    """Every flush boundary of ``ctx``, in order; its audio read through its session's ``audio``."""
    limits = thresholds or BoundaryThresholds()
    measured = [
        (segment, sound)
        for segment in ctx.segments
        if (sound := measure_segment(session_audio, segment, limits)) is not None and segment.chunk_rows
    ]
    return [_boundary(ctx, before, after, limits) for before, after in pairwise(measured)]


#: A session with fewer chunks than this is measured in one process, whatever the caller allows.
PARALLEL_CHUNKS = 50_000


def session_boundaries(
    session: Session, thresholds: BoundaryThresholds | None = None, *, parallel: bool = False
) -> list[Boundary]:
    """Every flush boundary of every context, context by context. ``parallel``: a big session's later
    contexts are measured in a forked child meanwhile (for a process without threads: the command line)."""
    limits = thresholds or BoundaryThresholds()
    contexts, audio = session.contexts, session.audio
    if not parallel or session.chunks.size < PARALLEL_CHUNKS or len(contexts) < 2 or not fork_available():
        return [b for ctx in contexts for b in context_boundaries(audio, ctx, limits)]
    # Two halves of about as many chunks each: the second measured in the child, the first here.
    counts = np.cumsum([ctx.chunk_count for ctx in contexts])
    split = min(max(1, int(np.searchsorted(counts, counts[-1] / 2))), len(contexts) - 1)
    later = Forked(lambda: [b for ctx in contexts[split:] for b in context_boundaries(audio, ctx, limits)])
    first = [b for ctx in contexts[:split] for b in context_boundaries(audio, ctx, limits)]
    return first + later.result()


def _boundary(
    ctx: Context,
    before: tuple[Segment, SegmentSound],
    after: tuple[Segment, SegmentSound],
    limits: BoundaryThresholds,
) -> Boundary:
    k, sound_k = before
    n, sound_n = after
    rate = sound_k.rate
    start_k = (k.start_sample or 0) / rate
    audio_end = start_k + sound_k.seconds
    last_word = max(k.words, key=lambda w: w.end) if k.words else None
    boundary = Boundary(
        conn=ctx.conn,
        context_id=ctx.context_id,
        context_number=ctx.number,
        from_ordinal=k.ordinal,
        to_ordinal=n.ordinal,
        from_flush_id=k.flush_id,
        to_flush_id=n.flush_id,
        frames=(_frame(k.last_chunk_frame), _frame(n.first_chunk_frame)),
        at_s=(n.start_sample or 0) / rate,
        trailing_silence_ms=sound_k.trailing_samples * 1000.0 / rate,
        leading_silence_ms=sound_n.leading_samples * 1000.0 / rate,
        arrival_gap_ms=(_time(n.first_audio_t) - _time(k.last_chunk_t)) * 1000.0,
        end_level_dbfs=sound_k.tail_dbfs,
        start_level_dbfs=sound_n.head_dbfs,
        speech_end_level_dbfs=sound_k.speech_tail_dbfs,
        speech_start_level_dbfs=sound_n.speech_head_dbfs,
        last_word=last_word.text if last_word is not None else None,
        last_word_end_s=last_word.end if last_word is not None else None,
        audio_end_s=audio_end,
    )
    flags = tuple(_flags(boundary, k, n, sound_k, sound_n, limits))
    return replace(boundary, flags=flags) if flags else boundary


def _flags(
    b: Boundary,
    k: Segment,
    n: Segment,
    sound_k: SegmentSound,
    sound_n: SegmentSound,
    limits: BoundaryThresholds,
) -> Iterator[BoundaryFlag]:
    overrun = b.word_overrun_ms
    if overrun is not None and overrun > limits.word_tolerance_ms:
        yield BoundaryFlag(
            FlagKind.WORD_CUT,
            f"the last word {b.last_word!r} of segment {k.label} ends {overrun:.0f} ms after the segment's "
            "audio: the audio stops before the word is finished",
        )
    for segment, sound in ((k, sound_k), (n, sound_n)):
        if sound.silent:
            yield BoundaryFlag(
                FlagKind.SILENT_SEGMENT,
                f"segment {segment.label} is silent (nothing above {limits.silence_dbfs:g} dBFS)",
            )
    if not (sound_k.silent or sound_n.silent) and b.pause_ms > limits.max_pause_ms:
        yield BoundaryFlag(
            FlagKind.LONG_PAUSE,
            f"{b.pause_ms:.0f} ms of silence across the boundary ({b.trailing_silence_ms:.0f} ms at the end "
            f"of segment {k.label}, {b.leading_silence_ms:.0f} ms at the start of {n.label}), over "
            f"{limits.max_pause_ms:g} ms",
        )
    step = b.speech_level_step_db
    # After a sentence end a voice starts afresh (its level falls towards the end of a sentence and rises
    # with the next one), so a step there is prosody; inside a sentence it is a seam.
    if step is not None and abs(step) > limits.max_level_step_db and not ends_sentence(k.text):
        yield BoundaryFlag(
            FlagKind.LEVEL_STEP,
            f"the voice gets {'louder' if step > 0 else 'quieter'} by {abs(step):.1f} dB from segment "
            f"{k.label} to {n.label}",
        )
    if b.arrival_gap_ms > limits.max_gap_ms and _text_was_waiting(n, _time(k.last_chunk_t)):
        yield BoundaryFlag(
            FlagKind.ARRIVAL_GAP,
            f"{b.arrival_gap_ms:.0f} ms between the last chunk of segment {k.label} and the first of "
            f"{n.label}, although its text had been sent before",
        )


def _text_was_waiting(segment: Segment, since: float) -> bool:
    """Whether the server had ``segment``'s text, ready to speak, at time ``since``: sent by then, and
    flushed by then when the context asked the server to buffer text."""
    sent = segment.first_send_t
    if sent is None or sent > since:
        return False
    if segment.context.buffers_text:
        return segment.flush_t is not None and segment.flush_t <= since
    return True
