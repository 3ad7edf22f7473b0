"""Files written whole or not at all: every output flushscope writes at once (a converted recording, an
exported WAV or label track, a saved capture, a dataset's Parquet file).

The bytes go to a temporary file beside the target, ``.NAME.XXXXXXXX.tmp`` (hidden, so that a folder's
readers skip it; the dataset's cleanup removes any left by a build that was killed). Once it is complete it
is flushed to the disk and renamed to the target in one step; if anything fails on the way (a frame that
cannot be encoded, a full disk, a folder made read-only) the temporary file is removed and the target is
as it was: absent, or the old file. So a reader never sees half a file, and a failed command can simply be
run again.

The live capture of a session is the exception, by design: it is written line by line as the frames
happen (:mod:`~flushscope.core.store.capture_writer`), so that a crash loses at most the last line.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

__all__ = ["TEMPORARY_SUFFIX", "all_or_none", "written_whole"]

#: The end of every temporary name (its start is a dot and the target's name).
TEMPORARY_SUFFIX: Final = ".tmp"


def _temporary(path: Path) -> Path:
    """A new, empty temporary file beside ``path`` (created here, so that no other writer takes its name;
    made with the usual permissions, as the target would be)."""
    while True:
        candidate = path.with_name(f".{path.name}.{secrets.token_hex(4)}{TEMPORARY_SUFFIX}")
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate


def _flush_to_disk(path: Path) -> None:
    # Write access: Windows will not flush a file opened for reading.
    fd = os.open(path, os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _put_in_place(temporary: Path, path: Path, overwrite: bool) -> None:
    if overwrite:
        os.replace(temporary, path)
        return
    # A link fails if the target appeared meanwhile: no other writer's file is ever replaced.
    try:
        os.link(temporary, path)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        # A file system without hard links: the check and the rename are two steps there.
        if path.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(path)) from None
        os.replace(temporary, path)
        return
    temporary.unlink()


@contextmanager
def written_whole(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Give the path of a temporary file to write ``path``'s content into; on leaving the ``with`` it
    becomes ``path``. An exception inside the ``with`` removes it and leaves ``path`` as it was.

    ``FileExistsError`` when ``path`` exists and not ``overwrite``: at once, before anything is written,
    and again at the end if another writer made it meanwhile. OSError if the folder cannot take the file."""
    target = Path(path)
    if not overwrite and target.exists():
        raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fspath(target))
    temporary = _temporary(target)
    try:
        yield temporary
        _flush_to_disk(temporary)
        _put_in_place(temporary, target, overwrite)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def all_or_none(writes: Iterable[Callable[[], Path]]) -> list[Path]:
    """Run each write (each makes one file, whole or not at all) in order and return their paths; if one
    fails, the files the earlier ones made are removed before its exception goes on, so that a failed export
    leaves no part of itself behind."""
    done: list[Path] = []
    try:
        for write in writes:
            done.append(write())
    except BaseException:
        for path in done:
            path.unlink(missing_ok=True)
        raise
    return done
