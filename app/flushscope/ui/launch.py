"""Starting the window: ``flushscope`` with no subcommand (and ``flushscope CAPTURE``, and scripted runs).

The command line turns its flags into :class:`~flushscope.ui.options.WindowOptions`; startup happens here
and only here: logging, the exception hook (a dialog, the app keeps running), Qt's messages routed to
``logging``, the application's name and icon, the theme, then the window on a qasync loop (Qt and asyncio on
one thread). :func:`run_window` returns how the run ended, as a
:class:`~flushscope.ui.options.WindowOutcome` for the command line to turn into an exit code.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeVar

from flushscope import __version__
from flushscope.ui.options import (
    Connect,
    Ending,
    OpenCapture,
    Resume,
    RunProxy,
    ScriptResult,
    Theme,
    WindowOptions,
    WindowOutcome,
)

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from flushscope.core.inputs.scenario import Scenario
    from flushscope.ui.errors import ErrorReporter
    from flushscope.ui.preferences.store import Preferences
    from flushscope.ui.window import MainWindow

log = logging.getLogger("flushscope")
T = TypeVar("T")


def run_window(options: WindowOptions) -> WindowOutcome:
    """Start Qt and run the window as ``options`` ask, until it closes; how the run ended."""
    _configure_logging(options.verbosity)

    import qasync
    from PySide6.QtWidgets import QApplication

    from flushscope.ui.errors import ErrorReporter, install_exception_hook, install_qt_message_handler
    from flushscope.ui.preferences.store import Preferences

    reporter = ErrorReporter()
    restore_hook = install_exception_hook(reporter)
    restore_messages = install_qt_message_handler()
    try:
        app = QApplication.instance() or QApplication(["flushscope"])
        assert isinstance(app, QApplication)
        preferences = Preferences.at(options.settings) if options.settings else Preferences.for_user()
        theme = options.theme or preferences.theme() or Theme.SYSTEM
        _setup_application(app, theme)
        outcome: WindowOutcome = qasync.run(_run(options, reporter, preferences, theme))
    finally:
        restore_messages()
        restore_hook()
    return outcome


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("flushscope").setLevel(level)
    if verbosity < 2:
        # websockets logs every handshake failure with a traceback; the window shows them in words.
        logging.getLogger("websockets").setLevel(logging.CRITICAL)


def _setup_application(app: QApplication, theme: Theme) -> None:
    from PySide6.QtGui import QIcon

    from flushscope.resources import resource_path
    from flushscope.ui.look.themes import apply_theme

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
    options: WindowOptions, reporter: ErrorReporter, preferences: Preferences, theme: Theme
) -> WindowOutcome:
    from flushscope.net.live import LiveSession
    from flushscope.ui.window import MainWindow

    loop = asyncio.get_running_loop()
    loop.set_exception_handler(reporter.loop_exception_handler)
    live = LiveSession(capture_path=options.record, emulator_config=options.emulator)
    # The window closes the player (and releases the audio device) when it closes.
    window = MainWindow(live, preferences=preferences, theme=theme)
    reporter.set_parent(window)
    closed = asyncio.Event()
    window.closed.connect(closed.set)
    window.closed.connect(lambda: reporter.set_parent(None))
    restore_signals = _close_on_signals(window.close)
    window.remembering.show_placed()

    outcome = WindowOutcome()
    try:
        outcome = await _start(window, options)
    finally:
        if options.exit_when_done and not window.is_closed:
            window.close()
        await closed.wait()
        restore_signals()
        window.deleteLater()
    return outcome


async def _start(window: MainWindow, options: WindowOptions) -> WindowOutcome:
    """Do what ``options`` ask of the window as it opens, then take the screenshot."""
    outcome = await _open(window, options)
    if outcome is None:
        return WindowOutcome(Ending.FAILED)  # the window was closed meanwhile, or the step failed
    # Starting may have widened the window for a moment (the connection bar's fields for another target).
    window.remembering.keep_inside()
    if options.dataset is not None and not window.is_closed:
        outcome = await _open_dataset(window, options.dataset, outcome)
    if options.screenshot is not None and not window.is_closed:
        window.show_whole_run()
        await window.painted()
        # With a dataset, its calls are what the picture is of.
        shown = window.datasets.view if options.dataset is not None else None
        if not (shown or window).screenshot(options.screenshot):
            outcome = outcome.failed(f"cannot write the screenshot {options.screenshot}")
    return outcome


async def _open_dataset(window: MainWindow, path: Path, outcome: WindowOutcome) -> WindowOutcome:
    """Show the dataset's calls beside the window, once read; a dataset that cannot be read is unusable
    input (the window says why)."""
    task = window.datasets.open(path)
    await asyncio.wait([task])
    if task.cancelled() or task.exception() is not None or task.result():
        return outcome
    view = window.datasets.view
    reason = view.last_error if view is not None else f"cannot open the dataset {path}"
    return outcome.failed(reason, Ending.UNUSABLE)


async def _open(window: MainWindow, options: WindowOptions) -> WindowOutcome | None:
    """Open the capture, start the proxy, or connect and play the script; None if the window was closed
    meanwhile (or what it ran failed, and the window reported it)."""
    done = WindowOutcome()
    match options.start:
        case OpenCapture(path=path):
            if not window.captures.open(path):
                return WindowOutcome(Ending.UNUSABLE)
            await window.captures.wait_opened()
        case RunProxy(listen=listen, upstream=upstream, api_key=api_key, allow_remote=allow_remote):
            starting = window.live_control.start_proxy(
                listen, upstream.choice, api_key, allow_remote=allow_remote
            )
            started = await _owned(window, starting)
            if started is None:
                return None
            if not started and options.exit_when_done:
                return done.failed(f"cannot start the proxy: {window.live.status.reason}")
        case Resume(api_key=api_key, api_version=version):
            # The target remembered is in the connection bar already; only the emulator is connected at once.
            window.connection_bar.show_credentials(api_key, version)
            if window.connection_bar.target_kind() == "emulator":
                connecting = window.live_control.connect_target("emulator", None, api_key, version)
                if await _owned(window, connecting) is None:
                    return None
        case Connect(kind=kind, url=url, api_key=api_key, api_version=version):
            connecting = window.live_control.connect_target(kind, url, api_key, version)
            connected = await _owned(window, connecting)
            if connected is None:
                return None
            if not connected:
                if options.script is not None or options.exit_when_done:
                    return done.failed(f"cannot connect: {window.live.status.reason}")
            elif options.script is not None:
                return await _play(window, options.script, options.script_timeout)
    return done


async def _play(window: MainWindow, scenario: Scenario, timeout: float) -> WindowOutcome:
    """Play ``scenario`` in the window and wait until its contexts finished (or ``timeout`` passed)."""
    task = window.scripts.start(scenario, timeout)
    await asyncio.wait([task])
    problem: str | None
    if task.cancelled():
        problem = "the window was closed before the script finished"
    elif task.exception() is not None:
        problem = f"the script failed: {task.exception()!r}"
    else:
        problem = task.result()
    outcome = WindowOutcome(script=ScriptResult(scenario.name, problem))
    return outcome if problem is None else outcome.failed(f"{scenario.name}: {problem}")


async def _owned(window: MainWindow, coro: Coroutine[Any, Any, T]) -> T | None:
    """Run ``coro`` as a task of the window, so that closing the window stops it. None if it was stopped,
    or if it failed (the window has reported the failure)."""
    task = window.spawn(coro)
    await asyncio.wait([task])
    return None if task.cancelled() or task.exception() is not None else task.result()


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
