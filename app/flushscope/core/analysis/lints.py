"""Send-side lints: advice on what the client sent, each with a stable id, what happened, what to do, and the
frames involved.

Anomalies say the server and the client disagree; lints say the client's own input will sound wrong or
cost something, although every frame was answered as it should be. They never count as failures unless a
command is asked to be strict.

Each rule is a class below whose docstring is the rule: what is flagged and what is deliberately not (the
false positives a careful client would otherwise be told about). :data:`RULES` lists them by id. A rule reads
one context at a time (:class:`ContextRule`): it is given the context's inputs one by one, in order, and
keeps what they settle, so that a context that grows costs what its new inputs cost
(:mod:`flushscope.core.analysis.lint_cache` keeps a session's lints that way).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, NamedTuple

from flushscope.core.analysis.error_frames import ErrorFrames
from flushscope.core.analysis.lint_ids import LintId
from flushscope.core.analysis.sent_inputs import SETTINGS, SentContext, SentInput
from flushscope.core.inputs.text_buffer import TextBuffer, buffer_delay_s
from flushscope.core.inputs.text_shape import (
    ends_sentence,
    has_words,
    join_excerpt,
    runs_together,
    word_count,
)
from flushscope.core.model.records import ContextState, Segment, SegmentState
from flushscope.core.model.session import Session
from flushscope.core.shown_text import quoted

__all__ = ["RULES", "ContextRule", "Lint", "LintScope", "rule_text"]


@dataclass(frozen=True, slots=True)
class Lint:
    """One piece of advice: which lint, where, the frames involved, what happened and what to do."""

    id: LintId
    conn: int
    context_id: str
    #: Position of the context in the session (1-based), when the session model has it.
    context_number: int | None
    #: The segment concerned, where one is; None also when the server's numbering is not known yet.
    flush_id: int | None
    frames: tuple[int, ...]
    #: One sentence: what happened.
    message: str
    #: One sentence: what to do.
    advice: str

    severity: ClassVar[str] = "advice"

    @property
    def first_frame(self) -> int | None:
        return self.frames[0] if self.frames else None

    def to_json(self) -> dict[str, Any]:
        """The ``lints`` entry of ``report --json``."""
        return {
            "id": self.id.value,
            "severity": self.severity,
            "conn": self.conn,
            "context_id": self.context_id,
            "context_number": self.context_number,
            "flush_id": self.flush_id,
            "frames": list(self.frames),
            "message": self.message,
            "advice": self.advice,
        }


@dataclass(frozen=True)
class LintScope:
    """What a rule reads beside a context's inputs: the session, whether it is over (a live session's open
    contexts and unanswered segments may still be completed), the same rule's readings of every context
    that shares this one's record in the session, in order (just this one when it has no record), and when
    to stop reading the session's frames (a :func:`time.perf_counter` value, or None)."""

    session: Session
    session_over: bool
    peers: Sequence[ContextRule]
    deadline: float | None = None


class ContextRule:
    """One rule's reading of one context: given the context's inputs in order (:meth:`add`), it keeps the
    lints they settle in :attr:`found`; :meth:`lints` adds those that later frames may still change.

    What a rule finds depends on the context's numbering base (a lint names its flush_id): a reading is
    started again when the base becomes known."""

    id: ClassVar[LintId]

    def __init__(self, ctx: SentContext) -> None:
        self.ctx = ctx
        #: Lints that no later frame changes.
        self.found: list[Lint] = []

    def add(self, index: int, sent: SentInput) -> None:
        """Input ``index`` of the context, ``sent``, was read."""

    def add_after_close(self, sent: SentInput) -> None:
        """An input sent after the context's end or cancel (one that did not start another context)."""

    def lints(self, scope: LintScope) -> list[Lint] | None:
        """Every lint of the context's inputs so far, in the order the rule finds them; None when the
        scope's deadline came first (ask again: what was read is kept)."""
        return list(self.found)

    def _lint(self, flush_id: int | None, frames: Iterable[int], message: str, advice: str) -> Lint:
        ctx = self.ctx
        return Lint(
            self.id,
            ctx.conn,
            ctx.context_id,
            ctx.number,
            flush_id,
            tuple(sorted(set(frames))),
            message,
            advice,
        )


def _label(ctx: SentContext, sent: SentInput) -> str:
    flush_id = ctx.flush_id(sent)
    return str(flush_id) if flush_id is not None else f"~{sent.ordinal + 1}"


# --- the rules -----------------------------------------------------------------------------------------


class ContinuationNoSpace(ContextRule):
    """Two inputs of one context that the service reads as one word.

    The service keeps a buffer of each context's text and appends every input to it verbatim; what it
    generates from the buffer is spoken, and text arriving later starts a new piece. It generates
    everything buffered at a manual flush or at the context's end; every input as it arrives when
    max_buffer_delay_ms is 0; the buffered text up to its last sentence end (a full stop, question or
    exclamation mark or ellipsis followed by whitespace or nothing, or a full-width 。！？); and whatever
    is left once it has waited max_buffer_delay_ms (3000 ms when absent). So two inputs run together only
    when the first was still waiting in the buffer when the second arrived: no flush between them,
    buffering on (max_buffer_delay_ms absent or above 0), the first not ending a sentence, and the second
    sent within the buffer delay of the oldest text still waiting. "Hello" then "world." is read
    "Helloworld."; "Hello." then "World." is not, nor is "Hello", a flush, then "world.", nor any pair sent
    with max_buffer_delay_ms 0 (as Pipecat sends its sentences, with no space after them).

    Flagged: such a pair whose join puts no space between two words, timed by the send frames (the
    buffer is :class:`~flushscope.core.inputs.text_buffer.TextBuffer`, which the emulator speaks by). A
    word split across inputs on purpose (LLM tokens without their leading space) is indistinguishable from
    a missing space and is flagged. Not flagged (see
    :func:`flushscope.core.inputs.text_shape.runs_together`): either side is whitespace (a whitespace-only
    input, such as LiveKit's final " ", supplies the space); either character is of a script written
    without spaces (Chinese, Japanese, Thai, ...); the next input starts with punctuation that attaches to
    the word before it (",", ".", "'s"); the first ends in a hyphen, slash, apostrophe or opening bracket;
    a number split at its separator ("10:" then "30", "1," then "000")."""

    id = LintId.CONTINUATION_NO_SPACE

    def __init__(self, ctx: SentContext) -> None:
        super().__init__(ctx)
        # The service's buffer replayed over the send times (the first input's max_buffer_delay_ms sets its
        # delay), and the last input with text.
        self._buffer: TextBuffer | None = None
        self._last: SentInput | None = None

    def add(self, index: int, sent: SentInput) -> None:
        if self._buffer is None:
            self._buffer = TextBuffer(buffer_delay_s(sent.max_buffer_delay_ms))
        buffer, before, text = self._buffer, self._last, sent.transcript
        buffer.expire(sent.t)
        if before is not None and runs_together(buffer.waiting, text):
            self.found.append(
                self._lint(
                    self.ctx.flush_id(sent),
                    (before.frame, sent.frame),
                    f"Inputs at frames {before.frame} and {sent.frame} of context {self.ctx.title} meet with "
                    "no space between them while the first still waits in the service's buffer (no flush "
                    "or sentence end between them, within max_buffer_delay_ms): it reads "
                    f"{join_excerpt(buffer.waiting, text)!r}.",
                    "End each transcript with a space (or start the next one with a space).",
                )
            )
        if text:
            self._last = sent
        buffer.add(text, sent.t, release_all=sent.flush or sent.is_end)


def _whole_sentence(before: str, text: str) -> bool:
    return (not before.strip() or ends_sentence(before)) and ends_sentence(text)


#: How much of the text sent before an input tells how it ends.
_TAIL: Final = 64


class _Piece(NamedTuple):
    """An input with text, the last characters sent before it, and whether it alone is one or two words that
    do not make a whole sentence."""

    sent: SentInput
    before: str
    short: bool


class ShortSegment(ContextRule):
    """A flushed segment of one or two words, or, in a context that has the service generate each input as
    it arrives (``max_buffer_delay_ms`` 0), inputs of one or two words inside a longer segment. Either is
    generated with little context for its intonation and tends to sound clipped.

    Words are counted by :func:`flushscope.core.inputs.text_shape.word_count` (CJK text: one word per two
    characters). Not flagged: a piece that is a whole sentence ("Sure." after a sentence end, or at the
    start: a short sentence is a natural unit, and flushing it first is a fair way to start audio early);
    the context's only segment with text (there is nothing to merge it with); inputs when the service
    buffers text (``max_buffer_delay_ms`` absent or above 0), which is what buffering is for. Short inputs
    of one segment are reported once, together; a segment reported as short is not reported again for its
    inputs."""

    id = LintId.SHORT_SEGMENT

    def __init__(self, ctx: SentContext) -> None:
        super().__init__(ctx)
        self._tail = ""
        # The inputs with text and the flush of each segment that may still be judged: the open one and, while
        # only one segment has words (no segment is short then), the flushed ones, judged again when a second
        # segment with words makes them matter. The segments before the open one are flushed.
        self._segments: dict[int, list[_Piece]] = {}
        self._flushes: dict[int, int] = {}
        self._open = 0
        self._texty = 0
        self._last_texty = -1
        self._several = False
        # Segments whose text has three words or more: appending text never lowers a word count, so they
        # are never one or two words again, and their text need not be joined and counted again.
        self._wordy: set[int] = set()
        # The open segment's judgement and what it was made from: a live context is asked on every change,
        # and judging its open segment again each time would cost the segment's length each time.
        self._open_judged: tuple[tuple[object, ...], Lint | None] | None = None

    def add(self, index: int, sent: SentInput) -> None:
        text = sent.transcript
        if text:
            short = 1 <= word_count(text) <= 2 and not _whole_sentence(self._tail, text)
            self._segments.setdefault(sent.ordinal, []).append(_Piece(sent, self._tail, short))
            if has_words(text) and sent.ordinal != self._last_texty:
                self._texty, self._last_texty = self._texty + 1, sent.ordinal
            self._tail = (self._tail + text)[-_TAIL:]
        if not sent.flush:
            return
        self._flushes[sent.ordinal] = sent.frame
        self._open = sent.ordinal + 1
        if self._texty > 1 and not self._several:
            self._judge_flushed_again()
            return
        lint = self._judge(sent.ordinal)
        if lint is not None:
            self.found.append(lint)
        if self._several:
            self._segments.pop(sent.ordinal, None)
            self._flushes.pop(sent.ordinal, None)

    def lints(self, scope: LintScope) -> list[Lint] | None:
        if self._texty > 1 and not self._several:
            self._judge_flushed_again()
        still_open = self._judge_open()
        return [*self.found, still_open] if still_open is not None else list(self.found)

    def _judge_open(self) -> Lint | None:
        pieces = self._segments.get(self._open)
        if not pieces:
            return None
        made_of = (self._open, len(pieces), self._texty, self.ctx.flush_id(pieces[0].sent), self.ctx.title)
        if self._open_judged is None or self._open_judged[0] != made_of:
            self._open_judged = (made_of, self._judge(self._open))
        return self._open_judged[1]

    def _judge_flushed_again(self) -> None:
        """A second segment has words: judge every flushed segment again, for good."""
        self._several = True
        flushed = [ordinal for ordinal in self._segments if ordinal < self._open]
        judged = (self._judge(ordinal) for ordinal in flushed)
        self.found = [lint for lint in judged if lint is not None]
        for ordinal in flushed:
            del self._segments[ordinal]
            self._flushes.pop(ordinal, None)

    def _judge(self, ordinal: int) -> Lint | None:
        pieces = self._segments.get(ordinal)
        if not pieces:
            return None
        ctx = self.ctx
        first = pieces[0].sent
        if ordinal in self._wordy:
            text, words = "", 3
        else:
            text = "".join(p.sent.transcript for p in pieces)
            words = word_count(text)
            if words >= 3:
                self._wordy.add(ordinal)
        if self._texty > 1 and 1 <= words <= 2 and not _whole_sentence(pieces[0].before, text):
            flush = [self._flushes[ordinal]] if ordinal in self._flushes else []
            return self._lint(
                ctx.flush_id(first),
                [p.sent.frame for p in pieces] + flush,
                f"Segment {_label(ctx, first)} of context {ctx.title} is {words} "
                f"word{'s' if words > 1 else ''} ({quoted(text, 40)}): the service generates each flushed "
                "segment on its own, with little context for its intonation, so it may sound clipped.",
                "Flush at sentence or clause ends: merge this text into the segment before or after it.",
            )
        if ctx.inputs[0].max_buffer_delay_ms != 0 or len(pieces) < 2:
            return None
        short = [p.sent for p in pieces if p.short]
        if not short:
            return None
        shown = ", ".join(quoted(s.transcript, 20) for s in short[:5]) + (", …" if len(short) > 5 else "")
        return self._lint(
            ctx.flush_id(first),
            [s.frame for s in short],
            f"{len(short)} input{'s' if len(short) > 1 else ''} of one or two words in segment "
            f"{_label(ctx, first)} of context {ctx.title} ({shown}) "
            f"{'are' if len(short) > 1 else 'is'} generated as "
            f"{'they arrive' if len(short) > 1 else 'it arrives'} (max_buffer_delay_ms 0), with "
            "little context for the intonation.",
            "Send whole phrases or sentences, or let the service buffer text (max_buffer_delay_ms above 0).",
        )


class ContextNeverEnded(ContextRule):
    """A context that by the end of the session was neither ended (an input with ``continue: false``) nor
    cancelled. The service cannot tell its text is complete, sends no ``done``, and frameworks waiting for
    one hang (Pipecat 0.0.101 lost whole turns this way).

    Not flagged: a context the server failed with an error frame (it is over, and the error is an anomaly);
    a context whose connection broke (closed with a code other than 1000 or 1001, or aborted) while it was
    open, since the client may have had no chance; any context while the session is still live. A context
    the server ended on its own (expiry) is still flagged: the client relied on a timeout."""

    id = LintId.CONTEXT_NEVER_ENDED

    def __init__(self, ctx: SentContext) -> None:
        super().__init__(ctx)
        self._errors = ErrorFrames()

    def lints(self, scope: LintScope) -> list[Lint] | None:
        ctx = self.ctx
        if not scope.session_over or ctx.closed:
            return []
        failed = self._errors.failed(scope.session, ctx.model, scope.deadline)
        if failed is None:
            return None
        if failed or _connection_broke(scope.session, ctx):
            return []
        return [
            self._lint(
                None,
                (ctx.inputs[0].frame, ctx.inputs[-1].frame),
                f"Context {ctx.title} was never ended: no input with continue: false and no cancel by the "
                f"end of the session ({len(ctx.inputs)} input{'s' if len(ctx.inputs) > 1 else ''} sent).",
                "Send an empty transcript with continue: false once the turn's text is complete (or cancel "
                "the context), so that the service finishes it and sends done.",
            )
        ]


def _connection_broke(session: Session, ctx: SentContext) -> bool:
    info = session.connections.get(ctx.conn)
    if info is None or info.closed_t is None:
        return False
    return info.close_code not in (1000, 1001)


class EmptyFlush(ContextRule):
    """A flush with nothing sent since the previous flush: no input with anything but whitespace in
    between (the flush's own transcript counts as sent before it, as in ``push(text, flush=True)``). The
    segment it closes is empty; a server that answers it with a ``flush_done`` spends a ``flush_id`` on it,
    and a client that numbers its own segments falls out of step.

    Not flagged: a flush that is the context's first input (that is the punctuation-only first input, and
    the service rejects the context); a flush after the end (``flush-after-end``)."""

    id = LintId.EMPTY_FLUSH

    def __init__(self, ctx: SentContext) -> None:
        super().__init__(ctx)
        self._spoken = False
        self._previous: SentInput | None = None

    def add(self, index: int, sent: SentInput) -> None:
        self._spoken = self._spoken or bool(sent.transcript.strip())
        if not sent.flush:
            return
        previous = self._previous
        if not self._spoken and index > 0:
            since = (
                f"the previous flush (frame {previous.frame})"
                if previous is not None
                else "the context's first input"
            )
            self.found.append(
                self._lint(
                    self.ctx.flush_id(sent),
                    [sent.frame] + ([previous.frame] if previous is not None else []),
                    f"The flush at frame {sent.frame} of context {self.ctx.title} closes segment "
                    f"{_label(self.ctx, sent)} with nothing sent since {since}.",
                    "Flush only after sending text: drop the second of two flushes in a row, so that every "
                    "flush_id stands for text.",
                )
            )
        self._spoken = False
        self._previous = sent


class FlushAfterEnd(ContextRule):
    """A flush sent on a context after its end (an input with ``continue: false``) or its cancel. The
    context takes no more input: the flush does nothing at best; once the server has sent ``done`` it looks
    like a reuse of the context_id, which the service does not support.

    Not flagged: a flush carried by the ending input itself (``flush: true`` with ``continue: false``)."""

    id = LintId.FLUSH_AFTER_END

    def add_after_close(self, sent: SentInput) -> None:
        if not sent.flush:
            return
        ctx = self.ctx
        if ctx.end is not None and (ctx.cancel_frame is None or ctx.end.frame < ctx.cancel_frame):
            how, at = "ended (continue: false)", ctx.end.frame
        else:
            assert ctx.cancel_frame is not None
            how, at = "cancelled", ctx.cancel_frame
        self.found.append(
            self._lint(
                None,
                (at, sent.frame),
                f"The flush at frame {sent.frame} was sent on context {ctx.title} after it was {how} at "
                f"frame {at}: the context takes no more input.",
                "Flush before the final input; the final input (continue: false) already makes the service "
                "speak everything it holds.",
            )
        )


class PunctuationOnlyFirstInput(ContextRule):
    """A context whose first input has no letter or digit in its transcript: empty, whitespace or
    punctuation only (a flush or an end sent first count). The service rejects such a context with a 400
    error ("transcript empty or contains only punctuation"); frameworks hit it when they open a context for
    a turn with no text (a tool call) and close it at once."""

    id = LintId.PUNCTUATION_ONLY_FIRST_INPUT

    def add(self, index: int, sent: SentInput) -> None:
        text = sent.transcript
        if index > 0 or has_words(text):
            return
        what = "empty" if not text else "whitespace only" if not text.strip() else "punctuation only"
        self.found.append(
            self._lint(
                self.ctx.flush_id(sent),
                (sent.frame,),
                f"The first input of context {self.ctx.title} (frame {sent.frame}) is {what}"
                + (f" ({quoted(text, 40)})" if text else "")
                + ": the service rejects such a context with a 400 error.",
                "Open a context with its first words; for a turn without text, send nothing (or cancel the "
                "context) instead of an empty end or flush.",
            )
        )


class SettingsChangedMidContext(ContextRule):
    """The model, voice, language, output format or speed (``generation_config.speed``, or the older
    ``speed``) of an input differing from the value of an earlier input of the same context. The
    documentation asks for the same value on every input of a context; what the service does with a change
    is not defined, and the audio format of the chunks no longer says which value applies.

    Compared: the voice by its identity (a bare id, ``{"id": ...}`` and ``{"mode": "id", "id": ...}`` are
    the same voice), the output format by container, encoding and rate. Not flagged: a field left out, or
    null (LiveKit sends ``"language": null``), on some inputs, such as a bare end or flush; each setting is
    reported once per context, at its first change."""

    id = LintId.SETTINGS_CHANGED_MID_CONTEXT

    def __init__(self, ctx: SentContext) -> None:
        super().__init__(ctx)
        self._seen: dict[str, tuple[str, SentInput]] = {}
        self._reported: set[str] = set()

    def add(self, index: int, sent: SentInput) -> None:
        for name, value in zip(SETTINGS, sent.settings, strict=True):
            if value is None or name in self._reported:
                continue
            if name not in self._seen:
                self._seen[name] = (value, sent)
                continue
            first_value, first = self._seen[name]
            if value == first_value:
                continue
            self._reported.add(name)
            self.found.append(
                self._lint(
                    self.ctx.flush_id(sent),
                    (first.frame, sent.frame),
                    f"The {name} of context {self.ctx.title} changes from {quoted(first_value, 40)} (frame "
                    f"{first.frame}) to {quoted(value, 40)} at frame {sent.frame}.",
                    f"Keep a context's settings fixed; to change its {name}, end the context and start a new "
                    "one.",
                )
            )


class TimestampsMissing(ContextRule):
    """A segment with audio and no word timestamps, in a context whose inputs asked for them
    (``add_timestamps``). Captions, barge-in handling and LiveKit's transcript alignment need them.

    Not flagged: a segment still open in a live session (timestamps follow the chunks that carry their
    words); a context that failed (an error frame, or the connection went away: its missing frames are the
    failure's, already an anomaly)."""

    id = LintId.TIMESTAMPS_MISSING

    def __init__(self, ctx: SentContext) -> None:
        super().__init__(ctx)
        #: The context's first input that asked for word timestamps.
        self.asking: SentInput | None = None
        # The segments of the session's record looked at so far, and those among them without words then
        # (words only ever arrive: a segment with words is never flagged again).
        self._looked = 0
        self._wordless: list[Segment] = []

    def add(self, index: int, sent: SentInput) -> None:
        if self.asking is None and sent.add_timestamps:
            self.asking = sent

    def lints(self, scope: LintScope) -> list[Lint] | None:
        # A record shared by several contexts is judged once, on the first of them, with every input.
        model = self.ctx.model
        if model is None or scope.peers[0] is not self:
            return []
        asked = (p.asking for p in scope.peers if isinstance(p, TimestampsMissing) and p.asking is not None)
        asking = next(asked, None)
        if asking is None or model.state is ContextState.FAILED:
            return []
        self._wordless.extend(model.segments[self._looked :])
        self._looked = len(model.segments)
        self._wordless = [s for s in self._wordless if not s.words]
        found: list[Lint] = []
        for segment in self._wordless:
            first = segment.first_chunk_frame
            if first is None or not _settled(segment, scope.session_over):
                continue
            found.append(
                self._lint(
                    segment.flush_id,
                    (asking.frame, first),
                    f"Context {model.title} asked for word timestamps (add_timestamps, frame "
                    f"{asking.frame}) but segment {segment.label} came with {segment.audio_seconds:.2f} s "
                    "of audio and no timestamps.",
                    "Check that the model and language support word timestamps; without them, captions and "
                    "interruption handling cannot place the words.",
                )
            )
        return found


def _settled(segment: Segment, session_over: bool) -> bool:
    return session_over or segment.state in (SegmentState.CLOSED, SegmentState.ENDED)


#: Every lint, by id, in the order reports list their rules.
RULES: Final[dict[LintId, type[ContextRule]]] = {
    rule.id: rule
    for rule in (
        ContinuationNoSpace,
        ShortSegment,
        ContextNeverEnded,
        EmptyFlush,
        FlushAfterEnd,
        PunctuationOnlyFirstInput,
        SettingsChangedMidContext,
        TimestampsMissing,
    )
}


def rule_text(lint_id: LintId) -> str:
    """The rule of a lint, in words (its class's docstring)."""
    return inspect.cleandoc(RULES[lint_id].__doc__ or "")
