"""A session model as plain data, so that two models (live and rebuilt, say) compare with ``==`` and a failing
comparison shows where they differ (shared by the tests)."""

from __future__ import annotations

from typing import Any

from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session


def segment_snapshot(session: Session, segment: Segment) -> dict[str, Any]:
    """Everything a segment of ``session`` holds, its audio chunk by chunk."""
    return {
        "ordinal": segment.ordinal,
        "flush_id": segment.flush_id,
        "label": segment.label,
        "state": segment.state,
        "server_only": segment.server_only,
        "transcripts": list(segment.transcripts),
        "flush": (segment.flush_t, segment.flush_frame),
        "flush_done": (segment.flush_done_t, segment.flush_done_frame),
        "first_audio_t": segment.first_audio_t,
        "start_sample": segment.start_sample,
        "chunk_frames": session.chunk_frames(segment),
        "chunk_times": session.chunk_times(segment),
        "chunk_ends": (segment.first_chunk_frame, segment.last_chunk_frame, segment.last_chunk_t),
        # Read back from where the session keeps it (its capture file, or memory).
        "chunk_audio": session.audio.chunks(segment),
        "chunk_rows": list(segment.chunk_rows),
        "nbytes": segment.nbytes,
        "unnumbered_chunks": segment.unnumbered_chunks,
        "words": list(segment.words),
        "phonemes": list(segment.phonemes),
    }


def context_snapshot(session: Session, ctx: Context) -> dict[str, Any]:
    """Everything a context of ``session`` holds, with its segments."""
    return {
        "number": ctx.number,
        "conn": ctx.conn,
        "context_id": ctx.context_id,
        "first_t": ctx.first_t,
        "format": None if ctx.format is None else ctx.format.to_json(),
        "request": ctx.request,
        "state": ctx.state,
        "base": ctx.base,
        "times": (ctx.end_t, ctx.done_t, ctx.cancel_t),
        "error": ctx.error,
        "frames": list(ctx.frames),
        "total_bytes": ctx.total_bytes,
        "last_flush_done_id": ctx.last_flush_done_id,
        "flushes_sent": ctx.flushes_sent,
        "sample": (ctx.sample_width, ctx.sample_rate),
        "segments": [segment_snapshot(session, s) for s in ctx.segments],
    }


def _anomaly(a: Anomaly) -> tuple[Any, ...]:
    return (a.kind, a.severity, a.message, a.conn, a.context_id, a.context_number, a.flush_id, list(a.frames))


def snapshot(session: Session) -> dict[str, Any]:
    """The whole model: frames (their full text, read back), connections, contexts, chunk columns and
    anomalies."""
    columns = session.chunks
    return {
        "frames": [
            (f.index, f.t, f.conn, f.dir, session.frame_text(f.index, elide_audio=False))
            for f in session.frames
        ],
        "connections": [
            (n, c.url, c.opened_t, c.closed_t, c.close_code, c.close_reason, c.error)
            for n, c in sorted(session.connections.items())
        ],
        "contexts": [context_snapshot(session, ctx) for ctx in session.contexts],
        "chunks": {name: columns.column(name).tolist() for name in columns.NAMES},
        "anomalies": [_anomaly(a) for a in session.anomalies],
    }
