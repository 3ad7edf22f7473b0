"""Attribution: which context and which segment each typed message belongs to, and what that says went wrong.

A state machine over typed messages (:mod:`flushscope.protocol.messages`): it knows neither capture lines nor
base64, only what each frame means and where it stands (its index, time and connection).

Per context the client's inputs are kept in order. Segment k (0-based ``ordinal``) holds the transcripts sent
after the k-th manual flush and before the next one. A server frame goes to the segment whose ``flush_id`` it
carries, ``ordinal = flush_id - base``, where the base (1 as documented, 0 for older servers) is fixed by the
first flush_id seen in the context: that frame belongs to the oldest segment not yet closed. A frame without a
flush_id goes to the oldest segment not yet closed by ``flush_done``, and is flagged. Where the server's
numbering and the client's flushes disagree, a finding names the frames involved
(:class:`~flushscope.core.model.findings.Findings`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from flushscope.core.frames import Frame
from flushscope.core.model import anomalies, connection_anomalies
from flushscope.core.model.connections import Connections
from flushscope.core.model.continuation import Waits, joined_contexts
from flushscope.core.model.findings import Findings
from flushscope.core.model.observers import SessionObserver
from flushscope.core.model.records import (
    ConnectionInfo,
    Context,
    ContextState,
    Segment,
    SegmentState,
    TimedToken,
    Transcript,
)
from flushscope.core.store.chunk_columns import ChunkColumns
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
    ServerMessageT,
    UnknownMessage,
    WordTimestamps,
)

__all__ = ["Attribution", "Placed"]


class Placed(Protocol):
    """Where and when a frame happened: all attribution needs of it besides its message."""

    @property
    def index(self) -> int: ...
    @property
    def t(self) -> float: ...
    @property
    def conn(self) -> int: ...


class _At:
    """A frame known by its place alone: a chunk line read without its text."""

    __slots__ = ("conn", "index", "t")

    def __init__(self, index: int, t: float, conn: int) -> None:
        self.index = index
        self.t = t
        self.conn = conn


class Attribution:
    """The contexts of a session (``session.contexts``) and their segments, built from typed messages in
    order. Each chunk attributed becomes a row of the session's chunk columns; what is wrong goes to
    ``findings``; ``observers`` hear of every change."""

    def __init__(
        self,
        chunks: ChunkColumns,
        findings: Findings,
        connections: Connections,
        observers: list[SessionObserver],
    ) -> None:
        self.contexts: list[Context] = []
        self._by_id: dict[tuple[int, str], Context] = {}
        self._chunks = chunks
        self._findings = findings
        self._flag = findings.flag
        self._stall_s = findings.thresholds.stall_s
        self._connections = connections
        self._observers = observers

    def thresholds_changed(self) -> None:
        """The findings' thresholds were replaced: the stall threshold kept here for every chunk follows."""
        self._stall_s = self._findings.thresholds.stall_s

    # --- lookups ------------------------------------------------------------------------------------

    def context_on(self, conn: int, context_id: str) -> Context | None:
        """The latest context with this id on connection ``conn``."""
        return self._by_id.get((conn, context_id))

    # --- client messages ----------------------------------------------------------------------------

    def request(self, frame: Placed, message: ClientMessage) -> None:
        """A client message: a cancel, or a request that opens a context, adds a transcript, flushes or ends."""
        if isinstance(message, CancelRequest):
            self._cancel(frame, message)
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
                self._findings.await_flush_done(segment, frame.t)
            self._segment_changed(segment)
            self._add_segment(ctx)
        if message.is_end and ctx.state is ContextState.OPEN:
            ctx.state = ContextState.ENDING
            ctx.end_t = frame.t
            self._findings.await_done(ctx, frame.t)
            self._context_changed(ctx)

    def _cancel(self, frame: Placed, message: CancelRequest) -> None:
        ctx = self._by_id.get((frame.conn, message.context_id))
        if ctx is None:
            return
        ctx.frames.append(frame.index)
        if not ctx.finished:
            ctx.state = ContextState.CANCELLED
            ctx.cancel_t = frame.t
            self._context_changed(ctx)

    def _new_context(self, frame: Placed, message: GenerationRequest, reusing: Context | None) -> Context:
        """A context for the request in ``frame``; ``reusing`` is the finished one of the same id, if any."""
        assert message.context_id is not None
        ctx = Context(len(self.contexts) + 1, frame.conn, message.context_id, frame.t, request=message)
        ctx.client = self._connections.label(frame.conn)
        ctx.name = self._connections.take_name(frame.conn, ctx.context_id)
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
        for observer in self._observers:
            observer.context_added(ctx)
        self._add_segment(ctx)
        return ctx

    def join(self, frame: Frame, event: Mapping[str, Any]) -> None:
        """The contexts a previous part of this connection's recording left going on
        (:mod:`~flushscope.core.model.continuation`), as if this part had seen them open."""
        thresholds = self._findings.thresholds
        waits = Waits(thresholds.flush_done_s, thresholds.done_s)
        joined = joined_contexts(event, frame.conn, frame.t, frame.index, waits)
        taken = [ctx for ctx in joined.contexts if (frame.conn, ctx.context_id) not in self._by_id]
        for ctx in taken:
            ctx.number = len(self.contexts) + 1
            ctx.client = self._connections.label(frame.conn)
            self.contexts.append(ctx)
            self._by_id[(frame.conn, ctx.context_id)] = ctx
            for observer in self._observers:
                observer.context_added(ctx)
                for segment in ctx.segments:
                    observer.segment_added(segment)
        for due, item in joined.awaited:
            if (item.context if isinstance(item, Segment) else item) in taken:
                self._findings.deadlines.add(due, item)

    def _add_segment(self, ctx: Context, server_only: bool = False) -> Segment:
        segment = Segment(ctx, len(ctx.segments), server_only=server_only)
        ctx.segments.append(segment)
        for observer in self._observers:
            observer.segment_added(segment)
        return segment

    # --- server messages ----------------------------------------------------------------------------

    def reply(
        self, frame: Placed, message: ServerMessageT, ctx: Context | None, nbytes: int | None, audio: int
    ) -> None:
        """A server message, typed: route it to its context (``ctx``, found by its id on the frame's
        connection). For a chunk, ``nbytes`` is the size of its audio (None if its data was not base64),
        ``audio`` where its base64 is in the frame's line (-1: nowhere to read it, or kept aside)."""
        if isinstance(message, Chunk):
            self.reply_chunk(
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

    def unreadable_reply(self, frame: Placed, ctx: Context | None, frame_type: object, problem: str) -> None:
        """A server frame that is JSON but not a message the protocol allows: listed in its context (if its
        id names one) and flagged."""
        if ctx is not None:
            ctx.frames.append(frame.index)
        self._flag(
            anomalies.unreadable_server_frame(frame_type=frame_type, problem=problem),
            ctx,
            frame=frame.index,
            conn=frame.conn,
        )

    def reply_chunk(
        self,
        index: int,
        t: float,
        conn: int,
        context_id: str | None,
        flush_id: int | None,
        ctx: Context | None,
        nbytes: int | None,
        audio: int,
        digest: int = 0,
    ) -> None:
        """Chunk frame ``index``, however it was read (typed, or scanned without its base64), for context
        ``ctx`` (its id on the connection): routed to the context, then to its segment (:meth:`chunk`).
        ``digest`` (:func:`~flushscope.core.store.chunk_scan.chunk_digest`; 0: none) tells a repeat."""
        if ctx is not None and (ctx.state is ContextState.OPEN or ctx.state is ContextState.ENDING):
            # The common case, without the checks that only flag.
            ctx.frames.append(index)
        else:
            ctx = self._route(_At(index, t, conn), "chunk", context_id, flush_id, ctx, False)
            if ctx is None:
                return
        self.chunk(ctx, index, t, flush_id, nbytes, audio)
        if digest and digest == ctx.last_chunk_digest:
            self._repeated(ctx, index)
        ctx.last_chunk_digest = digest

    def chunk_line(
        self,
        index: int,
        t: float,
        conn: int,
        context_id: str,
        flush_id: int | None,
        nbytes: int,
        audio: int,
        digest: int = 0,
    ) -> None:
        """Chunk frame ``index`` read from a capture line without its text: :meth:`reply_chunk` for the
        context with this id on the connection. Once a chunk line of a capture opened: the common case is
        written out here, not a call away."""
        ctx = self._by_id.get((conn, context_id))
        if ctx is not None and (ctx.state is ContextState.OPEN or ctx.state is ContextState.ENDING):
            ctx.frames.append(index)
            self.chunk(ctx, index, t, flush_id, nbytes, audio)
            if digest and digest == ctx.last_chunk_digest:
                self._repeated(ctx, index)
            ctx.last_chunk_digest = digest
        else:
            self.reply_chunk(index, t, conn, context_id, flush_id, ctx, nbytes, audio, digest)

    def _repeated(self, ctx: Context, index: int) -> None:
        """Chunk frame ``index`` of ``ctx``, just attributed, repeats the context's chunk before it byte for
        byte."""
        segment = ctx.segments[int(self._chunks.value("segment", self._chunks.size - 1))]
        self._flag(
            anomalies.duplicate_chunk(context_id=ctx.context_id, segment=segment.label),
            ctx,
            flush_id=segment.flush_id,
            frame=index,
        )

    def connection_closed(self, index: int, info: ConnectionInfo) -> None:
        """Connection ``info`` closed (meta frame ``index``): its contexts still waiting for audio failed."""
        for ctx in self.contexts:
            if ctx.conn == info.number and ctx.state in (ContextState.OPEN, ContextState.ENDING):
                ctx.state = ContextState.FAILED
                said = " ".join(str(part) for part in (info.close_code, info.close_reason) if part)
                ctx.error = f"connection closed ({said})"
                self._context_changed(ctx)
                finding = connection_anomalies.closed_before_done(
                    context_id=ctx.context_id,
                    code=info.close_code,
                    reason=info.close_reason or "",
                    by=info.closed_by,
                    gave_up=info.gave_up,
                )
                self._flag(finding, ctx, frame=index)

    def _route(
        self,
        frame: Placed,
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

    def chunk(
        self, ctx: Context, index: int, t: float, flush_id: int | None, nbytes: int | None, audio: int
    ) -> None:
        """Chunk frame ``index`` of ``ctx``, at ``t``, into its segment: ``nbytes`` of audio (None: not base64)
        whose base64 is ``audio`` bytes into its line (-1: none to read there). This runs for every chunk:
        lean on purpose."""
        segment = self._attribute(ctx, index, flush_id)
        if nbytes is None:
            self._flag(anomalies.bad_base64(context_id=ctx.context_id), ctx, flush_id=flush_id, frame=index)
            nbytes = 0
        width, rate = ctx.sample_width, ctx.sample_rate
        if nbytes % width or flush_id is None or segment.state is SegmentState.CLOSED:
            self._odd_chunk(ctx, segment, index, flush_id, nbytes)
        last = segment.last_chunk_t
        if last is not None and t - last > self._stall_s and self._findings.stalled(ctx, segment, t):
            self._flag(
                anomalies.stall(context_id=ctx.context_id, segment=segment.label, gap_s=t - last),
                ctx,
                flush_id=segment.flush_id,
                frame=index,
                fold=False,
            )
        # Durations inline with the context's cached width and rate.
        start_sample = ctx.total_bytes // width
        if segment.first_audio_t is None:
            segment.first_audio_t = t
            segment.start_sample = start_sample
            segment.first_chunk_frame = index
            self._findings.slow_first_audio(ctx, segment)
        segment.last_chunk_t = t
        segment.last_chunk_frame = index
        segment.nbytes += nbytes
        ctx.total_bytes += nbytes
        row = self._chunks.append(
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
        for observer in self._observers:
            observer.chunk_added(segment, row)

    def _odd_chunk(
        self, ctx: Context, segment: Segment, index: int, flush_id: int | None, nbytes: int
    ) -> None:
        """Flag what is odd about a chunk: audio that is not a whole number of samples, no flush_id (it was
        attributed by order), or a segment already closed by flush_done."""
        fmt = ctx.format
        if fmt is not None and nbytes % ctx.sample_width:
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

    def _flush_done(self, ctx: Context, frame: Placed, message: FlushDone) -> None:
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

    def _done(self, ctx: Context, frame: Placed) -> None:
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

    def _server_error(self, ctx: Context | None, frame: Placed, message: ErrorMessage) -> None:
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

    # --- notifications ------------------------------------------------------------------------------

    def _segment_changed(self, segment: Segment) -> None:
        for observer in self._observers:
            observer.segment_changed(segment)

    def _context_changed(self, ctx: Context) -> None:
        for observer in self._observers:
            observer.context_changed(ctx)
