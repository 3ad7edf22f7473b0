"""``flushscope run``: play a scenario headless against the embedded emulator or a URL, record, report."""

from __future__ import annotations

import argparse
import asyncio
from datetime import datetime
from pathlib import Path

from flushscope.cli.emulator_switches import add_emulator_switches, emulator_config
from flushscope.cli.errors import fail, print_error
from flushscope.cli.exit_codes import EXIT_FAILED
from flushscope.cli.output import print_note
from flushscope.cli.report import print_report
from flushscope.cli.subcommand import Subcommand
from flushscope.cli.target_args import add_target_arguments, target_from
from flushscope.cli.threshold_args import add_threshold_arguments, thresholds_from


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The script, the target and its credentials, the capture, and the emulator's switches."""
    parser.add_argument("script", help="the scenario file")
    add_target_arguments(parser)
    parser.add_argument(
        "--capture",
        help="capture file to write once connected (default: a timestamped file here); it must not exist",
    )
    parser.add_argument("--force", action="store_true", help="replace the capture file if it exists")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for contexts to finish")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    add_threshold_arguments(parser)
    add_emulator_switches(parser)


def run_command(args: argparse.Namespace) -> int:
    """Check the script, play it, write the capture and print its report."""
    from flushscope.core.inputs.scenario import ScenarioError, load_scenario
    from flushscope.net.client import ClientError

    try:
        scenario = load_scenario(args.script)
    except ScenarioError as exc:
        return fail(str(exc), lines=True)
    capture = Path(args.capture or datetime.now().strftime("flushscope-%Y%m%d-%H%M%S.fscap.jsonl"))
    exists = f"{capture} already exists; choose another --capture, or add --force to replace it"
    if capture.exists() and not args.force:
        return fail(exists)
    target = target_from(args)
    thresholds = thresholds_from(args)
    from flushscope.net.runner import run_scenario

    try:
        result = asyncio.run(
            run_scenario(
                scenario,
                capture,
                target,
                emulator_config(args),
                args.timeout,
                overwrite=args.force,
                thresholds=thresholds,
            )
        )
    except ClientError as exc:
        return fail(str(exc))
    except FileExistsError:
        return fail(exists)
    except OSError as exc:
        return fail(f"cannot write the capture {capture}: {exc.strerror or exc}")
    print_note(f"capture: {capture}")
    status = print_report(result.session, args.json, not_sent=result.not_sent)
    if result.dropped is not None:
        print_error(f"the connection ended before the run did: {result.dropped}")
        return EXIT_FAILED
    if not result.settled:
        print_error(f"contexts still waiting after {args.timeout:g} s")
        return EXIT_FAILED
    return status


COMMAND = Subcommand(
    name="run",
    help="play a scenario script headless and record a capture",
    description="Play a scenario against the embedded emulator (default) or --url, wait until every "
    "context is done, write the capture and print its report. The capture is written from the moment the "
    "connection is open: a failed connection leaves no file. When the connection ends mid-script (the "
    "server went away), the rest of the script is not sent: the report says so and what happened. Exit 0 "
    "on success, 1 when contexts failed, the connection ended early or anomalies were found, 2 for a bad "
    "script, an existing capture (without --force) or a connection that could not be opened (refused, "
    "unreachable).",
    add_arguments=add_arguments,
    run=run_command,
)
