"""Asyncio tasks that an owner keeps: until done, and cancelled and awaited when it closes.

A task started from a click, or by a server for one of its connections, must neither be lost (asyncio keeps
only a weak reference to it) nor outlive the part that started it: a window's controller, the emulator's
connection, the recording proxy. A failure the owner expects (a connection that failed, a file that could
not be written) is handed to the owner to say in words; anything else is a bug and goes to
``sys.excepthook``, which shows it without ending the application.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class OwnedTasks:
    """The asyncio tasks of one owner. ``expected`` exceptions raised by a task go to ``report``; others
    to ``sys.excepthook``."""

    def __init__(
        self,
        report: Callable[[BaseException], None] = lambda exc: None,
        expected: tuple[type[BaseException], ...] = (),
    ) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._report = report
        self._expected = expected
        self._closed = False

    def spawn(self, coro: Coroutine[Any, Any, T], name: str | None = None) -> asyncio.Task[T]:
        """Run ``coro`` on the running loop as a task of this owner."""
        if self._closed:
            coro.close()
            raise RuntimeError("the owner of these tasks has closed")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def __len__(self) -> int:
        return len(self._tasks)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            return
        if isinstance(exc, self._expected):
            self._report(exc)
        else:
            sys.excepthook(type(exc), exc, exc.__traceback__)

    async def join(self) -> None:
        """Wait until every task has finished by itself, those started meanwhile included."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    async def aclose(self) -> None:
        """Cancel every task still running and wait until each has finished; no new task starts after."""
        self._closed = True
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
