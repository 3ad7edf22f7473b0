"""WAV export of segments and contexts, at the sample rate the server sent.

The audio is read from the capture a block at a time and written as it is read
(:class:`~flushscope.core.store.audio_reader.ChunkPlan`), so a long context costs a block of memory, not its
length; a plan can be read on an executor thread while the loop goes on recording.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile

from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.store.audio_reader import ChunkPlan
from flushscope.core.store.line_storage import StoreError
from flushscope.protocol.audio import AudioFormat, decode, decode_blocks, to_int16


class ExportError(Exception):
    """A segment or context that cannot be written (no format, no audio, a file error)."""


def write_wav(path: Path, audio: bytes | Iterable[bytes], fmt: AudioFormat, *, float32: bool = False) -> Path:
    """16-bit PCM by default (what every player opens), 32-bit float on request (lossless for f32 audio).
    ``audio`` is the bytes, or blocks of them in order (a sample may straddle two blocks)."""
    blocks = [audio] if isinstance(audio, bytes) else audio
    try:
        with soundfile.SoundFile(
            str(path),
            "w",
            samplerate=fmt.sample_rate,
            channels=1,
            subtype="FLOAT" if float32 else "PCM_16",
            format="WAV",
        ) as out:
            for samples in decode_blocks(blocks, fmt.encoding, decode if float32 else to_int16):
                out.write(samples)
    except StoreError as exc:
        Path(path).unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc}") from exc
    except (OSError, RuntimeError, soundfile.LibsndfileError) as exc:
        raise ExportError(f"cannot write {path}: {exc}") from exc
    return path


def audio_plan(what: Segment | Context) -> ChunkPlan | None:
    """Where a segment's or a context's audio is (its segments one after another), to read on any thread;
    None for a context made outside a session."""
    ctx = what if isinstance(what, Context) else what.context
    reader = ctx.reader
    if reader is None:
        return None
    if isinstance(what, Segment):
        return reader.segment_plan(what)
    rows = [s.chunk_rows.values for s in what.segments]
    return reader.plan(np.concatenate(rows) if rows else np.zeros(0, np.int64))


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
    """Write one segment's audio as ``<n>-<context_id>-flush<flush_id>.wav`` in ``directory``."""
    fmt = segment.context.format
    if fmt is None:
        raise ExportError(f"context {segment.context.context_id} has no known output format")
    plan = audio_plan(segment)
    blocks: Iterable[bytes] = plan.blocks() if plan is not None else ()
    return write_wav(directory / segment_file_name(segment), blocks, fmt, float32=float32)


def export_session(session: Session, directory: Path, *, float32: bool = False) -> list[Path]:
    """One WAV per segment that has audio: ``<n>-<context_id>-flush<flush_id>.wav``."""
    directory.mkdir(parents=True, exist_ok=True)
    return [
        export_segment(segment, directory, float32=float32)
        for segment in session.segments()
        if segment.nbytes and segment.context.format is not None
    ]
