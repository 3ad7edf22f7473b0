"""What can go wrong between a client's flushes and the server's segments, in words a user understands.

The session model decides *when* something is wrong and *which frames* show it; this module decides what
that is called and how bad it is. Each builder below takes the facts of one situation as keyword arguments
and returns a :class:`Finding`: the kind, the severity and the sentence a user reads. What goes wrong with a
connection itself (refused, a side gone, a frame too big, where a recording ends) is worded in
:mod:`~flushscope.core.model.connection_anomalies`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from flushscope.core.growable import GrowableArray


class Severity(StrEnum):
    """``info`` is worth seeing but not a failure; ``warning`` and ``error`` make ``report`` exit 1."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


class AnomalyKind(StrEnum):
    """Every anomaly the session model detects."""

    CHUNK_AFTER_FLUSH_DONE = "chunk_after_flush_done"
    FLUSH_ID_SKIPPED = "flush_id_skipped"
    FLUSH_ID_BACKWARDS = "flush_id_backwards"
    FLUSH_DONE_UNREQUESTED = "flush_done_unrequested"
    FLUSH_DONE_TIMEOUT = "flush_done_timeout"
    DONE_TIMEOUT = "done_timeout"
    AFTER_DONE = "after_done"
    UNKNOWN_CONTEXT = "unknown_context"
    AFTER_CANCEL = "after_cancel"
    DONE_WHILE_FLUSH_PENDING = "done_while_flush_pending"
    MISSING_FLUSH_ID = "missing_flush_id"
    PARTIAL_SAMPLE = "partial_sample"
    BAD_BASE64 = "bad_base64"
    SERVER_ERROR = "server_error"
    CONTEXT_REUSED = "context_reused"
    STALL = "stall"
    MALFORMED_FRAME = "malformed_frame"
    UNKNOWN_TYPE = "unknown_type"
    MISSING_CONTEXT_ID = "missing_context_id"
    BAD_OUTPUT_FORMAT = "bad_output_format"
    CONNECTION_LOST = "connection_lost"
    SERVER_WENT_AWAY = "server_went_away"
    APP_WENT_AWAY = "app_went_away"
    CONNECTION_REFUSED = "connection_refused"
    FRAME_TOO_BIG = "frame_too_big"
    OVERSIZED_FRAME = "oversized_frame"
    DUPLICATE_CHUNK = "duplicate_chunk"
    SLOW_FIRST_AUDIO = "slow_first_audio"
    RECORDING_ENDS = "recording_ends"
    KEY_WITHHELD = "key_withheld"
    INTERNAL_ERROR = "internal_error"


@dataclass(kw_only=True)
class Anomaly:
    """One finding placed in the session: its kind, where (connection, context, flush_id), the frames involved
    and a sentence.

    Repeats of the same finding in the same place (say, every chunk of a segment without a flush_id) are
    folded into one anomaly whose ``frames`` grows, so that a noisy stream stays readable; ``frames`` is a
    numpy array that reads like a list, since it may grow with every chunk of an hour.
    """

    kind: AnomalyKind
    severity: Severity
    message: str
    conn: int
    context_id: str | None
    flush_id: int | None
    frames: GrowableArray = field(default_factory=GrowableArray)
    #: Position of the context in the session (1-based), when there is one.
    context_number: int | None = None

    @property
    def first_frame(self) -> int | None:
        return self.frames[0] if self.frames else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """What an anomaly says, before the session places it: its kind, how bad it is, and the sentence."""

    kind: AnomalyKind
    severity: Severity
    message: str


def _error(kind: AnomalyKind, message: str) -> Finding:
    return Finding(kind=kind, severity=Severity.ERROR, message=message)


def _warning(kind: AnomalyKind, message: str) -> Finding:
    return Finding(kind=kind, severity=Severity.WARNING, message=message)


# --- the client's frames ------------------------------------------------------------------------------


def malformed_client_frame(*, problem: str) -> Finding:
    """The client sent a frame that is not a request the service reads (``problem`` says why)."""
    return _warning(
        AnomalyKind.MALFORMED_FRAME, f"the client sent a frame the service will reject: {problem}"
    )


def request_without_context_id() -> Finding:
    """A generation request without ``context_id``."""
    return _warning(
        AnomalyKind.MISSING_CONTEXT_ID,
        "a generation request without context_id: its replies cannot be told apart from others",
    )


def context_reused(*, context_id: str, state: str) -> Finding:
    """A request reuses the id of a context that already finished (``state``: done, cancelled, failed)."""
    return _warning(
        AnomalyKind.CONTEXT_REUSED,
        f"context_id {context_id} reused after it {state}: the service does not support reuse and may reject "
        "it or mix its frames up",
    )


def bad_output_format(*, context_id: str, problem: str) -> Finding:
    """A context's ``output_format`` is not one the protocol defines."""
    return _warning(
        AnomalyKind.BAD_OUTPUT_FORMAT,
        f"context {context_id} asks for an output format the protocol does not define: {problem}",
    )


# --- the server's frames ------------------------------------------------------------------------------


def malformed_server_frame(*, problem: str) -> Finding:
    """The server sent a frame that is not a JSON object."""
    return _error(AnomalyKind.MALFORMED_FRAME, f"the server sent a frame that is not a message: {problem}")


def unreadable_server_frame(*, frame_type: object, problem: str) -> Finding:
    """A JSON object from the server whose fields do not fit its type; ``frame_type`` is its ``type`` field
    as sent (None when it has none)."""
    shown = "typeless" if frame_type is None else str(frame_type)
    return _error(AnomalyKind.MALFORMED_FRAME, f"a {shown} frame the client cannot read: {problem}")


def reply_without_context_id(*, frame_type: str) -> Finding:
    """A server frame (not an error) without ``context_id``."""
    return _error(
        AnomalyKind.MISSING_CONTEXT_ID,
        f"a {frame_type or 'typeless'} frame without context_id: clients cannot route it",
    )


def unknown_context(*, context_id: str, frame_type: str) -> Finding:
    """A server frame for a context this connection never opened."""
    return _error(
        AnomalyKind.UNKNOWN_CONTEXT,
        f"a {frame_type or 'typeless'} frame for context {context_id}, which this connection never opened",
    )


def after_done(*, context_id: str, frame_type: str) -> Finding:
    """A server frame for a context after its ``done``."""
    return _error(AnomalyKind.AFTER_DONE, f"a {frame_type} frame for context {context_id} after its done")


def after_cancel(*, context_id: str, frame_type: str) -> Finding:
    """Server output for a context after the client cancelled it: expected, so only information."""
    return Finding(
        kind=AnomalyKind.AFTER_CANCEL,
        severity=Severity.INFO,
        message=f"{frame_type} frames for context {context_id} after it was cancelled: the service finishes a "
        "generation already running, and clients that forget a context on cancel may hand these to another one",
    )


def unknown_type(*, frame_type: str) -> Finding:
    """A server frame of a type the protocol does not define."""
    return _warning(
        AnomalyKind.UNKNOWN_TYPE,
        f"a frame of unknown type {frame_type!r}: some clients (Pipecat) turn these into errors",
    )


def server_error(*, text: str, status_code: int | None) -> Finding:
    """An error frame, with its likely cause when the text is a known one."""
    sentence = f"server error {status_code or ''}: {text}".replace("  ", " ")
    cause = likely_cause(text, status_code)
    if cause:
        sentence += f". Likely cause: {cause}"
    return _error(AnomalyKind.SERVER_ERROR, sentence)


# --- audio --------------------------------------------------------------------------------------------


def bad_base64(*, context_id: str) -> Finding:
    """A chunk whose ``data`` is not base64."""
    return _error(
        AnomalyKind.BAD_BASE64, f"chunk data in context {context_id} is not valid base64; its audio is lost"
    )


def partial_sample(*, nbytes: int, encoding: str, sample_width: int) -> Finding:
    """A chunk whose byte count is not a whole number of samples."""
    return _error(
        AnomalyKind.PARTIAL_SAMPLE,
        f"a chunk of {nbytes} bytes is not a whole number of {encoding} samples ({sample_width} bytes each): "
        "playback would drift out of alignment",
    )


def missing_flush_id(*, context_id: str, segment: str, flush_sent: bool) -> Finding:
    """Chunks without ``flush_id``, attributed by order to ``segment`` (its label). Before the client's first
    flush some servers do this, so it is only information then."""
    return Finding(
        kind=AnomalyKind.MISSING_FLUSH_ID,
        severity=Severity.WARNING if flush_sent else Severity.INFO,
        message=f"chunks without flush_id in context {context_id}, attributed by order to segment {segment}"
        + ("" if flush_sent else " (no flush had been sent yet, as some servers do)"),
    )


def stall(*, context_id: str, segment: str, gap_s: float) -> Finding:
    """A gap of ``gap_s`` seconds without audio inside a segment whose text the server already had."""
    return _warning(
        AnomalyKind.STALL,
        f"{gap_s * 1000:.0f} ms without audio inside segment {segment} of context {context_id}",
    )


def slow_first_audio(*, context_id: str, segment: str, ms: float, since: str, threshold_ms: float) -> Finding:
    """A segment's first audio came ``ms`` after the server could start on it (``since``: what that was)."""
    return _warning(
        AnomalyKind.SLOW_FIRST_AUDIO,
        f"the first audio of segment {segment} of context {context_id} came {ms:,.0f} ms after {since}, "
        f"over {threshold_ms:,.0f} ms",
    )


def duplicate_chunk(*, context_id: str, segment: str) -> Finding:
    """A chunk that repeats the context's previous chunk byte for byte (not silence, which may repeat)."""
    return _error(
        AnomalyKind.DUPLICATE_CHUNK,
        f"a chunk of segment {segment} of context {context_id} repeats the chunk before it byte for byte: "
        "clients play its audio twice",
    )


# --- flushes and segments -----------------------------------------------------------------------------


def chunk_after_flush_done(*, context_id: str, segment: str) -> Finding:
    """Audio for a segment after the server closed it with ``flush_done``."""
    return _error(
        AnomalyKind.CHUNK_AFTER_FLUSH_DONE,
        f"a chunk for segment {segment} of context {context_id} arrived after its flush_done: clients that end "
        "the segment on flush_done lose or misplace it",
    )


def flush_id_below_base(*, flush_id: int, base: int) -> Finding:
    """A ``flush_id`` below the context's first segment."""
    return _error(
        AnomalyKind.FLUSH_ID_BACKWARDS, f"flush_id {flush_id} is below the context's first segment ({base})"
    )


def flush_done_backwards(*, context_id: str, flush_id: int, previous: int) -> Finding:
    """A ``flush_done`` whose id is not above the previous one's."""
    return _error(
        AnomalyKind.FLUSH_ID_BACKWARDS,
        f"flush_done {flush_id} in context {context_id} after flush_done {previous}: flush ids went backwards "
        "or repeated",
    )


def flush_done_skipped(*, context_id: str, flush_id: int, expected: int) -> Finding:
    """A ``flush_done`` whose id jumps past the one expected next."""
    return _error(
        AnomalyKind.FLUSH_ID_SKIPPED,
        f"flush_done {flush_id} in context {context_id} where {expected} was expected: "
        f"{flush_id - expected} segment id(s) skipped, so every later chunk is off by that much",
    )


def flush_done_unrequested(*, context_id: str, flush_id: int) -> Finding:
    """A ``flush_done`` for a segment the client never flushed."""
    return _warning(
        AnomalyKind.FLUSH_DONE_UNREQUESTED,
        f"flush_done {flush_id} in context {context_id} for a segment the client never flushed "
        "(some servers close a segment per input when max_buffer_delay_ms is 0)",
    )


def flush_done_without_flush_id(*, context_id: str) -> Finding:
    """A ``flush_done`` that names no segment."""
    return _error(
        AnomalyKind.MALFORMED_FRAME,
        f"flush_done without flush_id in context {context_id}: it cannot be matched to a segment",
    )


def flush_done_timeout(*, context_id: str, segment: str, seconds: float) -> Finding:
    """No ``flush_done`` within ``seconds`` of a flush."""
    return _error(
        AnomalyKind.FLUSH_DONE_TIMEOUT,
        f"no flush_done for segment {segment} of context {context_id} within {seconds:g} s of its flush",
    )


def done_while_flush_pending(*, context_id: str, segment: str) -> Finding:
    """``done`` arrived while a flushed segment still waited for its ``flush_done``."""
    return _error(
        AnomalyKind.DONE_WHILE_FLUSH_PENDING,
        f"done for context {context_id} while the flush of segment {segment} was still waiting for its "
        "flush_done",
    )


def done_timeout(*, context_id: str, seconds: float) -> Finding:
    """No ``done`` within ``seconds`` of the context's end."""
    return _error(
        AnomalyKind.DONE_TIMEOUT,
        f"no done for context {context_id} within {seconds:g} s of its end (continue: false)",
    )


# --- flushscope itself ---------------------------------------------------------------------------------


def internal_error(*, error: BaseException) -> Finding:
    """flushscope itself failed on a frame: the frame is kept, but what it meant may be missing."""
    return _error(
        AnomalyKind.INTERNAL_ERROR,
        f"flushscope could not interpret this frame ({type(error).__name__}: {error}); the frame is kept as it "
        "came, but the model may lack what it meant",
    )


#: Known server error texts and what usually causes them.
KNOWN_ERROR_CAUSES: tuple[tuple[str, str], ...] = (
    (
        "empty or contains only punctuation",
        "the context's first transcript was empty, whitespace or punctuation only: typically a framework that "
        "opens and closes a context with no text (a tool call turn, an interrupted turn)",
    ),
    (
        "concurrency",
        "more contexts were active at once than the plan allows; finish or cancel contexts before opening more",
    ),
    ("output format", "output_format must be raw with a supported encoding and sample rate"),
    ("voice", "the voice is missing or not known to the service"),
)


def likely_cause(text: str, status: int | None) -> str | None:
    """What usually causes a server error with this text and status code, if known."""
    lowered = text.lower()
    for needle, cause in KNOWN_ERROR_CAUSES:
        if needle in lowered:
            return cause
    if status == 401:
        return "the API key is missing or wrong"
    if status == 429:
        return "a rate or concurrency limit was hit"
    return None
