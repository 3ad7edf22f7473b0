"""What the client sent, per context: every input, re-read from the send frames.

The session model keeps what attribution needs (non-empty transcripts, flushes, the first request); the
lints need more: empty inputs, the settings of every input, flushes after the end. So the send frames are
parsed again here, once, in order: :class:`SentReader` reads those of a growing session as they come, so
that keeping up with a live session costs what its new frames cost. A context's inputs are kept as plain
tuples of plain values (:class:`SentInputs`), not as parsed requests or objects: a long session sends tens of
thousands, and Python's garbage collector, which stops the window's loop while it looks at every object
that may hold others, leaves such tuples alone.

Grouping: inputs go to their (connection, context_id). After a context's end (``continue: false``) or its
cancel, an input with text starts a new context (a reused id, as the session model sees it), while a flush
or an empty input still belongs to the context it was meant for: it is the client talking to a context it
has already closed.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, NamedTuple, overload

import numpy as np

from flushscope.core.frames import Direction
from flushscope.core.model.records import Context, Segment
from flushscope.core.model.session import Session
from flushscope.protocol.messages import (
    CancelRequest,
    GenerationRequest,
    ProtocolError,
    parse_client,
    voice_id_of,
)

#: The settings a context's inputs should agree on, by name, in the order of :attr:`SentInput.settings`.
SETTINGS: Final = ("model", "voice", "language", "output format", "speed")


class SentInput(NamedTuple):
    """One generation request as sent: its frame and time, the segment it went into (the number of flushes
    the client had sent on the context before it), and what the lints read of it."""

    frame: int
    t: float
    ordinal: int
    transcript: str
    flush: bool
    is_end: bool
    add_timestamps: bool
    max_buffer_delay_ms: int | None
    #: The values of :data:`SETTINGS` (None: not given).
    settings: tuple[str | None, ...]

    @classmethod
    def of(cls, frame: int, t: float, request: GenerationRequest, ordinal: int) -> SentInput:
        return cls(
            frame,
            t,
            ordinal,
            request.transcript,
            request.flush,
            request.is_end,
            request.add_timestamps,
            request.max_buffer_delay_ms,
            _settings(request),
        )


def _settings(request: GenerationRequest) -> tuple[str | None, ...]:
    fmt = request.output_format
    speed: object = None
    if request.generation_config is not None and request.generation_config.get("speed") is not None:
        speed = request.generation_config.get("speed")
    elif request.speed is not None:
        speed = request.speed
    return (
        request.model_id,
        voice_id_of(request.voice),
        request.language,
        (
            f"{fmt.get('container', '?')} {fmt.get('encoding', '?')} {fmt.get('sample_rate', '?')} Hz"
            if fmt is not None
            else None
        ),
        None if speed is None else str(speed),
    )


class SentInputs(Sequence[SentInput]):
    """A context's inputs in order, each kept as a plain tuple (see the module docstring) and read back as a
    :class:`SentInput`."""

    def __init__(self) -> None:
        self._rows: list[tuple[Any, ...]] = []

    def append(self, sent: SentInput) -> None:
        self._rows.append(tuple(sent))

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> SentInput: ...
    @overload
    def __getitem__(self, index: slice) -> list[SentInput]: ...
    def __getitem__(self, index: int | slice) -> SentInput | list[SentInput]:
        if isinstance(index, slice):
            return [SentInput._make(row) for row in self._rows[index]]
        return SentInput._make(self._rows[index])


@dataclass(eq=False)
class SentContext:
    """A context as the client drove it."""

    conn: int
    context_id: str
    inputs: SentInputs = field(default_factory=SentInputs)
    #: The first input with ``continue: false``.
    end: SentInput | None = None
    cancel_frame: int | None = None
    #: Inputs sent after the end or the cancel that did not start a new context.
    after_close: list[SentInput] = field(default_factory=list)
    #: The session's record of this context, when it has one.
    model: Context | None = None
    flushes: int = 0
    _segments: dict[int, Segment] = field(default_factory=dict, repr=False)
    # How far the model's segments are in _segments: the last segment looked at, and its transcripts then.
    _indexed: tuple[int, int] = (0, 0)

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
        found = self._segments.get(sent.frame)
        if found is None:
            self._index(self.model)
            found = self._segments.get(sent.frame)
        return found

    def _index(self, model: Context) -> None:
        """Add what the model's segments gained since the last look. A transcript or a flush only ever goes
        to the context's last segment, so only the segment that was last and those after it can have."""
        segments = model.segments
        first, seen = self._indexed
        for segment in segments[first:]:
            for transcript in segment.transcripts[seen:]:
                self._segments[transcript.frame] = segment
            if segment.flush_frame is not None:
                self._segments.setdefault(segment.flush_frame, segment)
            seen = 0
        if segments:
            self._indexed = (len(segments) - 1, len(segments[-1].transcripts))

    def flush_id(self, sent: SentInput) -> int | None:
        """The server's id of the segment ``sent`` went into: the session's, where it attributed the input
        (it knows of segments the server made on its own), else counted from the client's flushes."""
        segment = self.segment_of(sent)
        if segment is not None:
            return segment.flush_id
        base = self.model.base if self.model is not None else None
        return None if base is None else base + sent.ordinal


class SentReader:
    """The inputs of a growing session, per context (:attr:`contexts`), read from its send frames: each
    frame once, when :meth:`update` first finds it."""

    def __init__(self) -> None:
        #: Every context the client sent to, in the order of its first input.
        self.contexts: list[SentContext] = []
        #: The contexts given an input, an input after their close, or their cancel since this was emptied.
        self.changed: set[SentContext] = set()
        self._current: dict[tuple[int, str], SentContext] = {}
        # Frames whose direction was looked at, and the send frames among them not read yet.
        self._looked = 0
        self._unread: deque[int] = deque()

    def update(self, session: Session, deadline: float | None = None) -> bool:
        """Read the send frames recorded since the last call, in order. With a ``deadline`` (a
        :func:`time.perf_counter` value) reading stops once it has passed and goes on at the next call;
        True when every send frame has been read. Frames that do not parse, and requests without a
        context_id, are left out (the session flags them)."""
        frames = session.frames
        if self._looked < len(frames):
            new = np.arange(self._looked, len(frames))
            self._unread.extend(frames.indices(Direction.SEND, new).tolist())
            self._looked = len(frames)
        unread = self._unread
        while unread:
            if deadline is not None and time.perf_counter() >= deadline:
                return False
            self._read(session, unread[0])
            unread.popleft()
        return True

    def _read(self, session: Session, index: int) -> None:
        frame = session.frames[index]
        try:
            message = parse_client(frame.text)
        except ProtocolError:
            return
        if isinstance(message, CancelRequest):
            target = self._current.get((frame.conn, message.context_id))
            if target is not None and target.cancel_frame is None:
                target.cancel_frame = frame.index
                self.changed.add(target)
            return
        if message.context_id is None:
            return
        key = (frame.conn, message.context_id)
        ctx = self._current.get(key)
        if ctx is not None and ctx.closed:
            if message.transcript.strip():
                ctx = None
            else:
                ctx.after_close.append(SentInput.of(frame.index, frame.t, message, len(ctx.inputs)))
                self.changed.add(ctx)
                return
        if ctx is None:
            model = _model_of(session, frame.conn, message.context_id, frame.index)
            ctx = self._current[key] = SentContext(frame.conn, message.context_id, model=model)
            self.contexts.append(ctx)
        sent = SentInput.of(frame.index, frame.t, message, ctx.flushes)
        ctx.inputs.append(sent)
        self.changed.add(ctx)
        ctx.flushes += message.flush
        if message.is_end and ctx.end is None:
            ctx.end = sent


def _model_of(session: Session, conn: int, context_id: str, index: int) -> Context | None:
    """The session's context that holds send frame ``index``: the latest of that id, unless the id has been
    used again since the frame was recorded."""
    latest = session.context(context_id, conn)
    if latest is None or _holds(latest, index):
        return latest
    for model in reversed(session.contexts):
        if model.conn == conn and model.context_id == context_id and _holds(model, index):
            return model
    return None


def _holds(model: Context, index: int) -> bool:
    frames = model.frames.values
    at = int(np.searchsorted(frames, index))
    return at < len(frames) and int(frames[at]) == index


def sent_contexts(session: Session) -> list[SentContext]:
    """Every context the client sent to, in the order of its first input (see :class:`SentReader`)."""
    reader = SentReader()
    reader.update(session)
    return reader.contexts
