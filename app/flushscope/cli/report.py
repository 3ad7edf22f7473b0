"""``flushscope report``: a capture's flush boundaries, timings, anomalies and lints, as text or JSON."""

from __future__ import annotations

import argparse
from collections.abc import Collection
from typing import TYPE_CHECKING

from flushscope.cli.errors import UsageError, fail
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK
from flushscope.cli.output import print_json, print_text
from flushscope.cli.sessions import load_session
from flushscope.cli.subcommand import Subcommand
from flushscope.cli.threshold_args import add_threshold_arguments, thresholds_from
from flushscope.core.store.line_format import CaptureError

if TYPE_CHECKING:
    from flushscope.core.analysis.lint_ids import LintId
    from flushscope.core.analysis.report import NotSent
    from flushscope.core.model.session import Session


def add_lint_switches(parser: argparse.ArgumentParser) -> None:
    """``--no-lint ID`` (repeatable) and ``--strict``, for the commands that lint a session."""
    from flushscope.core.analysis.lint_ids import LintId

    parser.add_argument(
        "--no-lint",
        action="append",
        default=[],
        metavar="ID",
        help="leave out one lint (repeatable): " + ", ".join(i.value for i in LintId),
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when there are lints, as for anomalies")


def disabled_lints(args: argparse.Namespace) -> frozenset[LintId]:
    """The lints ``--no-lint`` turned off; ``UsageError`` for an id that does not exist."""
    from flushscope.core.analysis.lint_ids import LintIdError, parse_lint_ids

    try:
        return parse_lint_ids(args.no_lint)
    except LintIdError as exc:
        raise UsageError(f"--no-lint: {exc}") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The capture, the choice of JSON, the lint switches and the thresholds."""
    parser.add_argument("capture")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    add_lint_switches(parser)
    add_threshold_arguments(parser)


def print_report(
    session: Session,
    as_json: bool,
    *,
    disabled: Collection[LintId] = (),
    strict: bool = False,
    parallel: bool = False,
    not_sent: NotSent | None = None,
) -> int:
    """Print the report of ``session`` (with what a run's script did not send, ``not_sent``);
    ``EXIT_FAILED`` when it has anomalies that count (or, when ``strict``, any lint), else ``EXIT_OK``.
    ``parallel``: measure half of a big session's boundaries in a forked child (only where this process has
    no threads of its own)."""
    from flushscope.core.analysis.boundaries import session_boundaries
    from flushscope.core.analysis.lint_cache import lint_session
    from flushscope.core.analysis.report import build_report, format_report

    lints = lint_session(session, disabled=disabled)
    boundaries = session_boundaries(session, parallel=parallel)
    if as_json:
        print_json(build_report(session, lints=lints, boundaries=boundaries, not_sent=not_sent))
    else:
        print_text(format_report(session, lints=lints, boundaries=boundaries, not_sent=not_sent))
    failed = bool(session.counted_anomalies()) or (strict and bool(lints))
    return EXIT_FAILED if failed else EXIT_OK


def report_command(args: argparse.Namespace) -> int:
    """Report on ``args.capture``: exit 0 without anomalies, 1 with some (or with lints under ``--strict``),
    2 for an unusable capture (one without a single frame), an unknown lint id or a bad threshold."""
    disabled = disabled_lints(args)
    thresholds = thresholds_from(args)
    try:
        session = load_session(args.capture, thresholds)
    except CaptureError as exc:
        return fail(str(exc))
    return print_report(session, args.json, disabled=disabled, strict=args.strict, parallel=True)


COMMAND = Subcommand(
    name="report",
    help="print a capture's flush boundaries, timings, anomalies and lints",
    description="Exit 0 with no anomalies, 1 with anomalies (warnings or errors), 2 for unusable input (a "
    "capture without a single frame included). Information (a recording that ends while a wait was not over, "
    "a key withheld) does not change the exit code. Lints are advice on what the client sent; they change "
    "the exit code only with --strict.",
    add_arguments=add_arguments,
    run=report_command,
)
