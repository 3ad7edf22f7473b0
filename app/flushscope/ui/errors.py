"""Uncaught exceptions and Qt's own messages, routed to ``logging`` (and, for exceptions, to the user).

A bug in a slot must not take the inspector down with the session the user is looking at: the exception
is logged with its traceback and summarised in a dialog, and the application keeps running.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any, Final

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger("flushscope")
qt_log = logging.getLogger("flushscope.qt")

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}

#: Messages of platform plugins that say nothing about flushscope (the offscreen plugin used for headless
#: screenshots cannot size windows): logged at debug level only.
_PLATFORM_NOISE: Final = ("does not support propagateSizeHints",)


class ErrorReporter:
    """Shows uncaught exceptions in a dialog (one at a time; later ones while it is open are only logged)
    and logs every one with its traceback.

    ``parent`` is the window the dialog belongs to, or None.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        self._parent = parent
        self._box: QMessageBox | None = None
        self.count = 0

    def set_parent(self, parent: QWidget | None) -> None:
        """The window dialogs belong to from now on (None: none, once it closed)."""
        self._parent = parent

    def report(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None, where: str = ""
    ) -> None:
        self.count += 1
        log.error("uncaught exception%s", f" in {where}" if where else "", exc_info=(exc_type, exc, tb))
        if QApplication.instance() is None or self._box is not None:
            return
        try:
            self._show(exc_type, exc, tb)
        except Exception:  # a broken dialog must not recurse into this hook
            log.exception("cannot show the error dialog")

    def _show(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        summary = traceback.format_exception_only(exc_type, exc)[-1].strip()
        frames = traceback.extract_tb(tb)
        place = f"\n\nIn {frames[-1].name}() at {frames[-1].filename}:{frames[-1].lineno}" if frames else ""
        box = QMessageBox(self._parent)
        box.setIcon(QMessageBox.Icon.Critical)
        box.setWindowTitle("flushscope: unexpected error")
        box.setText("Something went wrong. The session is still there; you can keep working.")
        box.setInformativeText(summary + place)
        box.setDetailedText("".join(traceback.format_exception(exc_type, exc, tb)))
        box.setStandardButtons(QMessageBox.StandardButton.Ok)
        # Not exec(): a nested event loop inside an asyncio callback would re-enter the qasync loop.
        box.finished.connect(self._closed)
        self._box = box
        box.open()

    def _closed(self) -> None:
        box, self._box = self._box, None
        if box is not None:
            box.deleteLater()

    def excepthook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb)

    def loop_exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """For ``loop.set_exception_handler``: task exceptions nobody awaited, callback failures."""
        exc = context.get("exception")
        if isinstance(exc, BaseException) and not isinstance(exc, asyncio.CancelledError):
            self.report(type(exc), exc, exc.__traceback__, str(context.get("message", "")))
        else:
            log.error("asyncio: %s", context.get("message", context))


def install_exception_hook(reporter: ErrorReporter) -> Callable[[], None]:
    """Make ``reporter`` the handler of uncaught exceptions; returns a function that puts back the old one."""
    previous = sys.excepthook
    sys.excepthook = reporter.excepthook

    def restore() -> None:
        sys.excepthook = previous

    return restore


def _qt_message(msg_type: QtMsgType, context: QMessageLogContext, message: str) -> None:
    level = _QT_LEVELS.get(msg_type, logging.WARNING)
    if any(noise in message for noise in _PLATFORM_NOISE):
        level = logging.DEBUG
    where = f" ({context.category})" if context.category and context.category != "default" else ""
    qt_log.log(level, "%s%s", message, where)


def install_qt_message_handler() -> Callable[[], None]:
    """Route Qt's messages to the ``flushscope.qt`` logger; returns a function that puts back the old one."""
    previous = qInstallMessageHandler(_qt_message)

    def restore() -> None:
        qInstallMessageHandler(previous)

    return restore
