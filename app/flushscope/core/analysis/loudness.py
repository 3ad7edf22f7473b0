"""Levels of decoded audio: RMS in dBFS over short frames, silent runs at either end, the RMS of a window.

dBFS here is the RMS level relative to a full-scale constant (an RMS of 1.0 is 0 dBFS), so a full-scale sine
reads -3.01 dBFS. Digital silence has no finite level; every level is floored at :data:`FLOOR_DBFS` so the
figures stay plain numbers (JSON has no -inf).

All of it is vectorised: a segment's audio is measured with a handful of numpy calls, whatever its length.
"""

from __future__ import annotations

import math
from typing import Any, Final

import numpy as np
import numpy.typing as npt

#: The lowest level reported: quieter audio (digital silence included) reads as this.
FLOOR_DBFS: Final = -120.0

FloatArray = npt.NDArray[np.float64]


def as_float64(samples: npt.NDArray[Any]) -> FloatArray:
    """Samples as float64 with NaN read as silence and +-inf as full scale (an inspector shows what arrived,
    but a level cannot be NaN)."""
    wide: FloatArray = np.asarray(samples, dtype=np.float64)
    if not np.isfinite(wide).all():
        wide = np.nan_to_num(wide, nan=0.0, posinf=1.0, neginf=-1.0)
    return wide


def power_to_dbfs(mean_square: FloatArray) -> FloatArray:
    """Mean squares to dBFS, floored at :data:`FLOOR_DBFS`."""
    floor = 10.0 ** (FLOOR_DBFS / 10.0)
    levels: FloatArray = 10.0 * np.log10(np.maximum(mean_square, floor))
    return levels


def frame_levels(samples: npt.NDArray[Any], frame_len: int) -> FloatArray:
    """The RMS level in dBFS of each run of ``frame_len`` samples from the start; the last frame may be
    shorter. An empty input has no frames."""
    if frame_len < 1:
        raise ValueError(f"frame_len must be at least 1, got {frame_len}")
    return wide_frame_levels(as_float64(samples), frame_len)


def wide_frame_levels(wide: FloatArray, frame_len: int) -> FloatArray:
    """:func:`frame_levels` of samples already through :func:`as_float64` (float64, finite)."""
    if wide.size == 0:
        return np.empty(0, dtype=np.float64)
    starts = np.arange(0, wide.size, frame_len)
    sums = np.add.reduceat(np.square(wide), starts)
    lengths = np.full(len(starts), float(frame_len))
    lengths[-1] = wide.size - starts[-1]
    return power_to_dbfs(sums / lengths)


def level_dbfs(samples: npt.NDArray[Any]) -> float:
    """The RMS level of all of ``samples`` in dBFS (the floor for none)."""
    return wide_level_dbfs(as_float64(samples))


def wide_level_dbfs(wide: FloatArray) -> float:
    """:func:`level_dbfs` of samples already through :func:`as_float64` (float64, finite)."""
    if wide.size == 0:
        return FLOOR_DBFS
    # What np.mean computes (a pairwise sum, then one division), without its layers of Python.
    mean_square = float(np.add.reduce(np.square(wide))) / wide.size
    floor = 10.0 ** (FLOOR_DBFS / 10.0)
    return 10.0 * math.log10(max(mean_square, floor))


def silent_edges(levels: FloatArray, threshold_dbfs: float) -> tuple[int, int]:
    """How many frames at the start and at the end are below ``threshold_dbfs``. A frame exactly at the
    threshold is sound. When every frame is silent both counts are the frame count."""
    loud = np.flatnonzero(levels >= threshold_dbfs)
    if loud.size == 0:
        return levels.size, levels.size
    return int(loud[0]), int(levels.size - 1 - loud[-1])
