"""``flushscope diff``: what changed between two captures (two runs of a scenario, say), segment by segment."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from flushscope.cli.errors import fail
from flushscope.cli.exit_codes import EXIT_FAILED, EXIT_OK
from flushscope.cli.output import print_json, print_text
from flushscope.cli.report import disabled_lints
from flushscope.cli.sessions import load_session
from flushscope.cli.subcommand import Subcommand
from flushscope.core.shown_text import escaped, quoted
from flushscope.core.store.line_format import CaptureError

if TYPE_CHECKING:
    from flushscope.core.analysis.diff import ContextPair, SessionDiff


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The two captures, the choice of JSON, and the lints to leave out."""
    from flushscope.core.analysis.lint_ids import LintId

    parser.add_argument("a", metavar="A", help="the capture before")
    parser.add_argument("b", metavar="B", help="the capture after")
    parser.add_argument("--json", action="store_true", help="one JSON object instead of text")
    parser.add_argument(
        "--no-lint",
        action="append",
        default=[],
        metavar="ID",
        help="leave one lint out of the comparison (repeatable): " + ", ".join(i.value for i in LintId),
    )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _both(a: object, b: object) -> str:
    return f"{a}" if a == b else f"{a}/{b}"


def _texts(transcripts: tuple[str, ...]) -> str:
    return " | ".join(map(quoted, transcripts)) if transcripts else "(no transcript)"


def _context_lines(pair: ContextPair) -> list[str]:
    a, b = pair.a, pair.b
    left = f"{a.title} ({a.state})" if a is not None else "(none)"
    right = f"{b.title} ({b.state})" if b is not None else "(none)"
    ttfa = f"{_ms(a.ttfa_ms if a else None)} -> {_ms(b.ttfa_ms if b else None)} ms"
    lines = [f"context {pair.position}: {left} | {right}, first audio {ttfa}"]
    if pair.segments:
        lines.append(
            f"  {'segment':>7}  {'flush_id':>8}  {'chunks':>7}  {'audio s':>11}  {'ttfa ms':>11}  transcripts"
        )
    for seg in pair.segments:
        sa, sb = seg.a, seg.b
        text_a = _texts(sa.transcripts) if sa is not None else "(none)"
        text_b = _texts(sb.transcripts) if sb is not None else "(none)"
        text = text_a if text_a == text_b else f"{text_a} -> {text_b}"
        audio = _both(
            f"{sa.audio_seconds:.2f}" if sa is not None else "-",
            f"{sb.audio_seconds:.2f}" if sb is not None else "-",
        )
        lines.append(
            f"  {seg.position:>7}  "
            f"{_both(sa.flush_id if sa else '-', sb.flush_id if sb else '-'):>8}  "
            f"{_both(sa.chunks if sa else '-', sb.chunks if sb else '-'):>7}  "
            f"{audio:>11}  "
            f"{_ms(sa.ttfa_ms if sa else None) + ' -> ' + _ms(sb.ttfa_ms if sb else None):>11}  "
            f"{text}"
        )
    return lines


def format_diff(diff: SessionDiff, name_a: str, name_b: str) -> str:
    """Both sides context by context (``a/b`` where they differ), then the changes that count, then the
    others."""
    lines = [f"A: {name_a}", f"B: {name_b}", "(figures that differ are shown as A/B)", ""]
    for pair in diff.contexts:
        lines.extend(_context_lines(pair))
    counted = diff.counted
    others = [c for c in diff.changes if not c.counted]
    lines.append("")
    if counted:
        lines.append(f"{len(counted)} difference{'s' if len(counted) > 1 else ''} in structure:")
        lines.extend(f"  [{c.kind.value}] {c.message}" for c in counted)
    else:
        lines.append("the structure agrees")
    if others:
        lines.append(f"{len(others)} difference{'s' if len(others) > 1 else ''} in volume (not counted):")
        lines.extend(f"  [{c.kind.value}] {c.message}" for c in others)
    # Names and context ids come from the files: each line stays one line.
    return "\n".join(map(escaped, lines))


def diff_command(args: argparse.Namespace) -> int:
    """Compare the captures: exit 0 when the structure agrees, 1 when it differs, 2 for unusable input."""
    from flushscope.core.analysis.diff import diff_sessions

    disabled = disabled_lints(args)
    try:
        a = load_session(args.a)
        b = load_session(args.b)
    except CaptureError as exc:
        return fail(str(exc))
    diff = diff_sessions(a, b, disabled_lints=disabled)
    if args.json:
        print_json(diff.to_json())
    else:
        print_text(format_diff(diff, args.a, args.b))
    return EXIT_OK if diff.same_structure else EXIT_FAILED


COMMAND = Subcommand(
    name="diff",
    help="compare two captures segment by segment",
    description="Contexts are matched by the order of their first send, then segment by segment: "
    "transcripts, flush_ids, chunk counts, audio length, anomalies and lints, and time to first audio. "
    "Exit 0 when the structure agrees (timing and volume differences are shown, not counted), 1 when "
    "segments, transcripts, flush numbering, context states, anomalies or lints differ, 2 for unusable input.",
    add_arguments=add_arguments,
    run=diff_command,
)
