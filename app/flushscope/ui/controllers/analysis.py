"""The analysis of the session shown, for the window: send-side lints and flush-boundary figures.

Neither is cheap enough for the bridge's tick. :func:`~flushscope.core.analysis.lints.lint_session` parses every
sent frame again (about 0.1 ms an input); boundary figures decode audio. So :class:`AnalysisModel` works on
a throttle: while frames arrive it runs at most every :data:`LIVE_INTERVAL_MS`, and never sooner than
:data:`DUTY` times what its lints last cost. Lints that take long enough to be felt (over :data:`SLOW_S`)
wait for a pause in the frames (:data:`QUIET_S` without one), or at most :data:`MAX_WAIT_S`, so that a long
session streaming in does not stutter every few seconds. Boundaries come from a
:class:`~flushscope.ui.boundary_cache.BoundaryCache`, which measures only the pairs of segments that changed,
in slices of :data:`SLICE_S` with the loop running in between. A capture just opened is analysed at once
(boundaries sliced the same way); :meth:`AnalysisModel.refresh_now` finishes everything immediately, for when
the user opens a tab that shows it.

Nothing is analysed while a capture is being opened (:meth:`AnalysisModel.hold_while_opening`): the lints of
a session of a million chunks take seconds, and the pass that opens it must leave the loop free.

Lints of the live session are taken with ``session_over=False`` (open contexts may still end, timestamps
still come); a capture is over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal

from flushscope.core.analysis.boundaries import Boundary, BoundaryThresholds
from flushscope.core.analysis.boundary_cache import BoundaryCache
from flushscope.core.analysis.lints import Lint, lint_session
from flushscope.core.model.session import Session
from flushscope.ui.bridge import SessionBridge

#: While the session changes, the analysis runs at most this often.
LIVE_INTERVAL_MS: Final = 1500
#: ...and waits at least this many times what its lints last cost between two runs.
DUTY: Final = 8
#: Lints that took longer than this wait for a pause in the frames...
SLOW_S: Final = 0.05
#: ...this long without a new frame...
QUIET_S: Final = 0.3
#: ...or this long since they last ran, whichever comes first.
MAX_WAIT_S: Final = 10.0
#: Boundary measuring stops after this long; the rest continues once the loop has run.
SLICE_S: Final = 0.04


class AnalysisModel(QObject):
    """The lints and boundaries of the session ``bridge`` shows, kept up to date on a throttle (see the
    module docstring). ``live_session`` is the session that is still being recorded (its lints leave out
    what later frames may settle); any other session shown is a finished capture."""

    resultsChanged = Signal()
    """:attr:`lints` or :attr:`boundaries` changed."""

    def __init__(
        self,
        bridge: SessionBridge,
        live_session: Session | None = None,
        parent: QObject | None = None,
        *,
        interval_ms: int = LIVE_INTERVAL_MS,
        thresholds: BoundaryThresholds | None = None,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.live_session = live_session
        self.interval_ms = interval_ms
        #: The lints of the session shown, in the order of their first frame.
        self.lints: list[Lint] = []
        #: Its flush boundaries, context by context.
        self.boundaries: list[Boundary] = []
        #: Seconds the last lint run and the last boundary slice took (the figures a bench reports).
        self.lints_cost_s = 0.0
        self.boundaries_cost_s = 0.0
        self._clock = clock
        self._cache = BoundaryCache(thresholds)
        # What the lints were computed on (frames and anomalies seen, whether the session was over), when.
        self._linted: tuple[int, int, bool] | None = None
        self._linted_at = -float("inf")
        # The frames seen at the last tick, and when their number last changed.
        self._frames_seen = len(bridge.session.frames)
        self._changed_at = clock()
        self._boundaries_done = False
        self._measured_frames = -1
        self._urgent = True
        self._held = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._run)
        bridge.ticked.connect(self._on_tick)
        bridge.sessionReplaced.connect(self._on_session_replaced)
        self._timer.start(0)

    @property
    def session(self) -> Session:
        return self.bridge.session

    @property
    def session_over(self) -> bool:
        """Whether the session shown is finished (a capture), not the one being recorded."""
        return self.session is not self.live_session

    @property
    def current(self) -> bool:
        """Whether the lints and boundaries describe the session as it is now."""
        return (
            self._linted == self._key()
            and self._boundaries_done
            and self._measured_frames == len(self.session.frames)
        )

    @property
    def flagged(self) -> int:
        """How many boundaries are outliers."""
        return sum(1 for b in self.boundaries if b.outlier)

    def refresh_now(self) -> None:
        """Bring everything up to date now, whatever the throttle says (a tab showing it was opened)."""
        self._timer.stop()
        if not self.current:
            self._update(deadline=None, lints=self._linted != self._key())
        self._urgent = False

    def hold_while_opening(self, progress: float) -> None:
        """A capture is being opened (``progress`` 0 to 1) or not any more (negative): analyse nothing
        until it is open, then analyse it at once."""
        held = progress >= 0
        if held == self._held:
            return
        self._held = held
        if held:
            self._timer.stop()
        else:
            self._urgent = True
            self._timer.start(0)

    def lints_due(self) -> bool:
        """Whether the lints would be run now: the session changed since they last ran, and the throttle
        (and, for slow lints, a pause in the frames) allows it."""
        if self._linted == self._key():
            return False
        if self._urgent:
            return True
        now = self._clock()
        since = now - self._linted_at
        if since < self._interval_s():
            return False
        return self.lints_cost_s <= SLOW_S or now - self._changed_at >= QUIET_S or since >= self._longest_s()

    # --- scheduling ---------------------------------------------------------------------------------

    def _key(self) -> tuple[int, int, bool]:
        session = self.session
        return len(session.frames), len(session.anomalies), self.session_over

    def _interval_s(self) -> float:
        return max(self.interval_ms / 1000.0, DUTY * self.lints_cost_s)

    def _longest_s(self) -> float:
        return max(MAX_WAIT_S, self._interval_s())

    def _wait_s(self) -> float:
        """How long until a run is worth it."""
        if not self._boundaries_done:
            return 0.0
        now = self._clock()
        since = now - self._linted_at
        wait = self._interval_s() - since
        if self.lints_cost_s > SLOW_S:
            wait = min(max(wait, QUIET_S - (now - self._changed_at)), self._longest_s() - since)
        return max(0.0, wait)

    def _on_tick(self) -> None:
        frames = len(self.session.frames)
        if frames != self._frames_seen:
            self._frames_seen, self._changed_at = frames, self._clock()
        if self._held or self._timer.isActive() or self.current:
            return
        self._timer.start(round(self._wait_s() * 1000))

    def _on_session_replaced(self) -> None:
        # Analysed at once: a capture was opened, or the live session is back. Until then nothing is known.
        self._cache.clear()
        self._linted = None
        self._linted_at = -float("inf")
        self._frames_seen, self._changed_at = len(self.session.frames), self._clock()
        self._boundaries_done = False
        self._measured_frames = -1
        self._urgent = True
        if not self._held:
            self._timer.start(0)
        if self.lints or self.boundaries:
            self.lints, self.boundaries = [], []
            self.resultsChanged.emit()

    def _run(self) -> None:
        if self._held:
            return
        self._update(deadline=time.perf_counter() + SLICE_S, lints=self.lints_due())
        self._urgent = False
        if not self.current:
            self._timer.start(round(self._wait_s() * 1000))

    def _update(self, *, deadline: float | None, lints: bool) -> None:
        changed = False
        if lints:
            started = time.perf_counter()
            key = self._key()
            found = lint_session(self.session, session_over=key[2])
            self.lints_cost_s = time.perf_counter() - started
            self._linted, self._linted_at = key, self._clock()
            if found != self.lints:
                self.lints = found
                changed = True
        started = time.perf_counter()
        self._boundaries_done = self._cache.update(self.session, deadline)
        self._measured_frames = len(self.session.frames)
        self.boundaries_cost_s = time.perf_counter() - started
        if self._cache.boundaries != self.boundaries:
            self.boundaries = list(self._cache.boundaries)
            changed = True
        if changed:
            self.resultsChanged.emit()
