"""WAV export of segments and contexts, at the sample rate the server sent."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile

from flushscope.core.session import Segment, Session
from flushscope.protocol.audio import AudioFormat, decode, to_int16


class ExportError(Exception):
    """A segment or context that cannot be written (no format, no audio, a file error)."""


def _samples(
    audio: bytes, fmt: AudioFormat, float32: bool
) -> npt.NDArray[np.float32] | npt.NDArray[np.int16]:
    whole = audio[: fmt.samples_in(len(audio)) * fmt.encoding.sample_width]
    return decode(whole, fmt.encoding) if float32 else to_int16(whole, fmt.encoding)


def write_wav(path: Path, audio: bytes, fmt: AudioFormat, *, float32: bool = False) -> Path:
    """16-bit PCM by default (what every player opens), 32-bit float on request (lossless for f32 audio)."""
    try:
        soundfile.write(
            str(path),
            _samples(audio, fmt, float32),
            fmt.sample_rate,
            subtype="FLOAT" if float32 else "PCM_16",
        )
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        raise ExportError(f"cannot write {path}: {exc}") from exc
    return path


def safe_name(text: str) -> str:
    """A context id as a file name part: anything but letters, digits, dot, dash and underscore becomes _."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:80].strip(".")
    return cleaned or "context"


def segment_file_name(segment: Segment) -> str:
    ctx = segment.context
    fid = segment.flush_id
    part = f"flush{fid}" if fid is not None else f"segment{segment.ordinal + 1}"
    return f"{ctx.number}-{safe_name(ctx.context_id)}-{part}.wav"


def export_segment(segment: Segment, directory: Path, *, float32: bool = False) -> Path:
    fmt = segment.context.format
    if fmt is None:
        raise ExportError(f"context {segment.context.context_id} has no known output format")
    return write_wav(directory / segment_file_name(segment), segment.audio(), fmt, float32=float32)


def export_session(session: Session, directory: Path, *, float32: bool = False) -> list[Path]:
    """One WAV per segment that has audio: ``<n>-<context_id>-flush<flush_id>.wav``."""
    directory.mkdir(parents=True, exist_ok=True)
    return [
        export_segment(segment, directory, float32=float32)
        for segment in session.segments()
        if segment.nbytes and segment.context.format is not None
    ]
