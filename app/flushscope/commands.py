"""The headless subcommands: ``run`` a scenario, ``report`` on a capture, ``export`` its audio as WAV."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import datetime
from pathlib import Path

from flushscope.core.capture import CaptureError, read_capture
from flushscope.core.session import Session, rebuild

EXIT_OK = 0
EXIT_ANOMALIES = 1
EXIT_UNUSABLE = 2


def _error(message: str) -> int:
    print(f"flushscope: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def load_session(path: str) -> Session:
    """A session rebuilt from a capture file; loader warnings go to stderr."""
    loaded = read_capture(path)
    for warning in loaded.warnings:
        print(f"flushscope: {path}: {warning}", file=sys.stderr)
    session = rebuild(loaded.frames)
    session.finish()
    return session


def add_parsers(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from flushscope.emulator.cli import add_arguments

    run = subparsers.add_parser(
        "run",
        help="play a scenario script headless and record a capture",
        description="Play a scenario against the embedded emulator (default) or --url, wait until every "
        "context is done, write the capture and print its report. Exit 0 on success, 1 when contexts "
        "failed or anomalies were found, 2 for a bad script or a failed connection.",
    )
    run.add_argument("script", help="the scenario file")
    run.add_argument("--url", help="target URL (ws://, wss://); default: the embedded emulator")
    run.add_argument("--api-key", help="API key (default: $CARTESIA_API_KEY); never written to the capture")
    run.add_argument("--auth", choices=("x-api-key", "bearer", "query"), default="x-api-key")
    run.add_argument("--version-header", dest="api_version", help="Cartesia-Version to send")
    run.add_argument("--capture", help="capture file to write (default: a timestamped file here)")
    run.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for contexts to finish")
    run.add_argument("--json", action="store_true", help="print the report as JSON")
    add_arguments(run)
    run.set_defaults(func=run_command)

    report = subparsers.add_parser(
        "report",
        help="print a capture's flush boundaries, timings and anomalies",
        description="Exit 0 with no anomalies, 1 with anomalies (warnings or errors), 2 for unusable input.",
    )
    report.add_argument("capture")
    report.add_argument("--json", action="store_true", help="one JSON object instead of text")
    report.set_defaults(func=report_command)

    export = subparsers.add_parser("export", help="write each segment's audio of a capture as WAV")
    export.add_argument("capture")
    export.add_argument("--out", required=True, help="directory for <n>-<context_id>-flush<flush_id>.wav")
    export.add_argument("--float", action="store_true", help="32-bit float WAV instead of 16-bit PCM")
    export.set_defaults(func=export_command)


def print_report(session: Session, as_json: bool) -> int:
    from flushscope.core.report import build_report, format_report

    if as_json:
        print(json.dumps(build_report(session), indent=2, ensure_ascii=False))
    else:
        print(format_report(session))
    return EXIT_ANOMALIES if session.counted_anomalies() else EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    try:
        session = load_session(args.capture)
    except CaptureError as exc:
        return _error(str(exc))
    return print_report(session, args.json)


def export_command(args: argparse.Namespace) -> int:
    from flushscope.audio.wav import ExportError, export_session

    try:
        session = load_session(args.capture)
        paths = export_session(session, Path(args.out), float32=args.float)
    except (CaptureError, ExportError, OSError) as exc:
        return _error(str(exc))
    for path in paths:
        print(path)
    if not paths:
        print("flushscope: the capture has no audio to export", file=sys.stderr)
    return EXIT_OK


def run_command(args: argparse.Namespace) -> int:
    from flushscope.core.scenario import ScenarioError, load_scenario
    from flushscope.net.client import DEFAULT_VERSION, AuthMode, ClientError, Target

    try:
        scenario = load_scenario(args.script)
    except ScenarioError as exc:
        return _error(str(exc))
    capture = Path(args.capture or datetime.now().strftime("flushscope-%Y%m%d-%H%M%S.fscap.jsonl"))
    target = None
    if args.url:
        target = Target(
            args.url,
            args.api_key or os.environ.get("CARTESIA_API_KEY"),
            AuthMode(args.auth),
            args.api_version or DEFAULT_VERSION,
        )
    from flushscope.emulator.cli import config_from
    from flushscope.net.runner import run_scenario

    try:
        result = asyncio.run(run_scenario(scenario, capture, target, config_from(args), args.timeout))
    except ClientError as exc:
        return _error(str(exc))
    except FileExistsError:
        return _error(f"{capture} already exists; choose another --capture")
    print(f"capture: {capture}", file=sys.stderr)
    status = print_report(result.session, args.json)
    if not result.settled:
        print(f"flushscope: contexts still waiting after {args.timeout:g} s", file=sys.stderr)
        return EXIT_ANOMALIES
    return status
