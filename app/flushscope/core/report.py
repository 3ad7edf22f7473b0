"""The flush boundaries, timings and anomalies of a session, as a JSON object or as text for a terminal."""

from __future__ import annotations

from typing import Any

from flushscope.core.session import Context, Segment, Session


def reported_segments(ctx: Context) -> list[Segment]:
    """The segments worth reporting: those with a transcript, audio or a flush. A context's last segment is
    often the empty one a final flush opened."""
    return [
        s
        for s in ctx.segments
        if s.transcripts or s.chunk_count or s.flush_t is not None or s.flush_done_t is not None
    ]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def segment_summary(segment: Segment) -> dict[str, Any]:
    return {
        "flush_id": segment.flush_id,
        "transcripts": [t.text for t in segment.transcripts],
        "chunks": segment.chunk_count,
        "audio_seconds": round(segment.audio_seconds, 4),
        "first_audio_ms": _ms(segment.first_audio_ms),
        "flush_done": segment.flush_done_t is not None,
        "flush_done_ms": _ms(segment.flush_done_ms),
        "state": segment.state.value,
        "unnumbered_chunks": segment.unnumbered_chunks,
    }


def build_report(session: Session) -> dict[str, Any]:
    """The ``flushscope report --json`` object."""
    return {
        "contexts": [
            {
                "number": ctx.number,
                "conn": ctx.conn,
                "context_id": ctx.context_id,
                "state": ctx.state.value,
                "error": ctx.error,
                "flush_id_base": ctx.base,
                "audio_seconds": round(ctx.audio_seconds, 4),
                "segments": [segment_summary(s) for s in reported_segments(ctx)],
            }
            for ctx in session.contexts
        ],
        "anomalies": [
            {
                "kind": a.kind.value,
                "severity": a.severity.value,
                "context_id": a.context_id,
                "flush_id": a.flush_id,
                "message": a.message,
                "frames": a.frames[:50],
                "count": len(a.frames),
            }
            for a in session.anomalies
        ],
    }


def format_report(session: Session) -> str:
    """Human-readable: one block per context, one line per segment, then the anomalies."""
    lines: list[str] = []
    for ctx in session.contexts:
        fmt = ctx.format
        what = f"{fmt.encoding.value} {fmt.sample_rate} Hz" if fmt is not None else "unknown format"
        lines.append(
            f"context {ctx.number} {ctx.context_id} (connection {ctx.conn}, {what}): {ctx.state.value}, "
            f"{ctx.audio_seconds:.2f} s of audio" + (f", error: {ctx.error}" if ctx.error else "")
        )
        lines.append(
            f"  {'flush_id':>8}  {'chunks':>6}  {'audio s':>7}  {'1st audio':>9}  {'flush_done':>10}  "
            f"{'state':<8}  transcripts"
        )
        for s in reported_segments(ctx):
            first = f"{s.first_audio_ms:.0f} ms" if s.first_audio_ms is not None else "-"
            done = (
                f"{s.flush_done_ms:.0f} ms"
                if s.flush_done_ms is not None
                else ("yes" if s.flush_done_t is not None else "-")
            )
            text = " | ".join(t.text for t in s.transcripts) or "(no transcript)"
            if len(text) > 70:
                text = text[:67] + "..."
            lines.append(
                f"  {s.label:>8}  {s.chunk_count:>6}  {s.audio_seconds:>7.2f}  {first:>9}  {done:>10}  "
                f"{s.state.value:<8}  {text}"
            )
    if session.anomalies:
        lines.append("")
        lines.append(f"{len(session.anomalies)} anomalies:")
        for a in session.anomalies:
            where = f"context {a.context_id}" if a.context_id else f"connection {a.conn}"
            if a.flush_id is not None:
                where += f" flush_id {a.flush_id}"
            count = f" (x{len(a.frames)})" if len(a.frames) > 1 else ""
            first = f" frame {a.first_frame}" if a.first_frame is not None else ""
            lines.append(f"  [{a.severity.value}] {a.kind.value}{count} {where}{first}: {a.message}")
    else:
        lines.append("")
        lines.append("no anomalies")
    return "\n".join(lines)
