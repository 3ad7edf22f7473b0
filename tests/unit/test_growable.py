"""The model's growable numbers: one array that doubles, and rows of columns built on it."""

from __future__ import annotations

import numpy as np

from flushscope.core.growable import BatchedColumns, GrowableArray

FIELDS = (("t", np.float64), ("frame", np.int64), ("code", np.int8))


def test_a_growable_array_reads_like_a_list_as_it_grows() -> None:
    values = GrowableArray(np.int32)
    for i in range(1000):
        values.append(i * 3)
    values.extend([7, 8])
    assert len(values) == 1002 and values[0] == 0 and values[-1] == 8 and values[999] == 2997
    assert values == [i * 3 for i in range(1000)] + [7, 8]
    assert 2997 in values and 1 not in values
    assert values.values.dtype == np.int32 and values.nbytes >= 1002 * 4


def test_batched_columns_read_the_same_rows_waiting_or_moved_into_the_columns() -> None:
    rows = BatchedColumns(FIELDS, batch=7)
    expected = [(i / 4, 1000 + i, i % 3) for i in range(50)]
    for i, row in enumerate(expected):
        assert rows.append(row) == i
        # The newest row is read back before it reaches the columns, and every older one after.
        assert rows.row(i) == row and rows.value("frame", i) == 1000 + i
        assert rows.row(i // 2) == expected[i // 2]
    assert rows.size == 50
    assert rows.column("t").tolist() == [r[0] for r in expected]
    assert rows.column("frame").dtype == np.int64 and rows.column("code").tolist() == [r[2] for r in expected]
    assert [rows.row(i) for i in range(50)] == expected
    assert rows.nbytes >= 50 * (8 + 8 + 1)


def test_batched_columns_with_no_rows_are_empty() -> None:
    rows = BatchedColumns(FIELDS)
    assert rows.size == 0 and len(rows.column("t")) == 0 and rows.column("code").dtype == np.int8
