"""The answer of a query printed as an aligned table, CSV or JSON (CSV and JSON streamed in batches)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any, Final, TextIO

import duckdb

from flushscope.core.shown_text import escaped, json_shown

_BATCH: Final = 10_000


def _batches(cursor: duckdb.DuckDBPyConnection) -> Iterator[list[tuple[Any, ...]]]:
    while rows := cursor.fetchmany(_BATCH):
        yield rows


def _columns(cursor: duckdb.DuckDBPyConnection) -> list[str]:
    return [d[0] for d in cursor.description or []]


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _text(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, float):
        return f"{value:.6g}" if abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    # One line per row whatever the text holds, and nothing a terminal would obey.
    return escaped(str(value))


def write_table(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    """The rows as aligned columns (numbers to the right) under their names; returns the row count."""
    names = [escaped(name) for name in _columns(cursor)]
    rows = cursor.fetchall()
    cells = [[_text(v) for v in row] for row in rows]
    numeric = [
        all(isinstance(row[i], int | float | Decimal) or row[i] is None for row in rows)
        for i in range(len(names))
    ]
    widths = [max([len(n)] + [len(c[i]) for c in cells]) for i, n in enumerate(names)]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if right else v.ljust(w) for v, w, right in zip(values, widths, numeric, strict=True)
        ).rstrip()

    print(line(names), file=out)
    print("  ".join("-" * w for w in widths), file=out)
    for row in cells:
        print(line(row), file=out)
    print(f"({len(rows)} row{'' if len(rows) == 1 else 's'})", file=out)
    return len(rows)


def write_csv(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    """The rows as CSV with a header line (NULL as an empty field); returns the row count. The text is
    written exactly, as data for another program; to a terminal, what a terminal would obey is escaped."""
    writer = csv.writer(out, lineterminator="\n")
    shown = out.isatty()
    writer.writerow(map(escaped, _columns(cursor)) if shown else _columns(cursor))
    count = 0
    for rows in _batches(cursor):
        if shown:
            writer.writerows([escaped(v) if isinstance(v, str) else v for v in row] for row in rows)
        else:
            writer.writerows(rows)
        count += len(rows)
    return count


def write_json(cursor: duckdb.DuckDBPyConnection, out: TextIO) -> int:
    """The rows as a JSON array of objects, one a line; returns the row count."""
    names = _columns(cursor)
    count = 0
    out.write("[")
    for rows in _batches(cursor):
        for row in rows:
            out.write(",\n" if count else "\n")
            row_json = json.dumps(dict(zip(names, row, strict=True)), ensure_ascii=False, default=_json_value)
            out.write(json_shown(row_json))
            count += 1
    out.write("\n]\n" if count else "]\n")
    return count
