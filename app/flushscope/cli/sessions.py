"""Reading a capture for the commands that work on one (report, export, play)."""

from __future__ import annotations

from flushscope.cli.errors import print_error
from flushscope.core.capture import read_capture
from flushscope.core.session import Session, rebuild


def load_session(path: str) -> Session:
    """A session rebuilt from a capture file; loader warnings go to stderr. Raises ``CaptureError``."""
    loaded = read_capture(path)
    for warning in loaded.warnings:
        print_error(f"{path}: {warning}")
    session = rebuild(loaded.frames)
    session.finish()
    return session
