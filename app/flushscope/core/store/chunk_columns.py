"""Every chunk of a session as numpy columns, for views that draw 100,000 chunks without a Python loop."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from flushscope.core.growable import BatchedColumns


class ChunkColumns:
    """Every chunk of the session as numpy columns, for the timeline (100k chunks drawn without a Python
    loop). Append-only, in batches (:class:`~flushscope.core.growable.BatchedColumns`)."""

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

    def __init__(self) -> None:
        self._rows = BatchedColumns(self._FIELDS)

    @property
    def size(self) -> int:
        """Chunks so far."""
        return self._rows.size

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
        return self._rows.append((t, context, segment, flush_id, start, duration, nbytes, frame, audio))

    def column(self, name: str) -> npt.NDArray[Any]:
        """The filled part of one column (a view; do not keep it across appends)."""
        return self._rows.column(name)

    def value(self, name: str, row: int) -> Any:
        """One cell, as a Python number (cheap for the newest rows, which may not be in the arrays yet)."""
        return self._rows.value(name, row)

    @property
    def nbytes(self) -> int:
        """Bytes of the columns, spare capacity included."""
        return self._rows.nbytes
