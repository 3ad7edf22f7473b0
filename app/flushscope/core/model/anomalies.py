"""What can go wrong between a client's flushes and the server's segments, in words a user understands.

The session model decides *when* something is wrong and *which frames* show it; this module decides what
that is called and how bad it is. Each builder below takes the facts of one situation as keyword arguments
and returns a :class:`Finding`: the kind, the severity and the sentence a user reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Final

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


# --- the connection and flushscope itself ---------------------------------------------------------------

#: What each close code means, in a few words (RFC 6455 and the IANA registry).
CLOSE_CODE_WORDS: Final[dict[int, str]] = {
    1000: "normal closure",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1006: "no close frame",
    1007: "invalid data",
    1008: "policy violation",
    1009: "message too big",
    1010: "extension required",
    1011: "internal error",
    1012: "service restart",
    1013: "try again later",
    1014: "bad gateway",
}

#: Who ended a connection, as :func:`closed_before_done` takes it.
APP: Final = "app"
SERVER: Final = "server"
PROXY: Final = "proxy"

#: Codes a side sends when it means to close: the connection ended on purpose, not by a failure.
_CLEAN_CODES: Final = (1000, 1001)
#: Codes that say the server side failed or vanished: dropped (1006, or no code at all), failed (1011), or
#: reported as dropped by a proxy in between (1014).
_SERVER_FAILED_CODES: Final = (None, 1006, 1011, 1014)


def _close_words(code: int | None, reason: str) -> str:
    what = "no close code" if code is None else f"code {code}"
    if code in CLOSE_CODE_WORDS:
        what += f" {CLOSE_CODE_WORDS[code]}"
    return f"{what}, {reason}" if reason else what


def connection_lost(*, context_id: str, code: int | None, reason: str) -> Finding:
    """The connection closed before a context was done, and the capture does not say who closed it; a clean
    close code makes it a warning."""
    return Finding(
        kind=AnomalyKind.CONNECTION_LOST,
        severity=Severity.WARNING if code in _CLEAN_CODES else Severity.ERROR,
        message=f"the connection closed (code {code}, {reason or 'no reason'}) before context {context_id} "
        "was done",
    )


def closed_before_done(
    *, context_id: str, code: int | None, reason: str, by: str | None, gave_up: bool = False
) -> Finding:
    """The connection ended before a context was done, told apart by who ended it (``by``: :data:`APP`,
    :data:`SERVER`, :data:`PROXY`, or None when the capture does not say): the app went away (a warning: it
    chose to), the server went away (an error, unless it closed with a clean code), or the proxy closed it.
    ``gave_up``: the client closed it because the server had stopped answering."""
    tail = f"before context {context_id} was done"
    how = _close_words(code, reason)
    dropped = code is None or code == 1006
    if gave_up:
        return _error(
            AnomalyKind.SERVER_WENT_AWAY,
            f"the server went away: it stopped answering, and the client gave the connection up ({how}) {tail}",
        )
    if by == APP:
        did = "dropped the connection without a close frame" if dropped else f"closed the connection ({how})"
        return _warning(
            AnomalyKind.APP_WENT_AWAY, f"the app went away: it {did} {tail}, without waiting for its audio"
        )
    if by == SERVER or (by is None and code in _SERVER_FAILED_CODES):
        did = "dropped the connection without a close frame" if dropped else f"closed the connection ({how})"
        return Finding(
            kind=AnomalyKind.SERVER_WENT_AWAY,
            severity=Severity.WARNING if code in _CLEAN_CODES else Severity.ERROR,
            message=f"the server went away: it {did} {tail}",
        )
    if by == PROXY:
        return Finding(
            kind=AnomalyKind.CONNECTION_LOST,
            severity=Severity.WARNING if code in _CLEAN_CODES else Severity.ERROR,
            message=f"the proxy closed the connection ({how}) {tail}",
        )
    return connection_lost(context_id=context_id, code=code, reason=reason)


#: What a refused WebSocket upgrade's status usually means.
REFUSAL_CAUSES: Final[dict[int, str]] = {
    400: "the server rejected the upgrade request",
    401: "the API key is missing or wrong",
    402: "the account has no credits, or no plan for this",
    403: "the API key may not use this endpoint",
    404: "there is no TTS WebSocket at this URL",
    429: "too many connections at once for the account (the limit is ten times its concurrency)",
    502: "the proxy could not reach its upstream, or what answered there is not a TTS WebSocket",
    503: "the proxy was stopping",
    504: "the upstream did not answer in time",
}


def connection_refused(*, status: int | None, message: str) -> Finding:
    """The connection never opened: the upgrade was answered with HTTP ``status`` (the server's own, or the
    proxy's 502, 503 or 504), or, with no status, the server could not be reached; ``message`` says what the
    answer or the failure said, its body's text included."""
    message = message.strip() or "no reason given"
    if status is None:
        sentence = f"the connection could not be opened: {message}"
    elif str(status) in message:
        sentence = f"the connection was refused: {message}"
    else:
        sentence = f"the connection was refused with HTTP {status}: {message}"
    cause = REFUSAL_CAUSES.get(status) if status is not None else None
    if cause is None and status is not None and status >= 500:
        cause = "the server failed"
    if cause and cause not in message:
        sentence += f". Likely cause: {cause}"
    return _error(AnomalyKind.CONNECTION_REFUSED, sentence)


def app_left_during_handshake(*, message: str) -> Finding:
    """The app gave up on its connection while the proxy was still opening the upstream for it."""
    return _warning(
        AnomalyKind.APP_WENT_AWAY, f"the app went away before its connection opened: {message or 'no reason'}"
    )


def frame_too_big(*, side: str, size: int | None, before: int, limit: int) -> Finding:
    """The proxy refused a frame over its limit for that side (``side``: :data:`APP` or :data:`SERVER`):
    ``size`` bytes as its header announced (None: a compressed frame that grew past the limit as it was
    inflated), after ``before`` bytes of the same message."""
    what = "a compressed frame that grew past the limit" if size is None else f"a frame of {size:,} bytes"
    if before:
        what += f" (after {before:,} bytes of the same message)"
    if side == APP:
        then = "the proxy closed the app's connection with 1009, and the server's with 1001"
    else:
        then = "the proxy closed the server's connection with 1009, and the app's with 1014"
    return _error(
        AnomalyKind.FRAME_TOO_BIG,
        f"the {side} sent {what}, over the proxy's limit of {limit:,} bytes: {then}; the frame was neither "
        "forwarded nor recorded",
    )


#: The largest frame websockets clients take by default (the official SDK, Pipecat): 1 MiB.
CLIENT_FRAME_LIMIT: Final = 1 << 20


def oversized_frame(*, size: int) -> Finding:
    """A server frame larger than clients built on websockets accept."""
    return _warning(
        AnomalyKind.OVERSIZED_FRAME,
        f"a frame of {size:,} bytes from the server, over the {CLIENT_FRAME_LIMIT:,} that clients built on "
        "websockets (the official SDK, Pipecat) accept: they close the connection with 1009",
    )


def key_withheld(*, remote: str) -> Finding:
    """The proxy did not send the user's key upstream for an app on another machine."""
    return Finding(
        kind=AnomalyKind.KEY_WITHHELD,
        severity=Severity.INFO,
        message=f"the app connected from another machine ({remote or 'address unknown'}): the proxy withheld "
        "your key, so the app's own key went upstream, or none (--share-key sends yours)",
    )


def recording_ends(
    *,
    at: float,
    conn: int,
    context_id: str | None = None,
    flushes: Sequence[tuple[str, float]] = (),
    ended_s_ago: float | None = None,
    flush_done_s: float,
    done_s: float,
) -> Finding:
    """The recording stops while connection ``conn`` is still open: it was cut (a killed process) or is still
    being written. For a context (``context_id``) it says what was still awaited: the flush_done of the
    segments in ``flushes`` (label, seconds since the flush) and, with ``ended_s_ago``, the context's done.
    Information, not a failure: the waits (``flush_done_s``, ``done_s``) were not over, so nothing timed
    out."""
    head = f"the recording ends here ({at:.2f} s)"
    waits = []
    if flushes:
        labels = ", ".join(label for label, _ in flushes)
        several = len(flushes) > 1
        latest = min(ago for _, ago in flushes)
        waits.append(
            f"the flush_done of segment{'s' if several else ''} {labels} {'were' if several else 'was'} "
            f"awaited, {latest:.1f} s after the {'last ' if several else ''}flush ({flush_done_s:g} s allowed)"
        )
    if ended_s_ago is not None:
        waits.append(f"its done was awaited, {ended_s_ago:.1f} s after its end ({done_s:g} s allowed)")
    if waits:
        message = (
            f"{head} while context {context_id} still waited: {'; '.join(waits)}: cut short, not a timeout"
        )
    elif context_id is not None:
        message = f"{head} while context {context_id} was still open"
    else:
        message = f"{head} with connection {conn} still open"
    return Finding(kind=AnomalyKind.RECORDING_ENDS, severity=Severity.INFO, message=message)


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
