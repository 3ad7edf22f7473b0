"""Where a play position falls on a lane, and which audio position a point of a lane stands for (no Qt).

In audio mode both are the same number. In arrival mode a position in the context's audio is placed in the
block of the chunk that holds it, in proportion along the block, so the playhead glides across each block
and jumps over the gaps between chunks, as the audio did when it arrived; since-first-send mode is arrival
mode shifted by the lane's origin.
"""

from __future__ import annotations

import numpy as np

from flushscope.ui.timeline.model.lanes import AxisMode, Lane


def playhead_value(lane: Lane, mode: AxisMode, audio: float) -> float | None:
    """The axis value of the position ``audio`` seconds into the lane's context audio (None: no chunks)."""
    if mode is AxisMode.AUDIO:
        return audio
    shift = lane.origin if mode is AxisMode.SINCE_SEND else 0.0
    starts = lane.start.values
    if not len(starts):
        return None
    k = max(0, int(np.searchsorted(starts, audio, "right")) - 1)
    a0, a1 = float(starts[k]), float(lane.a_end.values[k])
    t0, t1 = float(lane.t.values[k]), float(lane.t_end.values[k])
    frac = min(max((audio - a0) / (a1 - a0), 0.0), 1.0) if a1 > a0 else 0.0
    return t0 + frac * (t1 - t0) - shift


def audio_at_value(lane: Lane, mode: AxisMode, value: float) -> float | None:
    """The position in the lane's context audio that the axis value ``value`` stands for, within the audio
    received (None: no chunks)."""
    ends = lane.a_end.values
    if not len(ends):
        return None
    total = float(ends[-1])
    if mode is AxisMode.AUDIO:
        return min(max(value, 0.0), total)
    if mode is AxisMode.SINCE_SEND:
        value += lane.origin
    times = lane.t.values
    k = int(np.searchsorted(times, value, "right")) - 1
    if k < 0:
        return 0.0
    t0, t1 = float(times[k]), float(lane.t_end.values[k])
    a0, a1 = float(lane.start.values[k]), float(ends[k])
    frac = min(max((value - t0) / (t1 - t0), 0.0), 1.0) if t1 > t0 else 1.0
    return a0 + frac * (a1 - a0)
