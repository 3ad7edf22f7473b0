"""When silence becomes an anomaly, for the commands that build a session (``report``, ``run``)."""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING

from flushscope.cli.errors import UsageError

if TYPE_CHECKING:
    from flushscope.core.model.findings import Thresholds


def add_threshold_arguments(parser: argparse.ArgumentParser) -> None:
    """``--slow-first-audio MS``, ``--flush-done-timeout S`` and ``--done-timeout S``, with the defaults of
    :class:`~flushscope.core.model.findings.Thresholds`."""
    from flushscope.core.model.findings import Thresholds

    defaults = Thresholds()
    slow_ms = defaults.slow_first_audio_s * 1000.0
    flush_done_s = defaults.flush_done_s
    done_s = defaults.done_s
    parser.add_argument(
        "--slow-first-audio",
        type=float,
        default=slow_ms,
        metavar="MS",
        help=f"a segment's first audio later than this after its flush (or its first transcript, when the "
        f"context does not buffer text) is a warning (default {slow_ms:g} ms: ten times the "
        "service's usual time to first audio)",
    )
    parser.add_argument(
        "--flush-done-timeout",
        type=float,
        default=flush_done_s,
        metavar="S",
        help=f"a flush whose flush_done has not come this long after it, while the recording went on, timed "
        f"out (default {flush_done_s:g} s)",
    )
    parser.add_argument(
        "--done-timeout",
        type=float,
        default=done_s,
        metavar="S",
        help=f"an ended context whose done has not come this long after its end, while the recording went "
        f"on, timed out (default {done_s:g} s)",
    )


def thresholds_from(args: argparse.Namespace) -> Thresholds:
    """The thresholds asked for; ``UsageError`` for one that is not a positive number."""
    from flushscope.core.model.findings import Thresholds

    for flag, value in (
        ("--slow-first-audio", args.slow_first_audio),
        ("--flush-done-timeout", args.flush_done_timeout),
        ("--done-timeout", args.done_timeout),
    ):
        if not math.isfinite(value) or value <= 0:
            raise UsageError(f"{flag}: {value:g} is not a positive number")
    return Thresholds(
        flush_done_s=args.flush_done_timeout,
        done_s=args.done_timeout,
        slow_first_audio_s=args.slow_first_audio / 1000.0,
    )
