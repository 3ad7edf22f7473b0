"""GUI tests run headless: Qt's offscreen platform unless a display is chosen explicitly."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qasync
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from flushscope.emulator.config import EmulatorConfig, Pacing
from flushscope.net.live import LiveSession
from flushscope.ui.window import MainWindow, SegmentPlayer
from window_support import close


@pytest.fixture
def loop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    """A qasync loop that asyncio sees as running while Qt spins (qtbot.waitUntil drives it). Errors the
    loop would only log fail the test."""
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    event_loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(event_loop)
    errors: list[dict[str, Any]] = []
    event_loop.set_exception_handler(lambda _loop, context: errors.append(context))
    try:
        yield event_loop
    finally:
        pending = [t for t in asyncio.all_tasks(event_loop) if not t.done()]
        asyncio.events._set_running_loop(None)
        # What stop() does, minus QApplication.exit(), which would end every later QEventLoop.exec at once.
        event_loop._QEventLoop__is_running = False
        event_loop.close()
        asyncio.set_event_loop(None)
        qapp.setQuitOnLastWindowClosed(quit_on_close)
        assert not pending, f"tasks left running: {pending}"
        assert not errors, f"errors on the loop: {errors}"


@pytest.fixture
def make_window(qtbot: QtBot, loop: qasync.QEventLoop, tmp_path: Path) -> Iterator[Callable[..., MainWindow]]:
    """Windows on live sessions with an instant emulator and captures under tmp_path; closed (and checked
    to have stopped everything) at the end."""
    windows: list[MainWindow] = []

    def make(player: SegmentPlayer | None = None) -> MainWindow:
        live = LiveSession(
            capture_dir=tmp_path / "captures", emulator_config=EmulatorConfig(pacing=Pacing.instant())
        )
        window = MainWindow(live, player)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        close(qtbot, window)
