"""The lints of a growing session kept up to date by reading only what is new (no Qt).

A live session grows frame by frame, and every frame of it was read before. :class:`LintCache` reads each
send frame once (:class:`~flushscope.core.analysis.sent_inputs.SentReader`) and gives each context's new
inputs to that context's readings of the rules (:class:`~flushscope.core.analysis.lints.ContextRule`), which
keep what the inputs settle. What later frames may still change (an open segment, a context not ended, a
segment whose timestamps may come) is asked again only of contexts given inputs, or whose record in the
session changed (the cache watches the session: :class:`~flushscope.core.model.session_watch.SessionWatch`).
So an update costs what the new frames cost, not what the session holds, and a deadline can stop it between
two frames or two inputs: the rest is read on the next call. :func:`lint_session` is one update of a new
cache: every lint of a session, read at once.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Hashable
from dataclasses import dataclass, field

from flushscope.core.analysis.lint_ids import LintId, parse_lint_ids
from flushscope.core.analysis.lints import RULES, ContextRule, Lint, LintScope
from flushscope.core.analysis.sent_inputs import SentContext, SentReader
from flushscope.core.model.session import Session
from flushscope.core.model.session_watch import SessionWatch


@dataclass(eq=False)
class _Reading:
    """One context (the ``number``-th the client sent to) and every rule's reading of it: how many of its
    inputs they were given, for which numbering base, and what they found when last asked (per rule)."""

    number: int
    ctx: SentContext
    rules: list[ContextRule]
    base: int | None
    fed: int = 0
    fed_after_close: int = 0
    asked: Hashable = None
    found: list[list[Lint]] = field(default_factory=list)


class LintCache:
    """The lints of one session (:attr:`lints`), brought up to date by :meth:`update` at the cost of what
    is new (see the module docstring). ``session_over`` false (a live session) leaves out what later frames
    may still settle; ``disabled`` lints are never looked for. The session given to :meth:`update` is
    watched until another is given or :meth:`clear` is called."""

    def __init__(self, *, session_over: bool = True, disabled: Collection[LintId | str] = ()) -> None:
        off = parse_lint_ids(str(d) for d in disabled)
        self.session_over = session_over
        self._rules = [rule for lint_id, rule in RULES.items() if lint_id not in off]
        self._watch = SessionWatch()
        self.clear()

    def clear(self, *, session_over: bool | None = None) -> None:
        """Forget every lint, and stop watching the session; ``session_over``, if given, says whether the
        next session is finished."""
        if session_over is not None:
            self.session_over = session_over
        self._watch.stop()
        self._start()

    def _start(self) -> None:
        #: Every lint found by the last complete :meth:`update`, in the order of their first frame.
        self.lints: list[Lint] = []
        self._reader = SentReader()
        self._readings: dict[SentContext, _Reading] = {}
        # The readings of the contexts that share a record in the session (keyed by the record).
        self._peers: dict[object, list[_Reading]] = {}
        # Readings to bring up to date, and whether one found something else since lints was made.
        self._dirty: set[_Reading] = set()
        self._moved = False
        self._frames = 0

    def update(self, session: Session, deadline: float | None = None) -> bool:
        """Bring :attr:`lints` up to date with ``session``. With a ``deadline`` (a
        :func:`time.perf_counter` value) the work stops once it has passed, :attr:`lints` stays as it was,
        and the call returns False; the next call goes on from there. True when :attr:`lints` is current."""
        if self._watch.watch(session):
            self._start()
        read = self._reader.update(session, deadline)
        self._note_changes()
        if self.session_over and len(session.frames) != self._frames:
            # A finished session is asked whole: whether a context failed or its connection broke is read
            # from frames the session does not report as a change to the context.
            self._frames = len(session.frames)
            self._dirty.update(self._readings.values())
        if not read:
            return False
        dirty = sorted(self._dirty, key=lambda r: r.number)
        for reading in dirty:
            if not self._feed(reading, deadline):
                return False
        # Asked once every context is fed: a rule may read the other contexts that share a record.
        for reading in dirty:
            moved = self._ask(reading, session, deadline)
            if moved is None:
                return False
            self._moved = self._moved or moved
            self._dirty.discard(reading)
        if self._moved:
            readings = self._readings.values()
            found = [lint for n in range(len(self._rules)) for r in readings for lint in r.found[n]]
            found.sort(key=lambda lint: lint.first_frame if lint.first_frame is not None else -1)
            self.lints, self._moved = found, False
        return True

    def _note_changes(self) -> None:
        """Mark the readings to bring up to date: contexts given inputs, and those whose record in the
        session changed (with every context that shares it)."""
        reader = self._reader
        for ctx in reader.contexts[len(self._readings) :]:
            rules = [rule(ctx) for rule in self._rules]
            reading = _Reading(len(self._readings), ctx, rules, _base(ctx), found=[[] for _ in rules])
            self._readings[ctx] = reading
            self._peers.setdefault(_record(reading), []).append(reading)
        contexts, segments = self._watch.take()
        records = contexts | {segment.context for segment in segments}
        changed = [self._readings[ctx] for ctx in reader.changed] + [
            reading for record in records for reading in self._peers.get(record, ())
        ]
        reader.changed.clear()
        for reading in changed:
            self._dirty.update(self._peers[_record(reading)])

    def _feed(self, reading: _Reading, deadline: float | None) -> bool:
        """Give the rules the context's inputs they have not seen; False if the deadline came first."""
        ctx = reading.ctx
        base = _base(ctx)
        if base != reading.base:
            # The numbering is known now: every lint found names another flush_id. Read the context again.
            reading.rules = [rule(ctx) for rule in self._rules]
            reading.base, reading.fed, reading.fed_after_close, reading.asked = base, 0, 0, None
        inputs = ctx.inputs
        while reading.fed < len(inputs):
            if deadline is not None and time.perf_counter() >= deadline:
                return False
            sent = inputs[reading.fed]
            for rule in reading.rules:
                rule.add(reading.fed, sent)
            reading.fed += 1
        for sent in ctx.after_close[reading.fed_after_close :]:
            for rule in reading.rules:
                rule.add_after_close(sent)
            reading.fed_after_close += 1
        return True

    def _ask(self, reading: _Reading, session: Session, deadline: float | None) -> bool | None:
        """Ask the rules for their lints again if anything they read changed; whether any did (None: the
        deadline came first)."""
        ctx, model = reading.ctx, reading.ctx.model
        peers = self._peers[_record(reading)]
        conn = session.connections.get(ctx.conn)
        asked = (
            reading.fed,
            reading.fed_after_close,
            ctx.cancel_frame,
            None if model is None else (len(model.frames), model.state),
            None if conn is None else (conn.closed_t, conn.close_code),
            sum(p.fed for p in peers),
        )
        if asked == reading.asked:
            return False
        found: list[list[Lint]] = []
        for n, rule in enumerate(reading.rules):
            lints = rule.lints(LintScope(session, self.session_over, [p.rules[n] for p in peers], deadline))
            if lints is None:
                return None
            found.append(lints)
        reading.asked = asked
        if found == reading.found:
            return False
        reading.found = found
        return True


def _record(reading: _Reading) -> object:
    """What the readings of contexts that share a record in the session are grouped by."""
    return reading.ctx.model if reading.ctx.model is not None else reading


def _base(ctx: SentContext) -> int | None:
    return ctx.model.base if ctx.model is not None else None


def lint_session(
    session: Session, *, disabled: Collection[LintId | str] = (), session_over: bool = True
) -> list[Lint]:
    """Every lint of ``session`` but the ``disabled`` ones, in the order of their first frame.

    ``session_over`` false (a live session) leaves out what later frames may still settle: contexts not
    ended yet, segments whose timestamps may come."""
    cache = LintCache(session_over=session_over, disabled=disabled)
    cache.update(session)
    lints = cache.lints
    cache.clear()
    return lints
