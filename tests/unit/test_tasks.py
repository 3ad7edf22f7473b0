"""Owned tasks: kept until done, failures told as expected or as bugs, cancelled on close or waited for."""

from __future__ import annotations

import asyncio
import sys
from types import TracebackType

import pytest

from flushscope.tasks import OwnedTasks


class Refused(Exception):
    """A failure the owner expects."""


def test_expected_failures_are_reported_and_others_go_to_the_excepthook(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hooked: list[BaseException] = []

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        hooked.append(exc)

    monkeypatch.setattr(sys, "excepthook", hook)
    reported: list[BaseException] = []

    async def fail(exc: BaseException) -> None:
        raise exc

    async def main() -> None:
        tasks = OwnedTasks(reported.append, (Refused,))
        first = tasks.spawn(fail(Refused("no")))
        second = tasks.spawn(fail(KeyError("bug")))
        assert len(tasks) == 2
        await tasks.join()
        assert len(tasks) == 0 and first.done() and second.done()

    asyncio.run(main())
    assert [str(e) for e in reported] == ["no"]
    assert [type(e) for e in hooked] == [KeyError]


def test_join_waits_for_every_task_and_aclose_cancels_them() -> None:
    async def main() -> None:
        tasks = OwnedTasks()
        done: list[str] = []
        gate, waiting = asyncio.Event(), asyncio.Event()

        async def step(name: str, then: str | None = None) -> None:
            waiting.set()
            await gate.wait()
            done.append(name)
            if then is not None:
                tasks.spawn(step(then))  # started meanwhile: join waits for it too

        tasks.spawn(step("a", then="b"))
        joining = asyncio.ensure_future(tasks.join())
        await waiting.wait()
        assert not joining.done() and done == []
        gate.set()
        await joining
        assert done == ["a", "b"] and len(tasks) == 0

        blocked = tasks.spawn(asyncio.Event().wait())
        await tasks.aclose()
        assert blocked.cancelled()
        coro = step("never")
        with pytest.raises(RuntimeError, match="has closed"):
            tasks.spawn(coro)

    asyncio.run(main())
