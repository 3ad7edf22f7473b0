"""Every chunk of a session as numpy columns, for views that draw 100,000 chunks without a Python loop."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt


class ChunkColumns:
    """Every chunk of the session as numpy columns, for the timeline (100k chunks drawn without a Python
    loop). Append-only. Rows are appended to short Python lists (cheap per chunk) and moved into the numpy
    arrays in batches: when a view asks for a column, or every few thousand rows."""

    _FIELDS: tuple[tuple[str, type[Any]], ...] = (
        ("t", np.float64),  # arrival time
        ("context", np.int32),  # context number - 1
        ("segment", np.int32),  # segment ordinal in its context
        ("flush_id", np.int32),  # -1 when the frame carried none
        ("start", np.float64),  # position in the context's audio, seconds
        ("duration", np.float64),  # seconds of audio in the chunk
        ("nbytes", np.int32),
        ("frame", np.int64),
        # Where the chunk's base64 starts in its frame's line, in bytes (-1: no audio to read back).
        ("audio", np.int32),
    )
    #: The column names, in the order of :meth:`append`'s arguments.
    NAMES: tuple[str, ...] = tuple(name for name, _ in _FIELDS)
    _POSITION: ClassVar[dict[str, int]] = {name: i for i, name in enumerate(NAMES)}
    _BATCH = 4096

    def __init__(self) -> None:
        self.size = 0
        self._arrays: dict[str, npt.NDArray[Any]] = {
            name: np.zeros(1024, dtype) for name, dtype in self._FIELDS
        }
        self._pending: list[tuple[float, int, int, int, float, float, int, int, int]] = []
        self._synced = 0

    def append(
        self,
        t: float,
        context: int,
        segment: int,
        flush_id: int,
        start: float,
        duration: float,
        nbytes: int,
        frame: int,
        audio: int = -1,
    ) -> int:
        """Add a row; returns its index."""
        pending = self._pending
        pending.append((t, context, segment, flush_id, start, duration, nbytes, frame, audio))
        self.size += 1
        if len(pending) >= self._BATCH:
            self._sync()
        return self.size - 1

    def column(self, name: str) -> npt.NDArray[Any]:
        """The filled part of one column (a view; do not keep it across appends)."""
        self._sync()
        return self._arrays[name][: self.size]

    def value(self, name: str, row: int) -> Any:
        """One cell, as a Python number (cheap for the newest rows, which may not be in the arrays yet)."""
        if row >= self._synced:
            return self._pending[row - self._synced][self._POSITION[name]]
        return self._arrays[name][row].item()

    @property
    def nbytes(self) -> int:
        """Bytes of the columns, spare capacity included."""
        return sum(int(a.nbytes) for a in self._arrays.values())

    def _sync(self) -> None:
        pending = self._pending
        if not pending:
            return
        first, last = self._synced, self.size
        capacity = len(self._arrays["t"])
        if last > capacity:
            capacity = max(last, capacity * 2)
            for name, array in self._arrays.items():
                grown = np.zeros(capacity, dtype=array.dtype)
                grown[:first] = array[:first]
                self._arrays[name] = grown
        for (name, _), values in zip(self._FIELDS, zip(*pending, strict=True), strict=True):
            self._arrays[name][first:last] = values
        pending.clear()
        self._synced = last
