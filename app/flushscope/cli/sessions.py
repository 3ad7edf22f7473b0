"""Reading a recording for the commands that work on one (report, export, play): a capture or a HAR file."""

from __future__ import annotations

from flushscope.cli.errors import print_error
from flushscope.core.formats import read_recording
from flushscope.core.session import Session, rebuild


def load_session(path: str) -> Session:
    """A session rebuilt from a capture or a HAR file (told apart by content); loader warnings go to
    stderr. Raises ``CaptureError``."""
    loaded = read_recording(path)
    for warning in loaded.warnings:
        print_error(f"{path}: {warning}")
    session = rebuild(loaded.frames)
    session.finish()
    return session
