"""What the session model awaits (a flush's flush_done, an end's done) and until when."""

from __future__ import annotations

import math
from typing import Generic, TypeVar

T = TypeVar("T")


class Deadlines(Generic[T]):
    """Items awaited until a time. :meth:`due` hands them back once their time has come, in deadline order, so
    that checking now and then (a live view's timer) and checking at every frame (a capture rebuilt) meet
    them in the same order."""

    def __init__(self) -> None:
        self._pending: list[tuple[float, T]] = []
        #: The earliest deadline still pending (infinity when none): cheap to compare on every frame.
        self.next = math.inf

    def add(self, deadline: float, item: T) -> None:
        """Await ``item`` until ``deadline``."""
        self._pending.append((deadline, item))
        self.next = min(self.next, deadline)

    def due(self, now: float) -> list[T]:
        """Remove and return the items whose deadline is at or before ``now``, earliest first (items with the
        same deadline in the order they were added)."""
        if now < self.next:
            return []
        due = sorted(((d, item) for d, item in self._pending if d <= now), key=lambda pending: pending[0])
        self._pending = [(d, item) for d, item in self._pending if d > now]
        self.next = min((d for d, _ in self._pending), default=math.inf)
        return [item for _, item in due]
