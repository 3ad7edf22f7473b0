"""A growable numpy array that reads like a list of numbers: what the model keeps per chunk and per frame.

A Python list of ints costs 8 bytes of pointer plus a 28-byte int object per item (ints above 256 are not
shared); a session of three million chunks would spend a hundred megabytes on index lists alone. These
arrays cost their dtype's size per item, doubled at most while they grow.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, overload

import numpy as np
import numpy.typing as npt

__all__ = ["BatchedColumns", "GrowableArray"]

_FIRST_CAPACITY = 16


class GrowableArray:
    """Append-only numbers in a numpy array that doubles when full.

    Reads like a list of Python numbers where the model's users expect one: ``len``, truth, ``[i]`` (a
    Python int or float, negative indices too), iteration, ``in``, and ``==`` against any sequence. A slice
    is a numpy array (a copy), and :attr:`values` is a view of the filled part for vectorised work (do not
    keep it across appends).
    """

    __slots__ = ("_data", "_size")

    def __init__(self, dtype: npt.DTypeLike = np.int64, values: Iterable[Any] = ()) -> None:
        initial = np.fromiter(values, dtype=dtype)
        self._data: npt.NDArray[Any] = initial if len(initial) else np.zeros(0, dtype)
        self._size = len(initial)

    @property
    def values(self) -> npt.NDArray[Any]:
        """The filled part, as a view."""
        return self._data[: self._size]

    @property
    def nbytes(self) -> int:
        """Bytes held, spare capacity included."""
        return int(self._data.nbytes)

    def append(self, value: float) -> None:
        size = self._size
        if size == len(self._data):
            self._grow(size + 1)
        self._data[size] = value
        self._size = size + 1

    def extend(self, values: npt.ArrayLike) -> None:
        more = np.asarray(values, dtype=self._data.dtype).ravel()
        size = self._size
        end = size + len(more)
        if end > len(self._data):
            self._grow(end)
        self._data[size:end] = more
        self._size = end

    def resize(self, size: int) -> None:
        """Make the filled part ``size`` items long: cut, or grown with zeros."""
        if size > len(self._data):
            self._grow(size)
        if size > self._size:
            self._data[self._size : size] = 0
        self._size = size

    def _grow(self, needed: int) -> None:
        capacity = max(needed, 2 * len(self._data), _FIRST_CAPACITY)
        grown = np.zeros(capacity, self._data.dtype)
        grown[: self._size] = self._data[: self._size]
        self._data = grown

    def __len__(self) -> int:
        return self._size

    def __bool__(self) -> bool:
        return self._size > 0

    @overload
    def __getitem__(self, key: int) -> Any: ...
    @overload
    def __getitem__(self, key: slice) -> npt.NDArray[Any]: ...
    def __getitem__(self, key: int | slice) -> Any:
        if isinstance(key, slice):
            return self._data[: self._size][key].copy()
        size = self._size
        index = key + size if key < 0 else key
        if not 0 <= index < size:
            raise IndexError(f"index {key} out of range for {size} items")
        return self._data[index].item()

    def __setitem__(self, key: int, value: float) -> None:
        size = self._size
        index = key + size if key < 0 else key
        if not 0 <= index < size:
            raise IndexError(f"index {key} out of range for {size} items")
        self._data[index] = value

    def __iter__(self) -> Iterator[Any]:
        return iter(self._data[: self._size].tolist())

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, int | float | np.number):
            return False
        return bool(np.any(self._data[: self._size] == value))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, GrowableArray):
            return bool(np.array_equal(self.values, other.values))
        if isinstance(other, list | tuple):
            return self.tolist() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def tolist(self) -> list[Any]:
        """The items as a list of Python numbers."""
        result: list[Any] = self._data[: self._size].tolist()
        return result

    def __repr__(self) -> str:
        return f"GrowableArray({self.tolist()!r})"


class BatchedColumns:
    """Rows kept as numpy columns, one row appended at a time: new rows wait in a short Python list (cheap
    per row) and move into the columns in batches, when a column is read or every ``batch`` rows. Each
    column is a :class:`GrowableArray`, so the columns grow as every other array of the model does."""

    def __init__(self, fields: tuple[tuple[str, Any], ...], batch: int = 4096) -> None:
        self.fields = fields
        #: Rows appended so far.
        self.size = 0
        self._columns = tuple(GrowableArray(dtype) for _, dtype in fields)
        self._by_name = {name: column for (name, _), column in zip(fields, self._columns, strict=True)}
        self._position = {name: i for i, (name, _) in enumerate(fields)}
        self._pending: list[tuple[Any, ...]] = []
        self._synced = 0
        self._batch = batch

    def append(self, row: tuple[Any, ...]) -> int:
        """Add a row (its values in the order of ``fields``); returns its index."""
        pending = self._pending
        pending.append(row)
        index = self.size
        self.size = index + 1
        if len(pending) >= self._batch:
            self.sync()
        return index

    def column(self, name: str) -> npt.NDArray[Any]:
        """The filled part of one column (a view; do not keep it across appends)."""
        self.sync()
        return self._by_name[name].values

    def row(self, index: int) -> tuple[Any, ...]:
        """One row, as Python numbers (cheap for the newest rows, which may not be in the columns yet)."""
        if index >= self._synced:
            return self._pending[index - self._synced]
        return tuple(column[index] for column in self._columns)

    def value(self, name: str, index: int) -> Any:
        """One cell, as a Python number."""
        if index >= self._synced:
            return self._pending[index - self._synced][self._position[name]]
        return self._by_name[name][index]

    @property
    def nbytes(self) -> int:
        """Bytes of the columns, spare capacity included."""
        return sum(column.nbytes for column in self._columns)

    def sync(self) -> None:
        """Move the waiting rows into the columns."""
        pending = self._pending
        if not pending:
            return
        for column, values in zip(self._columns, zip(*pending, strict=True), strict=True):
            column.extend(values)
        pending.clear()
        self._synced = self.size
