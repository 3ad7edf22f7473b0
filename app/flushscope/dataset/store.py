"""A dataset folder on disk: its layout, the lock of a build, and writing, replacing and cleaning its files.

Layout: ``DIR/_flushscope_dataset.json`` says what the folder is; ``DIR/TABLE/day=YYYY-MM-DD/part-BATCH.parquet``
holds the rows of the captures of one batch (one build writes a batch every so many rows) that started that
day. The ``captures`` table is the dataset's list of what it holds: a capture is in the dataset when its
``captures`` row is. So a batch writes its other tables first and its ``captures`` files last, and removing a
capture takes its ``captures`` row away first.

Every file is written under a temporary name in its folder (``.part-BATCH.parquet.XXXXXXXX.tmp``, which readers
skip) and renamed into place (:mod:`~flushscope.core.store.whole_file`), so a reader never sees half a file. A build holds ``DIR/_building`` (locked, so that
a second build at once is refused) and removes it at the end; finding it unlocked at the start means the
last build was interrupted, and the rows that no ``captures`` row owns are removed before anything else.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Final

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from flushscope.core.store.whole_file import TEMPORARY_SUFFIX, written_whole
from flushscope.dataset.schema import PARTITION, TABLES

__all__ = ["MARKER", "DatasetError", "DatasetWriter", "Entry", "check_dataset", "table_files"]

MARKER: Final = "_flushscope_dataset.json"
FORMAT: Final = "flushscope-dataset"
#: 2: contexts.name and segments.context_name (a script's name for the context).
VERSION: Final = 2
_LOCK: Final = "_building"
#: A batch is written once it holds this many rows (all tables), or this many captures.
BATCH_ROWS: Final = 250_000
BATCH_CAPTURES: Final = 500


class DatasetError(Exception):
    """A folder that cannot be used as a dataset, or that a build cannot write; one sentence."""


@dataclass(frozen=True)
class Entry:
    """A capture the dataset holds: where it was read from, its size and fingerprint, and its batch."""

    capture_id: str
    path: str
    size: int
    fingerprint: str
    batch: str

    @classmethod
    def of(cls, row: dict[str, Any], batch: str) -> Entry:
        """The entry of a ``captures`` row (as a dict) written in ``batch``."""
        return cls(row["capture_id"], row["path"], row["file_size"], row["fingerprint"], batch)


def table_files(root: Path, table: str) -> list[Path]:
    """The Parquet files of ``table`` (every day), in path order."""
    folder = root / table
    if not folder.is_dir():
        return []
    return sorted(
        Path(dirpath, name)
        for dirpath, _dirs, names in os.walk(folder)
        for name in names
        if name.endswith(".parquet") and not name.startswith((".", "_"))
    )


def check_dataset(root: Path) -> int:
    """The version of the dataset at ``root``; :class:`DatasetError` unless this flushscope reads it."""
    try:
        marker = json.loads((root / MARKER).read_text(encoding="utf-8"))
    except FileNotFoundError:
        if root.is_dir():
            raise DatasetError(f"{root} is not a flushscope dataset (no {MARKER})") from None
        raise DatasetError(f"{root}: no such folder") from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"{root / MARKER}: cannot be read: {exc}") from None
    if not isinstance(marker, dict) or marker.get("format") != FORMAT:
        raise DatasetError(f"{root / MARKER} does not describe a flushscope dataset")
    version = marker.get("version")
    if not isinstance(version, int) or version > VERSION:
        raise DatasetError(f"{root} is a dataset of a newer flushscope (version {version!r})")
    return version


def _batch_of(file: Path) -> str:
    return file.stem.removeprefix("part-")


def _write(table: pa.Table, path: Path) -> None:
    """``table`` to ``path``, atomically: a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with written_whole(path, overwrite=True) as temporary:
        pq.write_table(table, temporary, compression="zstd")


def _keep_only(file: Path, keep: pa.Array) -> None:
    """Rewrite ``file`` with only the rows whose ``capture_id`` is in ``keep`` (delete it if none is)."""
    table = pq.read_table(file, partitioning=None)
    kept = table.filter(pc.is_in(table["capture_id"], value_set=keep))
    if kept.num_rows == table.num_rows:
        return
    if kept.num_rows:
        _write(kept, file)
    else:
        file.unlink()


class DatasetWriter:
    """A build's hold on a dataset folder (made if missing): it is locked from entering to leaving, and what
    it holds is :attr:`manifest`. Rows are added a capture at a time and written in batches."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.manifest: dict[str, Entry] = {}
        self.interrupted = False
        self._lock: int | None = None
        self._serial = 0
        self._pending: dict[tuple[str, str], list[pa.Table]] = {}
        self._pending_rows = 0
        self._pending_captures = 0

    # --- holding the folder -------------------------------------------------------------------------

    def __enter__(self) -> DatasetWriter:
        self._open_folder()
        lock_path = self.root / _LOCK
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            fd = os.open(lock_path, os.O_RDWR)
            self.interrupted = True
        except OSError as exc:
            raise DatasetError(f"{self.root}: cannot be written: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise DatasetError(f"{self.root}: another build is writing this dataset") from None
        self._lock = fd
        self._remove_temporaries()
        self.manifest = self._read_manifest()
        if self.interrupted:
            self._sweep()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        try:
            if kind is None:
                self.flush()
                # Only a build that ended well says so; any other end leaves the sign of an interruption.
                (self.root / _LOCK).unlink()
        finally:
            if self._lock is not None:
                os.close(self._lock)
                self._lock = None

    def _open_folder(self) -> None:
        root = self.root
        if (root / MARKER).exists():
            version = check_dataset(root)
            if version < VERSION:
                # Its files have fewer columns than new ones would: a table must have one schema to be read.
                raise DatasetError(
                    f"{root} was built by an older flushscope (dataset version {version}); it can still be "
                    "queried, but new captures go into a new dataset: give another --out"
                )
            return
        if root.exists() and (not root.is_dir() or any(root.iterdir())):
            raise DatasetError(f"{root} exists and is not a flushscope dataset: choose another --out")
        try:
            root.mkdir(parents=True, exist_ok=True)
            (root / MARKER).write_text(json.dumps({"format": FORMAT, "version": VERSION}) + "\n")
        except OSError as exc:
            raise DatasetError(f"{root}: cannot be made: {exc.strerror or exc}") from None

    def _files(self) -> Iterator[tuple[str, Path]]:
        for table in TABLES:
            for file in table_files(self.root, table):
                yield table, file

    def _remove_temporaries(self) -> None:
        for dirpath, _dirs, names in os.walk(self.root):
            for name in names:
                if name.startswith(".") and name.endswith(TEMPORARY_SUFFIX):
                    Path(dirpath, name).unlink()

    def _read_manifest(self) -> dict[str, Entry]:
        manifest: dict[str, Entry] = {}
        columns = ["capture_id", "path", "file_size", "fingerprint"]
        for file in table_files(self.root, "captures"):
            batch = _batch_of(file)
            rows = pq.read_table(file, columns=columns, partitioning=None).to_pylist()
            for row in rows:
                manifest[row["capture_id"]] = Entry.of(row, batch)
        return manifest

    def _sweep(self) -> None:
        """Remove the rows of captures the dataset does not hold (an interrupted build wrote or was removing
        them)."""
        held = pa.array(list(self.manifest), pa.string())
        for table, file in self._files():
            if table == "captures":
                continue
            ids = pq.read_table(file, columns=["capture_id"], partitioning=None)["capture_id"]
            if not pc.all(pc.is_in(ids, value_set=held)).as_py():
                _keep_only(file, held)

    # --- changing what it holds ---------------------------------------------------------------------

    def remove(self, capture_ids: Iterable[str]) -> None:
        """Take these captures out of the dataset: their ``captures`` rows first, then their other rows."""
        gone = {cid for cid in capture_ids if cid in self.manifest}
        if not gone:
            return
        batches = {self.manifest[cid].batch for cid in gone}
        for cid in gone:
            del self.manifest[cid]
        keep = pa.array(list(self.manifest), pa.string())
        files = [(table, file) for table, file in self._files() if _batch_of(file) in batches]
        files.sort(key=lambda item: item[0] != "captures")
        for _table, file in files:
            _keep_only(file, keep)

    def add(self, day: str, tables: dict[str, pa.Table]) -> None:
        """Add one capture's rows (a table each), to be written with its batch."""
        for table, rows in tables.items():
            self._pending.setdefault((table, day), []).append(rows)
            self._pending_rows += rows.num_rows
        self._pending_captures += 1
        if self._pending_rows >= BATCH_ROWS or self._pending_captures >= BATCH_CAPTURES:
            self.flush()

    def flush(self) -> None:
        """Write the batch: every table but ``captures``, then ``captures``, a file per table and day."""
        if not self._pending:
            return
        self._serial += 1
        batch = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{os.getpid()}-{self._serial}"
        order = sorted(self._pending, key=lambda key: (key[0] == "captures", key))
        for table, day in order:
            rows = pa.concat_tables(self._pending[(table, day)])
            if rows.num_rows:
                _write(rows, self.root / table / f"{PARTITION}={day}" / f"part-{batch}.parquet")
        for row in pa.concat_tables(
            [t for (table, _day), parts in self._pending.items() if table == "captures" for t in parts]
        ).to_pylist():
            self.manifest[row["capture_id"]] = Entry.of(row, batch)
        self._pending.clear()
        self._pending_rows = self._pending_captures = 0
