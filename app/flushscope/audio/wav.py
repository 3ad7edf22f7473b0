"""WAV export of segments and contexts, at the sample rate the server sent.

The audio is read from the capture a block at a time and written as it is read (a
:class:`~flushscope.core.store.audio_reader.ChunkPlan` from ``session.audio.plan``), so a long context costs a
block of memory, not its length; a plan can be read on an executor thread while the loop goes on recording.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path

import soundfile

from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.model.session_audio import SessionAudio
from flushscope.core.store.line_storage import StoreError
from flushscope.core.store.whole_file import all_or_none, written_whole
from flushscope.protocol.audio import AudioFormat, decode, decode_blocks, to_int16


class ExportError(Exception):
    """A segment or context that cannot be written (no format, no audio, a file error)."""


def write_wav(path: Path, audio: bytes | Iterable[bytes], fmt: AudioFormat, *, float32: bool = False) -> Path:
    """16-bit PCM by default (what every player opens), 32-bit float on request (lossless for f32 audio).
    ``audio`` is the bytes, or blocks of them in order (a sample may straddle two blocks). The file is
    written whole or not at all (:mod:`~flushscope.core.store.whole_file`); one that exists is replaced."""
    blocks = [audio] if isinstance(audio, bytes) else audio
    try:
        with (
            written_whole(path, overwrite=True) as temporary,
            soundfile.SoundFile(
                str(temporary),
                "w",
                samplerate=fmt.sample_rate,
                channels=1,
                subtype="FLOAT" if float32 else "PCM_16",
                format="WAV",
            ) as out,
        ):
            for samples in decode_blocks(blocks, fmt.encoding, decode if float32 else to_int16):
                out.write(samples)
    except StoreError as exc:
        raise ExportError(f"cannot write {path}: {exc}") from exc
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from exc
    except (RuntimeError, soundfile.LibsndfileError) as exc:
        raise ExportError(f"cannot write {path}: {exc}") from exc
    return path


def safe_name(text: str) -> str:
    """A context's id or name as a file name part: anything but letters, digits, dot, dash and underscore
    becomes _."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", text)[:80].strip(".")
    return cleaned or "context"


def context_file_stem(ctx: Context) -> str:
    """How a context's files begin: ``<n>-<name>``, the name a scenario gave it or else its context_id."""
    return f"{ctx.number}-{safe_name(ctx.name if ctx.name is not None else ctx.context_id)}"


def segment_file_name(segment: Segment) -> str:
    fid = segment.flush_id
    part = f"flush{fid}" if fid is not None else f"segment{segment.ordinal + 1}"
    return f"{context_file_stem(segment.context)}-{part}.wav"


def export_segment(audio: SessionAudio, segment: Segment, directory: Path, *, float32: bool = False) -> Path:
    """Write one segment's audio (read through its session's ``audio``) as
    ``<n>-<name or context_id>-flush<flush_id>.wav`` in ``directory``."""
    fmt = segment.context.format
    if fmt is None:
        raise ExportError(f"context {segment.context.context_id} has no known output format")
    return write_wav(
        directory / segment_file_name(segment), audio.plan(segment).blocks(), fmt, float32=float32
    )


def exported_segments(session: Session) -> list[Segment]:
    """The segments an export writes: those with audio in a known format."""
    return [s for s in session.segments() if s.nbytes and s.context.format is not None]


def wav_writes(session: Session, directory: Path, *, float32: bool = False) -> list[Callable[[], Path]]:
    """The writes of :func:`export_session`, one a segment, to run with others (label tracks) as one export."""
    return [
        partial(export_segment, session.audio, segment, directory, float32=float32)
        for segment in exported_segments(session)
    ]


def export_session(session: Session, directory: Path, *, float32: bool = False) -> list[Path]:
    """One WAV per segment that has audio: ``<n>-<name or context_id>-flush<flush_id>.wav``; if one cannot be
    written, none is left (:func:`~flushscope.core.store.whole_file.all_or_none`)."""
    directory.mkdir(parents=True, exist_ok=True)
    return all_or_none(wav_writes(session, directory, float32=float32))
