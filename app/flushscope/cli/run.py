"""``flushscope run``: play a scenario headless against the embedded emulator or a URL, record, report."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import datetime
from pathlib import Path

from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import fail, print_error
from flushscope.cli.exit_codes import EXIT_FAILED
from flushscope.cli.report import print_report
from flushscope.cli.subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The script, the target and its credentials, the capture, and the emulator's switches."""
    parser.add_argument("script", help="the scenario file")
    parser.add_argument("--url", help="target URL (ws://, wss://); default: the embedded emulator")
    parser.add_argument(
        "--api-key", help="API key (default: $CARTESIA_API_KEY); never written to the capture"
    )
    parser.add_argument("--auth", choices=("x-api-key", "bearer", "query"), default="x-api-key")
    parser.add_argument("--version-header", dest="api_version", help="Cartesia-Version to send")
    parser.add_argument("--capture", help="capture file to write (default: a timestamped file here)")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for contexts to finish")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_emulator_switches(parser)


def run_command(args: argparse.Namespace) -> int:
    """Check the script, play it, write the capture and print its report."""
    from flushscope.core.scenario import ScenarioError, load_scenario
    from flushscope.net.client import DEFAULT_VERSION, AuthMode, ClientError, Target

    try:
        scenario = load_scenario(args.script)
    except ScenarioError as exc:
        return fail(str(exc))
    capture = Path(args.capture or datetime.now().strftime("flushscope-%Y%m%d-%H%M%S.fscap.jsonl"))
    target = None
    if args.url:
        target = Target(
            args.url,
            args.api_key or os.environ.get("CARTESIA_API_KEY"),
            AuthMode(args.auth),
            args.api_version or DEFAULT_VERSION,
        )
    from flushscope.net.runner import run_scenario

    try:
        result = asyncio.run(run_scenario(scenario, capture, target, emulator_config(args), args.timeout))
    except ClientError as exc:
        return fail(str(exc))
    except FileExistsError:
        return fail(f"{capture} already exists; choose another --capture")
    print(f"capture: {capture}", file=sys.stderr)
    status = print_report(result.session, args.json)
    if not result.settled:
        print_error(f"contexts still waiting after {args.timeout:g} s")
        return EXIT_FAILED
    return status


COMMAND = Subcommand(
    name="run",
    help="play a scenario script headless and record a capture",
    description="Play a scenario against the embedded emulator (default) or --url, wait until every "
    "context is done, write the capture and print its report. Exit 0 on success, 1 when contexts "
    "failed or anomalies were found, 2 for a bad script or a failed connection.",
    add_arguments=add_arguments,
    run=run_command,
)
