"""What the timeline says on hover, free of Qt: a chunk, a segment's bracket, or a marker (the analysis's
included)."""

from __future__ import annotations

import json
from typing import Any

from flushscope.core.analysis.boundaries import Boundary
from flushscope.core.analysis.lints import Lint
from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import Context, Segment, Transcript
from flushscope.core.model.session import Session
from flushscope.core.store.line_storage import StoreError
from flushscope.ui.look.analysis_words import boundary_words, lint_words
from flushscope.ui.look.wording import context_words
from flushscope.ui.timeline.model.lanes import MarkerKind


def describe_chunk(session: Session, row: int, segment: Segment) -> str:
    """The hover text of the chunk at ``row`` of the session's chunk columns, which ``segment`` holds."""
    chunks = session.chunks
    ctx = segment.context
    nbytes = int(chunks.column("nbytes")[row])
    frame = int(chunks.column("frame")[row])
    carried = int(chunks.column("flush_id")[row])
    lines = [
        f"{context_words(ctx)} · flush_id {segment.label}",
        f"arrived {float(chunks.column('t')[row]):.3f} s · frame {frame}",
    ]
    start = float(chunks.column("start")[row])
    duration = float(chunks.column("duration")[row])
    samples = ctx.format.samples_in(nbytes) if ctx.format is not None else None
    size = f"{nbytes} bytes" + (f" · {samples} samples" if samples is not None else "")
    lines.append(f"{size} · {duration * 1000:.1f} ms of audio at {start:.3f} s")
    step = _step_time(session, frame)
    if step is not None:
        lines.append(f"step_time {step:g}")
    if carried < 0:
        lines.append("the frame carried no flush_id: attributed by order")
    text = segment.text
    if text:
        lines.append(f"“{_clip(text)}”")
    return "\n".join(lines)


def describe_lane(session: Session, ctx: Context) -> str:
    """The hover text of a lane's label: the context in full, its state, and the connection it is on (with
    the client that opened it, for an app the proxy recorded)."""
    lines = [context_words(ctx), ctx.state.value if ctx.error is None else f"{ctx.state.value}: {ctx.error}"]
    label = session.connections[ctx.conn].label if ctx.conn in session.connections else None
    lines.append(f"connection {ctx.conn}" + (f" · {label}" if label else ""))
    return "\n".join(lines)


def describe_segment(segment: Segment) -> str:
    """The hover text of a segment's bracket."""
    ctx = segment.context
    lines = [f"segment {segment.label} of {context_words(ctx)} · {segment.state.value}"]
    ready = segment.text_ready_t
    if ready is not None:
        lines.append(f"text ready at {ready:.3f} s")
    if segment.first_audio_ms is not None:
        lines.append(f"first audio after {segment.first_audio_ms:.0f} ms")
    if segment.flush_done_ms is not None:
        lines.append(f"flush_done {segment.flush_done_ms:.0f} ms after the flush")
    lines.append(f"{segment.chunk_count} chunks · {segment.audio_seconds:.2f} s of audio")
    if segment.text:
        lines.append(f"“{_clip(segment.text)}”")
    return "\n".join(lines)


def describe_marker(session: Session, kind: MarkerKind, ref: Any) -> tuple[str, Segment | None]:
    """The hover text of a marker of ``kind`` standing for ``ref`` (as the lane's markers keep it), and the
    segment it is about, if any."""
    if kind is MarkerKind.TRANSCRIPT:
        segment, transcript = ref
        assert isinstance(transcript, Transcript)
        return (
            f"transcript sent at {transcript.t:.3f} s (segment {segment.label})\n“{_clip(transcript.text)}”",
            segment,
        )
    if kind is MarkerKind.FLUSH:
        return f"flush sent at {ref.flush_t:.3f} s\n{describe_segment(ref)}", ref
    if kind is MarkerKind.FLUSH_DONE:
        return f"flush_done {ref.label} at {ref.flush_done_t:.3f} s\n{describe_segment(ref)}", ref
    if kind is MarkerKind.DONE:
        return f"done for context #{ref.number} at {ref.done_t:.3f} s", None
    if kind is MarkerKind.CANCEL:
        return f"cancel sent for context #{ref.number} at {ref.cancel_t:.3f} s", None
    if kind in (MarkerKind.BOUNDARY, MarkerKind.OUTLIER):
        boundary: Boundary = ref
        ctx = _context(session, boundary.context_number)
        after = ctx.segments[boundary.to_ordinal] if ctx is not None else None
        return boundary_words(boundary), after
    if kind is MarkerKind.ADVICE:
        lint: Lint = ref
        ctx = _context(session, lint.context_number)
        about = (
            ctx.segment_for_flush_id(lint.flush_id) if ctx is not None and lint.flush_id is not None else None
        )
        return lint_words(lint), about
    anomaly: Anomaly = ref
    segment = None
    if anomaly.flush_id is not None and anomaly.context_number is not None:
        ctx = session.contexts[anomaly.context_number - 1]
        segment = ctx.segment_for_flush_id(anomaly.flush_id)
    return f"{anomaly.severity.value}: {anomaly.message}", segment


def _context(session: Session, number: int | None) -> Context | None:
    contexts = session.contexts
    return contexts[number - 1] if number is not None and 0 < number <= len(contexts) else None


def _step_time(session: Session, frame: int) -> float | None:
    """The chunk's step_time from its frame text, read only when asked (hover)."""
    try:
        obj = json.loads(session.frame_text(frame))
    except (ValueError, IndexError, StoreError):
        return None
    value = obj.get("step_time") if isinstance(obj, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _clip(text: str, limit: int = 280) -> str:
    text = " ".join(text.split()) if len(text) > limit else text
    return text if len(text) <= limit else text[: limit - 1] + "…"
