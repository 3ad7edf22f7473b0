"""``flushscope convert``: a capture to a HAR file, or a HAR file's TTS WebSockets to a capture."""

from __future__ import annotations

import argparse
import os

from flushscope.cli.errors import fail, print_error
from flushscope.cli.exit_codes import EXIT_OK
from flushscope.cli.output import print_note
from flushscope.cli.sessions import no_usable_frames
from flushscope.cli.subcommand import Subcommand


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The input, the output (its extension chooses the format), and leave to overwrite."""
    parser.add_argument("input", metavar="IN", help="a capture or a HAR file (told apart by content)")
    parser.add_argument(
        "output", metavar="OUT", help="OUT.har for HAR, OUT.jsonl or OUT.fscap.jsonl for a capture"
    )
    parser.add_argument("--force", action="store_true", help="overwrite OUT if it exists")


def convert_command(args: argparse.Namespace) -> int:
    """Convert; exit 2 for an input that is neither format, an output name of no known kind, or an
    output that exists (without --force)."""
    from flushscope.core.formats.recordings import format_for_name, read_recording, write_recording
    from flushscope.core.store.line_format import CaptureError

    fmt = format_for_name(args.output)
    if fmt is None:
        return fail(f"{args.output}: name the output .har (HAR) or .jsonl / .fscap.jsonl (capture)")
    exists = f"{args.output} already exists; use --force to overwrite it"
    # Said before the input is read (which may take a while); the write checks again.
    if not args.force and os.path.lexists(args.output):
        return fail(exists)
    try:
        loaded = read_recording(args.input)
    except CaptureError as exc:
        return fail(str(exc))
    if not loaded.frames:
        raise no_usable_frames(args.input, loaded.warnings)
    for warning in loaded.warnings:
        print_error(f"{args.input}: {warning}")
    try:
        write_recording(loaded, args.output, fmt, overwrite=args.force)
    except FileExistsError:
        return fail(exists)
    except OSError as exc:
        return fail(f"cannot write {args.output}: {exc.strerror or exc}")
    connections = len({f.conn for f in loaded.frames})
    print_note(f"{args.output}: {len(loaded.frames)} frames, {connections} connections")
    return EXIT_OK


COMMAND = Subcommand(
    name="convert",
    help="convert a capture to HAR, or a HAR file to a capture",
    description="Read IN (a capture or a HAR file, told apart by content) and write OUT in the format its "
    "extension names: .har, or .jsonl / .fscap.jsonl. Every text frame keeps its time; secrets in a HAR's "
    "URLs and headers are redacted. Exit 0 when written, 2 for unusable input or output.",
    add_arguments=add_arguments,
    run=convert_command,
)
