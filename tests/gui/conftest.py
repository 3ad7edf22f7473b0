"""GUI tests run headless: Qt's offscreen platform unless a display is chosen explicitly.

Tests that drive a window run inside a qasync loop that the ``loop`` fixture owns: the test body is called
from a callback of the running loop (see :func:`pytest_pyfunc_call`), so asyncio tasks run whenever Qt
spins, including while ``qtbot`` waits. A plain callback, not a task: waiting there never re-enters a task.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
import functools
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flushscope.audio.player import Player
from flushscope.core.model.session import Session
from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.net.live import LiveSession
from flushscope.ui.bridge import SessionBridge
from flushscope.ui.window import MainWindow
from session_wire import Wire
from silent_output import SilentOutput
from window_support import close, inside


@pytest.fixture
def bridge(qapp: QApplication) -> Iterator[SessionBridge]:
    """A bridge on an empty session, for views tested without a window."""
    bridge = SessionBridge(Session())
    yield bridge
    bridge.deleteLater()


@pytest.fixture
def wire(bridge: SessionBridge) -> Wire:
    """Frames fed into the bridge's session by hand."""
    return Wire(bridge.session)


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop for one test; the test body runs inside it. Errors the loop would only log, and tasks
    left running, fail the test."""
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    event_loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(event_loop)
    errors: list[dict[str, Any]] = []
    event_loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        yield event_loop
    finally:
        pending = [t for t in asyncio.all_tasks(event_loop) if not t.done()]
        event_loop.close()
        asyncio.set_event_loop(None)
        qapp.setQuitOnLastWindowClosed(quit_on_close)
        assert not pending, f"tasks left running: {pending}"
        assert not errors, f"errors on the loop: {errors}"


@pytest.hookimpl(wrapper=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> Generator[None, object, object]:
    """Run the body of a test that uses the ``loop`` fixture inside that loop, then close its windows there
    too: outside the body the loop does not run, and pytest-qt processes Qt events between the phases."""
    event_loop = pyfuncitem.funcargs.get("loop")
    if not isinstance(event_loop, qasync.QEventLoop):
        return (yield)
    test = pyfuncitem.obj
    windows = pyfuncitem.funcargs.get("make_window")
    qtbot = pyfuncitem.funcargs.get("qtbot")

    def body(*args: Any, **kwargs: Any) -> object:
        try:
            return test(*args, **kwargs)
        finally:
            if isinstance(windows, WindowFactory) and isinstance(qtbot, QtBot):
                windows.close_all(qtbot)

    @functools.wraps(test)
    def run_inside(*args: Any, **kwargs: Any) -> object:
        return inside(event_loop, lambda: body(*args, **kwargs))

    pyfuncitem.obj = run_inside
    try:
        return (yield)
    finally:
        pyfuncitem.obj = test


class WindowFactory:
    """Makes windows on live sessions with an instant emulator and captures under a folder, and closes them
    all (checking that each stopped everything). Without a player, a window plays into a silent output that
    plays nothing and says so."""

    def __init__(self, captures: Path) -> None:
        self._captures = captures
        self.windows: list[MainWindow] = []

    def __call__(self, player: Player | None = None) -> MainWindow:
        live = LiveSession(
            capture_dir=self._captures, emulator_config=EmulatorConfig(pacing=Pacing.instant())
        )
        window = MainWindow(live, player or Player(SilentOutput()))
        window.show()
        self.windows.append(window)
        return window

    def close_all(self, qtbot: QtBot) -> None:
        windows, self.windows = self.windows, []
        for window in windows:
            close(qtbot, window)


@pytest.fixture
def make_window(qtbot: QtBot, loop: qasync.QEventLoop, tmp_path: Path) -> WindowFactory:
    """Windows for one test, closed inside its loop when the test body ends."""
    return WindowFactory(tmp_path / "captures")
