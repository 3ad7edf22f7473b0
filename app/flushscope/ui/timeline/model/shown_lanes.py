"""Which lanes the timeline shows, top to bottom, free of Qt: every context's, or those of one connection.

The lane cache keeps one lane per context, in context order; the view draws the lanes it shows in rows
0, 1, 2... without gaps. :class:`ShownLanes` is the one mapping between the two (a row's lane, a lane's or a
context's row) that layout, painting, hit testing, the playhead, the selection and fitting all go through.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flushscope.core.model.records import Context
from flushscope.ui.timeline.model.lanes import IntArray, Lane


class ShownLanes:
    """The lanes shown and their rows: all of them, or those whose context is on connection :attr:`conn`.
    Kept in step with the cache's lanes by :meth:`update`, which only looks at lanes it has not seen."""

    def __init__(self) -> None:
        self.conn: int | None = None
        self.lanes: list[Lane] = []  # by row
        self.row_of: IntArray = np.zeros(0, dtype=np.int64)  # by the cache's lane index: row, or -1
        self._seen = 0

    def update(self, lanes: Sequence[Lane], conn: int | None) -> bool:
        """Take in the cache's ``lanes`` (only appended to since the last call, unless ``conn`` changed)
        shown under the filter ``conn`` (None: all). Returns whether the rows changed."""
        if conn != self.conn:
            self.conn, self.lanes, self._seen = conn, [], 0
            self.row_of = np.zeros(0, dtype=np.int64)
            changed = True
        else:
            changed = False
        if len(lanes) == self._seen:
            return changed
        new = lanes[self._seen :]
        rows = np.full(len(new), -1, dtype=np.int64)
        for k, lane in enumerate(new):
            if conn is None or lane.context.conn == conn:
                rows[k] = len(self.lanes)
                self.lanes.append(lane)
                changed = True
        self.row_of = np.concatenate([self.row_of, rows])
        self._seen = len(lanes)
        return changed

    def row(self, context: Context) -> int | None:
        """The row of ``context``'s lane, or None if it is not shown (or not one of the cache's)."""
        index = context.number - 1
        if not 0 <= index < len(self.row_of):
            return None
        row = int(self.row_of[index])
        return row if row >= 0 and self.lanes[row].context is context else None

    def __len__(self) -> int:
        return len(self.lanes)
