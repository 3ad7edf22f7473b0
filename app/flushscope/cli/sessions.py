"""Reading a recording for the commands that work on one (report, export, play): a capture or a HAR file."""

from __future__ import annotations

from flushscope.cli.errors import print_error
from flushscope.core.formats.recordings import open_recording
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.session import Session


def load_session(path: str, thresholds: Thresholds | None = None) -> Session:
    """A session opened from a capture (indexed: its audio stays in the file) or a HAR file (kept in
    memory), told apart by content, with ``thresholds`` (the defaults if None); loader warnings go to stderr.
    Raises ``CaptureError``."""
    # The command line has no threads of its own: a big capture is scanned in a second process.
    opened = open_recording(path, thresholds, parallel=None)
    for warning in opened.warnings:
        print_error(f"{path}: {warning}")
    opened.session.finish()
    return opened.session
