"""Helpers for tests that drive the main window: how long to wait, and closing a window for good."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from flushscope.ui.window import MainWindow

#: A safety net for every wait on the window; never the thing a test measures.
WAIT_MS = 20_000


def close(qtbot: QtBot, window: MainWindow) -> None:
    window.close()
    qtbot.waitUntil(lambda: window.is_closed, timeout=WAIT_MS)
    assert not window.isVisible()
    assert window.live.emulator is None
    assert not window.live.connected
    assert window.live.recorder.capture is None  # the capture file is closed
