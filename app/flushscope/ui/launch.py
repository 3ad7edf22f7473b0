"""``flushscope`` with no subcommand: the window, connected to the embedded emulator and ready to type.

Also ``flushscope CAPTURE`` (open a capture read-only) and scripted runs::

    flushscope [--url URL] [--pace instant|real] --script SCENARIO [--screenshot PNG] [--exit-when-done]

``flushscope.cli.window`` parses and checks those arguments; startup happens here and only here: logging,
the exception hook (a dialog, the app keeps running), Qt's messages routed to ``logging``, the application's
name and icon, the theme, then the window on a qasync loop (Qt and asyncio on one thread).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from flushscope import __version__
from flushscope.cli.errors import print_error
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_USAGE
from flushscope.cli.window import WindowRequest
from flushscope.core.inputs.scenario import Scenario
from flushscope.emulator.config import EmulatorConfig

if TYPE_CHECKING:
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from flushscope.net.live import TargetKind
    from flushscope.ui.errors import ErrorReporter
    from flushscope.ui.window import MainWindow

log = logging.getLogger("flushscope")
T = TypeVar("T")


def main(request: WindowRequest) -> int:
    """Start Qt and run the window as ``request`` asks (parsed and checked by ``flushscope.cli.window``);
    returns the exit code."""
    args = request.args
    _configure_logging(args.verbose)

    import qasync
    from PySide6.QtWidgets import QApplication

    from flushscope.ui.errors import ErrorReporter, install_exception_hook, install_qt_message_handler

    reporter = ErrorReporter()
    restore_hook = install_exception_hook(reporter)
    restore_messages = install_qt_message_handler()
    try:
        app = QApplication.instance() or QApplication(["flushscope"])
        assert isinstance(app, QApplication)
        _setup_application(app, args.theme)
        result: int = qasync.run(_run(args, request.config, request.scenario, reporter))
    finally:
        restore_messages()
        restore_hook()
    return result


def _configure_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("flushscope").setLevel(level)
    if verbose < 2:
        # websockets logs every handshake failure with a traceback; the window shows them in words.
        logging.getLogger("websockets").setLevel(logging.CRITICAL)


def _setup_application(app: QApplication, theme: str) -> None:
    from PySide6.QtGui import QIcon

    from flushscope.resources import resource_path

    app.setApplicationName("flushscope")
    app.setApplicationDisplayName("flushscope")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("flushscope")
    app.setDesktopFileName("flushscope")
    # The window closes itself once its sockets are closed; Qt must not quit the loop under it first.
    app.setQuitOnLastWindowClosed(False)
    try:
        app.setWindowIcon(QIcon(str(resource_path("flushscope.svg"))))
    except FileNotFoundError as exc:
        log.warning("%s", exc)
    apply_theme(app, theme)


async def _run(
    args: argparse.Namespace, config: EmulatorConfig, scenario: Scenario | None, reporter: ErrorReporter
) -> int:
    from flushscope.net.live import LiveSession
    from flushscope.ui.window import MainWindow

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(reporter.loop_exception_handler)
    live = LiveSession(capture_path=args.record, emulator_config=config)
    # The window closes the player (and releases the audio device) when it closes.
    window = MainWindow(live)
    reporter.set_parent(lambda: None if window.is_closed else window)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    restore_signals = _close_on_signals(window.close)
    window.show()

    code = 0
    try:
        code = await _start(window, args, scenario)
    finally:
        if args.exit_when_done and not window.is_closed:
            window.close()
        await closed.wait()
        restore_signals()
        window.deleteLater()
    return code


async def _start(window: MainWindow, args: argparse.Namespace, scenario: Scenario | None) -> int:
    code = 0
    if args.capture is not None:
        if not window.captures.open(args.capture):
            code = EXIT_USAGE
        else:
            await window.captures.wait_opened()
    elif args.proxy:
        upstream = "emulator" if args.upstream.strip() == "embedded" else args.upstream
        starting = window.live_control.start_proxy(
            args.listen, upstream, args.api_key, allow_remote=args.allow_remote
        )
        started = await _owned(window, starting)
        if started is None:
            return EXIT_FAILED  # the window was closed meanwhile
        if not started and args.exit_when_done:
            print_error(f"cannot start the proxy: {window.live.status.reason}")
            code = EXIT_FAILED
    elif not args.no_connect:
        kind: TargetKind = "custom" if args.url else "cartesia" if args.cartesia else "emulator"
        api_key = args.api_key or os.environ.get("CARTESIA_API_KEY")
        connecting = window.live_control.connect_target(kind, args.url, api_key, args.api_version)
        connected = await _owned(window, connecting)
        if connected is None:
            return EXIT_FAILED  # the window was closed meanwhile
        if not connected:
            if scenario is not None or args.exit_when_done:
                print_error(f"cannot connect: {window.live.status.reason}")
                code = EXIT_FAILED
        elif scenario is not None:
            task = window.scripts.start(scenario, args.timeout)
            await asyncio.wait([task])
            problem: str | None
            if task.cancelled():
                problem = "the window was closed before the script finished"
            elif task.exception() is not None:
                problem = f"the script failed: {task.exception()!r}"
            else:
                problem = task.result()
            if problem is not None:
                print_error(f"{scenario.name}: {problem}")
                code = EXIT_FAILED
    if args.screenshot is not None and not window.is_closed:
        window.show_whole_run()
        # Let the views take the last tick and lay out before the picture is taken.
        await asyncio.sleep(0.25)
        if not window.screenshot(args.screenshot):
            print_error(f"cannot write the screenshot {args.screenshot}")
            code = code or EXIT_FAILED
    return code


async def _owned(window: MainWindow, coro: Coroutine[Any, Any, T]) -> T | None:
    """Run ``coro`` as a task of the window, so that closing the window stops it. None if it was stopped,
    or if it failed (the window has reported the failure)."""
    task = window.spawn(coro)
    await asyncio.wait([task])
    return None if task.cancelled() or task.exception() is not None else task.result()


def dark_palette() -> QPalette:
    """A dark palette for the Fusion style (used when the theme is forced dark)."""
    from PySide6.QtGui import QColor, QPalette

    role, group = QPalette.ColorRole, QPalette.ColorGroup
    palette = QPalette()
    colours = {
        role.Window: "#2b2d30",
        role.WindowText: "#e4e4e4",
        role.Base: "#1e1f22",
        role.AlternateBase: "#26282b",
        role.ToolTipBase: "#3c3f41",
        role.ToolTipText: "#e4e4e4",
        role.PlaceholderText: "#8a8d91",
        role.Text: "#e4e4e4",
        role.Button: "#3a3c40",
        role.ButtonText: "#e4e4e4",
        role.BrightText: "#ff6b6b",
        role.Light: "#4a4d52",
        role.Midlight: "#3f4246",
        role.Mid: "#2f3134",
        role.Dark: "#1b1c1e",
        role.Shadow: "#0e0e10",
        role.Highlight: "#2f6ea5",
        role.HighlightedText: "#ffffff",
        role.Link: "#56b4e9",
        role.LinkVisited: "#cc79a7",
    }
    for colour_role, colour in colours.items():
        palette.setColor(colour_role, QColor(colour))
    for colour_role in (role.WindowText, role.Text, role.ButtonText, role.HighlightedText):
        palette.setColor(group.Disabled, colour_role, QColor("#7c7f84"))
    palette.setColor(group.Disabled, role.Highlight, QColor("#3d4349"))
    return palette


def apply_theme(app: QApplication, theme: str) -> None:
    """``system`` leaves the platform's look (Qt follows the system's light or dark scheme); ``light`` and
    ``dark`` force the Fusion style with a palette of that kind."""
    if theme == "system":
        return
    from PySide6.QtCore import Qt

    app.setStyle("Fusion")
    hints = app.styleHints()
    if hasattr(hints, "setColorScheme"):  # Qt 6.8+: lets palette-aware code ask for the scheme
        hints.setColorScheme(Qt.ColorScheme.Dark if theme == "dark" else Qt.ColorScheme.Light)
    style = app.style()
    app.setPalette(dark_palette() if theme == "dark" else style.standardPalette())


def _close_on_signals(close: Callable[[], object]) -> Callable[[], None]:
    """Ctrl+C and SIGTERM close the window (cleanly) instead of killing the process mid-recording."""
    from PySide6.QtCore import QTimer

    if sys.platform == "win32" or not _in_main_thread():
        return lambda: None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, frame: FrameType | None) -> None:
        close()

    for sig in previous:
        signal.signal(sig, handler)
    # Python runs signal handlers between bytecodes; while Qt waits in C++ none run, so wake up regularly.
    timer = QTimer()
    timer.timeout.connect(lambda: None)
    timer.start(250)

    def restore() -> None:
        timer.stop()
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
