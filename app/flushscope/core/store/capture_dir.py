"""A directory of captures, one per proxied connection: how they are named, and how one is finished.

Naming (the contract readers of the directory rely on, ``flushscope dataset build DIR`` among them)::

    20261206T112233.123Z-cartesia-python-4.2.0-c17.jsonl          a connection's capture (its first part)
    20261206T112233.123Z-cartesia-python-4.2.0-c17-part2.jsonl    its second part, when it was cut
    20261206T112233.123Z-cartesia-python-4.2.0-c17.jsonl.part     a capture still being written

- the connection's start, in UTC to the millisecond, so that names sort by start;
- the client, from its User-Agent: ASCII letters, digits, ``.`` and ``_`` kept, every other run of
  characters made one ``-``, at most :data:`MAX_CLIENT` characters, ``unknown`` when nothing is left;
- ``c`` and the connection's number in the proxy (the ``conn`` of its frames, and of the proxy's log);
- ``-partN`` for the N-th part (N >= 2) of a connection cut into parts; its parts share the rest of the name.

Every name is safe on every file system (no ``:`` or ``/``, no leading dot, nothing Windows reserves) and far
below any length limit. A capture is written as ``NAME.jsonl.part`` and renamed to ``NAME.jsonl`` once it is
complete, after its bytes reached the disk (:func:`finish_capture`): a reader takes ``*.jsonl`` and skips
``*.part``. Should a name be taken already (two proxies sharing a directory), ``-2``, ``-3``, ... is added.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

from flushscope.core.store.capture_writer import CaptureWriter

__all__ = [
    "FINISHED",
    "MAX_CLIENT",
    "WRITING",
    "capture_name",
    "client_slug",
    "create_capture",
    "finish_capture",
    "stem",
    "unfinished_captures",
]

#: The suffix of a finished capture, and of one still being written.
FINISHED: Final = ".jsonl"
WRITING: Final = ".jsonl.part"
#: The most characters of the client's name that go into a file name.
MAX_CLIENT: Final = 40

_UNSAFE = re.compile(r"[^A-Za-z0-9._]+")


def client_slug(client: str | None) -> str:
    """The client's User-Agent as a piece of a file name (``cartesia-python/4.2.0`` is
    ``cartesia-python-4.2.0``)."""
    slug = _UNSAFE.sub("-", client or "").strip("-._")
    return slug[:MAX_CLIENT].rstrip("-._") or "unknown"


def capture_name(started: datetime, client: str | None, conn: int, part: int = 1) -> str:
    """The name of connection ``conn``'s capture (part ``part``), without its suffix."""
    moment = started.astimezone(UTC) if started.tzinfo is not None else started
    stamp = f"{moment:%Y%m%dT%H%M%S}.{moment.microsecond // 1000:03d}Z"
    return f"{stamp}-{client_slug(client)}-c{conn}" + (f"-part{part}" if part > 1 else "")


def create_capture(
    directory: Path,
    name: str,
    target: str,
    *,
    secrets: Iterable[str] = (),
    note: str | None = None,
    started: datetime | None = None,
) -> CaptureWriter:
    """A new capture ``NAME.jsonl.part`` in ``directory``, under a name no capture there has yet (OSError
    when the directory cannot take it)."""
    secrets = tuple(secrets)
    attempt = 1
    while True:
        stem = name if attempt == 1 else f"{name}-{attempt}"
        attempt += 1
        if (directory / f"{stem}{FINISHED}").exists():
            continue
        try:
            path = directory / f"{stem}{WRITING}"
            return CaptureWriter(path, target, secrets=secrets, note=note, started=started)
        except FileExistsError:
            continue


def finish_capture(path: Path) -> Path:
    """Make the closed capture ``NAME.jsonl.part`` at ``path`` a finished ``NAME.jsonl``: its bytes are
    flushed to the disk first, then it is renamed, then the rename itself is flushed. Returns the new path;
    OSError if it cannot be done (the ``.part`` file then stays)."""
    if not path.name.endswith(WRITING):
        raise ValueError(f"not a capture being written: {path.name}")
    # Write access: Windows will not flush a file opened for reading.
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    final = path.with_name(path.name.removesuffix(".part"))
    os.replace(path, final)
    _sync_directory(path.parent)
    return final


def _sync_directory(directory: Path) -> None:
    """Flush a directory's entries (a rename) to the disk where the system allows it (not on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stem(path: Path) -> str:
    """A capture's name without its suffix, finished or not."""
    return path.name.removesuffix(".part").removesuffix(FINISHED)


def unfinished_captures(directory: Path) -> list[Path]:
    """The captures in ``directory`` still named as being written: another proxy's, or left by one that
    did not stop cleanly."""
    return sorted(directory.glob(f"*{WRITING}"))
