"""A dataset folder as DuckDB views, one per table, named after it: the embedded engine for questions."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa

from flushscope.dataset.schema import PARTITION, TABLES
from flushscope.dataset.store import check_dataset, table_files


def connect(root: str | os.PathLike[str]) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with a view per table of the dataset at ``root`` (times in UTC).
    A table without files (no lints anywhere, ``chunks`` not built) is an empty view with its columns.
    Raises :class:`~flushscope.dataset.store.DatasetError` when ``root`` is not a dataset."""
    folder = Path(root)
    check_dataset(folder)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    for name, schema in TABLES.items():
        files = [os.fspath(f) for f in table_files(folder, name)]
        if files:
            # The file list rather than a glob: a folder name may hold the glob's special characters. Every
            # file of a table has the table's schema (that of the dataset's version), so no file's columns
            # need merging with another's, which would read every file's footer first.
            relation = con.read_parquet(files, hive_partitioning=True)
        else:
            empty = pa.Table.from_pylist([], schema=schema.append(pa.field(PARTITION, pa.date32())))
            relation = con.from_arrow(empty)
        relation.create_view(name)
    return con


def pick_captures(
    con: duckdb.DuckDBPyConnection, since: datetime | None = None, until: datetime | None = None
) -> None:
    """Make the temporary table ``picked`` (``capture_id``, ``path``, ``started``): the captures that started
    in [``since``, ``until``) (either end open when None; with neither, every capture, also those whose
    start is unknown)."""
    where, values = [], []
    if since is not None:
        where.append("started >= ?")
        values.append(since)
    if until is not None:
        where.append("started < ?")
        values.append(until)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE picked AS SELECT capture_id, path, started FROM captures"
        + (" WHERE " + " AND ".join(where) if where else ""),
        values,
    )
