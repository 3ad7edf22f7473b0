"""The records of the session model: contexts, their segments, transcripts and connections. Plain data.

They are filled in by the session model as frames arrive (:mod:`~flushscope.core.model.attribution`); views
read them. What grows with every chunk is kept in numpy (:class:`~flushscope.core.growable.GrowableArray`): a
segment holds the rows of its chunks in the session's chunk columns, a context the indices of its frames. The
records hold no service: a segment's audio stays in the capture file and is read back through the session
(``session.audio``, :class:`~flushscope.core.model.session_audio.SessionAudio`), and what the chunk columns
say of a segment's chunks is asked of the session too (``session.chunk_frames(segment)``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

import numpy as np

from flushscope.core.growable import GrowableArray
from flushscope.protocol.audio import AudioFormat
from flushscope.protocol.messages import GenerationRequest

#: The most characters of a context's name the model keeps (a script's names are at most this long).
MAX_NAME: Final = 64


def _rows() -> GrowableArray:
    return GrowableArray(np.int32)


class ContextState(StrEnum):
    OPEN = "open"
    ENDING = "ending"  # continue:false sent, waiting for done
    DONE = "done"
    CANCELLED = "cancelled"
    FAILED = "failed"  # error frame, or the connection went away first


class SegmentState(StrEnum):
    OPEN = "open"  # the client may still add transcripts
    FLUSHING = "flushing"  # flush sent, flush_done not yet received
    CLOSED = "closed"  # flush_done received
    ENDED = "ended"  # the context finished without a flush_done for this segment


@dataclass(frozen=True, slots=True)
class Transcript:
    """One transcript sent, with the frame and time it went out."""

    text: str
    t: float
    frame: int


@dataclass(frozen=True, slots=True)
class TimedToken:
    """A word or phoneme with its times (seconds from the context's first audio, as the server sent them)."""

    text: str
    start: float
    end: float


@dataclass(eq=False)
class Segment:
    """The part of a context between manual flushes: what was sent in it and the audio that came back."""

    context: Context
    ordinal: int
    transcripts: list[Transcript] = field(default_factory=list)
    state: SegmentState = SegmentState.OPEN
    #: Set when the client sent no input for it: the server numbered a segment the client never made.
    server_only: bool = False
    flush_t: float | None = None
    flush_frame: int | None = None
    flush_done_t: float | None = None
    flush_done_frame: int | None = None
    first_audio_t: float | None = None
    #: The segment's chunks in arrival order, as rows of the session's chunk columns (their frame, time,
    #: size and where their audio is are there).
    chunk_rows: GrowableArray = field(default_factory=_rows)
    #: The frames of the first and the last chunk, and when the last one arrived.
    first_chunk_frame: int | None = None
    last_chunk_frame: int | None = None
    last_chunk_t: float | None = None
    nbytes: int = 0
    #: Chunks attributed by order because they carried no flush_id.
    unnumbered_chunks: int = 0
    words: list[TimedToken] = field(default_factory=list)
    phonemes: list[TimedToken] = field(default_factory=list)
    #: Offset of this segment's first sample in the context's audio.
    start_sample: int | None = None

    @property
    def flush_id(self) -> int | None:
        """The server's id for this segment, once the context's numbering base is known."""
        base = self.context.base
        return None if base is None else base + self.ordinal

    @property
    def label(self) -> str:
        """The flush_id when known, else the expected one under the documented numbering."""
        fid = self.flush_id
        return str(fid) if fid is not None else f"~{self.ordinal + 1}"

    @property
    def text(self) -> str:
        """The segment's transcripts as the server stitches them: concatenated verbatim."""
        return "".join(t.text for t in self.transcripts)

    @property
    def first_send_t(self) -> float | None:
        return self.transcripts[0].t if self.transcripts else None

    @property
    def samples(self) -> int:
        fmt = self.context.format
        return fmt.samples_in(self.nbytes) if fmt is not None else 0

    @property
    def audio_seconds(self) -> float:
        fmt = self.context.format
        return fmt.duration(self.nbytes) if fmt is not None else 0.0

    @property
    def chunk_count(self) -> int:
        return len(self.chunk_rows)

    @property
    def start_seconds(self) -> float:
        """Where the segment's audio starts in its context's audio, in seconds (0 before it has any, or while
        the context's format is unknown)."""
        fmt = self.context.format
        rate = fmt.sample_rate if fmt is not None else 0
        if not rate or self.start_sample is None:
            return 0.0
        return self.start_sample / rate

    @property
    def text_ready_t(self) -> float | None:
        """When the server could start speaking this segment: its first send (or its flush, when the context
        asked the server to buffer text and the flush went out before any audio), but not before the
        previous segment's audio had all arrived, since a context's outputs come in order."""
        ready = self.first_send_t
        flush_t, audio_t = self.flush_t, self.first_audio_t
        if ready is None or (
            self.context.buffers_text and flush_t is not None and (audio_t is None or flush_t <= audio_t)
        ):
            ready = flush_t
        if ready is not None and self.ordinal > 0:
            previous = self.context.segments[self.ordinal - 1].last_chunk_t
            if previous is not None and previous > ready and (audio_t is None or previous <= audio_t):
                ready = previous
        return ready

    @property
    def first_audio_ms(self) -> float | None:
        ready = self.text_ready_t
        if ready is None or self.first_audio_t is None:
            return None
        return (self.first_audio_t - ready) * 1000.0

    @property
    def flush_done_ms(self) -> float | None:
        """From the flush request to its flush_done."""
        if self.flush_t is None or self.flush_done_t is None:
            return None
        return (self.flush_done_t - self.flush_t) * 1000.0


@dataclass(eq=False)
class Context:
    """One context_id on one connection: its inputs in order, its segments and its state."""

    number: int
    conn: int
    context_id: str
    first_t: float
    format: AudioFormat | None = None
    request: GenerationRequest | None = None
    segments: list[Segment] = field(default_factory=list)
    state: ContextState = ContextState.OPEN
    #: The server's flush_id of segment 0, fixed by the first flush_id seen.
    base: int | None = None
    #: The label of the connection's client (:attr:`ConnectionInfo.label`), when the proxy recorded it.
    client: str | None = None
    #: The name a scenario gave it (``context greeting``), from the ``context_name`` meta event recorded
    #: before its first send; at most :data:`MAX_NAME` characters, otherwise as recorded. None if unnamed.
    name: str | None = None
    end_t: float | None = None
    done_t: float | None = None
    cancel_t: float | None = None
    error: str | None = None
    #: Indices of the context's frames, in order.
    frames: GrowableArray = field(default_factory=_rows)
    total_bytes: int = 0
    #: Id of the last flush_done seen, for order checks.
    last_flush_done_id: int | None = None
    #: The digest of the context's last chunk, to tell a repeat (0: none to compare).
    last_chunk_digest: int = 0
    flushes_sent: int = 0
    #: Copied from ``format`` for the per-chunk arithmetic: bytes per sample (1 while the format is
    #: unknown, so byte counts still divide) and samples per second (0 while unknown).
    sample_width: int = 1
    sample_rate: int = 0

    @property
    def title(self) -> str:
        """How text names the context: its name (what a terminal would take as a control character written
        as an escape), else its context_id."""
        name = self.name
        if name is None:
            return self.context_id
        return name if name.isprintable() else repr(name)[1:-1]

    @property
    def buffers_text(self) -> bool:
        request = self.request
        if request is None:
            return False
        delay = request.max_buffer_delay_ms
        return delay is None or delay > 0

    @property
    def current(self) -> Segment:
        """The segment the client is adding transcripts to."""
        return self.segments[-1]

    @property
    def audio_seconds(self) -> float:
        return self.format.duration(self.total_bytes) if self.format is not None else 0.0

    @property
    def chunk_count(self) -> int:
        return sum(s.chunk_count for s in self.segments)

    @property
    def finished(self) -> bool:
        return self.state in (ContextState.DONE, ContextState.CANCELLED, ContextState.FAILED)

    def segment_for_flush_id(self, flush_id: int) -> Segment | None:
        if self.base is None:
            return None
        ordinal = flush_id - self.base
        return self.segments[ordinal] if 0 <= ordinal < len(self.segments) else None

    def segment_at(self, seconds: float) -> Segment | None:
        """The segment whose audio holds the position ``seconds`` into the context's audio: the last segment
        with audio that starts at or before it (None if none does)."""
        found: Segment | None = None
        for segment in self.segments:
            if segment.nbytes and segment.start_sample is not None:
                if segment.start_seconds > seconds:
                    break
                found = segment
        return found

    def segment_of_input(self, index: int) -> Segment | None:
        """The segment whose transcript, flush or flush_done is frame ``index`` (None for any other frame; a
        chunk's segment is in the session's chunk columns: ``session.segment_of_frame``)."""
        for segment in self.segments:
            if index in (segment.flush_frame, segment.flush_done_frame):
                return segment
            if any(t.frame == index for t in segment.transcripts):
                return segment
        return None

    def oldest_unclosed(self) -> Segment:
        """Where audio without a flush_id goes: the first segment not yet closed by flush_done."""
        for segment in self.segments:
            if segment.state in (SegmentState.OPEN, SegmentState.FLUSHING) and (
                segment.transcripts or segment is self.segments[-1]
            ):
                return segment
        return self.segments[-1]


@dataclass
class ConnectionInfo:
    """One WebSocket of the session, from its connect meta event to its close."""

    number: int
    url: str | None = None
    #: Who opened it, for connections recorded by the proxy: the client's User-Agent, and its port.
    client: str | None = None
    port: int | None = None
    opened_t: float | None = None
    #: The WebSocket opened (its ``open`` event); a connection that failed before never did.
    opened: bool = False
    closed_t: float | None = None
    close_code: int | None = None
    close_reason: str | None = None
    #: Who ended it, when the capture says: ``app`` (the client), ``server`` (the upstream) or ``proxy``.
    closed_by: str | None = None
    #: The HTTP status its upgrade was refused with, if it was.
    status: int | None = None
    #: The client closed it because the server had stopped answering (its keepalive gave up).
    gave_up: bool = False
    error: str | None = None

    @property
    def label(self) -> str | None:
        """How a person tells this connection from others of the same app: ``cartesia-python/4.2.0 :54321``
        (None for a connection flushscope opened itself)."""
        if self.client is None:
            return None
        return f"{self.client} :{self.port}" if self.port is not None else self.client
