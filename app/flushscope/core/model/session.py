"""The session model: connections, contexts, segments and chunks, derived from frames alone.

Every frame goes through :meth:`Session.add`; everything else (which segment a chunk belongs to, what went
wrong) is derived from the frames in order, so a capture loaded from disk rebuilds the same model as the
live session that recorded it.

Attribution: per context the client's inputs are kept in order. Segment k (0-based ``ordinal``) holds the
transcripts sent after the k-th manual flush and before the next one. A server frame goes to the segment
whose ``flush_id`` it carries, ``ordinal = flush_id - base``, where the base (1 as documented, 0 for older
servers) is fixed by the first flush_id seen in the context: that frame belongs to the oldest segment not yet
closed. A frame without a flush_id goes to the oldest segment not yet closed by ``flush_done``, and is flagged.

Storage: the frames live in ``session.frames``, a :class:`~flushscope.core.store.frame_store.FrameStore` that writes
each frame's line to the capture file (or keeps it in memory) and keeps only numpy columns of where it is. A
chunk's audio is never decoded on the way in: its base64 is found in the text
(:mod:`~flushscope.core.store.chunk_scan`), checked and measured, and read back through ``session.audio`` when
something plays, draws or measures it. The index pass that opens a capture
(:mod:`~flushscope.core.formats.capture_index`) feeds the same model through :meth:`Session.add_chunk_line` and
:meth:`Session.add_line`, so a loaded capture is the live model again.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import numpy as np

from flushscope.core.frames import Direction, Frame
from flushscope.core.growable import GrowableArray
from flushscope.core.model import anomalies
from flushscope.core.model.anomalies import Anomaly, AnomalyKind, Finding, Severity
from flushscope.core.model.deadlines import Deadlines
from flushscope.core.model.records import (
    ConnectionInfo,
    Context,
    ContextState,
    Segment,
    SegmentState,
    TimedToken,
    Transcript,
)
from flushscope.core.store.audio_reader import AudioReader
from flushscope.core.store.chunk_columns import ChunkColumns
from flushscope.core.store.chunk_scan import base64_size, scan_chunk_text
from flushscope.core.store.frame_store import FrameStore
from flushscope.protocol.audio import AudioFormat, AudioFormatError
from flushscope.protocol.messages import (
    CancelRequest,
    Chunk,
    ClientMessage,
    Done,
    ErrorMessage,
    FlushDone,
    GenerationRequest,
    PhonemeTimestamps,
    ProtocolError,
    ServerMessageT,
    UnknownMessage,
    WordTimestamps,
    decode_base64,
    load_object,
    parse_client_obj,
    parse_server_obj,
)

log = logging.getLogger("flushscope.session")


class Added(NamedTuple):
    """What :meth:`Session.add` did with a frame."""

    #: The frame as stored (numbered in the session).
    frame: Frame
    #: The frame's text is a JSON object (parsed on the way in), so its capture line holds it inline.
    json_object: bool


class _Placed(Protocol):
    """Where and when a frame happened: what attribution and anomalies need of it."""

    @property
    def index(self) -> int: ...
    @property
    def t(self) -> float: ...
    @property
    def conn(self) -> int: ...


class _At:
    """A frame known by its place alone: a chunk line the index pass read without its text."""

    __slots__ = ("conn", "index", "t")

    def __init__(self, index: int, t: float, conn: int) -> None:
        self.index = index
        self.t = t
        self.conn = conn


class _Line(NamedTuple):
    """A line of the capture file the session reads: where it is, and its bytes."""

    offset: int
    size: int
    raw: bytes


class SessionObserver:
    """Receives the session's changes as they happen. Override what you need; every call must be cheap
    (thousands per second): record and coalesce, do the work on a timer."""

    def frame_added(self, index: int) -> None:
        """Frame ``index`` was recorded (``session.frames[index]`` reads it back)."""

    def context_added(self, context: Context) -> None:
        """A new context appeared (sent or, for unknown ids, received)."""

    def context_changed(self, context: Context) -> None:
        """A context's state changed (ending, done, cancelled, failed)."""

    def segment_added(self, segment: Segment) -> None:
        """A context got a new segment (after a flush, or numbered by the server)."""

    def segment_changed(self, segment: Segment) -> None:
        """A transcript or timestamps were added to a segment, or it was flushed, closed or ended."""

    def chunk_added(self, segment: Segment, row: int) -> None:
        """A chunk was attributed to ``segment``; ``row`` indexes :attr:`Session.chunks`."""

    def anomaly_added(self, anomaly: Anomaly) -> None:
        """A new anomaly (not a repeat folded into an existing one)."""

    def anomaly_changed(self, anomaly: Anomaly) -> None:
        """A repeat was folded into ``anomaly`` (its frame list grew)."""


@dataclass(frozen=True)
class Thresholds:
    """Times after which silence is an anomaly."""

    stall_s: float = 1.0
    flush_done_s: float = 10.0
    done_s: float = 15.0


class Session:
    """All frames of one inspection session and the model derived from them.

    ``store``: where the frames are kept; a new store keeps them in memory until a capture file is attached
    (:meth:`FrameStore.attach`, which the recorder does)."""

    def __init__(self, thresholds: Thresholds | None = None, store: FrameStore | None = None) -> None:
        self.thresholds = thresholds or Thresholds()
        self.frames = store if store is not None else FrameStore()
        self.connections: dict[int, ConnectionInfo] = {}
        self.contexts: list[Context] = []
        self.anomalies: list[Anomaly] = []
        self.chunks = ChunkColumns()
        #: Reads chunk audio back from where the frames are kept.
        self.audio = AudioReader(self.frames, self.chunks)
        self.observers: list[SessionObserver] = []
        self._by_id: dict[tuple[int, str], Context] = {}
        # Anomalies that repeats fold into, by kind and place (connection, context number or else context id,
        # flush_id or fold key): a context that reuses a finished one's id is another place.
        self._folded: dict[tuple[AnomalyKind, int, int | None, str | None, int | None], Anomaly] = {}
        # Flushes awaiting flush_done and ends awaiting done, checked as time moves on (frame times or
        # check_timeouts).
        self._deadlines: Deadlines[Segment | Context] = Deadlines()

    # --- lookups ------------------------------------------------------------------------------------

    def context(self, context_id: str, conn: int | None = None) -> Context | None:
        """The latest context with this id (on ``conn`` when given)."""
        if conn is not None:
            return self._by_id.get((conn, context_id))
        for ctx in reversed(self.contexts):
            if ctx.context_id == context_id:
                return ctx
        return None

    def segments(self) -> Iterator[Segment]:
        for ctx in self.contexts:
            yield from ctx.segments

    def chunks_between(self, t0: float, t1: float) -> slice:
        """Rows of the chunk columns that arrived in [t0, t1) (arrival times are non-decreasing)."""
        t = self.chunks.column("t")
        return slice(int(np.searchsorted(t, t0, "left")), int(np.searchsorted(t, t1, "left")))

    def chunk_row(self, index: int) -> int | None:
        """The row in :attr:`chunks` of frame ``index``, if it is a chunk some context took."""
        frames = self.chunks.column("frame")
        row = int(np.searchsorted(frames, index))
        return row if row < len(frames) and frames[row] == index else None

    def frame_text(self, index: int, *, elide_audio: bool = True) -> str:
        """A frame's text, read back from where it is kept (StoreError if it cannot be). The audio of a chunk
        frame is shown as its byte count unless ``elide_audio`` is false."""
        text = self.frames[index].text
        if not elide_audio:
            return text
        row = self.chunk_row(index)
        if row is None or not self.chunks.value("nbytes", row):
            return text
        scanned = scan_chunk_text(text)
        if scanned is not None:
            start, end = scanned.start, scanned.end
        else:
            try:
                data = parse_server_obj(load_object(text))
            except ProtocolError:
                return text
            if not isinstance(data, Chunk) or not data.data or (start := text.find(data.data)) < 0:
                return text
            end = start + len(data.data)
        return f"{text[:start]}<{self.chunks.value('nbytes', row)} bytes>{text[end:]}"

    @property
    def duration(self) -> float:
        return self.frames.last_t

    def counted_anomalies(self) -> list[Anomaly]:
        """Anomalies that are failures (warnings and errors), not information."""
        return [a for a in self.anomalies if a.severity is not Severity.INFO]

    # --- ingest -------------------------------------------------------------------------------------

    def add(self, frame: Frame) -> Added:
        """Record a frame and derive what it means; its line goes to the store (the capture file, or
        memory). Says how the frame was stored and whether its text is a JSON object."""
        return self._add(frame, None)

    def add_line(self, frame: Frame, offset: int, size: int, raw: bytes) -> Added:
        """Record a frame read from line ``raw`` of the capture file the session's store reads, at ``offset``
        (``size`` bytes): as :meth:`add`, but the store only remembers where the line is."""
        return self._add(frame, _Line(offset, size, raw))

    def _add(self, frame: Frame, line: _Line | None) -> Added:
        if frame.t >= self._deadlines.next:
            self.check_timeouts(frame.t)
        if frame.index != len(self.frames):
            frame = Frame(len(self.frames), frame.t, frame.conn, frame.dir, frame.text)
        if frame.dir is Direction.RECV:
            added = self._receive(frame, line)
        elif frame.dir is Direction.SEND:
            added = self._send(frame, line)
        else:
            self._store(frame, False, None, line)
            self._meta(frame)
            added = Added(frame, False)
        for observer in self.observers:
            observer.frame_added(frame.index)
        return added

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
    ) -> int:
        """Record a plain chunk frame the index pass read from the capture file without its text
        (:func:`~flushscope.core.store.chunk_scan.scan_chunk_line`): its line is at ``offset`` (``size`` bytes), its
        base64 ``audio`` bytes into the line and ``nbytes`` of audio. Returns the frame's index."""
        if t >= self._deadlines.next:
            self.check_timeouts(t)
        index = self.frames.append_line(t, conn, Direction.RECV, offset, size)
        ctx = self._by_id.get((conn, context_id))
        if ctx is not None and (ctx.state is ContextState.OPEN or ctx.state is ContextState.ENDING):
            # The common case, without the checks that only flag.
            ctx.frames.append(index)
            self._chunk(ctx, index, t, flush_id, nbytes, audio if nbytes else -1)
        else:
            self._reply_chunk(index, t, conn, context_id, flush_id, ctx, nbytes, audio if nbytes else -1)
        for observer in self.observers:
            observer.frame_added(index)
        return index

    def add_uninterpreted(self, frame: Frame, error: Exception) -> Frame:
        """Keep a frame that :meth:`add` failed on, and say so: a fault in the model must lose neither the frame
        nor the rest of the recording. ``frame`` is the frame given to ``add``, numbered as the session's next
        frame (as :class:`~flushscope.core.model.recorder.Recorder` and :func:`rebuild` number them).

        ``add`` may have stored the frame before it failed (whole: the store keeps every text as it came); if
        not, it is stored now. An ``internal_error`` anomaly names the frame. Returns the frame as stored."""
        if len(self.frames) <= frame.index:
            frame = Frame(len(self.frames), frame.t, frame.conn, frame.dir, frame.text)
            self._store(frame, False, None, None)
        # ``add`` tells observers last, so they have not heard of it (unless telling them is what failed).
        for observer in self.observers:
            observer.frame_added(frame.index)
        self._flag(
            anomalies.internal_error(error=error), None, frame=frame.index, conn=frame.conn, fold=False
        )
        return frame

    def add_text(self, t: float, conn: int, direction: Direction, text: str) -> Frame:
        """Record a frame given its parts; the index is the next one. Returns the frame as stored."""
        return self.add(Frame(len(self.frames), t, conn, direction, text)).frame

    def _store(
        self, frame: Frame, json_object: bool, span: tuple[int, int] | None, line: _Line | None
    ) -> int:
        """Put ``frame`` (numbered as the next frame) in the store: written, or indexed where ``line`` is.
        Returns where the characters ``span`` of its text (a chunk's base64) start in its line, in bytes, or
        -1 when they are not there verbatim (or not asked for)."""
        if line is None:
            _, found = self.frames.append(frame, json_object=json_object, span=span)
            return found
        self.frames.append_line(frame.t, frame.conn, frame.dir, line.offset, line.size)
        if span is None:
            return -1
        piece = frame.text[span[0] : span[1]]
        return line.raw.find(piece.encode("ascii")) if piece.isascii() else -1

    def check_timeouts(self, now: float) -> None:
        """Flag flushes and ends that have waited too long. Called on every frame whose time passes the
        next deadline, and by a live view's timer so that silence is noticed too."""
        for item in self._deadlines.due(now):
            if isinstance(item, Segment):
                if item.state is SegmentState.FLUSHING:
                    ctx = item.context
                    self._flag(
                        anomalies.flush_done_timeout(
                            context_id=ctx.context_id,
                            segment=item.label,
                            seconds=self.thresholds.flush_done_s,
                        ),
                        ctx,
                        flush_id=item.flush_id,
                        frame=item.flush_frame,
                    )
            elif item.state is ContextState.ENDING:
                self._flag(
                    anomalies.done_timeout(context_id=item.context_id, seconds=self.thresholds.done_s), item
                )

    def finish(self) -> None:
        """The recording is over: whatever is still awaited will never come."""
        self.check_timeouts(math.inf)

    # --- client frames --------------------------------------------------------------------------------

    def _send(self, frame: Frame, line: _Line | None) -> Added:
        """Store and read a client frame."""
        try:
            obj = load_object(frame.text)
        except ProtocolError as exc:
            self._store(frame, False, None, line)
            self._flag(
                anomalies.malformed_client_frame(problem=exc.message),
                None,
                frame=frame.index,
                conn=frame.conn,
            )
            return Added(frame, False)
        self._store(frame, True, None, line)
        try:
            message = parse_client_obj(obj)
        except ProtocolError as exc:
            self._flag(
                anomalies.malformed_client_frame(problem=exc.message),
                None,
                frame=frame.index,
                conn=frame.conn,
            )
        else:
            self._request(frame, message)
        return Added(frame, True)

    def _request(self, frame: Frame, message: ClientMessage) -> None:
        if isinstance(message, CancelRequest):
            ctx = self._by_id.get((frame.conn, message.context_id))
            if ctx is None:
                return
            ctx.frames.append(frame.index)
            if not ctx.finished:
                ctx.state = ContextState.CANCELLED
                ctx.cancel_t = frame.t
                self._context_changed(ctx)
            return
        if message.context_id is None:
            self._flag(anomalies.request_without_context_id(), None, frame=frame.index, conn=frame.conn)
            return
        ctx = self._by_id.get((frame.conn, message.context_id))
        if ctx is None or ctx.finished:
            ctx = self._new_context(frame, message, reusing=ctx)
        ctx.frames.append(frame.index)
        segment = ctx.current
        if message.transcript.strip() or (message.transcript and not message.is_end and not message.flush):
            segment.transcripts.append(Transcript(message.transcript, frame.t, frame.index))
            self._segment_changed(segment)
        if message.flush:
            ctx.flushes_sent += 1
            segment.flush_t = frame.t
            segment.flush_frame = frame.index
            if segment.state is SegmentState.OPEN:
                segment.state = SegmentState.FLUSHING
                self._deadlines.add(frame.t + self.thresholds.flush_done_s, segment)
            self._segment_changed(segment)
            self._add_segment(ctx)
        if message.is_end and ctx.state is ContextState.OPEN:
            ctx.state = ContextState.ENDING
            ctx.end_t = frame.t
            self._deadlines.add(frame.t + self.thresholds.done_s, ctx)
            self._context_changed(ctx)

    def _new_context(self, frame: Frame, message: GenerationRequest, reusing: Context | None) -> Context:
        """A context for the request in ``frame``; ``reusing`` is the finished one of the same id, if any."""
        assert message.context_id is not None
        ctx = Context(
            len(self.contexts) + 1,
            frame.conn,
            message.context_id,
            frame.t,
            request=message,
            reader=self.audio,
        )
        info = self.connections.get(frame.conn)
        ctx.client = info.label if info is not None else None
        if reusing is not None:
            # Flagged on the new context: the frame that reuses the id is the new context's first.
            self._flag(
                anomalies.context_reused(context_id=ctx.context_id, state=reusing.state.value),
                ctx,
                frame=frame.index,
            )
        try:
            ctx.format = AudioFormat.from_json(message.output_format)
            ctx.sample_width, ctx.sample_rate = ctx.format.encoding.sample_width, ctx.format.sample_rate
        except AudioFormatError as exc:
            self._flag(
                anomalies.bad_output_format(context_id=ctx.context_id, problem=str(exc)),
                ctx,
                frame=frame.index,
            )
        self.contexts.append(ctx)
        self._by_id[(frame.conn, ctx.context_id)] = ctx
        for observer in self.observers:
            observer.context_added(ctx)
        self._add_segment(ctx)
        return ctx

    def _add_segment(self, ctx: Context, server_only: bool = False) -> Segment:
        segment = Segment(ctx, len(ctx.segments), server_only=server_only)
        ctx.segments.append(segment)
        for observer in self.observers:
            observer.segment_added(segment)
        return segment

    # --- server frames ------------------------------------------------------------------------------

    def _receive(self, frame: Frame, line: _Line | None) -> Added:
        text = frame.text
        scanned = scan_chunk_text(text)
        if scanned is not None:
            # A plain chunk: read without parsing (or decoding) its base64.
            nbytes = scanned.nbytes
            ctx = self._by_id.get((frame.conn, scanned.context_id))
            span = (scanned.start, scanned.end) if nbytes and ctx is not None else None
            found = self._store(frame, True, span, line)
            audio = self._placed_audio(frame, span, found, text)
            self._reply_chunk(
                frame.index, frame.t, frame.conn, scanned.context_id, scanned.flush_id, ctx, nbytes, audio
            )
            return Added(frame, True)
        try:
            obj = load_object(text)
        except ProtocolError as exc:
            self._store(frame, False, None, line)
            self._flag(
                anomalies.malformed_server_frame(problem=exc.message),
                None,
                frame=frame.index,
                conn=frame.conn,
            )
            return Added(frame, False)
        raw_id = obj.get("context_id")
        ctx = self._by_id.get((frame.conn, raw_id)) if isinstance(raw_id, str) else None
        try:
            message = parse_server_obj(obj)
        except ProtocolError as exc:
            self._store(frame, True, None, line)
            if ctx is not None:
                ctx.frames.append(frame.index)
            self._flag(
                anomalies.unreadable_server_frame(frame_type=obj.get("type"), problem=exc.message),
                ctx,
                frame=frame.index,
                conn=frame.conn,
            )
            return Added(frame, True)
        nbytes = None
        span = None
        if isinstance(message, Chunk):
            data = message.data
            nbytes = base64_size(data.encode("ascii")) if data.isascii() else None
            # Any place the base64 stands verbatim in the text holds the same audio.
            at = text.find(data) if nbytes and ctx is not None else -1
            span = (at, at + len(data)) if at >= 0 else None
            if nbytes and ctx is not None and span is None:
                span = (0, 0)  # escaped in the JSON: kept aside below
        found = self._store(frame, True, span, line)
        self._reply(frame, message, ctx, nbytes, self._placed_audio(frame, span, found, text, message))
        return Added(frame, True)

    def _placed_audio(
        self,
        frame: Frame,
        span: tuple[int, int] | None,
        found: int,
        text: str,
        message: ServerMessageT | None = None,
    ) -> int:
        """Where a chunk's base64 is in its line (-1: no audio to place). Audio that is not in the line
        verbatim (an escape inside the JSON string, a secret redacted out of the file) is decoded now and kept
        aside, under the row the chunk is about to get."""
        if span is None:
            return -1
        if found >= 0 and span[1] > span[0]:
            return found
        data = message.data if isinstance(message, Chunk) else text[span[0] : span[1]]
        self.audio.aside[self.chunks.size] = decode_base64(data)
        return -1

    def _reply(
        self, frame: _Placed, message: ServerMessageT, ctx: Context | None, nbytes: int | None, audio: int
    ) -> None:
        """A server message, typed and stored: route it to its context (``ctx``, found by its id). ``nbytes``
        is the size of a chunk's audio (None if its data was not base64), ``audio`` where its base64 is in
        the frame's line (-1: nowhere to read it, or kept aside)."""
        if isinstance(message, Chunk):
            self._reply_chunk(
                frame.index, frame.t, frame.conn, message.context_id, message.flush_id, ctx, nbytes, audio
            )
            return
        if message.context_id is None and isinstance(message, ErrorMessage):
            self._server_error(None, frame, message)
            return
        error = isinstance(message, ErrorMessage)
        ctx = self._route(
            frame, message.type, message.context_id, getattr(message, "flush_id", None), ctx, error
        )
        if ctx is None:
            return
        if isinstance(message, WordTimestamps | PhonemeTimestamps):
            segment = self._attribute(ctx, frame.index, message.flush_id)
            timings = message.words if isinstance(message, WordTimestamps) else message.phonemes
            target = segment.words if isinstance(message, WordTimestamps) else segment.phonemes
            target.extend(
                TimedToken(text, start, end)
                for text, start, end in zip(timings.tokens, timings.start, timings.end, strict=True)
            )
            self._segment_changed(segment)
        elif isinstance(message, FlushDone):
            self._flush_done(ctx, frame, message)
        elif isinstance(message, Done):
            self._done(ctx, frame)
        elif isinstance(message, ErrorMessage):
            self._server_error(ctx, frame, message)
        elif isinstance(message, UnknownMessage):
            self._flag(anomalies.unknown_type(frame_type=message.type), ctx, frame=frame.index)

    def _reply_chunk(
        self,
        index: int,
        t: float,
        conn: int,
        context_id: str | None,
        flush_id: int | None,
        ctx: Context | None,
        nbytes: int | None,
        audio: int,
    ) -> None:
        """Chunk frame ``index``, however it was read (typed, or scanned without its base64): into its
        context's segment."""
        routed = self._route(_At(index, t, conn), "chunk", context_id, flush_id, ctx, False)
        if routed is not None:
            self._chunk(routed, index, t, flush_id, nbytes, audio)

    def _route(
        self,
        frame: _Placed,
        kind: str,
        context_id: str | None,
        flush_id: int | None,
        ctx: Context | None,
        error: bool,
    ) -> Context | None:
        """The context a server frame of type ``kind`` goes to, the frame listed there; None, flagged, when
        it names none or one this connection does not have. A frame after done or cancel is flagged."""
        if context_id is None:
            self._flag(
                anomalies.reply_without_context_id(frame_type=kind), None, frame=frame.index, conn=frame.conn
            )
            return None
        if ctx is None:
            self._flag(
                anomalies.unknown_context(context_id=context_id, frame_type=kind),
                None,
                frame=frame.index,
                conn=frame.conn,
                context_id=context_id,
            )
            return None
        ctx.frames.append(frame.index)
        if ctx.state is ContextState.DONE:
            self._flag(
                anomalies.after_done(context_id=ctx.context_id, frame_type=kind),
                ctx,
                flush_id=flush_id,
                frame=frame.index,
            )
        elif ctx.state is ContextState.CANCELLED and not error:
            self._flag(
                anomalies.after_cancel(context_id=ctx.context_id, frame_type=kind), ctx, frame=frame.index
            )
        return ctx

    def _attribute(self, ctx: Context, index: int, flush_id: int | None) -> Segment:
        """The segment a server frame belongs to (see the module docstring)."""
        if flush_id is None:
            return ctx.oldest_unclosed()
        if ctx.base is None:
            oldest = ctx.oldest_unclosed()
            candidate = flush_id - oldest.ordinal
            ctx.base = candidate if candidate in (0, 1) else 1
            self._renumber(ctx)
        ordinal = flush_id - ctx.base
        if ordinal < 0:
            self._flag(
                anomalies.flush_id_below_base(flush_id=flush_id, base=ctx.base),
                ctx,
                flush_id=flush_id,
                frame=index,
            )
            return ctx.oldest_unclosed()
        while ordinal >= len(ctx.segments):
            # The server numbered a segment the client never flushed into existence.
            self._add_segment(ctx, server_only=True)
        return ctx.segments[ordinal]

    def _renumber(self, ctx: Context) -> None:
        """The first flush_id fixed the context's numbering: every segment now has a flush_id and a new
        label, so views hear that each one changed.

        The chunk columns stay as they are. Their ``flush_id`` is what each frame carried, not what
        attribution made of it: views say "attributed by order" where it is -1, and every chunk stored before
        the base was known is such a chunk (a chunk with a flush_id fixes the base before it is stored). Its
        segment is in the ``segment`` column, and that segment's flush_id is now known."""
        for segment in ctx.segments:
            self._segment_changed(segment)

    def _chunk(
        self, ctx: Context, index: int, t: float, flush_id: int | None, nbytes: int | None, audio: int
    ) -> None:
        """Chunk frame ``index`` of ``ctx``, at ``t``: ``nbytes`` of audio (None: not base64) whose base64 is
        ``audio`` bytes into its line. This runs for every chunk: lean on purpose."""
        segment = self._attribute(ctx, index, flush_id)
        if nbytes is None:
            self._flag(
                anomalies.bad_base64(context_id=ctx.context_id),
                ctx,
                flush_id=flush_id,
                frame=index,
            )
            nbytes = 0
        fmt = ctx.format
        width, rate = ctx.sample_width, ctx.sample_rate
        if fmt is not None and nbytes % width:
            self._flag(
                anomalies.partial_sample(
                    nbytes=nbytes, encoding=fmt.encoding.value, sample_width=fmt.encoding.sample_width
                ),
                ctx,
                flush_id=flush_id,
                frame=index,
            )
        if flush_id is None:
            segment.unnumbered_chunks += 1
            self._flag(
                anomalies.missing_flush_id(
                    context_id=ctx.context_id, segment=segment.label, flush_sent=ctx.flushes_sent > 0
                ),
                ctx,
                frame=index,
                fold_key=segment.ordinal,
            )
        if segment.state is SegmentState.CLOSED:
            self._flag(
                anomalies.chunk_after_flush_done(context_id=ctx.context_id, segment=segment.label),
                ctx,
                flush_id=segment.flush_id,
                frame=index,
            )
        last = segment.last_chunk_t
        if last is not None and t - last > self.thresholds.stall_s and self._stalled(ctx, segment, t):
            self._flag(
                anomalies.stall(context_id=ctx.context_id, segment=segment.label, gap_s=t - last),
                ctx,
                flush_id=segment.flush_id,
                frame=index,
                fold=False,
            )
        # Durations inline with the context's cached width and rate: this runs for every chunk.
        start_sample = ctx.total_bytes // width
        if segment.first_audio_t is None:
            segment.first_audio_t = t
            segment.start_sample = start_sample
            segment.first_chunk_frame = index
        segment.last_chunk_t = t
        segment.last_chunk_frame = index
        segment.nbytes += nbytes
        ctx.total_bytes += nbytes
        row = self.chunks.append(
            t,
            ctx.number - 1,
            segment.ordinal,
            -1 if flush_id is None else flush_id,
            start_sample / rate if rate else 0.0,
            nbytes // width / rate if rate else 0.0,
            nbytes,
            index,
            audio if nbytes else -1,
        )
        segment.chunk_rows.append(row)
        for observer in self.observers:
            observer.chunk_added(segment, row)

    def _stalled(self, ctx: Context, segment: Segment, t: float) -> bool:
        """A gap inside a segment with text the server already had: not the wait for the next transcript,
        nor the buffering delay the client asked for."""
        since = segment.last_chunk_t
        assert since is not None  # only asked once the segment has a chunk
        if segment.transcripts:
            since = max(since, segment.transcripts[-1].t)
        if segment.flush_t is not None:
            since = max(since, segment.flush_t)
        allowed = self.thresholds.stall_s
        if ctx.buffers_text and ctx.request is not None:
            delay = ctx.request.max_buffer_delay_ms
            allowed += (3000 if delay is None else delay) / 1000.0
        return t - since > allowed

    def _flush_done(self, ctx: Context, frame: _Placed, message: FlushDone) -> None:
        flush_id = message.flush_id
        if flush_id is None:
            self._flag(
                anomalies.flush_done_without_flush_id(context_id=ctx.context_id), ctx, frame=frame.index
            )
            return
        segment = self._attribute(ctx, frame.index, flush_id)
        assert ctx.base is not None  # a flush_id fixes it
        previous = ctx.last_flush_done_id
        expected = ctx.base if previous is None else previous + 1
        # An id below the first segment's was flagged as such by _attribute.
        if previous is not None and flush_id < expected:
            self._flag(
                anomalies.flush_done_backwards(
                    context_id=ctx.context_id, flush_id=flush_id, previous=previous
                ),
                ctx,
                flush_id=flush_id,
                frame=frame.index,
                fold=False,
            )
        elif flush_id > expected:
            self._flag(
                anomalies.flush_done_skipped(context_id=ctx.context_id, flush_id=flush_id, expected=expected),
                ctx,
                flush_id=flush_id,
                frame=frame.index,
                fold=False,
            )
        ctx.last_flush_done_id = flush_id if previous is None else max(flush_id, previous)
        if segment.flush_t is None:
            self._flag(
                anomalies.flush_done_unrequested(context_id=ctx.context_id, flush_id=flush_id),
                ctx,
                flush_id=flush_id,
                frame=frame.index,
            )
        segment.state = SegmentState.CLOSED
        segment.flush_done_t = frame.t
        segment.flush_done_frame = frame.index
        if segment is ctx.segments[-1]:
            # The server closed the segment the client is still writing to (it was never flushed): what the
            # client sends next belongs to the server's next segment.
            self._add_segment(ctx, server_only=True)
        self._segment_changed(segment)

    def _done(self, ctx: Context, frame: _Placed) -> None:
        if ctx.state is ContextState.DONE:
            return  # already flagged as a frame after done
        pending = [s for s in ctx.segments if s.state is SegmentState.FLUSHING]
        for segment in pending:
            self._flag(
                anomalies.done_while_flush_pending(context_id=ctx.context_id, segment=segment.label),
                ctx,
                flush_id=segment.flush_id,
                frame=segment.flush_frame,
                extra_frame=frame.index,
            )
        for segment in ctx.segments:
            if segment.state in (SegmentState.OPEN, SegmentState.FLUSHING):
                segment.state = SegmentState.ENDED
                self._segment_changed(segment)
        if ctx.state is not ContextState.CANCELLED:
            ctx.state = ContextState.DONE
        ctx.done_t = frame.t
        self._context_changed(ctx)

    def _server_error(self, ctx: Context | None, frame: _Placed, message: ErrorMessage) -> None:
        text = message.text
        if ctx is not None:
            ctx.error = text
            if not ctx.finished:
                ctx.state = ContextState.FAILED
            self._context_changed(ctx)
        self._flag(
            anomalies.server_error(text=text, status_code=message.status_code),
            ctx,
            frame=frame.index,
            conn=frame.conn,
            fold=False,
        )

    # --- meta ---------------------------------------------------------------------------------------

    def _meta(self, frame: Frame) -> None:
        event = frame.meta()
        kind = event.get("event")
        info = self.connections.get(frame.conn)
        if info is None:
            info = self.connections[frame.conn] = ConnectionInfo(frame.conn)
        if kind == "connect":
            info.url = str(event.get("url")) if event.get("url") is not None else None
            info.client = str(event.get("client")) if event.get("client") is not None else None
            port = event.get("port")
            info.port = port if isinstance(port, int) and not isinstance(port, bool) else None
            info.opened_t = frame.t
        elif kind == "error":
            info.error = str(event.get("message", ""))
        elif kind == "close":
            info.closed_t = frame.t
            code = event.get("code")
            info.close_code = code if isinstance(code, int) else None
            info.close_reason = str(event.get("reason") or "")
            for ctx in self.contexts:
                if ctx.conn == frame.conn and ctx.state in (ContextState.OPEN, ContextState.ENDING):
                    ctx.state = ContextState.FAILED
                    ctx.error = f"connection closed ({info.close_code} {info.close_reason})".strip()
                    self._context_changed(ctx)
                    self._flag(
                        anomalies.connection_lost(
                            context_id=ctx.context_id, code=info.close_code, reason=info.close_reason
                        ),
                        ctx,
                        frame=frame.index,
                    )

    # --- notifications and anomalies ----------------------------------------------------------------

    def _segment_changed(self, segment: Segment) -> None:
        for observer in self.observers:
            observer.segment_changed(segment)

    def _context_changed(self, ctx: Context) -> None:
        for observer in self.observers:
            observer.context_changed(ctx)

    def _flag(
        self,
        finding: Finding,
        ctx: Context | None,
        *,
        flush_id: int | None = None,
        frame: int | None = None,
        conn: int | None = None,
        context_id: str | None = None,
        fold: bool = True,
        fold_key: int | None = None,
        extra_frame: int | None = None,
    ) -> Anomaly:
        """Place a finding: in ``ctx`` (or on ``conn``, for ``context_id`` when no context has it), naming
        ``frame`` (and ``extra_frame``). A repeat of a finding of the same kind in the same place (the same
        ``flush_id``, or ``fold_key`` when given) is folded into the first one, unless ``fold`` is false."""
        kind = finding.kind
        context_id = ctx.context_id if ctx is not None else context_id
        conn = ctx.conn if ctx is not None else (conn or 0)
        number = ctx.number if ctx is not None else None
        key = (kind, conn, number, context_id, flush_id if fold_key is None else fold_key)
        if fold and key in self._folded:
            anomaly = self._folded[key]
            if frame is not None:
                anomaly.frames.append(frame)
            for observer in self.observers:
                observer.anomaly_changed(anomaly)
            return anomaly
        anomaly = Anomaly(
            kind=kind,
            severity=finding.severity,
            message=finding.message,
            conn=conn,
            context_id=context_id,
            flush_id=flush_id,
            frames=GrowableArray(np.int64, (f for f in (frame, extra_frame) if f is not None)),
            context_number=number,
        )
        self.anomalies.append(anomaly)
        if fold:
            self._folded[key] = anomaly
        for observer in self.observers:
            observer.anomaly_added(anomaly)
        return anomaly


def rebuild(frames: Iterable[Frame], thresholds: Thresholds | None = None) -> Session:
    """A session derived from frames alone (a HAR file, frames made in memory), kept in memory. A frame the
    model fails on is kept and flagged, as the recorder does live, so that the recording still loads."""
    session = Session(thresholds)
    for frame in frames:
        if frame.index != len(session.frames):
            frame = Frame(len(session.frames), frame.t, frame.conn, frame.dir, frame.text)
        try:
            session.add(frame)
        except Exception as exc:
            log.exception("flushscope could not interpret frame %d of the capture", frame.index)
            session.add_uninterpreted(frame, exc)
    return session
