"""Runs the window as ``flushscope`` does (the command line, its settings file, Qt and the qasync loop), and,
once it has done what its arguments ask, runs a hook on it and writes what the hook found as JSON.

    python tests/window_driver.py HOOK OUT.json [flushscope arguments...]

``layout``: where the window, its status bar, tabs, legend entries and the transcripts table's columns are,
and how wide each column's cells and header need to be to show whole.
``change``: moves and resizes the window, moves its splitters, picks a custom URL, the dark theme and opens
the capture named by ``FLUSHSCOPE_DRIVER_CAPTURE`` (so that it is in the recent list); writes what it set.
``state``: what the window shows of those (as it opened).
With ``--exit-when-done`` the window then closes as usual, keeping its settings.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QStyle

from flushscope import cli
from flushscope.ui import launch
from flushscope.ui.options import Theme, WindowOptions, WindowOutcome
from flushscope.ui.window import MainWindow


def _rect(r: QRect) -> list[int]:
    return [r.x(), r.y(), r.width(), r.height()]


def _global(widget: Any, rect: QRect | None = None) -> list[int]:
    rect = rect if rect is not None else widget.rect()
    top_left = widget.mapToGlobal(rect.topLeft())
    return [top_left.x(), top_left.y(), rect.width(), rect.height()]


async def layout(window: MainWindow) -> dict[str, Any]:
    window.show_whole_run()
    await window.painted()
    screen = QGuiApplication.primaryScreen()
    view = window.transcripts.view
    header = view.horizontalHeader()
    model = window.transcripts.model
    tabs = window.tabs.tabBar()
    timeline = window.timeline
    margin = view.style().pixelMetric(QStyle.PixelMetric.PM_HeaderMargin)

    def label(column: int) -> str:
        return str(model.headerData(column, Qt.Orientation.Horizontal))

    return {
        "screen": _rect(screen.availableGeometry()),
        "window": _rect(window.frameGeometry()),
        "status": _global(window.status),
        "viewport": view.viewport().width(),
        "columns": {
            model.HEADERS[c].replace("\n", " "): header.sectionSize(c) for c in range(model.columnCount())
        },
        # What the cells hold now (as the view's items measure it), and the header's lines and margins.
        "cells": {model.HEADERS[c]: view.sizeHintForColumn(c) for c in range(model.columnCount())},
        "headers": {
            model.HEADERS[c]: max(map(header.fontMetrics().horizontalAdvance, label(c).split("\n")))
            + 2 * margin
            for c in range(model.columnCount())
        },
        "tabs": [_global(tabs, tabs.tabRect(i)) for i in range(tabs.count())],
        "tab_texts": [tabs.tabText(i) for i in range(tabs.count())],
        "legend": [[label, *_global(timeline, place)] for _, label, place in timeline.legend_places()],
        "timeline": _global(timeline),
        "rows": model.rowCount(),
    }


async def change(window: MainWindow) -> dict[str, Any]:
    window.setGeometry(QRect(QPoint(40, 30), window.size() * 0.8))
    await asyncio.sleep(0.05)  # the window lays itself out at its new size
    window.main_splitter.setSizes([260, window.main_splitter.width() - 260])
    window.right_splitter.setSizes([360, window.right_splitter.height() - 360])
    window.connection_bar.set_target("custom", "ws://127.0.0.1:9/tts/websocket")
    window.remembering.set_theme(Theme.DARK)
    window.captures.open(os.environ["FLUSHSCOPE_DRIVER_CAPTURE"])
    await window.captures.wait_opened()
    await asyncio.sleep(0.05)
    return {
        "geometry": _rect(window.normalGeometry()),
        "main": window.main_splitter.sizes(),
        "right": window.right_splitter.sizes(),
    }


async def state(window: MainWindow) -> dict[str, Any]:
    await asyncio.sleep(0.05)  # the splitters are restored once the window is laid out
    bar = window.connection_bar
    window.action_set.recent_menu.aboutToShow.emit()
    return {
        "geometry": _rect(window.normalGeometry()),
        "main": window.main_splitter.sizes(),
        "right": window.right_splitter.sizes(),
        "target": bar.target_kind(),
        "url": bar.url(),
        "theme": [a.data() for a in window.action_set.themes.actions() if a.isChecked()],
        "dark": window.palette().color(window.backgroundRole()).lightness() < 128,
        "recent": [a.data() for a in window.action_set.recent_menu.actions() if a.data()],
    }


HOOKS: dict[str, Callable[[MainWindow], Awaitable[dict[str, Any]]]] = {
    "layout": layout,
    "change": change,
    "state": state,
}


def main() -> int:
    hook, out, *args = sys.argv[1:]
    original = launch._start

    async def start(window: MainWindow, options: WindowOptions) -> WindowOutcome:
        outcome = await original(window, options)
        Path(out).write_text(json.dumps(await HOOKS[hook](window)))
        return outcome

    launch._start = start  # type: ignore[assignment]
    return cli.main(args)


if __name__ == "__main__":
    sys.exit(main())
