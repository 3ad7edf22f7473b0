"""Reading a recording for the commands that work on one (report, export, play, diff): a capture or a HAR
file."""

from __future__ import annotations

from flushscope.cli.errors import UsageError, print_error
from flushscope.core.formats.recordings import open_recording
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.session import Session


def load_session(path: str, thresholds: Thresholds | None = None) -> Session:
    """A session opened from a capture (indexed: its audio stays in the file) or a HAR file (kept in
    memory), told apart by content, with ``thresholds`` (the defaults if None); loader warnings go to stderr.
    Raises ``CaptureError``, or ``UsageError`` when nothing in the file could be used."""
    # The command line has no threads of its own: a big capture is scanned in a second process.
    opened = open_recording(path, thresholds, parallel=None)
    if not len(opened.session.frames):
        raise no_usable_frames(path, opened.warnings)
    for warning in opened.warnings:
        print_error(f"{path}: {warning}")
    opened.session.finish()
    return opened.session


def no_usable_frames(path: str, warnings: list[str]) -> UsageError:
    """The error of a file that opened but held no frame the commands can use (only bad lines, a HAR
    without a TTS WebSocket, a capture of its header alone): one line, with the first reason."""
    if not warnings:
        return UsageError(f"no usable frames in {path}: it holds none")
    more = len(warnings) - 1
    also = f" (and {more} more warning{'s' if more > 1 else ''})" if more else ""
    return UsageError(f"no usable frames in {path}: {warnings[0]}{also}")
