"""The analysis of the session shown, for the window: send-side lints and flush-boundary figures.

Both are kept up to date at the cost of what changed, not of what the session holds: a
:class:`~flushscope.core.analysis.lint_cache.LintCache` reads each send frame once and asks again only the
contexts that changed, a :class:`~flushscope.core.analysis.boundary_cache.BoundaryCache` measures only the
pairs of segments next to one that changed. So :class:`AnalysisModel` brings them up to date after every
tick of the bridge in which the session changed, in steps of at most :data:`SLICE_S` with the loop running
in between: a capture just opened, analysed from nothing, is no exception. :meth:`AnalysisModel.refresh_now`
finishes everything at once, for when the user opens a tab that shows it.

The views hear of a new result (``resultsChanged``) at most every :data:`PUBLISH_MS` while the session keeps
changing, and at once when it rests: the tables and the timeline compare the whole lists on each change,
which costs in proportion to their length, and text rewritten thirty times a second cannot be read anyway.

Nothing is analysed while a capture is being opened (:meth:`AnalysisModel.hold_while_opening`): the pass
that opens it must leave the loop free.

Lints of the live session are taken with ``session_over=False`` (open contexts may still end, timestamps
still come); a capture is over.
"""

from __future__ import annotations

import time
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal

from flushscope.core.analysis.boundaries import Boundary, BoundaryThresholds
from flushscope.core.analysis.boundary_cache import BoundaryCache
from flushscope.core.analysis.lint_cache import LintCache
from flushscope.core.analysis.lints import Lint
from flushscope.core.model.session import Session
from flushscope.ui.bridge import SessionBridge

#: A step of the analysis stops after this long; the rest continues once the loop has run.
SLICE_S: Final = 0.02
#: While the session changes, the views are told of a new result at most this often.
PUBLISH_MS: Final = 1000


class AnalysisModel(QObject):
    """The lints and boundaries of the session ``bridge`` shows, kept up to date as it changes (see the
    module docstring). ``live_session`` is the session that is still being recorded (its lints leave out
    what later frames may settle); any other session shown is a finished capture. With ``follow`` false
    nothing is analysed until :meth:`refresh_now` is called."""

    resultsChanged = Signal()
    """:attr:`lints` or :attr:`boundaries` changed."""

    def __init__(
        self,
        bridge: SessionBridge,
        live_session: Session | None = None,
        parent: QObject | None = None,
        *,
        follow: bool = True,
        publish_ms: int = PUBLISH_MS,
        thresholds: BoundaryThresholds | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.live_session = live_session
        #: Whether the analysis follows the session on its own (else only :meth:`refresh_now` updates it).
        self.follow = follow
        #: The lints of the session shown, in the order of their first frame.
        self.lints: list[Lint] = []
        #: Its flush boundaries, context by context.
        self.boundaries: list[Boundary] = []
        #: The longest step the analysis took on the loop, in seconds (a figure for benchmarks).
        self.longest_step_s = 0.0
        self._lint_cache = LintCache(session_over=self.session_over)
        self._boundary_cache = BoundaryCache(thresholds)
        # The frames the caches are complete for, and the frames the published lists describe (-1: none).
        self._analysed = -1
        self._published = -1
        self._published_at = -float("inf")
        self._held = False
        self._step_timer = QTimer(self)
        self._step_timer.setSingleShot(True)
        self._step_timer.timeout.connect(self._step)
        self._publish_ms = publish_ms
        self._publish_timer = QTimer(self)
        self._publish_timer.setSingleShot(True)
        self._publish_timer.timeout.connect(self._step)
        bridge.ticked.connect(self._on_tick)
        bridge.sessionReplaced.connect(self._on_session_replaced)
        if follow:
            self._step_timer.start(0)

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
        return self._published == len(self.session.frames)

    @property
    def flagged(self) -> int:
        """How many boundaries are outliers."""
        return sum(1 for b in self.boundaries if b.outlier)

    def refresh_now(self) -> None:
        """Bring everything up to date now, in one step (a tab showing it was opened)."""
        self._step_timer.stop()
        self._publish_timer.stop()
        if self._analyse(deadline=None):
            self._publish()

    def hold_while_opening(self, progress: float) -> None:
        """A capture is being opened (``progress`` 0 to 1) or not any more (negative): analyse nothing
        until it is open, then analyse it at once."""
        held = progress >= 0
        if held == self._held:
            return
        self._held = held
        if held:
            self._step_timer.stop()
            self._publish_timer.stop()
        elif self.follow:
            self._step_timer.start(0)

    # --- steps --------------------------------------------------------------------------------------

    def _on_tick(self) -> None:
        if self.follow and not self._held and not self.current and not self._step_timer.isActive():
            self._step_timer.start(0)

    def _on_session_replaced(self) -> None:
        # Analysed anew: a capture was opened, or the live session is back. Until then nothing is known.
        self._lint_cache.clear(session_over=self.session_over)
        self._boundary_cache.clear()
        self._analysed = self._published = -1
        self._publish_timer.stop()
        if self.follow and not self._held:
            self._step_timer.start(0)
        if self.lints or self.boundaries:
            self.lints, self.boundaries = [], []
            self.resultsChanged.emit()

    def _step(self) -> None:
        if self._held or not self.follow:
            return
        if not self._analyse(deadline=time.perf_counter() + SLICE_S):
            self._step_timer.start(0)
        elif self._published != self._analysed and not self._publish_timer.isActive():
            wait_ms = self._publish_ms - (time.perf_counter() - self._published_at) * 1000.0
            if wait_ms <= 0:
                self._publish()
            else:
                self._publish_timer.start(max(1, round(wait_ms)))

    def _analyse(self, deadline: float | None) -> bool:
        """Bring both caches up to date with the session (until ``deadline``); whether they are."""
        started = time.perf_counter()
        session = self.session
        frames = len(session.frames)
        done = self._lint_cache.update(session, deadline)
        done = self._boundary_cache.update(session, deadline) and done
        if done:
            self._analysed = frames
        self.longest_step_s = max(self.longest_step_s, time.perf_counter() - started)
        return done

    def _publish(self) -> None:
        self._published, self._published_at = self._analysed, time.perf_counter()
        lints, boundaries = self._lint_cache.lints, self._boundary_cache.boundaries
        if lints != self.lints or boundaries != self.boundaries:
            self.lints, self.boundaries = list(lints), list(boundaries)
            self.resultsChanged.emit()
