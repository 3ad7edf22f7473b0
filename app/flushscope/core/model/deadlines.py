"""What the session model awaits (a flush's flush_done, an end's done) and until when."""

from __future__ import annotations

import heapq
import itertools
import math
from typing import Generic, TypeVar

T = TypeVar("T")


class Deadlines(Generic[T]):
    """Items awaited until a time. :meth:`due` hands them back once their time has come, in deadline order, so
    that checking now and then (a live view's timer) and checking at every frame (a capture rebuilt) meet
    them in the same order.

    A heap: a long session awaits hundreds of flushes at once, and a deadline passes every few frames."""

    def __init__(self) -> None:
        # (deadline, order added, item): the order breaks ties, and keeps items from being compared.
        self._pending: list[tuple[float, int, T]] = []
        self._count = itertools.count()
        #: The earliest deadline still pending (infinity when none): cheap to compare on every frame.
        self.next = math.inf

    def add(self, deadline: float, item: T) -> None:
        """Await ``item`` until ``deadline``."""
        heapq.heappush(self._pending, (deadline, next(self._count), item))
        self.next = self._pending[0][0]

    def due(self, now: float) -> list[T]:
        """Remove and return the items whose deadline is at or before ``now``, earliest first (items with the
        same deadline in the order they were added)."""
        if now < self.next:
            return []
        pending = self._pending
        due: list[T] = []
        while pending and pending[0][0] <= now:
            due.append(heapq.heappop(pending)[2])
        self.next = pending[0][0] if pending else math.inf
        return due
