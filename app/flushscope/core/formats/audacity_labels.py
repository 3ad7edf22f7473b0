"""Audacity label tracks for exported audio: one label per segment (its flush_id and text) and one per word.

A label track is a text file of ``start<TAB>end<TAB>label`` lines, times in seconds with six decimals,
counted from the start of the WAV it goes with. Word timestamps count from the context's first audio, so
for a segment's WAV they are shifted by where the segment starts in its context; for a context's WAV the
segments lie end to end in the order the WAV holds them. Times within a millisecond outside their segment
are put on its edge (the server rounds timestamps, to 0.1 ms in practice); a word the server placed further
outside keeps its times: the label then shows exactly how far off it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Final

from flushscope.audio.wav import ExportError, exported_segments, segment_file_name
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.store.whole_file import all_or_none, written_whole

#: How far outside its segment a word time may lie and still be taken for rounding.
ROUNDING_S: Final = 0.001


@dataclass(frozen=True, slots=True)
class Label:
    """One label: seconds from the start of its WAV, and its text."""

    start: float
    end: float
    text: str


def _one_line(text: str) -> str:
    # A tab or a line break would end the label early in Audacity.
    return " ".join(text.split())


def segment_title(segment: Segment) -> str:
    """A segment's label text: its flush_id (``~n`` while unknown) and what was sent in it."""
    text = _one_line(segment.text)
    return f"flush_id {segment.label}: {text}" if text else f"flush_id {segment.label}"


def _segment_offset(segment: Segment) -> float:
    """Where the segment's first sample lies in the context's audio, in seconds (word timestamps' clock)."""
    rate = segment.context.sample_rate
    return (segment.start_sample or 0) / rate if rate else 0.0


def _labels(segment: Segment, at: float) -> list[Label]:
    """The segment's label and its words', the segment starting ``at`` seconds into its WAV."""
    shift = at - _segment_offset(segment)
    end = at + segment.audio_seconds

    def snap(t: float) -> float:
        if at - ROUNDING_S <= t < at:
            return at
        if end < t <= end + ROUNDING_S:
            return end
        return t

    labels = [Label(at, end, segment_title(segment))]
    labels.extend(Label(snap(w.start + shift), snap(w.end + shift), _one_line(w.text)) for w in segment.words)
    return labels


def segment_labels(segment: Segment) -> list[Label]:
    """Labels for the WAV of ``segment`` alone (it starts at the segment's first sample)."""
    return _labels(segment, 0.0)


def context_labels(ctx: Context) -> list[Label]:
    """Labels for the WAV of the whole context (its segments end to end, as :meth:`Context.audio` joins
    them)."""
    labels: list[Label] = []
    at = 0.0
    for segment in ctx.segments:
        if segment.nbytes:
            labels.extend(_labels(segment, at))
            at += segment.audio_seconds
    return labels


def format_labels(labels: list[Label]) -> str:
    """The label track's text: one ``start<TAB>end<TAB>label`` line per label."""
    return "".join(f"{label.start:.6f}\t{label.end:.6f}\t{label.text}\n" for label in labels)


def parse_labels(text: str) -> list[Label]:
    """Labels read back from a label track (Audacity's own point and region labels alike). Raises
    ``ValueError`` naming the first line that is not a label."""
    labels: list[Label] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split("\t", 2)
        try:
            start, end = float(parts[0]), float(parts[1])
        except (IndexError, ValueError):
            raise ValueError(f"line {number} is not start<TAB>end<TAB>label: {line!r}") from None
        labels.append(Label(start, end, parts[2] if len(parts) > 2 else ""))
    return labels


def label_path(wav: Path) -> Path:
    """Where the label track of ``wav`` goes: beside it, same name, ``.txt``."""
    return wav.with_suffix(".txt")


def write_labels(path: Path, labels: list[Label]) -> Path:
    """Write a label track (UTF-8, whole or not at all); :class:`ExportError` when the file cannot be
    written."""
    # A lone surrogate from a frame is written as its escape: the track stays UTF-8.
    data = format_labels(labels).encode("utf-8", "backslashreplace")
    try:
        with written_whole(path, overwrite=True) as temporary:
            temporary.write_bytes(data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    return path


def export_session_labels(session: Session, directory: Path) -> list[Path]:
    """A label track beside each segment WAV that :func:`flushscope.audio.wav.export_session` writes; if
    one cannot be written, none is left."""
    directory.mkdir(parents=True, exist_ok=True)
    return all_or_none(label_writes(session, directory))


def label_writes(session: Session, directory: Path) -> list[Callable[[], Path]]:
    """The writes of :func:`export_session_labels`, to run with others (the WAVs) as one export."""
    return [
        partial(write_labels, label_path(directory / segment_file_name(segment)), segment_labels(segment))
        for segment in exported_segments(session)
    ]
