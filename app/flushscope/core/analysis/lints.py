"""Send-side lints: advice on what the client sent, each with a stable id, what happened, what to do, and the
frames involved.

Anomalies say the server and the client disagree; lints say the client's own input will sound wrong or
cost something, although every frame was answered as it should be. They never count as failures unless a
command is asked to be strict.

Each rule is a function below whose docstring is the rule: what is flagged and what is deliberately not
(the false positives a careful client would otherwise be told about). :data:`RULES` lists them by id.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Final

import numpy as np

from flushscope.core.analysis.lint_ids import LintId, LintIdError, parse_lint_ids
from flushscope.core.analysis.sent_inputs import SentContext, SentInput, sent_contexts
from flushscope.core.frames import Direction
from flushscope.core.inputs.text_buffer import TextBuffer, buffer_delay_s
from flushscope.core.inputs.text_shape import (
    ends_sentence,
    has_words,
    join_excerpt,
    runs_together,
    word_count,
)
from flushscope.core.model.records import Context, ContextState, Segment, SegmentState
from flushscope.core.model.session import Session
from flushscope.core.shown_text import quoted
from flushscope.protocol.messages import GenerationRequest, ProtocolError, load_object

__all__ = [
    "RULES",
    "Lint",
    "LintId",
    "LintIdError",
    "LintScope",
    "lint_session",
    "parse_lint_ids",
    "rule_text",
]


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
    """What the rules look at: the session, the client's inputs per context, and whether the session is
    over (a live session's open contexts and unanswered segments may still be completed)."""

    session: Session
    contexts: list[SentContext]
    session_over: bool = True


Rule = Callable[[LintScope], Iterator[Lint]]


def _lint(
    lint_id: LintId,
    ctx: SentContext,
    flush_id: int | None,
    frames: Iterable[int],
    message: str,
    advice: str,
) -> Lint:
    return Lint(
        lint_id, ctx.conn, ctx.context_id, ctx.number, flush_id, tuple(sorted(set(frames))), message, advice
    )


def _label(ctx: SentContext, sent: SentInput) -> str:
    flush_id = ctx.flush_id(sent)
    return str(flush_id) if flush_id is not None else f"~{sent.ordinal + 1}"


# --- the rules -----------------------------------------------------------------------------------------


def continuation_no_space(scope: LintScope) -> Iterator[Lint]:
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
    for ctx in scope.contexts:
        buffer = TextBuffer(buffer_delay_s(ctx.inputs[0].request.max_buffer_delay_ms))
        before: SentInput | None = None
        for sent in ctx.inputs:
            text = sent.transcript
            buffer.expire(sent.t)
            if before is not None and runs_together(buffer.waiting, text):
                yield _lint(
                    LintId.CONTINUATION_NO_SPACE,
                    ctx,
                    ctx.flush_id(sent),
                    (before.frame, sent.frame),
                    f"Inputs at frames {before.frame} and {sent.frame} of context {ctx.title} meet with "
                    "no space between them while the first still waits in the service's buffer (no flush "
                    "or sentence end between them, within max_buffer_delay_ms): it reads "
                    f"{join_excerpt(buffer.waiting, text)!r}.",
                    "End each transcript with a space (or start the next one with a space).",
                )
            if text:
                before = sent
            buffer.add(text, sent.t, release_all=sent.request.flush or sent.request.is_end)


def _whole_sentence(before: str, text: str) -> bool:
    return (not before.strip() or ends_sentence(before)) and ends_sentence(text)


def short_segment(scope: LintScope) -> Iterator[Lint]:
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
    for ctx in scope.contexts:
        segments: dict[int, list[tuple[int, SentInput]]] = {}
        for index, sent in enumerate(ctx.inputs):
            if sent.transcript:
                segments.setdefault(sent.ordinal, []).append((index, sent))
        texty = [o for o, items in segments.items() if has_words("".join(s.transcript for _, s in items))]
        flushes = {s.ordinal: s.frame for s in ctx.inputs if s.request.flush}
        on_receipt = ctx.inputs[0].request.max_buffer_delay_ms == 0
        before = ctx.tails()
        for ordinal, items in segments.items():
            first_index, first = items[0]
            text = "".join(s.transcript for _, s in items)
            words = word_count(text)
            if len(texty) > 1 and 1 <= words <= 2 and not _whole_sentence(before[first_index], text):
                yield _lint(
                    LintId.SHORT_SEGMENT,
                    ctx,
                    ctx.flush_id(first),
                    [s.frame for _, s in items] + ([flushes[ordinal]] if ordinal in flushes else []),
                    f"Segment {_label(ctx, first)} of context {ctx.title} is {words} "
                    f"word{'s' if words > 1 else ''} ({quoted(text, 40)}): the service generates each flushed "
                    "segment on its own, with little context for its intonation, so it may sound clipped.",
                    "Flush at sentence or clause ends: merge this text into the segment before or after it.",
                )
                continue
            if not on_receipt or len(items) < 2:
                continue
            short = [
                s
                for index, s in items
                if 1 <= word_count(s.transcript) <= 2 and not _whole_sentence(before[index], s.transcript)
            ]
            if short:
                shown = ", ".join(quoted(s.transcript, 20) for s in short[:5]) + (
                    ", …" if len(short) > 5 else ""
                )
                yield _lint(
                    LintId.SHORT_SEGMENT,
                    ctx,
                    ctx.flush_id(first),
                    [s.frame for s in short],
                    f"{len(short)} input{'s' if len(short) > 1 else ''} of one or two words in segment "
                    f"{_label(ctx, first)} of context {ctx.title} ({shown}) "
                    f"{'are' if len(short) > 1 else 'is'} generated as "
                    f"{'they arrive' if len(short) > 1 else 'it arrives'} (max_buffer_delay_ms 0), with "
                    "little context for the intonation.",
                    "Send whole phrases or sentences, or let the service buffer text (max_buffer_delay_ms "
                    "above 0).",
                )


def context_never_ended(scope: LintScope) -> Iterator[Lint]:
    """A context that by the end of the session was neither ended (an input with ``continue: false``) nor
    cancelled. The service cannot tell its text is complete, sends no ``done``, and frameworks waiting for
    one hang (Pipecat 0.0.101 lost whole turns this way).

    Not flagged: a context the server failed with an error frame (it is over, and the error is an anomaly);
    a context whose connection broke (closed with a code other than 1000 or 1001, or aborted) while it was
    open, since the client may have had no chance; any context while the session is still live. A context
    the server ended on its own (expiry) is still flagged: the client relied on a timeout."""
    if not scope.session_over:
        return
    for ctx in scope.contexts:
        if ctx.closed or _failed_by_server(scope.session, ctx.model) or _connection_broke(scope, ctx):
            continue
        yield _lint(
            LintId.CONTEXT_NEVER_ENDED,
            ctx,
            None,
            (ctx.inputs[0].frame, ctx.inputs[-1].frame),
            f"Context {ctx.title} was never ended: no input with continue: false and no cancel by the end "
            f"of the session ({len(ctx.inputs)} input{'s' if len(ctx.inputs) > 1 else ''} sent).",
            "Send an empty transcript with continue: false once the turn's text is complete (or cancel the "
            "context), so that the service finishes it and sends done.",
        )


def _failed_by_server(session: Session, model: Context | None) -> bool:
    if model is None:
        return False
    # The context's received frames but its chunks, which are most of them and never errors.
    columns = session.chunks.column("frame")
    chunks = [columns[s.chunk_rows.values] for s in model.segments if s.chunk_rows]
    received = session.frames.indices(Direction.RECV, model.frames.values)
    if chunks:
        received = np.setdiff1d(received, np.concatenate(chunks), assume_unique=True)
    for index in received.tolist():
        frame = session.frames[index]
        if '"error"' in frame.text:
            try:
                if load_object(frame.text).get("type") == "error":
                    return True
            except ProtocolError:
                continue
    return False


def _connection_broke(scope: LintScope, ctx: SentContext) -> bool:
    info = scope.session.connections.get(ctx.conn)
    if info is None or info.closed_t is None:
        return False
    return info.close_code not in (1000, 1001)


def empty_flush(scope: LintScope) -> Iterator[Lint]:
    """A flush with nothing sent since the previous flush: no input with anything but whitespace in
    between (the flush's own transcript counts as sent before it, as in ``push(text, flush=True)``). The
    segment it closes is empty; a server that answers it with a ``flush_done`` spends a ``flush_id`` on it,
    and a client that numbers its own segments falls out of step.

    Not flagged: a flush that is the context's first input (that is the punctuation-only first input, and
    the service rejects the context); a flush after the end (``flush-after-end``)."""
    for ctx in scope.contexts:
        spoken = False
        previous_flush: SentInput | None = None
        for index, sent in enumerate(ctx.inputs):
            spoken = spoken or bool(sent.transcript.strip())
            if not sent.request.flush:
                continue
            if not spoken and index > 0:
                since = (
                    f"the previous flush (frame {previous_flush.frame})"
                    if previous_flush is not None
                    else "the context's first input"
                )
                yield _lint(
                    LintId.EMPTY_FLUSH,
                    ctx,
                    ctx.flush_id(sent),
                    [sent.frame] + ([previous_flush.frame] if previous_flush is not None else []),
                    f"The flush at frame {sent.frame} of context {ctx.title} closes segment "
                    f"{_label(ctx, sent)} with nothing sent since {since}.",
                    "Flush only after sending text: drop the second of two flushes in a row, so that every "
                    "flush_id stands for text.",
                )
            spoken = False
            previous_flush = sent


def flush_after_end(scope: LintScope) -> Iterator[Lint]:
    """A flush sent on a context after its end (an input with ``continue: false``) or its cancel. The
    context takes no more input: the flush does nothing at best; once the server has sent ``done`` it looks
    like a reuse of the context_id, which the service does not support.

    Not flagged: a flush carried by the ending input itself (``flush: true`` with ``continue: false``)."""
    for ctx in scope.contexts:
        for sent in ctx.after_close:
            if not sent.request.flush:
                continue
            if ctx.end is not None and (ctx.cancel_frame is None or ctx.end.frame < ctx.cancel_frame):
                how, at = "ended (continue: false)", ctx.end.frame
            else:
                assert ctx.cancel_frame is not None
                how, at = "cancelled", ctx.cancel_frame
            yield _lint(
                LintId.FLUSH_AFTER_END,
                ctx,
                None,
                (at, sent.frame),
                f"The flush at frame {sent.frame} was sent on context {ctx.title} after it was {how} at "
                f"frame {at}: the context takes no more input.",
                "Flush before the final input; the final input (continue: false) already makes the service "
                "speak everything it holds.",
            )


def punctuation_only_first_input(scope: LintScope) -> Iterator[Lint]:
    """A context whose first input has no letter or digit in its transcript: empty, whitespace or
    punctuation only (a flush or an end sent first count). The service rejects such a context with a 400
    error ("transcript empty or contains only punctuation"); frameworks hit it when they open a context for
    a turn with no text (a tool call) and close it at once."""
    for ctx in scope.contexts:
        first = ctx.inputs[0]
        text = first.transcript
        if has_words(text):
            continue
        what = "empty" if not text else "whitespace only" if not text.strip() else "punctuation only"
        yield _lint(
            LintId.PUNCTUATION_ONLY_FIRST_INPUT,
            ctx,
            ctx.flush_id(first),
            (first.frame,),
            f"The first input of context {ctx.title} (frame {first.frame}) is {what}"
            + (f" ({quoted(text, 40)})" if text else "")
            + ": the service rejects such a context with a 400 error.",
            "Open a context with its first words; for a turn without text, send nothing (or cancel the "
            "context) instead of an empty end or flush.",
        )


def _settings(request: GenerationRequest) -> dict[str, str | None]:
    fmt = request.output_format
    speed: object = None
    if request.generation_config is not None and request.generation_config.get("speed") is not None:
        speed = request.generation_config.get("speed")
    elif request.speed is not None:
        speed = request.speed
    return {
        "model": request.model_id,
        "voice": _voice_identity(request.voice),
        "language": request.language,
        "output format": (
            f"{fmt.get('container', '?')} {fmt.get('encoding', '?')} {fmt.get('sample_rate', '?')} Hz"
            if fmt is not None
            else None
        ),
        "speed": None if speed is None else str(speed),
    }


def _voice_identity(voice: object) -> str | None:
    """The same voice in any of the shapes clients send (a bare id, ``{"id"}``, ``{"mode": "id", "id"}``)."""
    if voice is None:
        return None
    if isinstance(voice, str):
        return voice
    if isinstance(voice, dict):
        if isinstance(voice.get("id"), str):
            return str(voice["id"])
        if voice.get("embedding") is not None:
            return f"embedding {str(voice['embedding'])[:40]}"
    return str(voice)


def settings_changed_mid_context(scope: LintScope) -> Iterator[Lint]:
    """The model, voice, language, output format or speed (``generation_config.speed``, or the older
    ``speed``) of an input differing from the value of an earlier input of the same context. The
    documentation asks for the same value on every input of a context; what the service does with a change
    is not defined, and the audio format of the chunks no longer says which value applies.

    Compared: the voice by its identity (a bare id, ``{"id": ...}`` and ``{"mode": "id", "id": ...}`` are
    the same voice), the output format by container, encoding and rate. Not flagged: a field left out, or
    null (LiveKit sends ``"language": null``), on some inputs, such as a bare end or flush; each setting is
    reported once per context, at its first change."""
    for ctx in scope.contexts:
        seen: dict[str, tuple[str, SentInput]] = {}
        reported: set[str] = set()
        for sent in ctx.inputs:
            for name, value in _settings(sent.request).items():
                if value is None or name in reported:
                    continue
                if name not in seen:
                    seen[name] = (value, sent)
                    continue
                first_value, first = seen[name]
                if value == first_value:
                    continue
                reported.add(name)
                yield _lint(
                    LintId.SETTINGS_CHANGED_MID_CONTEXT,
                    ctx,
                    ctx.flush_id(sent),
                    (first.frame, sent.frame),
                    f"The {name} of context {ctx.title} changes from {first_value!r} (frame {first.frame}) "
                    f"to {value!r} at frame {sent.frame}.",
                    f"Keep a context's settings fixed; to change its {name}, end the context and start a new "
                    "one.",
                )


def timestamps_missing(scope: LintScope) -> Iterator[Lint]:
    """A segment with audio and no word timestamps, in a context whose inputs asked for them
    (``add_timestamps``). Captions, barge-in handling and LiveKit's transcript alignment need them.

    Not flagged: a segment still open in a live session (timestamps follow the chunks that carry their
    words); a context that failed (an error frame, or the connection went away: its missing frames are the
    failure's, already an anomaly)."""
    models: dict[int, tuple[Context, list[SentContext]]] = {}
    for ctx in scope.contexts:
        if ctx.model is not None:
            models.setdefault(id(ctx.model), (ctx.model, []))[1].append(ctx)
    for model, sent in models.values():
        asking = [i for s in sent for i in s.inputs if i.request.add_timestamps]
        if not asking or model.state is ContextState.FAILED:
            continue
        for segment in model.segments:
            first = segment.first_chunk_frame
            if first is None or segment.words or not _settled(segment, scope.session_over):
                continue
            yield _lint(
                LintId.TIMESTAMPS_MISSING,
                sent[0],
                segment.flush_id,
                (asking[0].frame, first),
                f"Context {model.title} asked for word timestamps (add_timestamps, frame {asking[0].frame}) "
                f"but segment {segment.label} came with {segment.audio_seconds:.2f} s of audio and no "
                "timestamps.",
                "Check that the model and language support word timestamps; without them, captions and "
                "interruption handling cannot place the words.",
            )


def _settled(segment: Segment, session_over: bool) -> bool:
    return session_over or segment.state in (SegmentState.CLOSED, SegmentState.ENDED)


#: Every lint, by id, in the order reports list their rules.
RULES: Final[dict[LintId, Rule]] = {
    LintId.CONTINUATION_NO_SPACE: continuation_no_space,
    LintId.SHORT_SEGMENT: short_segment,
    LintId.CONTEXT_NEVER_ENDED: context_never_ended,
    LintId.EMPTY_FLUSH: empty_flush,
    LintId.FLUSH_AFTER_END: flush_after_end,
    LintId.PUNCTUATION_ONLY_FIRST_INPUT: punctuation_only_first_input,
    LintId.SETTINGS_CHANGED_MID_CONTEXT: settings_changed_mid_context,
    LintId.TIMESTAMPS_MISSING: timestamps_missing,
}


def rule_text(lint_id: LintId) -> str:
    """The rule of a lint, in words (its function's docstring)."""
    return inspect.cleandoc(RULES[lint_id].__doc__ or "")


def lint_session(
    session: Session, *, disabled: Collection[LintId | str] = (), session_over: bool = True
) -> list[Lint]:
    """Every lint of ``session`` but the ``disabled`` ones, in the order of their first frame.

    ``session_over`` false (a live session) leaves out what later frames may still settle: contexts not
    ended yet, segments whose timestamps may still come."""
    off = parse_lint_ids(str(d) for d in disabled)
    scope = LintScope(session, sent_contexts(session), session_over)
    found = [lint for lint_id, rule in RULES.items() if lint_id not in off for lint in rule(scope)]
    found.sort(key=lambda lint: lint.first_frame if lint.first_frame is not None else -1)
    return found
