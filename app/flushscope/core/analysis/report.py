"""The flush boundaries, timings, anomalies and lints of a session, as a JSON object or as text for a
terminal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from flushscope.core.analysis.boundaries import Boundary, session_boundaries
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lints import Lint
from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.core.shown_text import escaped


@dataclass(frozen=True)
class NotSent:
    """The part of a script a run did not send: the connection was gone when its turn came."""

    #: The lines of the first and the last step not sent.
    first_line: int
    last_line: int
    #: Steps from there on that would have sent a frame (sends, flushes, ends, cancels, raw frames).
    steps: int
    #: Why, in words.
    reason: str

    def to_json(self) -> dict[str, Any]:
        """As ``report --json`` (and ``run --json``) write it, under ``not_sent``."""
        return {
            "first_line": self.first_line,
            "last_line": self.last_line,
            "steps": self.steps,
            "reason": self.reason,
        }

    def words(self) -> str:
        """The line ``report`` prints after the anomalies."""
        first, last = self.first_line, self.last_line
        lines = f"line {first}" if first == last else f"lines {first} to {last}"
        steps = f"{self.steps} step{'s' if self.steps != 1 else ''}"
        return f"not sent: {steps} of the script ({lines}): {self.reason}"


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


def build_report(
    session: Session,
    *,
    lints: Sequence[Lint] | None = None,
    boundaries: Sequence[Boundary] | None = None,
    not_sent: NotSent | None = None,
) -> dict[str, Any]:
    """The ``flushscope report --json`` object. ``lints`` and ``boundaries`` default to every lint and the
    boundaries measured with the default thresholds; ``not_sent`` (a run's) adds what its script did not
    send."""
    if lints is None:
        lints = lint_session(session)
    if boundaries is None:
        boundaries = session_boundaries(session)
    extra = {} if not_sent is None else {"not_sent": not_sent.to_json()}
    return {
        "contexts": [
            {
                "number": ctx.number,
                "conn": ctx.conn,
                "context_id": ctx.context_id,
                "name": ctx.name,
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
                "frames": a.frames[:50].tolist(),
                "count": len(a.frames),
            }
            for a in session.anomalies
        ],
        "lints": [lint.to_json() for lint in lints],
        "boundaries": [boundary.to_json() for boundary in boundaries],
        **extra,
    }


def format_report(
    session: Session,
    *,
    lints: Sequence[Lint] | None = None,
    boundaries: Sequence[Boundary] | None = None,
    not_sent: NotSent | None = None,
) -> str:
    """Human-readable: one block per context (a line per segment, then its boundaries), the anomalies (then
    what a run's script did not send, ``not_sent``), then the lints."""
    if lints is None:
        lints = lint_session(session)
    if boundaries is None:
        boundaries = session_boundaries(session)
    by_context: dict[int, list[Boundary]] = {}
    for boundary in boundaries:
        by_context.setdefault(boundary.context_number, []).append(boundary)
    lines: list[str] = []
    for ctx in session.contexts:
        fmt = ctx.format
        what = f"{fmt.encoding.value} {fmt.sample_rate} Hz" if fmt is not None else "unknown format"
        named = f"{ctx.title} · " if ctx.name is not None else ""
        lines.append(
            f"context {ctx.number} {named}{ctx.context_id} (connection {ctx.conn}, {what}): {ctx.state.value}, "
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
        lines.extend(format_boundaries(by_context.get(ctx.number, [])))
    if session.anomalies:
        lines.append("")
        lines.append(f"{len(session.anomalies)} anomalies:")
        for a in session.anomalies:
            where = f"context {_context_title(session, a)}" if a.context_id else f"connection {a.conn}"
            if a.flush_id is not None:
                where += f" flush_id {a.flush_id}"
            count = f" (x{len(a.frames)})" if len(a.frames) > 1 else ""
            first = f" frame {a.first_frame}" if a.first_frame is not None else ""
            lines.append(f"  [{a.severity.value}] {a.kind.value}{count} {where}{first}: {a.message}")
    else:
        lines.append("")
        lines.append("no anomalies")
    if not_sent is not None:
        lines.append(not_sent.words())
    lines.extend(format_lints(lints))
    # Transcripts, ids and messages come from frames: each line stays one line, and nothing in it is obeyed.
    return "\n".join(map(escaped, lines))


def _context_title(session: Session, anomaly: Anomaly) -> str | None:
    """How the report names an anomaly's context: by its name, if it has one."""
    number = anomaly.context_number
    if number is not None and 0 < number <= len(session.contexts):
        return session.contexts[number - 1].title
    return anomaly.context_id


def _figure(value: float | None, digits: int = 0, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"


def format_boundaries(boundaries: Sequence[Boundary]) -> list[str]:
    """A context's boundaries as a compact table (no lines for none), outliers marked with their reasons."""
    if not boundaries:
        return []
    lines = [
        f"  {'boundary':>10}  {'trail ms':>8}  {'lead ms':>7}  {'gap ms':>6}  {'step dB':>7}  "
        f"{'speech dB':>9}  last word"
    ]
    for b in boundaries:
        ids = f"{_id(b.from_flush_id, b.from_ordinal)}>{_id(b.to_flush_id, b.to_ordinal)}"
        overrun = b.word_overrun_ms
        if b.last_word is None:
            word = "-"
        elif overrun is not None and b.last_word_inside:
            word = f"{b.last_word} (inside)"
        else:
            word = f"{b.last_word} (+{_figure(overrun)} ms past the audio)"
        lines.append(
            f"  {'!' if b.outlier else ' '}{ids:>9}  {b.trailing_silence_ms:>8.0f}  {b.leading_silence_ms:>7.0f}  "
            f"{b.arrival_gap_ms:>6.0f}  {b.level_step_db:>+7.1f}  {_figure(b.speech_level_step_db, 1, True):>9}  "
            f"{word}"
        )
        lines.extend(f"  {'':>10}  ! {flag.reason}" for flag in b.flags)
    return lines


def _id(flush_id: int | None, ordinal: int) -> str:
    return str(flush_id) if flush_id is not None else f"~{ordinal + 1}"


def format_lints(lints: Sequence[Lint]) -> list[str]:
    """The lints, after a blank line: one line each with its advice below."""
    if not lints:
        return ["", "no lints"]
    lines = ["", f"{len(lints)} lint{'s' if len(lints) > 1 else ''} (advice):"]
    for lint in lints:
        frames = ",".join(map(str, lint.frames))
        lines.append(
            f"  [{lint.id.value}] frame{'s' if len(lint.frames) > 1 else ''} {frames}: {lint.message}"
        )
        lines.append(f"      advice: {lint.advice}")
    return lines
