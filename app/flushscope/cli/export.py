"""``flushscope export``: each segment's audio of a capture as a WAV file, and on request a label track
beside each."""

from __future__ import annotations

import argparse
from pathlib import Path

from flushscope.cli.errors import fail, print_error
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.cli.output import print_line
from flushscope.cli.sessions import load_session
from flushscope.cli.subcommand import Subcommand
from flushscope.core.store.line_format import CaptureError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The capture, the folder to write to, and the sample format."""
    parser.add_argument("capture")
    parser.add_argument(
        "--out",
        required=True,
        help="directory for <n>-<name>-flush<flush_id>.wav (a context a script did not name: its context_id)",
    )
    parser.add_argument("--float", action="store_true", help="32-bit float WAV instead of 16-bit PCM")
    parser.add_argument(
        "--labels",
        action="store_true",
        help="an Audacity label track beside each WAV (<name>.txt): the segment's flush_id and text, and its words",
    )


def export_command(args: argparse.Namespace) -> int:
    """Write the WAV files (and label tracks) and print their paths; exit 2 if the capture or the folder is
    unusable."""
    from flushscope.audio.wav import ExportError, wav_writes
    from flushscope.core.formats.audacity_labels import label_writes
    from flushscope.core.store.whole_file import all_or_none

    out = Path(args.out)
    try:
        session = load_session(args.capture)
        out.mkdir(parents=True, exist_ok=True)
        writes = wav_writes(session, out, float32=args.float)
        if args.labels:
            writes += label_writes(session, out)
        # One export: if a file cannot be written, the ones written before it are removed too.
        paths = all_or_none(writes)
    except (CaptureError, ExportError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot write into {out}: {exc.strerror or exc}")
    for path in paths:
        print_line(str(path))
    if not paths:
        print_error("the capture has no audio to export")
    return EXIT_OK


COMMAND = Subcommand(
    name="export",
    help="write each segment's audio of a capture as WAV (and label tracks)",
    add_arguments=add_arguments,
    run=export_command,
)
