"""What the timeline holds per context, free of Qt: chunks as sorted numpy columns, markers and brackets.

Per lane, chunk positions are kept as sorted numpy arrays (arrival time and audio position are both
non-decreasing within a context), grown as the bridge reports new rows. Markers and brackets of every lane
are also kept in flat arrays (:class:`Overlay`), so that a paint culls them all with one mask.

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
from enum import Enum, IntEnum
from functools import partial
from typing import Any

import numpy as np
import numpy.typing as npt

from flushscope.core.growable import GrowableArray
from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.records import Context, Segment
from flushscope.ui.timeline.model.summary import Pyramid

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


class MarkerKind(IntEnum):
    """What a marker on the timeline stands for, in drawing order (later kinds on top, and found first
    under the pointer). The value is the kind's index: markers of every kind sit in one numpy column.

    Boundaries, outliers and advice come from the analysis. A boundary sits where a flush_done often does
    (in audio mode, exactly): drawn over it, and found first."""

    TRANSCRIPT = 0
    FLUSH = 1
    FLUSH_DONE = 2
    DONE = 3
    CANCEL = 4
    BOUNDARY = 5
    OUTLIER = 6
    ADVICE = 7
    #: Where a context's recording stops while its connection was still open (a cut, or a file still being
    #: written): information, not a failure.
    END = 8
    WARNING = 9
    ERROR = 10


@dataclass(kw_only=True)
class Markers:
    """One lane's markers and segment brackets, sorted by time (rebuilt when its context changes)."""

    #: Per kind: each marker's session time, where it sits in audio mode, and what it stands for.
    times: dict[MarkerKind, FloatArray]
    audio: dict[MarkerKind, FloatArray]
    refs: dict[MarkerKind, list[Any]]
    #: Every marker of the lane, sorted, with its kind and where it falls in the context's audio.
    all_times: FloatArray
    all_kinds: IntArray
    all_audio: FloatArray
    #: Per segment with something to show: text ready, first audio, end (nan: none), whether it is still
    #: waiting (the bar grows to "now"), its ordinal, the segment, and the same times in audio mode (an
    #: ongoing one ends at all the audio received so far).
    ready: FloatArray
    first: FloatArray
    end: FloatArray
    ongoing: npt.NDArray[np.bool_]
    ordinal: IntArray
    segments: list[Segment]
    ready_audio: FloatArray
    first_audio: FloatArray
    end_audio: FloatArray


@dataclass(frozen=True, kw_only=True)
class Overlay:
    """The markers and brackets of every lane in flat arrays: a paint culls and places them all at once."""

    #: Per lane: its context's first send.
    origin: FloatArray
    #: Per marker: its lane, its kind (a :class:`MarkerKind` value), its time and its place in audio mode.
    lane: IntArray
    kind: IntArray
    t: FloatArray
    audio: FloatArray
    #: Per bracket (segment): its lane, its flush_id for the colour, and its times as in :class:`Markers`.
    b_lane: IntArray
    b_fid: IntArray
    ready: FloatArray
    first: FloatArray
    end: FloatArray
    ongoing: npt.NDArray[np.bool_]
    ready_audio: FloatArray
    first_audio: FloatArray
    end_audio: FloatArray


@dataclass(eq=False)
class Lane:
    """One context's chunks as sorted columns, plus its markers and the summaries of its chunks for drawing
    them at any zoom (:mod:`.summary`): one on the arrival axis (which since-first-send mode shifts), one on the
    audio axis. Whoever changes the columns calls :meth:`changed`; the summaries catch up when drawn."""

    context: Context
    #: Per chunk: its row in the session's chunk columns, arrival and end of its block on the arrival axis,
    #: start and end in the context's audio, audio duration, and segment ordinal.
    rows: GrowableArray = field(default_factory=partial(GrowableArray, np.int64))
    t: GrowableArray = field(default_factory=partial(GrowableArray, np.float64))
    t_end: GrowableArray = field(default_factory=partial(GrowableArray, np.float64))
    start: GrowableArray = field(default_factory=partial(GrowableArray, np.float64))
    a_end: GrowableArray = field(default_factory=partial(GrowableArray, np.float64))
    duration: GrowableArray = field(default_factory=partial(GrowableArray, np.float64))
    seg: GrowableArray = field(default_factory=partial(GrowableArray, np.int64))
    anomalies: list[Anomaly] = field(default_factory=list)
    markers: Markers | None = None
    arrival: Pyramid = field(default_factory=Pyramid)
    audio: Pyramid = field(default_factory=Pyramid)

    @property
    def origin(self) -> float:
        """Where the lane starts in ``SINCE_SEND`` mode: its context's first frame, the first send."""
        return self.context.first_t

    def spans(self, mode: AxisMode) -> tuple[FloatArray, FloatArray]:
        if mode is AxisMode.ARRIVAL:
            return self.t.values, self.t_end.values
        if mode is AxisMode.SINCE_SEND:
            return self.t.values - self.origin, self.t_end.values - self.origin
        return self.start.values, self.a_end.values

    def axis(self, mode: AxisMode) -> tuple[FloatArray, FloatArray, float]:
        """The stored starts and ends of the chunks that ``mode`` draws, and what to subtract from them for
        the axis: no copy, unlike :meth:`spans`."""
        if mode is AxisMode.AUDIO:
            return self.start.values, self.a_end.values, 0.0
        return self.t.values, self.t_end.values, self.origin if mode is AxisMode.SINCE_SEND else 0.0

    def span(self, mode: AxisMode, index: int) -> tuple[float, float]:
        """Where chunk ``index`` of the lane starts and ends on the axis of ``mode``."""
        starts, ends, shift = self.axis(mode)
        return float(starts[index]) - shift, float(ends[index]) - shift

    def summary(self, mode: AxisMode, upto: int | None = None) -> Pyramid:
        """The summary of the chunks on the axis of ``mode`` (before its shift), its levels up to ``upto``
        (None: all) brought up to date."""
        starts, ends, _ = self.axis(mode)
        pyramid = self.audio if mode is AxisMode.AUDIO else self.arrival
        pyramid.sync(starts, ends, self.seg.values, upto)
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
        t, ends = self.t.values, self.a_end.values
        if not len(ends):
            return np.where(np.isnan(times), np.nan, 0.0)
        k = np.searchsorted(t, np.nan_to_num(times, nan=-np.inf), side="left")
        # Only the ends looked up are read: a lane's markers are placed again with each chunk it gets.
        out: FloatArray = np.where(k > 0, ends[k - 1], 0.0)
        out[np.isnan(times)] = np.nan
        return out
