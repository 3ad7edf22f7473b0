"""The session model: connections, contexts, segments and chunks, derived from frames alone.

Every frame goes through :meth:`Session.add` (or, for a capture being opened, :meth:`Session.add_line` and
:meth:`Session.add_chunk_line`); everything else (which segment a chunk belongs to, what went wrong) is derived
from the frames in order, so a capture loaded from disk rebuilds the same model as the live session that
recorded it.

:class:`Session` is a thin front for the parts that do the work, each in a module of its own:

- :mod:`~flushscope.core.model.ingest`: stores each frame and reads it; the only part that knows capture lines
  and base64;
- :mod:`~flushscope.core.model.attribution`: contexts and segments from typed messages (read its docstring
  first);
- :mod:`~flushscope.core.model.findings`: anomalies placed and folded, deadlines and timeouts;
- :mod:`~flushscope.core.model.connections`: connection life from meta frames;
- :mod:`~flushscope.core.model.observers`: who hears of the changes;
- :mod:`~flushscope.core.model.session_audio`: the audio of segments and contexts, read back on demand.

Storage: the frames live in ``session.frames``, a :class:`~flushscope.core.store.frame_store.FrameStore` that
writes each frame's line to the capture file (or keeps it in memory) and keeps only numpy columns of where it
is; every chunk is a row of ``session.chunks``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import numpy as np

from flushscope.core.frames import Direction, Frame
from flushscope.core.model.anomalies import Anomaly
from flushscope.core.model.attribution import Attribution
from flushscope.core.model.connections import Connections
from flushscope.core.model.findings import Findings, Thresholds
from flushscope.core.model.ingest import Added, Ingest, audio_span
from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session_audio import SessionAudio
from flushscope.core.store.audio_reader import AudioReader
from flushscope.core.store.chunk_columns import ChunkColumns
from flushscope.core.store.frame_store import DIRECTIONS, FrameStore

__all__ = ["Session", "rebuild", "replay"]

log = logging.getLogger("flushscope.session")


class Session:
    """All frames of one inspection session and the model derived from them.

    ``store``: where the frames are kept; a new store keeps them in memory until a capture file is attached
    (:meth:`FrameStore.attach`, which the recorder does). ``attribution``: the class that attributes frames,
    :class:`~flushscope.core.model.attribution.Attribution` unless a test gives a subclass that fails, to see
    the model cope with a fault of its own (:meth:`add_uninterpreted`)."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        store: FrameStore | None = None,
        *,
        attribution: type[Attribution] = Attribution,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.frames = store if store is not None else FrameStore()
        #: Every chunk attributed to a context, as numpy columns.
        self.chunks = ChunkColumns()
        self.observers: list[SessionObserver] = []
        self._findings = Findings(self.thresholds, self.observers)
        self._life = life = Connections(self._findings)
        self._attribution = attribution(self.chunks, self._findings, life, self.observers)
        reader = AudioReader(self.frames, self.chunks)
        self._ingest = Ingest(self.frames, reader, self._attribution, life, self._findings, self.observers)
        self.connections = life.by_number
        self.contexts = self._attribution.contexts
        self.anomalies = self._findings.anomalies
        #: Reads the audio of segments and contexts back from where the frames are kept.
        self.audio = SessionAudio(reader, self.contexts)

    # --- frames in ----------------------------------------------------------------------------------

    def add(self, frame: Frame) -> Added:
        """Record a frame and derive what it means; its line goes to the store (the capture file, or
        memory). Says how the frame was stored and whether its text is a JSON object."""
        return self._ingest.add(frame)

    def add_line(self, frame: Frame, offset: int, size: int, raw: bytes) -> Added:
        """Record a frame read from line ``raw`` of the capture file the session's store reads, at ``offset``
        (``size`` bytes): as :meth:`add`, but the store only remembers where the line is."""
        return self._ingest.add_line(frame, offset, size, raw)

    def add_chunk_line(
        self,
        t: float,
        conn: int,
        context_id: str,
        flush_id: int | None,
        nbytes: int,
        offset: int,
        size: int,
        audio: int,
        digest: int = 0,
    ) -> int:
        """Record a plain chunk frame the index pass read from the capture file without its text
        (:func:`~flushscope.core.store.chunk_scan.scan_chunk_line`): its line is at ``offset`` (``size``
        bytes), its base64 ``audio`` bytes into the line and ``nbytes`` of audio; ``digest`` tells it from the
        chunk before (:func:`~flushscope.core.store.chunk_scan.chunk_digest`). Returns the frame's index."""
        return self._ingest.add_chunk_line(t, conn, context_id, flush_id, nbytes, offset, size, audio, digest)

    def add_uninterpreted(self, frame: Frame, error: Exception) -> Frame:
        """Keep a frame that :meth:`add` failed on, and say so: a fault in the model must lose neither the frame
        nor the rest of the recording. ``frame`` is the frame given to ``add``, numbered as the session's next
        frame (as :class:`~flushscope.core.model.recorder.Recorder` and :func:`rebuild` number them).

        ``add`` may have stored the frame before it failed (whole: the store keeps every text as it came); if
        not, it is stored now. An ``internal_error`` anomaly names the frame. Returns the frame as stored."""
        return self._ingest.add_uninterpreted(frame, error)

    def add_text(self, t: float, conn: int, direction: Direction, text: str) -> Frame:
        """Record a frame given its parts; the index is the next one. Returns the frame as stored."""
        return self.add(Frame(len(self.frames), t, conn, direction, text)).frame

    def check_timeouts(self, now: float) -> None:
        """Flag flushes and ends that have waited too long. Called on every frame whose time passes the
        next deadline, and by a live view's timer so that silence is noticed too."""
        self._findings.check_timeouts(now)

    def set_thresholds(self, thresholds: Thresholds) -> None:
        """Use ``thresholds`` from now on: for what arrives next, and for the waits begun after this."""
        self.thresholds = thresholds
        self._findings.thresholds = thresholds
        self._attribution.thresholds_changed()

    def finish(self) -> None:
        """The recording ends here (a capture read to its end, a live session over): every connection still
        open at its last frame is said to end here, with what its contexts still awaited. A wait that was not
        over at the last frame is cut short, not a timeout (waits that were over are flagged already)."""
        if not self.frames:
            return
        conns = self.frames.column("conn")
        talked = conns[self.frames.column("dir") != DIRECTIONS.index(Direction.META)]
        still_open = self._life.still_open(np.unique(talked).tolist())
        last = {conn: int(np.flatnonzero(conns == conn)[-1]) for conn in still_open}
        self._findings.recording_ends(self.frames.last_t, self.contexts, last)

    # --- lookups ------------------------------------------------------------------------------------

    def context(self, context_id: str, conn: int | None = None) -> Context | None:
        """The latest context with this id (on ``conn`` when given)."""
        if conn is not None:
            return self._attribution.context_on(conn, context_id)
        for ctx in reversed(self.contexts):
            if ctx.context_id == context_id:
                return ctx
        return None

    def segments(self) -> Iterator[Segment]:
        """Every segment of every context, in context order."""
        for ctx in self.contexts:
            yield from ctx.segments

    @property
    def duration(self) -> float:
        return self.frames.last_t

    def counted_anomalies(self) -> list[Anomaly]:
        """Anomalies that are failures (warnings and errors), not information."""
        return self._findings.counted()

    # --- what the chunk columns say -----------------------------------------------------------------

    def chunks_between(self, t0: float, t1: float) -> slice:
        """Rows of the chunk columns that arrived in [t0, t1) (arrival times are non-decreasing)."""
        t = self.chunks.column("t")
        return slice(int(np.searchsorted(t, t0, "left")), int(np.searchsorted(t, t1, "left")))

    def chunk_row(self, index: int) -> int | None:
        """The row in :attr:`chunks` of frame ``index``, if it is a chunk some context took."""
        frames = self.chunks.column("frame")
        row = int(np.searchsorted(frames, index))
        return row if row < len(frames) and frames[row] == index else None

    def chunk_frames(self, segment: Segment) -> list[int]:
        """The frame of each of ``segment``'s chunks, in arrival order (for one end, use its
        ``first_chunk_frame`` or ``last_chunk_frame``)."""
        frames: list[int] = self.chunks.column("frame")[segment.chunk_rows.values].tolist()
        return frames

    def chunk_times(self, segment: Segment) -> list[float]:
        """When each of ``segment``'s chunks arrived (for the ends, use its ``first_audio_t`` and
        ``last_chunk_t``)."""
        times: list[float] = self.chunks.column("t")[segment.chunk_rows.values].tolist()
        return times

    def segment_of_frame(self, ctx: Context, index: int) -> Segment | None:
        """The segment of ``ctx`` that frame ``index`` belongs to: one of its chunks, one of its transcripts,
        its flush or its flush_done (None for the context's other frames, and for frames of other contexts)."""
        row = self.chunk_row(index)
        if row is not None:
            if self.chunks.value("context", row) != ctx.number - 1:
                return None
            return ctx.segments[int(self.chunks.value("segment", row))]
        return ctx.segment_of_input(index)

    def frame_text(self, index: int, *, elide_audio: bool = True) -> str:
        """A frame's text, read back from where it is kept (StoreError if it cannot be). The audio of a chunk
        frame is shown as its byte count unless ``elide_audio`` is false."""
        text = self.frames[index].text
        if not elide_audio:
            return text
        row = self.chunk_row(index)
        if row is None or not self.chunks.value("nbytes", row):
            return text
        span = audio_span(text)
        if span is None:
            return text
        start, end = span
        return f"{text[:start]}<{self.chunks.value('nbytes', row)} bytes>{text[end:]}"


def rebuild(frames: Iterable[Frame], thresholds: Thresholds | None = None) -> Session:
    """A session derived from frames alone (a HAR file, frames made in memory), kept in memory."""
    return replay(Session(thresholds), frames)


def replay(session: Session, frames: Iterable[Frame]) -> Session:
    """Give ``frames`` to ``session`` in order, numbered as its next frames; returns it. A frame the model
    fails on is kept and flagged, as the recorder does live, so that the recording still loads."""
    for frame in frames:
        if frame.index != len(session.frames):
            frame = Frame(len(session.frames), frame.t, frame.conn, frame.dir, frame.text)
        try:
            session.add(frame)
        except Exception as exc:
            log.exception("flushscope could not interpret frame %d of the capture", frame.index)
            session.add_uninterpreted(frame, exc)
    return session
