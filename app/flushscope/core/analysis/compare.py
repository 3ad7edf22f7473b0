"""A/B comparison of flush strategies: one text, cut several ways, each spoken as its own context.

The strategies run on one connection, one context after another: each context is ended and its ``done``
awaited before the next one starts. Run side by side, the contexts would compete for the server (the
embedded emulator synthesizes on one thread; the real service queues a plan's concurrent contexts), and
whichever came second would look slower for reasons that have nothing to do with its flushes. One after
another on a connection that is already open, each pays the same cost; what is left between runs is the
server's own variation, which repeating a comparison shows.

Each piece is sent and then flushed (two frames, as the docs describe), the last one too, and the context
is ended with an empty ``continue: false``. The run needs only the client's sending half
(:class:`CompareClient`, which :class:`flushscope.net.client.Client` is) and reads every figure from the
session the client records into, so the window can run it on its own connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flushscope.core.analysis.boundaries import Boundary, BoundaryThresholds, context_boundaries
from flushscope.core.analysis.lint_cache import lint_session
from flushscope.core.analysis.lints import Lint
from flushscope.core.analysis.report import reported_segments
from flushscope.core.inputs.generation_settings import GenerationSettings
from flushscope.core.inputs.strategies import StrategyPlan
from flushscope.core.model.awaiting import wait_for_model
from flushscope.core.model.records import Context, ContextState
from flushscope.core.model.session import Session


class OpenedContext(Protocol):
    """What :meth:`CompareClient.new_context` returns."""

    @property
    def context_id(self) -> str: ...


class CompareClient(Protocol):
    """The part of a TTS client a comparison drives. ``closed`` is set when its connection is gone."""

    closed: asyncio.Event

    def new_context(self, settings: GenerationSettings, context_id: str | None = None) -> OpenedContext: ...

    async def send(self, context_id: str, transcript: str) -> None: ...

    async def flush(self, context_id: str) -> None: ...

    async def end(self, context_id: str) -> None: ...


@dataclass(frozen=True, slots=True)
class StrategySegment:
    """One segment of a strategy's context: its text, its server id and its timings."""

    text: str
    flush_id: int | None
    #: From the moment its text could be spoken to its first audio.
    ttfa_ms: float | None
    audio_seconds: float
    chunks: int
    flush_done_ms: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "flush_id": self.flush_id,
            "ttfa_ms": _round(self.ttfa_ms),
            "audio_seconds": round(self.audio_seconds, 4),
            "chunks": self.chunks,
            "flush_done_ms": _round(self.flush_done_ms),
        }


@dataclass(frozen=True)
class StrategyResult:
    """What one strategy gave: its segments, its timings, its boundaries, and what went wrong."""

    name: str
    pieces: tuple[str, ...]
    #: None when the strategy never ran (the connection was gone).
    context_id: str | None
    #: The context's final state (``done``, ``failed``, ...), or ``not run``.
    state: str
    #: Whether its ``done`` (or an error) came within the time allowed.
    complete: bool
    segments: tuple[StrategySegment, ...] = ()
    #: From the context's first input to its first audio.
    ttfa_ms: float | None = None
    #: From the context's first input to its ``done`` (or its last chunk without one).
    total_ms: float | None = None
    audio_seconds: float = 0.0
    boundaries: tuple[Boundary, ...] = ()
    lints: tuple[Lint, ...] = ()
    #: The kinds of the context's anomalies.
    anomalies: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """One entry of ``compare --json``'s ``strategies``."""
        return {
            "name": self.name,
            "pieces": list(self.pieces),
            "context_id": self.context_id,
            "state": self.state,
            "complete": self.complete,
            "segments": [s.to_json() for s in self.segments],
            "ttfa_ms": _round(self.ttfa_ms),
            "total_ms": _round(self.total_ms),
            "audio_seconds": round(self.audio_seconds, 4),
            "boundaries": [b.to_json() for b in self.boundaries],
            "lints": [lint.to_json() for lint in self.lints],
            "anomalies": list(self.anomalies),
        }


@dataclass(frozen=True)
class CompareResult:
    """Every strategy's result, in the order they ran."""

    text: str
    strategies: tuple[StrategyResult, ...]

    @property
    def complete(self) -> bool:
        return all(s.complete and s.state == ContextState.DONE.value for s in self.strategies)

    def to_json(self) -> dict[str, Any]:
        """The ``compare --json`` object."""
        return {
            "text": self.text,
            "order": "sequential",
            "strategies": [s.to_json() for s in self.strategies],
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def strategy_result(
    plan: StrategyPlan,
    session: Session,
    ctx: Context | None,
    *,
    complete: bool,
    lints: Sequence[Lint] = (),
    thresholds: BoundaryThresholds | None = None,
) -> StrategyResult:
    """The result of ``plan`` from the session's record of its context (None: it never ran). ``lints`` may
    be the whole session's: only the context's own are kept."""
    if ctx is None:
        return StrategyResult(plan.name, plan.pieces, None, "not run", complete=False)
    segments = tuple(
        StrategySegment(s.text, s.flush_id, s.first_audio_ms, s.audio_seconds, s.chunk_count, s.flush_done_ms)
        for s in reported_segments(ctx)
    )
    first_audio = min((s.first_audio_t for s in ctx.segments if s.first_audio_t is not None), default=None)
    last_chunk = max((s.last_chunk_t for s in ctx.segments if s.last_chunk_t is not None), default=None)
    end = ctx.done_t if ctx.done_t is not None else last_chunk
    return StrategyResult(
        name=plan.name,
        pieces=plan.pieces,
        context_id=ctx.context_id,
        state=ctx.state.value,
        complete=complete,
        segments=segments,
        ttfa_ms=None if first_audio is None else (first_audio - ctx.first_t) * 1000.0,
        total_ms=None if end is None else (end - ctx.first_t) * 1000.0,
        audio_seconds=ctx.audio_seconds,
        boundaries=tuple(context_boundaries(session.audio, ctx, thresholds)),
        lints=tuple(lint for lint in lints if lint.context_number == ctx.number),
        anomalies=tuple(a.kind.value for a in session.anomalies if a.context_number == ctx.number),
    )


async def wait_finished(session: Session, client: CompareClient, context_id: str, timeout: float) -> bool:
    """Wait until the session's context ``context_id`` is finished (done, failed or cancelled), the
    client's connection closes, or ``timeout`` seconds pass. True if it finished."""

    def finished() -> bool:
        ctx = session.context(context_id)
        return ctx is not None and ctx.finished

    return await wait_for_model(session, client.closed, finished, timeout)


async def run_compare(
    client: CompareClient,
    session: Session,
    text: str,
    plans: Sequence[StrategyPlan],
    *,
    settings: GenerationSettings | None = None,
    timeout: float = 60.0,
    thresholds: BoundaryThresholds | None = None,
) -> CompareResult:
    """Speak every plan as its own context through ``client`` (connected, recording into ``session``), one
    after another, and collect the results. ``timeout`` bounds the wait for each context's ``done``; a
    strategy that does not finish in time is marked incomplete and the next one starts anyway. Once the
    connection is gone, the remaining strategies are marked as not run. Errors of the client's sends
    propagate."""
    chosen = settings or GenerationSettings()
    ran: list[tuple[StrategyPlan, str | None, bool]] = []
    for plan in plans:
        if client.closed.is_set():
            ran.append((plan, None, False))
            continue
        context_id = client.new_context(chosen).context_id
        for piece in plan.pieces:
            await client.send(context_id, piece)
            await client.flush(context_id)
        await client.end(context_id)
        ran.append((plan, context_id, await wait_finished(session, client, context_id, timeout)))
    lints = lint_session(session)
    return CompareResult(
        text,
        tuple(
            strategy_result(
                plan,
                session,
                session.context(context_id) if context_id is not None else None,
                complete=finished,
                lints=lints,
                thresholds=thresholds,
            )
            for plan, context_id, finished in ran
        ),
    )
