"""The window's command line (``flushscope [CAPTURE] [options]``): checked before Qt is started and turned
into the window's typed options; and the window's outcome turned into an exit code and a message."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from flushscope import __version__
from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import UsageError, print_error
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from flushscope.cli.proxy import add_place_arguments, check_place
from flushscope.core.formats.recordings import check_recording
from flushscope.core.inputs.scenario import Scenario, ScenarioError, load_scenario
from flushscope.core.store.line_format import CaptureError
from flushscope.net.client import DEFAULT_VERSION
from flushscope.net.live import TargetKind
from flushscope.net.ws_url import WebSocketUrlError, check_ws_url
from flushscope.ui.options import (
    SETTINGS_ENV,
    Connect,
    Ending,
    OpenCapture,
    ProxyUpstream,
    Resume,
    RunProxy,
    Start,
    Theme,
    UpstreamKind,
    WindowOptions,
    WindowOutcome,
)

THEMES: Final = tuple(theme.value for theme in Theme)
#: The exit code of each way the window's run can end.
EXIT_CODES: Final = {Ending.OK: EXIT_OK, Ending.FAILED: EXIT_FAILED, Ending.UNUSABLE: EXIT_USAGE}


def build_window_parser() -> argparse.ArgumentParser:
    """The parser of the window's arguments: a capture to open, or a target, a script and how to look."""
    parser = argparse.ArgumentParser(
        prog="flushscope",
        description="Open the flushscope window, connected to the embedded emulator unless told otherwise. "
        "Subcommands (serve, ...) run without a window: flushscope COMMAND --help.",
    )
    parser.add_argument("capture", nargs="?", metavar="CAPTURE", help="open this capture file (read-only)")
    target = parser.add_argument_group("target")
    where = target.add_mutually_exclusive_group()
    where.add_argument("--url", help="connect to this TTS WebSocket URL instead of the embedded emulator")
    where.add_argument("--cartesia", action="store_true", help="connect to Cartesia (needs an API key)")
    where.add_argument("--no-connect", action="store_true", help="start disconnected")
    where.add_argument(
        "--proxy",
        action="store_true",
        help="start as a recording proxy for your own app (see --listen, --upstream) instead of connecting",
    )
    add_place_arguments(target, "with --proxy: ")
    target.add_argument("--api-key", help="API key (default: the CARTESIA_API_KEY environment variable)")
    target.add_argument(
        "--api-version", default=DEFAULT_VERSION, help=f"Cartesia-Version header (default {DEFAULT_VERSION})"
    )
    target.add_argument(
        "--record",
        metavar="PATH",
        type=Path,
        help="record the capture to PATH (default: a timestamped file in the user data folder)",
    )
    parser.add_argument(
        "--dataset",
        metavar="DIR",
        type=Path,
        help="show the calls of this dataset (made by flushscope dataset build) in a window of their own",
    )
    script = parser.add_argument_group("scripted runs")
    script.add_argument("--script", metavar="SCENARIO", type=Path, help="play this scenario as if typed")
    script.add_argument(
        "--screenshot",
        metavar="PNG",
        type=Path,
        help="save the window (with --dataset, its calls) as PNG when done",
    )
    script.add_argument("--exit-when-done", action="store_true", help="close the window when done")
    script.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for every context to finish (default 60)"
    )
    look = parser.add_argument_group("look")
    look.add_argument(
        "--theme",
        choices=THEMES,
        default=(os.environ.get("FLUSHSCOPE_THEME") or "").lower() or None,
        help="colours: follow the system, or force light or dark (env FLUSHSCOPE_THEME; default: the theme "
        "chosen in View > Theme last time, else the system's)",
    )
    look.add_argument(
        "--settings",
        metavar="FILE",
        type=Path,
        default=os.environ.get(SETTINGS_ENV) or None,
        help=f"remember the window's settings in this INI file (env {SETTINGS_ENV}; default: the user's "
        "settings file)",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="log more (-vv for debug)")
    parser.add_argument("--version", action="version", version=f"flushscope {__version__}")
    add_emulator_switches(parser)
    return parser


def parse_window_args(argv: Sequence[str]) -> WindowOptions:
    """Parse and check the window's arguments (``argv`` without the program name) into its options.

    A bad command line exits through argparse (status 2, with the usage); a bad script, a capture that
    cannot be read in a scripted run, or an unusable emulator switch raise ``UsageError``."""
    parser = build_window_parser()
    args = parser.parse_args(argv)
    if args.theme is not None and args.theme not in THEMES:
        parser.error(f"--theme must be one of {', '.join(THEMES)}")
    if args.timeout <= 0:
        parser.error("--timeout must be positive")
    if args.capture is not None and args.script is not None:
        parser.error("open a capture or play a script, not both")
    if args.proxy and args.script is not None:
        parser.error("a script sends from flushscope itself; with --proxy your app is the client")
    if args.url is not None:
        try:
            check_ws_url(args.url)
        except WebSocketUrlError as exc:
            parser.error(f"--url: {exc}")
    if args.proxy:
        try:
            check_place(args)
        except UsageError as exc:
            parser.error(str(exc))
    config = emulator_config(args)

    scenario: Scenario | None = None
    if args.script is not None:
        try:
            scenario = load_scenario(args.script)
        except ScenarioError as exc:
            raise UsageError(str(exc), lines=True) from exc
    if args.capture is not None and args.exit_when_done:
        # Checked before any window opens, so that a scripted use fails fast and quietly.
        try:
            check_recording(args.capture)
        except CaptureError as exc:
            raise UsageError(str(exc)) from exc
    if args.dataset is not None and args.exit_when_done:
        _check_dataset(args.dataset)
    return WindowOptions(
        start=_start(args),
        dataset=args.dataset,
        record=args.record,
        emulator=config,
        script=scenario,
        script_timeout=args.timeout,
        screenshot=args.screenshot,
        exit_when_done=args.exit_when_done,
        theme=Theme(args.theme) if args.theme else None,
        settings=Path(args.settings) if args.settings else None,
        verbosity=args.verbose,
    )


def _check_dataset(path: Path) -> None:
    """``UsageError`` unless ``path`` is a dataset (the dataset's modules load only when one is asked for)."""
    from flushscope.dataset.store import DatasetError, check_dataset

    try:
        check_dataset(path)
    except DatasetError as exc:
        raise UsageError(str(exc)) from exc


def _start(args: argparse.Namespace) -> Start:
    """What the window does as it opens: show a capture, run the proxy, connect (the default), or nothing."""
    if args.capture is not None:
        return OpenCapture(Path(args.capture))
    if args.proxy:
        return RunProxy(args.listen, _upstream(args.upstream), args.api_key, allow_remote=args.allow_remote)
    if args.no_connect:
        return None
    key = args.api_key or os.environ.get("CARTESIA_API_KEY")
    if not (args.url or args.cartesia or args.script or args.exit_when_done or args.screenshot):
        return Resume(key, args.api_version)
    kind: TargetKind = "custom" if args.url else "cartesia" if args.cartesia else "emulator"
    return Connect(kind, args.url, key, args.api_version)


def _upstream(text: str) -> ProxyUpstream:
    """``--upstream``: ``cartesia``, ``embedded`` or a URL (checked when the proxy starts, in the window)."""
    choice = text.strip()
    if choice == "embedded":
        return ProxyUpstream(UpstreamKind.EMBEDDED)
    if choice == "cartesia":
        return ProxyUpstream(UpstreamKind.CARTESIA)
    return ProxyUpstream(UpstreamKind.URL, choice)


def exit_code(outcome: WindowOutcome) -> int:
    """Say what went wrong in the window's run (one line each, on stderr) and return its exit code."""
    for message in outcome.messages:
        print_error(message)
    return EXIT_CODES[outcome.ending]
