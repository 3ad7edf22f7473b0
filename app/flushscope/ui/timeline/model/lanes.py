"""What the timeline holds per context, free of Qt: chunks as sorted numpy columns, markers and brackets.

Per lane, chunk positions are kept as sorted numpy arrays (arrival time and audio position are both
non-decreasing within a context), grown as the bridge reports new rows. Markers and brackets of every lane
are also kept in flat arrays (:class:`_Overlay`), so that a paint culls them all with one mask.

Axis semantics. ``ARRIVAL``: x is session time (the ``t`` column); a block spans from its arrival to the
earlier of its audio duration and the next chunk of the same context (at least one pixel), so blocks never
overlap (every chunk can be hovered) and a gap means audio stopped arriving for longer than it lasts.
``AUDIO``: x is the position in the context's audio (``start``), width the chunk's ``duration``; lanes all
start at 0. Markers and brackets have no audio position of their own: in audio mode they sit at the amount
of the context's audio received before they happened, so a flush_done lands at the end of its segment's
audio (a flush boundary's marker, which has one, sits at it). ``SINCE_SEND``: as ``ARRIVAL``, each lane
shifted so that its context's first frame (its first send) is at 0: contexts started at different times
line up, to compare how each went from its start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import Context, Segment
from flushscope.ui.timeline.model.summary import _Pyramid

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class AxisMode(Enum):
    """What the timeline's x-axis measures."""

    ARRIVAL = "arrival"  # session seconds, when each frame arrived
    AUDIO = "audio"  # seconds into the context's audio
    SINCE_SEND = "since_send"  # seconds since the context's first send

    def next(self) -> AxisMode:
        """The mode after this one, in the order the controls list them."""
        modes = list(AxisMode)
        return modes[(modes.index(self) + 1) % len(modes)]


# Marker kinds, in drawing order (later ones on top). Boundaries, outliers and advice come from the analysis.
_TRANSCRIPT, _FLUSH, _FLUSH_DONE, _DONE, _CANCEL, _WARNING, _ERROR = (
    "transcript",
    "flush",
    "flush_done",
    "done",
    "cancel",
    "warning",
    "error",
)
_BOUNDARY, _OUTLIER, _ADVICE = "boundary", "outlier", "advice"
# A boundary sits where a flush_done often does (in audio mode, exactly): drawn over it, and found first.
_MARKER_KINDS = (
    _TRANSCRIPT,
    _FLUSH,
    _FLUSH_DONE,
    _DONE,
    _CANCEL,
    _BOUNDARY,
    _OUTLIER,
    _ADVICE,
    _WARNING,
    _ERROR,
)


class _Grow:
    """An append-only numpy array that grows by doubling."""

    __slots__ = ("data", "size")

    def __init__(self, dtype: Any) -> None:
        self.data: npt.NDArray[Any] = np.zeros(64, dtype=dtype)
        self.size = 0

    def extend(self, values: npt.NDArray[Any]) -> None:
        end = self.size + len(values)
        if end > len(self.data):
            grown = np.zeros(max(end, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.data[self.size : end] = values
        self.size = end

    def resize(self, size: int) -> None:
        if size > len(self.data):
            grown = np.zeros(max(size, 2 * len(self.data)), dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.size = size

    @property
    def view(self) -> npt.NDArray[Any]:
        return self.data[: self.size]


@dataclass
class _Markers:
    """One lane's markers and segment brackets, sorted by time (rebuilt when its context changes)."""

    times: dict[str, FloatArray]
    audio: dict[str, FloatArray]  # where each marker of a kind sits in audio mode
    refs: dict[str, list[Any]]
    all_times: FloatArray  # every marker of the lane, sorted, with its kind (index in _MARKER_KINDS)
    all_kinds: IntArray
    all_audio: FloatArray  # and where each falls in the context's audio
    ready: FloatArray  # per segment with something to show: text ready, first audio, end (nan: none)
    first: FloatArray
    end: FloatArray
    ongoing: npt.NDArray[np.bool_]  # still waiting: the bar grows to "now"
    ordinal: IntArray
    segments: list[Segment]
    ready_audio: FloatArray
    first_audio: FloatArray
    end_audio: FloatArray  # ongoing: all the audio received so far


@dataclass(frozen=True)
class _Overlay:
    """The markers and brackets of every lane in flat arrays: a paint culls and places them all at once."""

    origin: FloatArray  # per lane: its context's first send
    lane: IntArray  # per marker
    kind: IntArray
    t: FloatArray
    audio: FloatArray
    b_lane: IntArray  # per bracket (segment)
    b_fid: IntArray
    ready: FloatArray
    first: FloatArray
    end: FloatArray
    ongoing: npt.NDArray[np.bool_]
    ready_audio: FloatArray
    first_audio: FloatArray
    end_audio: FloatArray


@dataclass(eq=False)
class _Lane:
    """One context's chunks as sorted columns, plus its markers and the summaries of its chunks for drawing
    them at any zoom (:mod:`.summary`): one on the arrival axis (which since-first-send mode shifts), one on the
    audio axis. Whoever changes the columns calls :meth:`changed`; the summaries catch up when drawn."""

    context: Context
    rows: _Grow = field(default_factory=lambda: _Grow(np.int64))
    t: _Grow = field(default_factory=lambda: _Grow(np.float64))
    t_end: _Grow = field(default_factory=lambda: _Grow(np.float64))
    start: _Grow = field(default_factory=lambda: _Grow(np.float64))
    a_end: _Grow = field(default_factory=lambda: _Grow(np.float64))
    duration: _Grow = field(default_factory=lambda: _Grow(np.float64))
    seg: _Grow = field(default_factory=lambda: _Grow(np.int64))
    anomalies: list[Anomaly] = field(default_factory=list)
    markers: _Markers | None = None
    arrival: _Pyramid = field(default_factory=_Pyramid)
    audio: _Pyramid = field(default_factory=_Pyramid)

    @property
    def origin(self) -> float:
        """Where the lane starts in ``SINCE_SEND`` mode: its context's first frame, the first send."""
        return self.context.first_t

    def spans(self, mode: AxisMode) -> tuple[FloatArray, FloatArray]:
        if mode is AxisMode.ARRIVAL:
            return self.t.view, self.t_end.view
        if mode is AxisMode.SINCE_SEND:
            return self.t.view - self.origin, self.t_end.view - self.origin
        return self.start.view, self.a_end.view

    def axis(self, mode: AxisMode) -> tuple[FloatArray, FloatArray, float]:
        """The stored starts and ends of the chunks that ``mode`` draws, and what to subtract from them for
        the axis: no copy, unlike :meth:`spans`."""
        if mode is AxisMode.AUDIO:
            return self.start.view, self.a_end.view, 0.0
        return self.t.view, self.t_end.view, self.origin if mode is AxisMode.SINCE_SEND else 0.0

    def span(self, mode: AxisMode, index: int) -> tuple[float, float]:
        """Where chunk ``index`` of the lane starts and ends on the axis of ``mode``."""
        starts, ends, shift = self.axis(mode)
        return float(starts[index]) - shift, float(ends[index]) - shift

    def summary(self, mode: AxisMode, upto: int | None = None) -> _Pyramid:
        """The summary of the chunks on the axis of ``mode`` (before its shift), its levels up to ``upto``
        (None: all) brought up to date."""
        starts, ends, _ = self.axis(mode)
        pyramid = self.audio if mode is AxisMode.AUDIO else self.arrival
        pyramid.sync(starts, ends, self.seg.view, upto)
        return pyramid

    def changed(self, first: int) -> None:
        """Chunks from index ``first`` on were changed or appended: the summaries redo them when next used."""
        self.arrival.changed(first)
        self.audio.changed(first)

    def to_axis(self, mode: AxisMode, times: FloatArray) -> FloatArray:
        """Session times (of markers, brackets) as values on the axis of ``mode``."""
        if mode is AxisMode.ARRIVAL:
            return times
        if mode is AxisMode.SINCE_SEND:
            shifted: FloatArray = times - self.origin
            return shifted
        return self.audio_at(times)

    def base(self) -> int:
        """The numbering base for colours: the context's own, or the documented 1 while unknown (which is
        the same as colouring by ordinal + 1)."""
        base = self.context.base
        return 1 if base is None else base

    def audio_at(self, times: FloatArray) -> FloatArray:
        """Seconds of the context's audio received before each time (nan stays nan): a chunk arriving at
        the very time of an event (the first audio itself) starts there rather than ends there."""
        t = self.t.view
        k = np.searchsorted(t, np.nan_to_num(times, nan=-np.inf), side="left")
        ends = np.concatenate(([0.0], self.a_end.view))
        out: FloatArray = ends[k]
        out[np.isnan(times)] = np.nan
        return out
