"""``flushscope report``: a capture's flush boundaries, timings and anomalies, as text or JSON."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from flushscope.cli.errors import fail
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK
from flushscope.cli.sessions import load_session
from flushscope.cli.subcommand import Subcommand
from flushscope.core.capture import CaptureError

if TYPE_CHECKING:
    from flushscope.core.session import Session


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The capture, and the choice of JSON."""
    parser.add_argument("capture")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")


def print_report(session: Session, as_json: bool) -> int:
    """Print the report of ``session``; ``EXIT_FAILED`` when it has anomalies that count, else ``EXIT_OK``."""
    from flushscope.core.report import build_report, format_report

    if as_json:
        print(json.dumps(build_report(session), indent=2, ensure_ascii=False))
    else:
        print(format_report(session))
    return EXIT_FAILED if session.counted_anomalies() else EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    """Report on ``args.capture``: exit 0 without anomalies, 1 with some, 2 for an unusable capture."""
    try:
        session = load_session(args.capture)
    except CaptureError as exc:
        return fail(str(exc))
    return print_report(session, args.json)


COMMAND = Subcommand(
    name="report",
    help="print a capture's flush boundaries, timings and anomalies",
    description="Exit 0 with no anomalies, 1 with anomalies (warnings or errors), 2 for unusable input.",
    add_arguments=add_arguments,
    run=report_command,
)
