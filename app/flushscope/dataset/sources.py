"""Which files a build reads, and what tells a capture and its changes apart, without opening it as a session.

A capture's id is the first 16 hex digits of the SHA-256 of its file name and its first line (the header,
which holds the start time to the microsecond and the target): it survives a move to another folder or
machine, and a copy of the same file under the same name is the same capture. Its fingerprint is the SHA-256
of the first line and of the last 64 KiB: with the size, it says whether the file changed since it was built
(captures only ever grow at the end). The modification time is recorded but not compared, so that copying a
folder or touching a file does not rebuild it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

#: How much of the head and of the tail of a file the id and the fingerprint read.
EDGE_BYTES: Final = 64 << 10
#: The suffix of a capture still being written (the proxy renames it when the connection is over).
PART_SUFFIX: Final = ".part"
#: What a folder is searched for (recursively): captures and HAR files.
SUFFIXES: Final = (".jsonl", ".har")


@dataclass(frozen=True)
class SourceFile:
    """One recording file as the build sees it before reading it: its id, size, time and fingerprint."""

    path: Path
    capture_id: str
    size: int
    mtime: datetime
    fingerprint: str


@dataclass(frozen=True)
class Found:
    """What a search of the command line's paths found: the files to read, the parts still being written
    (left alone), and the paths that could not be searched, each with its reason."""

    files: list[Path]
    parts: list[Path]
    problems: list[tuple[str, str]]


def find_sources(paths: Iterable[str | os.PathLike[str]]) -> Found:
    """The recordings named by ``paths``: files as given, folders searched recursively for ``*.jsonl`` and
    ``*.har`` (hidden folders left out). ``*.part`` files are never read. Each file once, in path order."""
    files: dict[Path, None] = {}
    parts: list[Path] = []
    problems: list[tuple[str, str]] = []
    for given in paths:
        path = Path(given)
        if path.name.endswith(PART_SUFFIX):
            parts.append(path)
        elif path.is_dir():
            for found in sorted(_walk(path, problems)):
                if found.name.endswith(PART_SUFFIX):
                    parts.append(found)
                else:
                    files[found] = None
        elif path.exists():
            files[path] = None
        else:
            problems.append((os.fspath(path), "no such file or folder"))
    return Found(list(files), parts, problems)


def _walk(folder: Path, problems: list[tuple[str, str]]) -> Iterator[Path]:
    def failed(error: OSError) -> None:
        problems.append((error.filename or os.fspath(folder), error.strerror or str(error)))

    for root, dirs, names in os.walk(folder, onerror=failed):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            if name.endswith(SUFFIXES) or name.endswith(tuple(s + PART_SUFFIX for s in SUFFIXES)):
                yield Path(root, name)


def read_source(path: Path) -> SourceFile:
    """The id, size, time and fingerprint of ``path`` (``OSError`` if it cannot be read)."""
    with open(path, "rb") as file:
        stat = os.fstat(file.fileno())
        head = file.readline(EDGE_BYTES)
        file.seek(max(len(head), stat.st_size - EDGE_BYTES))
        tail = file.read(EDGE_BYTES)
    identity = hashlib.sha256(path.name.encode("utf-8", "surrogateescape") + b"\n" + head)
    content = hashlib.sha256(head)
    content.update(tail)
    return SourceFile(
        path=path,
        capture_id=identity.hexdigest()[:16],
        size=stat.st_size,
        mtime=datetime.fromtimestamp(stat.st_mtime_ns / 1e9, UTC),
        fingerprint=content.hexdigest()[:32],
    )
