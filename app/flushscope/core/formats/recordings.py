"""The two kinds of recording flushscope opens, a capture (JSON Lines) and a HAR file, told apart by their
content; and writing either, chosen by the file name.

A file whose first line is a JSON object without ``log`` is a capture (the capture reader then says what is
wrong with it); a JSON document with ``log`` is a HAR file, on one line or many. Anything else is neither,
and the error says so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Final

from flushscope.core.formats.capture_index import CaptureIndexer, index_capture
from flushscope.core.formats.har import read_har, write_har
from flushscope.core.model.findings import Thresholds
from flushscope.core.model.session import Session, rebuild
from flushscope.core.store.capture_header import CaptureHeader
from flushscope.core.store.capture_reader import LoadedCapture, read_capture
from flushscope.core.store.capture_writer import CaptureWriter
from flushscope.core.store.line_format import CaptureError
from flushscope.core.store.whole_file import written_whole

__all__ = [
    "OpenedRecording",
    "RecordingFormat",
    "check_recording",
    "detect_format",
    "format_for_name",
    "open_recording",
    "read_recording",
    "save_recording",
    "write_recording",
]

# Enough to hold any capture header (the capture reader refuses longer ones anyway).
_SNIFF_BYTES: Final = 1 << 20
# How a capture's header line starts (its first member is its format), whole or not.
_CAPTURE_HEADER: Final = re.compile(r'\{\s*"format"\s*:\s*"flushscope-capture')


class RecordingFormat(StrEnum):
    """A kind of recording file."""

    CAPTURE = "capture"
    HAR = "har"


def detect_format(path: str | os.PathLike[str]) -> RecordingFormat:
    """Which kind of recording ``path`` holds, by its content; :class:`CaptureError` if neither."""
    name = os.fspath(path)
    try:
        with open(path, "rb") as file:
            head = file.read(_SNIFF_BYTES)
    except OSError as exc:
        raise CaptureError(name, None, f"cannot open: {exc.strerror or exc}") from None
    text = head.decode("utf-8", "replace").lstrip("\ufeff \t\r\n")
    if not text:
        raise CaptureError(name, None, "the file is empty: neither a flushscope capture nor a HAR file")
    first = text.split("\n", 1)[0]
    try:
        value = json.loads(first)
    except (ValueError, RecursionError):
        value = None
    if isinstance(value, dict):
        return RecordingFormat.HAR if "log" in value and "format" not in value else RecordingFormat.CAPTURE
    if _CAPTURE_HEADER.match(first):
        # A header line cut off (or broken): the capture reader says what is wrong with it.
        return RecordingFormat.CAPTURE
    if text.startswith("{"):
        return RecordingFormat.HAR
    raise CaptureError(
        name,
        None,
        "neither a flushscope capture (JSON Lines under a header line) nor a HAR file (a JSON object with "
        '"log")',
    )


def read_recording(path: str | os.PathLike[str]) -> LoadedCapture:
    """Load a capture or a HAR file, whichever ``path`` holds, in the shape :func:`read_capture` gives: every
    frame in memory (for converting between the two; to look at a recording, :func:`open_recording`)."""
    if detect_format(path) is RecordingFormat.HAR:
        return read_har(path)
    return read_capture(path)


@dataclass(frozen=True)
class OpenedRecording:
    """A recording opened as a session, with its header and what the reader forgave."""

    session: Session
    header: CaptureHeader
    warnings: list[str]


def open_recording(
    path: str | os.PathLike[str], thresholds: Thresholds | None = None, *, parallel: bool | None = False
) -> OpenedRecording:
    """A capture or a HAR file as a session: a capture is indexed (its frames and audio are read back from
    the file when needed; ``parallel`` as for :meth:`~flushscope.core.formats.capture_index.CaptureIndexer.run`), a
    HAR file (small, and without offsets to keep) is kept in memory. Raises :class:`CaptureError`."""
    if detect_format(path) is RecordingFormat.HAR:
        loaded = read_har(path)
        return OpenedRecording(rebuild(loaded.frames, thresholds), loaded.header, loaded.warnings)
    session, header, warnings = index_capture(path, thresholds, parallel=parallel)
    return OpenedRecording(session, header, warnings)


def check_recording(path: str | os.PathLike[str]) -> None:
    """Raise :class:`CaptureError` unless ``path`` opens as a recording: a capture's header is read (its
    lines are read when it is opened), a HAR file is read whole."""
    if detect_format(path) is RecordingFormat.HAR:
        read_har(path)
        return
    indexer = CaptureIndexer(path)
    indexer.close()
    indexer.session.frames.close()


def format_for_name(path: str | os.PathLike[str]) -> RecordingFormat | None:
    """The format a file name asks for: ``.har``, or ``.jsonl`` (``.fscap.jsonl``) for a capture."""
    suffix = Path(path).suffix.lower()
    return {".har": RecordingFormat.HAR, ".jsonl": RecordingFormat.CAPTURE}.get(suffix)


def write_recording(
    loaded: LoadedCapture, path: str | os.PathLike[str], fmt: RecordingFormat, *, overwrite: bool = False
) -> None:
    """Write ``loaded`` to ``path`` as ``fmt``, whole or not at all (:mod:`~flushscope.core.store.whole_file`);
    a file that exists is kept unless ``overwrite`` (``FileExistsError``)."""
    if fmt is RecordingFormat.HAR:
        write_har(loaded, path, overwrite=overwrite)
        return
    header = loaded.header
    with (
        written_whole(path, overwrite=overwrite) as temporary,
        CaptureWriter(
            temporary, header.target, started=header.started_at(), note=header.note, overwrite=True
        ) as writer,
    ):
        for frame in loaded.frames:
            writer.write(frame, valid_json=_is_json(frame.text))


def save_recording(source: str | os.PathLike[str], path: str | os.PathLike[str]) -> RecordingFormat:
    """Copy the recording at ``source`` to ``path`` (replaced if it exists), converted when the name asks
    for the other kind (``.har``: a HAR file; any other name: a capture); whole or not at all. Returns the
    kind written. Raises :class:`CaptureError` or OSError."""
    wanted = format_for_name(path) or RecordingFormat.CAPTURE
    if detect_format(source) is not wanted:
        write_recording(read_recording(source), path, wanted, overwrite=True)
    elif Path(path).resolve() != Path(source).resolve():
        with written_whole(path, overwrite=True) as temporary:
            shutil.copyfile(source, temporary)
    return wanted


def _is_json(text: str) -> bool:
    """True for a JSON object, which the writer may store inline (as the recorder does)."""
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False
