"""What the client sent, per context: every input with its full request, re-read from the send frames.

The session model keeps what attribution needs (non-empty transcripts, flushes, the first request); the
lints need more: empty inputs, the settings of every input, flushes after the end. So the send frames are
parsed again here, once, in order.

Grouping: inputs go to their (connection, context_id). After a context's end (``continue: false``) or its
cancel, an input with text starts a new context (a reused id, as the session model sees it), while a flush
or an empty input still belongs to the context it was meant for: it is the client talking to a context it
has already closed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from flushscope.core.frames import Direction
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.protocol.messages import CancelRequest, GenerationRequest, ProtocolError, parse_client


@dataclass(frozen=True, slots=True)
class SentInput:
    """One generation request as sent: its frame, time, request, and the segment it went into (the number
    of flushes the client had sent on the context before it)."""

    frame: int
    t: float
    request: GenerationRequest
    ordinal: int

    @property
    def transcript(self) -> str:
        return self.request.transcript


@dataclass(eq=False)
class SentContext:
    """A context as the client drove it."""

    conn: int
    context_id: str
    inputs: list[SentInput] = field(default_factory=list)
    #: The first input with ``continue: false``.
    end: SentInput | None = None
    cancel_frame: int | None = None
    #: Inputs sent after the end or the cancel that did not start a new context.
    after_close: list[SentInput] = field(default_factory=list)
    #: The session's record of this context, when it has one.
    model: Context | None = None
    flushes: int = 0
    _segments: dict[int, Segment] | None = None

    @property
    def closed(self) -> bool:
        return self.end is not None or self.cancel_frame is not None

    @property
    def number(self) -> int | None:
        return self.model.number if self.model is not None else None

    @property
    def title(self) -> str:
        """How text names the context: its name when a scenario gave it one, else its context_id."""
        return self.model.title if self.model is not None else self.context_id

    @property
    def first_frame(self) -> int:
        return self.inputs[0].frame

    def segment_of(self, sent: SentInput) -> Segment | None:
        """The session's segment that holds ``sent`` (as a transcript or as its flush), if any."""
        if self.model is None:
            return None
        if self._segments is None:
            self._segments = {}
            for segment in self.model.segments:
                for transcript in segment.transcripts:
                    self._segments[transcript.frame] = segment
                if segment.flush_frame is not None:
                    self._segments.setdefault(segment.flush_frame, segment)
        return self._segments.get(sent.frame)

    def flush_id(self, sent: SentInput) -> int | None:
        """The server's id of the segment ``sent`` went into: the session's, where it attributed the input
        (it knows of segments the server made on its own), else counted from the client's flushes."""
        segment = self.segment_of(sent)
        if segment is not None:
            return segment.flush_id
        base = self.model.base if self.model is not None else None
        return None if base is None else base + sent.ordinal

    def tails(self, width: int = 64) -> list[str]:
        """For each input, the last ``width`` characters of everything sent before it: enough to tell how
        the text so far ends, in one pass however many inputs (LLM token streams send thousands)."""
        tails: list[str] = []
        tail = ""
        for sent in self.inputs:
            tails.append(tail)
            tail = (tail + sent.transcript)[-width:]
        return tails


def sent_contexts(session: Session) -> list[SentContext]:
    """Every context the client sent to, in the order of its first input. Frames that do not parse, and
    requests without a context_id, are left out (the session flags them)."""
    sends = session.frames.indices(Direction.SEND)
    # Only the frames the client sent: a session's chunks outnumber them a hundred to one.
    owner: dict[int, Context] = {}
    for model in session.contexts:
        mine = model.frames.values
        for index in mine[np.isin(mine, sends)].tolist():
            owner[index] = model
    current: dict[tuple[int, str], SentContext] = {}
    contexts: list[SentContext] = []
    for index in sends.tolist():
        frame = session.frames[index]
        try:
            message = parse_client(frame.text)
        except ProtocolError:
            continue
        if isinstance(message, CancelRequest):
            target = current.get((frame.conn, message.context_id))
            if target is not None and target.cancel_frame is None:
                target.cancel_frame = frame.index
            continue
        if message.context_id is None:
            continue
        key = (frame.conn, message.context_id)
        ctx = current.get(key)
        if ctx is not None and ctx.closed:
            if message.transcript.strip():
                ctx = None
            else:
                ctx.after_close.append(SentInput(frame.index, frame.t, message, len(ctx.inputs)))
                continue
        if ctx is None:
            ctx = current[key] = SentContext(frame.conn, message.context_id, model=owner.get(frame.index))
            contexts.append(ctx)
        sent = SentInput(frame.index, frame.t, message, ctx.flushes)
        ctx.inputs.append(sent)
        ctx.flushes += message.flush
        if message.is_end and ctx.end is None:
            ctx.end = sent
    return contexts
