"""Ingest: frames into the session model, each stored first, then read and handed on as a typed message.

The only part of the model that knows capture lines and base64. A frame's line goes to the store
(:class:`~flushscope.core.store.frame_store.FrameStore`: the capture file, or memory), or, for a capture being
opened, the store only learns where its line already is. A chunk's audio is never decoded on the way in: its
base64 is found in the text (:mod:`~flushscope.core.store.chunk_scan`), checked and measured, and the model
keeps where it lies in the line, to be read back when something plays, draws or measures it. The index pass
that opens a capture (:mod:`~flushscope.core.formats.capture_index`) feeds chunk lines through
:meth:`Ingest.add_chunk_line` without their text, and every other line through :meth:`Ingest.add_line`, so a
loaded capture is the live model again.

What a frame means is attribution's (:class:`~flushscope.core.model.attribution.Attribution`) and the
connections' (:class:`~flushscope.core.model.connections.Connections`); a frame that does not parse is a
finding here.
"""

from __future__ import annotations

from typing import NamedTuple

from flushscope.core.frames import Direction, Frame
from flushscope.core.model import anomalies
from flushscope.core.model.attribution import Attribution
from flushscope.core.model.connection_anomalies import CLIENT_FRAME_LIMIT, oversized_frame
from flushscope.core.model.connections import Connections
from flushscope.core.model.continuation import CONTINUED, ROTATED
from flushscope.core.model.findings import Findings
from flushscope.core.model.observers import SessionObserver
from flushscope.core.store.audio_reader import AudioReader
from flushscope.core.store.chunk_scan import base64_size, scan_chunk_text
from flushscope.core.store.frame_store import FrameStore
from flushscope.protocol.messages import (
    Chunk,
    ProtocolError,
    ServerMessageT,
    decode_base64,
    load_object,
    parse_client_obj,
    parse_server_obj,
)

__all__ = ["Added", "Ingest", "audio_span"]


class Added(NamedTuple):
    """What the session did with a frame it was given."""

    #: The frame as stored (numbered in the session).
    frame: Frame
    #: The frame's text is a JSON object (parsed on the way in), so its capture line holds it inline.
    json_object: bool


class _Line(NamedTuple):
    """A line of the capture file the session reads: where it is, and its bytes."""

    offset: int
    size: int
    raw: bytes


def audio_span(text: str) -> tuple[int, int] | None:
    """Where a chunk frame's base64 stands in its text (characters), if the text is a chunk with audio in it
    verbatim; None for anything else."""
    scanned = scan_chunk_text(text)
    if scanned is not None:
        return scanned.start, scanned.end
    try:
        message = parse_server_obj(load_object(text))
    except ProtocolError:
        return None
    if not isinstance(message, Chunk) or not message.data or (start := text.find(message.data)) < 0:
        return None
    return start, start + len(message.data)


class Ingest:
    """Takes every frame of a session: stores it, reads it, and hands what it means on (``attribution``,
    ``connections``), flagging what does not parse (``findings``). Observers hear of each frame last."""

    def __init__(
        self,
        frames: FrameStore,
        reader: AudioReader,
        attribution: Attribution,
        connections: Connections,
        findings: Findings,
        observers: list[SessionObserver],
    ) -> None:
        self._frames = frames
        self._reader = reader
        self._attribution = attribution
        self._connections = connections
        self._findings = findings
        self._deadlines = findings.deadlines
        self._observers = observers

    def add(self, frame: Frame) -> Added:
        """Record a frame: its line goes to the store (the capture file, or memory)."""
        return self._add(frame, None)

    def add_line(self, frame: Frame, offset: int, size: int, raw: bytes) -> Added:
        """Record a frame read from line ``raw`` of the capture file the store reads, at ``offset`` (``size``
        bytes): the store only remembers where the line is."""
        return self._add(frame, _Line(offset, size, raw))

    def _add(self, frame: Frame, line: _Line | None) -> Added:
        if frame.t >= self._deadlines.next:
            self._findings.check_timeouts(frame.t)
        if frame.index != len(self._frames):
            frame = Frame(len(self._frames), frame.t, frame.conn, frame.dir, frame.text)
        if frame.dir is Direction.RECV:
            added = self._receive(frame, line)
            if len(frame.text) > CLIENT_FRAME_LIMIT:
                self._oversized(frame.index, frame.conn, len(frame.text.encode()))
        elif frame.dir is Direction.SEND:
            added = self._send(frame, line)
        else:
            self._store(frame, False, None, line)
            event = frame.meta()
            closed = self._connections.meta(frame, event)
            if closed is not None:
                self._attribution.connection_closed(frame.index, closed)
            elif event.get("event") == CONTINUED:
                self._attribution.join(frame, event)
            elif event.get("event") == ROTATED:
                self._findings.hand_over(frame.conn)
            added = Added(frame, False)
        for observer in self._observers:
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
        digest: int = 0,
    ) -> int:
        """Record a plain chunk frame read from the capture file without its text
        (:func:`~flushscope.core.store.chunk_scan.scan_chunk_line`): its line is at ``offset`` (``size``
        bytes), its base64 ``audio`` bytes into the line and ``nbytes`` of audio; ``digest`` tells it from the
        chunk before. Returns the frame's index."""
        if t >= self._deadlines.next:
            self._findings.check_timeouts(t)
        index = self._frames.append_line(t, conn, Direction.RECV, offset, size)
        self._attribution.chunk_line(
            index, t, conn, context_id, flush_id, nbytes, audio if nbytes else -1, digest
        )
        if size > CLIENT_FRAME_LIMIT:
            # Its line is longer than its text: only now is the text worth reading back (a rare frame).
            self._oversized(index, conn, len(self._frames.text(index).encode()))
        for observer in self._observers:
            observer.frame_added(index)
        return index

    def add_uninterpreted(self, frame: Frame, error: Exception) -> Frame:
        """Keep a frame that :meth:`add` failed on, with an ``internal_error`` finding naming it (see
        :meth:`flushscope.core.model.session.Session.add_uninterpreted`). Returns the frame as stored."""
        if len(self._frames) <= frame.index:
            frame = Frame(len(self._frames), frame.t, frame.conn, frame.dir, frame.text)
            self._store(frame, False, None, None)
        # ``add`` tells observers last, so they have not heard of it (unless telling them is what failed).
        for observer in self._observers:
            observer.frame_added(frame.index)
        self._findings.flag(
            anomalies.internal_error(error=error), None, frame=frame.index, conn=frame.conn, fold=False
        )
        return frame

    def _store(
        self, frame: Frame, json_object: bool, span: tuple[int, int] | None, line: _Line | None
    ) -> int:
        """Put ``frame`` (numbered as the next frame) in the store: written, or indexed where ``line`` is.
        Returns where the characters ``span`` of its text (a chunk's base64) start in its line, in bytes, or
        -1 when they are not there verbatim (or not asked for)."""
        if line is None:
            _, found = self._frames.append(frame, json_object=json_object, span=span)
            return found
        self._frames.append_line(frame.t, frame.conn, frame.dir, line.offset, line.size)
        if span is None:
            return -1
        piece = frame.text[span[0] : span[1]]
        return line.raw.find(piece.encode("ascii")) if piece.isascii() else -1

    def _send(self, frame: Frame, line: _Line | None) -> Added:
        """Store and read a client frame."""
        try:
            obj = load_object(frame.text)
        except ProtocolError as exc:
            self._store(frame, False, None, line)
            self._malformed(frame, anomalies.malformed_client_frame(problem=exc.message))
            return Added(frame, False)
        self._store(frame, True, None, line)
        try:
            message = parse_client_obj(obj)
        except ProtocolError as exc:
            self._malformed(frame, anomalies.malformed_client_frame(problem=exc.message))
        else:
            self._attribution.request(frame, message)
        return Added(frame, True)

    def _oversized(self, index: int, conn: int, size: int) -> None:
        """Frame ``index`` from the server is ``size`` bytes: flagged when clients would refuse it."""
        if size > CLIENT_FRAME_LIMIT:
            self._findings.flag(oversized_frame(size=size), None, frame=index, conn=conn)

    def _malformed(self, frame: Frame, finding: anomalies.Finding) -> None:
        self._findings.flag(finding, None, frame=frame.index, conn=frame.conn)

    def _receive(self, frame: Frame, line: _Line | None) -> Added:
        """Store and read a server frame: a plain chunk without parsing its base64, anything else parsed."""
        text = frame.text
        attribution = self._attribution
        scanned = scan_chunk_text(text)
        if scanned is not None:
            nbytes = scanned.nbytes
            ctx = attribution.context_on(frame.conn, scanned.context_id)
            span = (scanned.start, scanned.end) if nbytes and ctx is not None else None
            found = self._store(frame, True, span, line)
            audio = self._placed_audio(span, found, text)
            attribution.reply_chunk(
                frame.index,
                frame.t,
                frame.conn,
                scanned.context_id,
                scanned.flush_id,
                ctx,
                nbytes,
                audio,
                scanned.digest,
            )
            return Added(frame, True)
        try:
            obj = load_object(text)
        except ProtocolError as exc:
            self._store(frame, False, None, line)
            self._malformed(frame, anomalies.malformed_server_frame(problem=exc.message))
            return Added(frame, False)
        raw_id = obj.get("context_id")
        ctx = attribution.context_on(frame.conn, raw_id) if isinstance(raw_id, str) else None
        try:
            message = parse_server_obj(obj)
        except ProtocolError as exc:
            self._store(frame, True, None, line)
            attribution.unreadable_reply(frame, ctx, obj.get("type"), exc.message)
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
        attribution.reply(frame, message, ctx, nbytes, self._placed_audio(span, found, text, message))
        return Added(frame, True)

    def _placed_audio(
        self, span: tuple[int, int] | None, found: int, text: str, message: ServerMessageT | None = None
    ) -> int:
        """Where a chunk's base64 is in its line (-1: no audio to place). Audio that is not in the line
        verbatim (an escape inside the JSON string, a secret redacted out of the file) is decoded now and kept
        aside, under the row the chunk is about to get."""
        if span is None:
            return -1
        if found >= 0 and span[1] > span[0]:
            return found
        data = message.data if isinstance(message, Chunk) else text[span[0] : span[1]]
        self._reader.aside[self._reader.columns.size] = decode_base64(data)
        return -1
