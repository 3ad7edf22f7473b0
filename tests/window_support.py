"""Helpers for tests that drive the main window: how long to wait, running code inside the window's loop,
closing a window for good; and a timeline shown on its own."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import qasync
from pytestqt.qtbot import QtBot

from flushscope.core.model.session import Session
from flushscope.ui.bridge import Selection, SessionBridge
from flushscope.ui.timeline import TimelineView
from flushscope.ui.window import MainWindow

T = TypeVar("T")

#: A safety net for every wait on the window; never the thing a test measures.
WAIT_MS = 20_000


def inside(loop: qasync.QEventLoop, call: Callable[[], T]) -> T:
    """Run ``call`` from a callback of ``loop``, running the loop (and Qt) until it returns."""
    outcome: list[tuple[bool, object]] = []

    def run() -> None:
        try:
            outcome.append((True, call()))
        except BaseException as exc:  # handed back to the caller below
            outcome.append((False, exc))
        finally:
            loop.stop()

    loop.call_soon(run)
    loop.run_forever()
    ok, value = outcome[0]
    if not ok:
        assert isinstance(value, BaseException)
        raise value
    return value  # type: ignore[return-value]


def run(qtbot: QtBot, window: MainWindow, coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine as a task of the window and wait for it from plain test code."""
    task = window.spawn(coro)
    qtbot.waitUntil(task.done, timeout=WAIT_MS)
    return task.result()


def close(qtbot: QtBot, window: MainWindow) -> None:
    window.close()
    qtbot.waitUntil(lambda: window.is_closed, timeout=WAIT_MS)
    assert not window.isVisible()
    assert window.live.emulator is None
    assert not window.live.connected
    assert window.live.recorder.capture is None  # the capture file is closed


def shown_timeline(qtbot: QtBot, session: Session) -> tuple[TimelineView, SessionBridge, Selection]:
    """A timeline of 1000x400 on ``session``, shown, its changes taken in, the whole session in view."""
    bridge = SessionBridge(session)
    selection = Selection()
    view = TimelineView(bridge, selection)
    qtbot.addWidget(view)
    view.resize(1000, 400)
    view.show()
    bridge.flush()
    view.fit_all()
    return view, bridge, selection
