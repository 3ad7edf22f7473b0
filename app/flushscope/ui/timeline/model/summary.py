"""One lane's chunks summarised at a few resolutions, so that drawing them at any zoom costs in proportion to
the pixels, not to the chunks (no Qt).

Level ``j`` (from 1) holds one bin per ``FAN ** j`` consecutive chunks of the lane, the last bin of a level
maybe fewer. The top level has a single bin. Per bin, one row of ten numbers:

* ``START``: where its first chunk starts, and ``END``: where its last chunk ends. Chunks of a lane are
  sorted and do not overlap, so every chunk of the bin lies between the two;
* ``KEY`` and ``FIRST``: the segment ordinals of its last and first chunks, ``RUNS``: how many runs of
  one segment its chunks make (1: one segment), and ``SPLIT``: where its last run starts;
* ``GAP``: the widest gap between two consecutive chunks of the bin (0 or less when its audio never
  stops), from ``GAP_FROM`` (the end of the chunk before it) to ``GAP_TO`` (the start of the one after),
  and ``GAP2``: the second widest.

A paint takes the bins of the level that has about one bin per pixel column in view, and opens (takes the
children at the level below instead) only the bins it cannot draw from their row (see :mod:`.lod`): those
that reach over more than one pixel column with two gaps a column could fall into, or one such gap that
does not fall where their segment changes, or more than two runs.

Rows are recomputed only for bins that hold a new or changed chunk: appending ``m`` chunks to a lane
rewrites about ``m / (FAN - 1)`` rows plus the last row of each level. A row is 80 bytes, so the summary
costs about ``80 / (FAN - 1)``, some 11 bytes per chunk and axis (arrival time, audio position).
"""

from __future__ import annotations

import itertools
import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from flushscope.core.growable import GrowableArray

FloatRows = npt.NDArray[np.float64]

#: Chunks per bin at level 1, bins per bin above.
FAN: Final = 8
#: The columns of a row (see the module docstring), and how many there are.
START, END, KEY, FIRST, RUNS, SPLIT, GAP, GAP2, GAP_FROM, GAP_TO = range(10)
FIELDS: Final = 10


def _padded(values: npt.NDArray[Any], count: int) -> npt.NDArray[Any]:
    """``values`` made ``count`` long by repeating its last element (a partial last bin of chunks then reads
    as if its last chunk came again: no new key, no gap)."""
    short = count - len(values)
    if not short:
        return values
    return np.concatenate([values, np.repeat(values[-1:], short, axis=0)])


def _widest(
    gaps: FloatRows, froms: FloatRows, tos: FloatRows, seconds: FloatRows | None, rows: FloatRows
) -> None:
    """Fill the gap fields of ``rows`` from candidate gaps per bin (one row each) with their ends, and the
    second widest gaps of the children (None for chunks)."""
    at = np.arange(len(gaps))
    m = np.argmax(gaps, axis=1)
    rows[:, GAP] = gaps[at, m]
    rows[:, GAP_FROM] = froms[at, m]
    rows[:, GAP_TO] = tos[at, m]
    others = gaps.copy()
    others[at, m] = -np.inf
    second = others.max(axis=1)
    rows[:, GAP2] = second if seconds is None else np.maximum(second, seconds.max(axis=1))


def _bins_of_chunks(
    starts: npt.NDArray[np.float64], ends: npt.NDArray[np.float64], keys: npt.NDArray[Any]
) -> FloatRows:
    """Level-1 rows of consecutive chunks (the first starting a bin)."""
    count = -(-len(starts) // FAN)
    s = _padded(starts, count * FAN).reshape(count, FAN)
    e = _padded(ends, count * FAN).reshape(count, FAN)
    k = _padded(keys, count * FAN).reshape(count, FAN)
    change = k[:, 1:] != k[:, :-1]
    rows = np.empty((count, FIELDS), dtype=np.float64)
    rows[:, START] = s[:, 0]
    rows[:, END] = e[:, -1]
    rows[:, KEY] = k[:, -1]
    rows[:, FIRST] = k[:, 0]
    rows[:, RUNS] = 1 + change.sum(axis=1)
    # The last run starts after the last change (argmax finds the first True of the reversed changes).
    last = np.where(change.any(axis=1), FAN - 1 - np.argmax(change[:, ::-1], axis=1), 0)
    rows[:, SPLIT] = s[np.arange(count), last]
    _widest(s[:, 1:] - e[:, :-1], e[:, :-1], s[:, 1:], None, rows)
    return rows


def _bins_of_bins(children: FloatRows) -> FloatRows:
    """The rows of the level above consecutive rows of a level (the first starting a bin)."""
    count = -(-len(children) // FAN)
    short = count * FAN - len(children)
    if short:
        # Fill the last bin with rows that only carry on its last run: no chunk, no run, no gap.
        last = children[-1]
        filler = np.empty((short, FIELDS), dtype=np.float64)
        filler[:, [START, END, SPLIT, GAP_FROM, GAP_TO]] = last[END]
        filler[:, [KEY, FIRST]] = last[KEY]
        filler[:, RUNS] = 1.0
        filler[:, [GAP, GAP2]] = -np.inf
        children = np.concatenate([children, filler])
    c = children.reshape(count, FAN, FIELDS)
    key = c[:, -1, KEY]
    # Where a child's first run continues the run its predecessor ended with, the two are one run.
    joined = c[:, 1:, FIRST] == c[:, :-1, KEY]
    rows = np.empty((count, FIELDS), dtype=np.float64)
    rows[:, START] = c[:, 0, START]
    rows[:, END] = c[:, -1, END]
    rows[:, KEY] = key
    rows[:, FIRST] = c[:, 0, FIRST]
    rows[:, RUNS] = c[:, :, RUNS].sum(axis=1) - joined.sum(axis=1)
    # The last run: the children at the end that are wholly of the last key, and the last run of the child
    # before them if that ends with the key too.
    whole = (c[:, :, RUNS] == 1.0) & (c[:, :, KEY] == key[:, None])
    mixed = ~whole
    any_mixed = mixed.any(axis=1)
    m = np.where(any_mixed, FAN - 1 - np.argmax(mixed[:, ::-1], axis=1), 0)
    at = np.arange(count)
    inside = c[at, m, KEY] == key
    after = c[at, np.minimum(m + 1, FAN - 1), START]
    rows[:, SPLIT] = np.where(any_mixed, np.where(inside, c[at, m, SPLIT], after), c[:, 0, START])
    # The widest gap is a child's widest or one between two children.
    _widest(
        np.concatenate([c[:, :, GAP], c[:, 1:, START] - c[:, :-1, END]], axis=1),
        np.concatenate([c[:, :, GAP_FROM], c[:, :-1, END]], axis=1),
        np.concatenate([c[:, :, GAP_TO], c[:, 1:, START]], axis=1),
        c[:, :, GAP2],
        rows,
    )
    return rows


def _top_two(
    gaps: list[float], froms: list[float], tos: list[float], seconds: list[float]
) -> tuple[float, float, float, float]:
    """The widest of ``gaps`` (the first of equals) with its ends, and the second widest of the others and
    of ``seconds``: :func:`_widest` for one bin, in plain Python."""
    m = max(range(len(gaps)), key=gaps.__getitem__)
    second = max([-math.inf, *(g for i, g in enumerate(gaps) if i != m), *seconds])
    return gaps[m], second, froms[m], tos[m]


def _row_of_chunks(s: list[float], e: list[float], k: list[float]) -> list[float]:
    """One level-1 row from its chunks, as :func:`_bins_of_chunks` computes it (for rewriting a bin or two,
    where numpy's cost per call is more than the work)."""
    pad = FAN - len(s)
    runs, split = 1, s[0]
    for i in range(1, len(s)):
        if k[i] != k[i - 1]:
            runs, split = runs + 1, s[i]
    last = s[-1] - e[-1]
    gaps = [b - a for a, b in zip(e[:-1], s[1:], strict=True)] + [last] * pad
    gap, second, fro, to = _top_two(gaps, e[:-1] + [e[-1]] * pad, s[1:] + [s[-1]] * pad, [])
    return [s[0], e[-1], k[-1], k[0], float(runs), split, gap, second, fro, to]


def _row_of_rows(children: list[list[float]]) -> list[float]:
    """One row of the level above its children's rows, as :func:`_bins_of_bins` computes it."""
    end, key = children[-1][END], children[-1][KEY]
    filler = [end, end, key, key, 1.0, end, -math.inf, -math.inf, end, end]
    c = children + [filler] * (FAN - len(children))
    joined = sum(1 for a, b in itertools.pairwise(c) if b[FIRST] == a[KEY])
    runs = sum(r[RUNS] for r in c) - joined
    mixed = [m for m, r in enumerate(c) if not (r[RUNS] == 1.0 and r[KEY] == key)]
    if not mixed:
        split = c[0][START]
    else:
        m = mixed[-1]
        split = c[m][SPLIT] if c[m][KEY] == key else c[min(m + 1, FAN - 1)][START]
    pairs = list(itertools.pairwise(c))
    gap, second, fro, to = _top_two(
        [r[GAP] for r in c] + [b[START] - a[END] for a, b in pairs],
        [r[GAP_FROM] for r in c] + [a[END] for a, _ in pairs],
        [r[GAP_TO] for r in c] + [b[START] for _, b in pairs],
        [r[GAP2] for r in c],
    )
    return [c[0][START], end, key, c[0][FIRST], runs, split, gap, second, fro, to]


def depth_for(chunks: int) -> int:
    """How many levels a lane of ``chunks`` chunks has (the top one holds a single bin)."""
    if not chunks:
        return 0
    depth, size = 1, -(-chunks // FAN)
    while size > 1:
        depth, size = depth + 1, -(-size // FAN)
    return depth


class Pyramid:
    """The summary of one lane's chunks on one axis: ``levels[j - 1]`` holds level ``j``'s rows, flat
    (row after row of :data:`FIELDS` numbers; :meth:`rows` gives them as rows).

    :meth:`changed` notes the first chunk that changed since the last :meth:`sync` (appended chunks are
    noticed without it); ``sync`` rewrites the rows from there on, of the levels up to the one asked for
    (a paint uses a few of the lowest levels only)."""

    __slots__ = ("_done", "chunks", "levels")

    def __init__(self) -> None:
        self.levels: list[GrowableArray] = []
        self.chunks = 0  # chunks in the lane at the last sync
        self._done: list[int] = []  # per level: how many chunks its rows are final for

    def changed(self, first: int) -> None:
        """Chunks from ``first`` on changed (or were appended)."""
        self._done = [min(done, first) for done in self._done]

    def depth(self) -> int:
        """How many levels the lane's chunks make, as of the last sync."""
        return depth_for(self.chunks)

    def sync(
        self,
        starts: npt.NDArray[np.float64],
        ends: npt.NDArray[np.float64],
        keys: npt.NDArray[Any],
        upto: int | None = None,
    ) -> None:
        """Bring the rows of levels 1 to ``upto`` (None: all) up to date with the lane's columns (all of
        them; only the changed part is read)."""
        n = len(starts)
        if n < self.chunks:  # a lane only grows; start again if it did not
            self.levels, self._done = [], []
        self.chunks = n
        depth = depth_for(n)
        top = depth if upto is None else min(upto, depth)
        while len(self.levels) < top:
            self.levels.append(GrowableArray(np.float64))
            self._done.append(0)
        for level in range(1, top + 1):
            done = self._done[level - 1]
            if done >= n:
                continue
            first = done // FAN**level  # the first bin to rewrite
            count = -(-n // FAN**level)
            at = first * FAN
            if level == 1:
                if count - first <= 2:
                    rows = np.asarray(
                        [
                            _row_of_chunks(
                                starts[b * FAN : (b + 1) * FAN].tolist(),
                                ends[b * FAN : (b + 1) * FAN].tolist(),
                                keys[b * FAN : (b + 1) * FAN].tolist(),
                            )
                            for b in range(first, count)
                        ],
                        dtype=np.float64,
                    )
                else:
                    rows = _bins_of_chunks(starts[at:], ends[at:], keys[at:])
            else:
                below = self.rows(level - 1)
                if count - first <= 2:
                    rows = np.asarray(
                        [_row_of_rows(below[b * FAN : (b + 1) * FAN].tolist()) for b in range(first, count)],
                        dtype=np.float64,
                    )
                else:
                    rows = _bins_of_bins(below[at:])
            # The rows from the first rewritten on are replaced.
            written = self.levels[level - 1]
            written.resize(first * FIELDS)
            written.extend(rows)
            self._done[level - 1] = n

    def size(self, level: int) -> int:
        """How many rows level ``level`` holds (level 0: the chunks), as of the last sync up to it."""
        return self.chunks if level == 0 else len(self.levels[level - 1]) // FIELDS

    def rows(self, level: int) -> FloatRows:
        """Level ``level``'s rows (``level`` >= 1), as of the last sync up to it."""
        return self.levels[level - 1].values.reshape(-1, FIELDS)
