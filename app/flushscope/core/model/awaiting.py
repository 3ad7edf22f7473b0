"""Waiting on the model from asyncio: until a condition on the session holds, the connection closes, or time
runs out, woken by the session's own changes rather than by polling."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session


class _Wakeup(SessionObserver):
    """Sets an event whenever a context or a segment changes."""

    def __init__(self, event: asyncio.Event) -> None:
        self.event = event

    def context_changed(self, context: Context) -> None:
        self.event.set()

    def segment_changed(self, segment: Segment) -> None:
        self.event.set()


async def wait_for_model(
    session: Session, closed: asyncio.Event, condition: Callable[[], bool], timeout: float
) -> bool:
    """Wait until ``condition()`` holds (checked each time a context or a segment changes), ``closed`` is
    set, or ``timeout`` seconds pass. True if the condition holds."""
    changed = asyncio.Event()
    observer = _Wakeup(changed)
    session.observers.append(observer)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    closing = asyncio.ensure_future(closed.wait())
    try:
        while not condition():
            remaining = deadline - loop.time()
            if remaining <= 0 or closed.is_set():
                return False
            changed.clear()
            woke = asyncio.ensure_future(changed.wait())
            await asyncio.wait({woke, closing}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            woke.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await woke
        return True
    finally:
        closing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await closing
        session.observers.remove(observer)
