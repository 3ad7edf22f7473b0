"""The difference between two sessions (two runs of a scenario, or two captures): what changed in their
structure, and how their timings moved.

Contexts are matched by the order of their first send (context ids are generated afresh on every run), then
segment by segment (the segments a report lists, in order). Structure is: which contexts and segments
there are, their transcripts, their flush_ids, the contexts' final states, and the anomalies and lints
found in each (matched by kind and segment position, not by message or frame, which name ids and frame
numbers that differ between any two runs). Chunk counts, audio lengths and times to first audio are shown
for both sides but do not count: they move with pacing and with the server's mood.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.lints import Lint
from flushscope.core.analysis.report import reported_segments
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session


class ChangeKind(StrEnum):
    """What changed between the two sides."""

    CONTEXT_ADDED = "context_added"
    CONTEXT_REMOVED = "context_removed"
    CONTEXT_STATE = "context_state"
    SEGMENT_ADDED = "segment_added"
    SEGMENT_REMOVED = "segment_removed"
    TRANSCRIPTS = "transcripts"
    FLUSH_ID = "flush_id"
    ANOMALY_APPEARED = "anomaly_appeared"
    ANOMALY_DISAPPEARED = "anomaly_disappeared"
    LINT_APPEARED = "lint_appeared"
    LINT_DISAPPEARED = "lint_disappeared"
    CHUNKS = "chunks"
    AUDIO = "audio"


#: Changes that are timing or volume, not structure: shown, never counted.
UNCOUNTED: Final = frozenset({ChangeKind.CHUNKS, ChangeKind.AUDIO})


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: its kind, where (1-based context and segment positions, None for the whole session
    or context), the value on each side, and a sentence."""

    kind: ChangeKind
    context: int | None
    segment: int | None
    before: Any
    after: Any
    message: str

    @property
    def counted(self) -> bool:
        """Whether it is a difference of structure (it makes ``diff`` exit 1)."""
        return self.kind not in UNCOUNTED

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "context": self.context,
            "segment": self.segment,
            "before": self.before,
            "after": self.after,
            "counted": self.counted,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class SegmentFacts:
    """What is compared of a segment."""

    flush_id: int | None
    transcripts: tuple[str, ...]
    chunks: int
    audio_seconds: float
    ttfa_ms: float | None
    state: str

    @classmethod
    def of(cls, segment: Segment) -> SegmentFacts:
        return cls(
            segment.flush_id,
            tuple(t.text for t in segment.transcripts),
            segment.chunk_count,
            segment.audio_seconds,
            segment.first_audio_ms,
            segment.state.value,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "flush_id": self.flush_id,
            "transcripts": list(self.transcripts),
            "chunks": self.chunks,
            "audio_seconds": round(self.audio_seconds, 4),
            "ttfa_ms": None if self.ttfa_ms is None else round(self.ttfa_ms, 1),
            "state": self.state,
        }


@dataclass(frozen=True, slots=True)
class ContextFacts:
    """What is compared of a context as a whole."""

    context_id: str
    state: str
    flush_id_base: int | None
    #: From its first input to its first audio.
    ttfa_ms: float | None
    audio_seconds: float
    #: The name a scenario gave it (None if none), and how text names it (that name, else its id).
    name: str | None
    title: str

    @classmethod
    def of(cls, ctx: Context) -> ContextFacts:
        first_audio = min(
            (s.first_audio_t for s in ctx.segments if s.first_audio_t is not None), default=None
        )
        return cls(
            ctx.context_id,
            ctx.state.value,
            ctx.base,
            None if first_audio is None else (first_audio - ctx.first_t) * 1000.0,
            ctx.audio_seconds,
            ctx.name,
            ctx.title,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "context_id": self.context_id,
            "name": self.name,
            "state": self.state,
            "flush_id_base": self.flush_id_base,
            "ttfa_ms": None if self.ttfa_ms is None else round(self.ttfa_ms, 1),
            "audio_seconds": round(self.audio_seconds, 4),
        }


@dataclass(frozen=True, slots=True)
class SegmentPair:
    """The segments at one position of matched contexts (None on the side that has no such segment)."""

    position: int
    a: SegmentFacts | None
    b: SegmentFacts | None

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "a": self.a.to_json() if self.a is not None else None,
            "b": self.b.to_json() if self.b is not None else None,
        }


@dataclass(frozen=True, slots=True)
class ContextPair:
    """The contexts at one position (by order of first send) of the two sessions."""

    position: int
    a: ContextFacts | None
    b: ContextFacts | None
    segments: tuple[SegmentPair, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "position": self.position,
            "a": self.a.to_json() if self.a is not None else None,
            "b": self.b.to_json() if self.b is not None else None,
            "segments": [s.to_json() for s in self.segments],
        }


@dataclass(frozen=True)
class SessionDiff:
    """Both sessions side by side, and every change from A (before) to B (after)."""

    contexts: tuple[ContextPair, ...]
    changes: tuple[Change, ...]

    @property
    def counted(self) -> list[Change]:
        return [c for c in self.changes if c.counted]

    @property
    def same_structure(self) -> bool:
        return not self.counted

    def to_json(self) -> dict[str, Any]:
        """The ``diff --json`` object."""
        return {
            "same_structure": self.same_structure,
            "counted_changes": len(self.counted),
            "changes": [c.to_json() for c in self.changes],
            "contexts": [c.to_json() for c in self.contexts],
        }


def _in_order(session: Session) -> list[Context]:
    return sorted(session.contexts, key=lambda ctx: (ctx.first_t, ctx.number))


def _ordinal(ctx: Context, flush_id: int | None) -> int | None:
    """The 1-based position of the segment with ``flush_id`` among the context's reported segments."""
    if flush_id is None or ctx.base is None:
        return None
    segment = ctx.segment_for_flush_id(flush_id)
    if segment is None:
        return None
    reported = reported_segments(ctx)
    return next((i + 1 for i, s in enumerate(reported) if s is segment), None)


def _findings(
    session: Session, contexts: list[Context], lints: Sequence[Lint]
) -> tuple[Counter[tuple[int | None, str, int | None]], Counter[tuple[int | None, str, int | None]]]:
    """Anomalies and lints as (context position, kind or id, segment position), counted."""
    position = {ctx.number: i + 1 for i, ctx in enumerate(contexts)}
    by_number = {ctx.number: ctx for ctx in contexts}
    anomalies: Counter[tuple[int | None, str, int | None]] = Counter()
    for anomaly in session.anomalies:
        ctx = by_number.get(anomaly.context_number) if anomaly.context_number is not None else None
        where = position.get(ctx.number) if ctx is not None else None
        segment = _ordinal(ctx, anomaly.flush_id) if ctx is not None else None
        anomalies[(where, anomaly.kind.value, segment)] += 1
    found: Counter[tuple[int | None, str, int | None]] = Counter()
    for lint in lints:
        ctx = by_number.get(lint.context_number) if lint.context_number is not None else None
        where = position.get(ctx.number) if ctx is not None else None
        segment = _ordinal(ctx, lint.flush_id) if ctx is not None else None
        found[(where, lint.id.value, segment)] += 1
    return anomalies, found


def _where(context: int | None, segment: int | None) -> str:
    if context is None:
        return "the session"
    return f"context {context}" + (f" segment {segment}" if segment is not None else "")


def _finding_changes(
    a: Counter[tuple[int | None, str, int | None]],
    b: Counter[tuple[int | None, str, int | None]],
    what: str,
    appeared: ChangeKind,
    disappeared: ChangeKind,
) -> Iterator[Change]:
    for key in sorted(a.keys() | b.keys(), key=lambda k: (k[0] or 0, k[2] or 0, k[1])):
        context, name, segment = key
        before, after = a[key], b[key]
        if before == after:
            continue
        kind = appeared if after > before else disappeared
        verb = "appears" if after > before else "disappears"
        counts = f" ({before} in A, {after} in B)" if before and after else ""
        yield Change(
            kind,
            context,
            segment,
            before,
            after,
            f"{what} {name} in {_where(context, segment)} {verb}{counts}",
        )


def _segment_changes(context: int, pair: SegmentPair) -> Iterator[Change]:
    a, b, at = pair.a, pair.b, pair.position
    if a is None and b is not None:
        yield Change(
            ChangeKind.SEGMENT_ADDED,
            context,
            at,
            None,
            b.flush_id,
            f"context {context} segment {at} is new in B",
        )
        return
    if b is None and a is not None:
        yield Change(
            ChangeKind.SEGMENT_REMOVED,
            context,
            at,
            a.flush_id,
            None,
            f"context {context} segment {at} is gone in B",
        )
        return
    assert a is not None and b is not None
    where = f"context {context} segment {at}"
    if a.transcripts != b.transcripts:
        yield Change(
            ChangeKind.TRANSCRIPTS,
            context,
            at,
            list(a.transcripts),
            list(b.transcripts),
            f"{where}: transcripts {list(a.transcripts)!r} -> {list(b.transcripts)!r}",
        )
    if a.flush_id != b.flush_id:
        yield Change(
            ChangeKind.FLUSH_ID,
            context,
            at,
            a.flush_id,
            b.flush_id,
            f"{where}: flush_id {a.flush_id} -> {b.flush_id}",
        )
    if a.chunks != b.chunks:
        yield Change(
            ChangeKind.CHUNKS, context, at, a.chunks, b.chunks, f"{where}: {a.chunks} -> {b.chunks} chunks"
        )
    if round(a.audio_seconds, 3) != round(b.audio_seconds, 3):
        yield Change(
            ChangeKind.AUDIO,
            context,
            at,
            round(a.audio_seconds, 4),
            round(b.audio_seconds, 4),
            f"{where}: {a.audio_seconds:.3f} s -> {b.audio_seconds:.3f} s of audio",
        )


def diff_sessions(a: Session, b: Session, *, disabled_lints: Collection[LintId | str] = ()) -> SessionDiff:
    """Compare session ``a`` (before) with ``b`` (after). Both should be finished (a loaded capture is)."""
    contexts_a, contexts_b = _in_order(a), _in_order(b)
    pairs: list[ContextPair] = []
    changes: list[Change] = []
    for index in range(max(len(contexts_a), len(contexts_b))):
        position = index + 1
        ctx_a = contexts_a[index] if index < len(contexts_a) else None
        ctx_b = contexts_b[index] if index < len(contexts_b) else None
        segments_a = reported_segments(ctx_a) if ctx_a is not None else []
        segments_b = reported_segments(ctx_b) if ctx_b is not None else []
        segment_pairs = tuple(
            SegmentPair(
                i + 1,
                SegmentFacts.of(segments_a[i]) if i < len(segments_a) else None,
                SegmentFacts.of(segments_b[i]) if i < len(segments_b) else None,
            )
            for i in range(max(len(segments_a), len(segments_b)))
        )
        facts_a = ContextFacts.of(ctx_a) if ctx_a is not None else None
        facts_b = ContextFacts.of(ctx_b) if ctx_b is not None else None
        pairs.append(ContextPair(position, facts_a, facts_b, segment_pairs))
        if facts_a is None and facts_b is not None:
            changes.append(
                Change(
                    ChangeKind.CONTEXT_ADDED,
                    position,
                    None,
                    None,
                    facts_b.context_id,
                    f"context {position} is new in B ({facts_b.title}, {len(segments_b)} segments)",
                )
            )
            continue
        if facts_b is None and facts_a is not None:
            changes.append(
                Change(
                    ChangeKind.CONTEXT_REMOVED,
                    position,
                    None,
                    facts_a.context_id,
                    None,
                    f"context {position} is gone in B (it was {facts_a.title}, {len(segments_a)} segments)",
                )
            )
            continue
        assert facts_a is not None and facts_b is not None
        if facts_a.state != facts_b.state:
            changes.append(
                Change(
                    ChangeKind.CONTEXT_STATE,
                    position,
                    None,
                    facts_a.state,
                    facts_b.state,
                    f"context {position} ends {facts_a.state} -> {facts_b.state}",
                )
            )
        for pair in segment_pairs:
            changes.extend(_segment_changes(position, pair))
    anomalies_a, lints_a = _findings(a, contexts_a, lint_session(a, disabled=disabled_lints))
    anomalies_b, lints_b = _findings(b, contexts_b, lint_session(b, disabled=disabled_lints))
    # What was found in a context that only one side has goes with it: its addition or removal says it.
    matched = min(len(contexts_a), len(contexts_b))
    for counter in (anomalies_a, anomalies_b, lints_a, lints_b):
        for key in [k for k in counter if k[0] is not None and k[0] > matched]:
            del counter[key]
    changes.extend(
        _finding_changes(
            anomalies_a, anomalies_b, "anomaly", ChangeKind.ANOMALY_APPEARED, ChangeKind.ANOMALY_DISAPPEARED
        )
    )
    changes.extend(
        _finding_changes(lints_a, lints_b, "lint", ChangeKind.LINT_APPEARED, ChangeKind.LINT_DISAPPEARED)
    )
    return SessionDiff(tuple(pairs), tuple(changes))
