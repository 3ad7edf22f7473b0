"""Work done in a forked child while this process does something else: the command line's use of a second
core (a capture's scan, half of its boundaries).

A forked child starts with a copy of the whole process, the session included, so it needs no arguments;
its result comes back pickled through a pipe. Only for a process with no threads of its own (the command
line, not the window): a child gets a copy of every thread's state but runs only the one that forked.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

__all__ = ["Forked", "fork_available"]

T = TypeVar("T")


def fork_available() -> bool:
    """Whether this system can fork a child process."""
    return "fork" in multiprocessing.get_all_start_methods()


def _run(work: Callable[[], Any], out: Connection) -> None:
    try:
        out.send(("ok", work()))
    except BaseException as exc:  # the parent says what went wrong, whatever it was
        out.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        out.close()


class Forked(Generic[T]):
    """``work()`` running in a forked child from now on; :meth:`result` waits for what it returns (or
    raises RuntimeError with what it raised, in words)."""

    def __init__(self, work: Callable[[], T], name: str = "flushscope worker") -> None:
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        self._receive = receive
        self._process = context.Process(target=_run, args=(work, send), name=name, daemon=True)
        self._process.start()
        send.close()

    def result(self) -> T:
        """What ``work()`` returned in the child."""
        try:
            kind, value = self._receive.recv()
        except EOFError:
            raise RuntimeError("the worker process ended without an answer") from None
        finally:
            self._receive.close()
            self._process.join()
        if kind == "error":
            raise RuntimeError(f"the worker process failed: {value}")
        result: T = value
        return result
